// Regression tests for GenStage's hardening: each failed before its fix.
#include <eam/eam.hpp>
#include <eam/engine/telemetry.hpp>
#include <eam/otp.hpp>

#include <doctest/doctest.h>

#include "../support/eventually.hpp"
#include "stage_recorder.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {
using eam::test::eventually;
using eam::test::range;
using eam::test::stage_log;
namespace otp = eam::otp;

// Telemetry events of one name, as the test thread reads them: each one's metadata.
struct telemetry_log {
  std::mutex m;
  std::vector<eam::telemetry::metadata> seen;
  std::string name;
  explicit telemetry_log(std::string_view event) : name(std::string("test.hardening.") + std::string(event)) {
    eam::telemetry::attach(name, {event}, [this](std::string_view, const auto&, const auto& md) {
      std::lock_guard l(m);
      seen.push_back(md);
    });
  }
  ~telemetry_log() { eam::telemetry::detach(name); }
  std::size_t size() {
    std::lock_guard l(m);
    return seen.size();
  }
  // How many events carry `key` == `value`.
  std::size_t count(std::string_view key, std::string_view value) {
    std::lock_guard l(m);
    std::size_t n = 0;
    for (const auto& md : seen)
      for (const auto& [k, v] : md)
        if (k == key && v == value) ++n;
    return n;
  }
};

// A gate an actor's handler waits on until the test opens it. Declared after the system, so
// that a failed REQUIRE still opens it before the system joins its workers; handlers hold a
// copy of `future`, never the gate itself.
struct gate {
  std::promise<void> promise;
  std::shared_future<void> future = promise.get_future().share();
  std::atomic<bool> opened{false};
  void open() {
    if (!opened.exchange(true)) promise.set_value();
  }
  ~gate() { open(); }
};

// Round trips through a stage, so that what it was sent before has been handled.
template <class Stage>
void settle(const Stage& stage) {
  for (int i = 0; i < 5; ++i) (void)stage.stats();
}
}  // namespace

TEST_SUITE("otp.gen_stage.hardening") {
  TEST_CASE("a partition hash that discards events does not eat a consumer's demand") {
    stage_log<int> log;
    eam::actor_system system({.workers = 2});
    otp::producer_options<int> options{.dispatcher = otp::dispatcher_kind::partition, .partitions = 1};
    options.hash = [](const int& e) -> std::optional<std::size_t> {
      if (e % 2 != 0) return std::nullopt;
      return 0;
    };
    auto numbers = eam::test::counter_producer(system, 200, options);
    auto sink = eam::test::recorder(system, log);
    REQUIRE(sink.subscribe(numbers.ref(), {.max_demand = 10, .partition = 0}).has_value());
    CHECK(eventually([&] { return log.count() == 100; }, std::chrono::seconds(5)));
    std::vector<int> evens;
    for (int i = 0; i < 200; i += 2) evens.push_back(i);
    CHECK(log.events() == evens);
    CHECK(log.largest_batch() <= 10);
  }

  TEST_CASE("a partition hash that discards everything keeps the producer responsive") {
    std::atomic<long> generated{0};
    eam::actor_system system({.workers = 2});
    otp::producer_options<long> options{.dispatcher = otp::dispatcher_kind::partition, .partitions = 2};
    options.hash = [](const long&) -> std::optional<std::size_t> { return std::nullopt; };
    auto endless = otp::producer<long>::start(
        system,
        [&generated](std::size_t demand) {
          generated += static_cast<long>(demand);
          return std::vector<long>(demand, 1);
        },
        options);
    auto sink = otp::consumer<long>::start(system, [](std::vector<long>&) {});
    REQUIRE(sink.subscribe(endless.ref(), {.max_demand = 10, .partition = 1}).has_value());
    // The producer keeps re-asking for what the hash discards, yet still answers calls.
    REQUIRE(eventually([&] { return generated.load() > 1000; }, std::chrono::seconds(5)));
    CHECK(endless.stats().has_value());
    // ...and backs off while everything keeps being discarded: with its timer at 64 ms, 16
    // rounds of 10 events a turn make about 2,500 events a second at most. Before, it made
    // millions, a core kept busy. (A bound from above: a slow machine makes fewer.)
    const long before = generated.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CHECK(generated.load() - before < 100'000);
    CHECK(endless.stop());
  }

  TEST_CASE("broadcast forwards only the rise of the smallest demand when consumers join before demand flows") {
    std::mutex m;
    std::vector<std::size_t> asked;
    stage_log<int> logs[3];
    eam::actor_system system({.workers = 2});
    auto numbers = otp::producer<int>::start(
        system, [] { return 0; },
        [&](std::size_t demand, int& next) {
          {
            std::lock_guard l(m);
            asked.push_back(demand);
          }
          std::vector<int> out;
          while (out.size() < demand && next < 40) out.push_back(next++);
          return out;
        },
        {.dispatcher = otp::dispatcher_kind::broadcast, .demand = otp::demand_mode::accumulate, .buffer_size = 5});
    std::vector<otp::consumer<int>> sinks;
    for (auto& log : logs) {
      sinks.push_back(eam::test::recorder(system, log));
      REQUIRE(sinks.back().subscribe(numbers.ref(), {.max_demand = 10}).has_value());
    }
    CHECK(numbers.stats().value().held_demand == 10);
    numbers.demand(otp::demand_mode::forward);
    for (auto& log : logs) CHECK(eventually([&] { return log.count() == 40; }, std::chrono::seconds(5)));
    for (auto& log : logs) CHECK(log.events() == range(0, 40));
    CHECK(numbers.stats().value().dropped == 0);
    std::lock_guard l(m);
    REQUIRE(!asked.empty());
    CHECK(asked.front() == 10);
  }

  TEST_CASE("broadcast accounts for a late joiner and for a cancel") {
    stage_log<int> first, late;
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::silent_producer(system, {.dispatcher = otp::dispatcher_kind::broadcast});
    auto a = eam::test::recorder(system, first);
    auto b = eam::test::recorder(system, late);
    REQUIRE(a.subscribe(numbers.ref(), {.max_demand = 10}).has_value());
    auto sub_b = b.subscribe(numbers.ref(), {.max_demand = 4, .min_demand = 0});
    REQUIRE(sub_b.has_value());
    // b can take 4: 4 go out to both and 2 wait; once b is done with its 4 it asks again and
    // the 2 buffered go out.
    numbers.push(range(0, 6));
    REQUIRE(eventually([&] { return first.count() == 6 && late.count() == 6; }, std::chrono::seconds(5)));
    // Once b goes, a's own demand paces the producer again.
    REQUIRE(b.cancel(sub_b.value()));
    settle(numbers);
    numbers.push(range(6, 10));
    REQUIRE(eventually([&] { return first.count() == 10; }, std::chrono::seconds(5)));
    CHECK(first.events() == range(0, 10));
    CHECK(numbers.stats().value().buffered == 0);
  }

  TEST_CASE("a producer-consumer in accumulate mode delivers once switched to forward") {
    stage_log<int> log;
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(system, 50);
    auto pass = otp::producer_consumer<int>::start(
        system, [](std::vector<int>& in) { return std::move(in); }, {.demand = otp::demand_mode::accumulate});
    auto sink = eam::test::recorder(system, log);
    REQUIRE(sink.subscribe(pass.ref(), {.max_demand = 10}).has_value());
    REQUIRE(pass.subscribe(numbers.ref(), {.max_demand = 20}).has_value());
    settle(pass);
    CHECK(log.count() == 0);
    CHECK(pass.stats().value().held_demand == 10);
    pass.demand(otp::demand_mode::forward);
    CHECK(eventually([&] { return log.count() == 50; }, std::chrono::seconds(5)));
    CHECK(log.events() == range(0, 50));
  }

  TEST_CASE("a consumer whose full mailbox refuses a batch loses its subscription and the events go elsewhere") {
    telemetry_log cancels(otp::stage_telemetry::cancel);
    stage_log<int> slow_log, other_log;
    std::atomic<bool> busy{false};
    eam::actor_system system({.workers = 2});
    gate slow_gate;
    auto numbers = eam::test::silent_producer(system);
    auto slow = otp::consumer<int>::start(
        system,
        [&slow_log, &busy, wait = slow_gate.future](std::vector<int>& events) {
          slow_log.add(events);
          busy = true;
          wait.wait();
        },
        {.mailbox_bound = 1, .overflow = eam::overflow_strategy::error});
    auto sub = slow.subscribe(numbers.ref(), {.max_demand = 10});
    REQUIRE(sub.has_value());
    numbers.push({0});  // slow takes it and stays busy
    REQUIRE(eventually([&] { return busy.load(); }, std::chrono::seconds(5)));
    numbers.push({1});  // fills slow's mailbox
    numbers.push({2});  // refused by slow's mailbox
    auto other = eam::test::recorder(system, other_log);
    REQUIRE(other.subscribe(numbers.ref(), {.max_demand = 10}).has_value());
    CHECK(eventually([&] { return other_log.count() == 1; }, std::chrono::seconds(5)));
    CHECK(other_log.events() == std::vector<int>{2});
    CHECK(cancels.count("reason", "mailbox_full") == 1);
    CHECK(cancels.count("consumer_tag", std::to_string(sub.value().tag)) == 1);
    CHECK(numbers.stats().value().consumers == 1);
    slow_gate.open();
    CHECK(eventually([&] { return slow_log.count() == 2; }, std::chrono::seconds(5)));
    CHECK(slow_log.events() == std::vector<int>{0, 1});
  }

  TEST_CASE("an ask that a producer's full mailbox refuses is retried") {
    telemetry_log overflows(eam::telemetry::events::mailbox_overflow);
    stage_log<int> log, other_log;
    std::atomic<bool> busy{false};
    std::atomic<int> demand_calls{0};
    // The other consumer's subscribe below is a blocking call from a thread: with turns run on the
    // caller, that turn could also handle the batch behind the call, whose handler holds on to it
    // for good, and the call would never return (seen once under ASan). Its turns stay on workers.
    eam::actor_system system({.workers = 2, .calls_run_on_caller = false});
    gate consumer_gate, producer_gate, other_gate;
    // The second handle_demand (the other consumer's subscribe) keeps the producer busy.
    auto numbers = otp::producer<int>::start(
        system, [] { return 0; },
        [&demand_calls, wait = producer_gate.future](std::size_t demand, int& next) {
          if (++demand_calls == 2) wait.wait();
          std::vector<int> out;
          for (std::size_t i = 0; i < demand && next < 6; ++i) out.push_back(next++);
          return out;
        },
        {}, {.mailbox_bound = 1, .overflow = eam::overflow_strategy::error});
    auto sink = otp::consumer<int>::start(system, [&log, &busy, wait = consumer_gate.future](std::vector<int>& events) {
      log.add(events);
      busy = true;
      wait.wait();
    });
    REQUIRE(sink.subscribe(numbers.ref(), {.max_demand = 2, .min_demand = 0}).has_value());
    REQUIRE(eventually([&] { return busy.load(); }, std::chrono::seconds(5)));
    // The other consumer holds on to its first batch, so it asks nothing more.
    auto other = otp::consumer<int>::start(system, [&other_log, wait = other_gate.future](std::vector<int>& events) {
      other_log.add(events);
      wait.wait();
    });
    auto other_sub = std::async(std::launch::async, [&] { return other.subscribe(numbers.ref(), {.max_demand = 2}); });
    REQUIRE(eventually([&] { return demand_calls.load() == 2; }, std::chrono::seconds(5)));
    numbers.push({});  // fills the busy producer's mailbox
    consumer_gate.open();  // the sink is done with its 2 and asks again: refused
    REQUIRE(eventually([&] { return overflows.size() >= 1; }, std::chrono::seconds(5)));
    producer_gate.open();
    CHECK(other_sub.get().has_value());
    CHECK(eventually([&] { return log.count() == 4; }, std::chrono::seconds(5)));
    CHECK(log.events() == std::vector<int>{0, 1, 4, 5});
    // The other consumer's batch left the producer before the sink's, but the two consumers run
    // in their own turns, in either order.
    CHECK(eventually([&] { return other_log.count() == 2; }, std::chrono::seconds(5)));
    CHECK(other_log.events() == std::vector<int>{2, 3});
  }

  TEST_CASE("a subscription under a tag the producer already serves is refused, by every dispatcher") {
    // A consumer on another node makes its tags apart from ours; were two ever to meet, the
    // second must fail to subscribe rather than have the first consumer's events.
    eam::actor_system system({.workers = 2});
    auto idle_consumer = [&system] {
      return system.spawn([](eam::actor_context&) { return eam::behavior{[](otp::detail::stage_events<int>) {}}; });
    };
    for (const auto kind :
         {otp::dispatcher_kind::demand, otp::dispatcher_kind::broadcast, otp::dispatcher_kind::partition}) {
      CAPTURE(static_cast<int>(kind));
      auto producer =
          otp::producer<int>::start(system, [](std::size_t) { return std::vector<int>{}; },
                                    {.dispatcher = kind, .partitions = 2, .demand = otp::demand_mode::accumulate});
      const auto subscribe = [&](std::size_t partition) {
        return producer.ref().call(otp::detail::stage_subscribe<int>{idle_consumer(), 42, 5, partition}).get().value();
      };
      CHECK_FALSE(subscribe(0).has_value());
      const auto refused = subscribe(1);
      REQUIRE(refused.has_value());
      CHECK(refused->code() == eam::otp::otp_errc::invalid_subscription);
      CHECK(producer.stats().value().consumers == 1);
      CHECK(producer.stop());
    }
  }

  TEST_CASE("a consumer refused by its producer sends no cancel for the tag it was refused") {
    // The producer holds nothing under a refused tag, or holds another consumer's subscription
    // there (one that took the tag first): a cancel would end that one. The fake producer
    // refuses the first subscribe and accepts the second; both come from the consumer, so a
    // cancel sent between them would reach it between them.
    std::mutex m;
    std::vector<std::string> seen;
    eam::actor_system system({.workers = 2});
    auto producer = eam::unchecked_typed_ref_cast<otp::source_ref<int>>(system.spawn([&](eam::actor_context&) {
      return eam::behavior{
          [&](otp::detail::stage_subscribe<int>) -> std::optional<eam::error> {
            std::lock_guard l(m);
            seen.push_back("subscribe");
            if (seen.size() == 1) return eam::error(otp::otp_errc::invalid_subscription, "refused for the test");
            return std::nullopt;
          },
          [&](otp::detail::stage_cancel) {
            std::lock_guard l(m);
            seen.push_back("cancel");
          },
          [](otp::detail::stage_ask) {},
      };
    }));
    auto sink = otp::consumer<int>::start(system, [](std::vector<int>&) {});
    const auto refused = sink.subscribe(producer, {.max_demand = 10});
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error_value().code() == otp::otp_errc::invalid_subscription);
    REQUIRE(sink.subscribe(producer, {.max_demand = 10}).has_value());
    std::lock_guard l(m);
    CHECK(seen == std::vector<std::string>{"subscribe", "subscribe"});
  }

  TEST_CASE("tag 0 names no subscription: refused on subscribe, and an ask or cancel under it changes nothing") {
    // A peer's message may say anything; a free partition's tag is 0, and a cancel under 0
    // released a free partition again (its consumer count fell below the consumers there).
    eam::actor_system system({.workers = 2});
    auto producer = otp::producer<int>::start(
        system, [](std::size_t demand) { return range(0, static_cast<int>(demand)); },
        {.dispatcher = otp::dispatcher_kind::partition, .partitions = 2, .demand = otp::demand_mode::accumulate});
    stage_log<int> log;
    REQUIRE(eam::test::recorder(system, log).subscribe(producer.ref(), {.max_demand = 10, .partition = 0}).has_value());
    const auto sink =
        system.spawn([](eam::actor_context&) { return eam::behavior{[](otp::detail::stage_events<int>) {}}; });
    const auto refused = producer.ref().call(otp::detail::stage_subscribe<int>{sink, 0, 5, 1}).get().value();
    REQUIRE(refused.has_value());
    CHECK(refused->code() == otp::otp_errc::invalid_subscription);
    producer.ref().cast(otp::detail::stage_cancel{0});
    producer.ref().cast(otp::detail::stage_ask{0, 100});
    const auto stats = producer.stats().value();  // after the cast: the same sender, in order
    CHECK(stats.consumers == 1);
    CHECK(stats.held_demand == 10);  // the real consumer's first demand, nothing asked under 0
    CHECK(producer.stop());
  }
}
