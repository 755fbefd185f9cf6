#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/telemetry.hpp>
#include <eam/otp.hpp>

#include "../support/eventually.hpp"
#include "stage_recorder.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <future>
#include <mutex>
#include <numeric>
#include <string>
#include <vector>

namespace {
using eam::test::eventually;
using eam::test::has_no_subscriptions;
using eam::test::range;
using eam::test::silent_producer;
using eam::test::stage_log;
namespace otp = eam::otp;

// Telemetry events of one name, recorded for the test thread.
struct telemetry_log {
  std::mutex m;
  std::vector<std::pair<eam::telemetry::measurements, eam::telemetry::metadata>> seen;
  explicit telemetry_log(std::string_view event) : name(event) {
    eam::telemetry::attach(std::string("test.") + std::string(event), {event},
                           [this](std::string_view, const auto& ms, const auto& md) {
                             std::lock_guard l(m);
                             seen.emplace_back(ms, md);
                           });
  }
  ~telemetry_log() { eam::telemetry::detach(std::string("test.") + name); }
  std::size_t size() {
    std::lock_guard l(m);
    return seen.size();
  }
  std::string name;
};
std::string meta(const eam::telemetry::metadata& md, std::string_view key) {
  for (const auto& [k, v] : md)
    if (k == key) return v;
  return {};
}
double measure(const eam::telemetry::measurements& ms, std::string_view key) {
  for (const auto& [k, v] : ms)
    if (k == key) return v;
  return -1;
}
// A silent producer with one consumer subscribed in each cancel mode.
struct one_per_cancel_mode {
  explicit one_per_cancel_mode(eam::actor_system& system)
      : producer(silent_producer(system)),
        permanent(eam::test::recorder(system, logs[0])),
        transient(eam::test::recorder(system, logs[1])),
        temporary(eam::test::recorder(system, logs[2])) {
    REQUIRE(permanent.subscribe(producer.ref(), {.cancel = otp::cancel_mode::permanent}).has_value());
    REQUIRE(transient.subscribe(producer.ref(), {.cancel = otp::cancel_mode::transient}).has_value());
    REQUIRE(temporary.subscribe(producer.ref(), {.cancel = otp::cancel_mode::temporary}).has_value());
  }
  stage_log<int> logs[3];
  otp::producer<int> producer;
  otp::consumer<int> permanent, transient, temporary;
};
// `n` silent producers, appended to `producers`, each subscribed by `sink` (max_demand 10).
std::vector<otp::subscription> subscribe_to_new_producers(eam::actor_system& system, otp::consumer<int>& sink, int n,
                                                          std::vector<otp::producer<int>>& producers) {
  std::vector<otp::subscription> subs;
  for (int i = 0; i < n; ++i) {
    producers.push_back(silent_producer(system));
    subs.push_back(sink.subscribe(producers.back().ref(), {.max_demand = 10}).value());
  }
  return subs;
}
}  // namespace

TEST_SUITE("otp.gen_stage") {
  TEST_CASE("a consumer receives every event once and in order - no batch exceeds max_demand") {
    stage_log<int> log;
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(system, 100000);
    auto sink = eam::test::recorder(system, log);
    REQUIRE(sink.subscribe(numbers.ref(), {.max_demand = 100}).has_value());
    REQUIRE(eventually([&] { return log.count() == 100000; }));
    CHECK(log.events() == range(0, 100000));
    CHECK(log.largest_batch() <= 100);
  }

  TEST_CASE("a producer that returns more than asked buffers the rest - batches stay within max_demand") {
    stage_log<int> log;
    eam::actor_system system({.workers = 2});
    auto numbers = otp::producer<int>::start(
        system, [] { return 0; },
        [](std::size_t demand, int& next) {
          std::vector<int> out;
          if (next >= 3000) return out;
          for (std::size_t i = 0; i < 3 * demand && next < 3000; ++i) out.push_back(next++);
          return out;
        },
        {.buffer_size = otp::unbounded_buffer});
    auto sink = eam::test::recorder(system, log);
    REQUIRE(sink.subscribe(numbers.ref(), {.max_demand = 10, .min_demand = 5}).has_value());
    REQUIRE(eventually([&] { return log.count() == 3000; }));
    CHECK(log.events() == range(0, 3000));
    CHECK(log.largest_batch() <= 10);
  }

  TEST_CASE("handle_demand gets each consumer's demand as an increment") {
    std::mutex m;
    std::vector<std::size_t> asked;
    eam::actor_system system({.workers = 2});
    // Emits nothing, so nobody asks again: the calls are exactly the initial demands.
    auto lazy = otp::producer<int>::start(system, [&](std::size_t demand) {
      std::lock_guard l(m);
      asked.push_back(demand);
      return std::vector<int>{};
    });
    stage_log<int> a, b;
    REQUIRE(eam::test::recorder(system, a).subscribe(lazy.ref(), {.max_demand = 10}).has_value());
    REQUIRE(eam::test::recorder(system, b).subscribe(lazy.ref(), {.max_demand = 20}).has_value());
    std::lock_guard l(m);
    CHECK(asked == std::vector<std::size_t>{10, 20});
  }

  TEST_CASE("back-pressure: a producer that could emit forever stays within its buffer while its consumer is stuck") {
    std::atomic<long> generated{0};
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<long> handled{0};
    eam::actor_system system({.workers = 2});
    auto endless =
        otp::producer<long>::start(system,
                                   [&generated](std::size_t demand) {
                                     std::vector<long> out(demand);
                                     std::iota(out.begin(), out.end(), generated.fetch_add(static_cast<long>(demand)));
                                     return out;
                                   },
                                   {.buffer_size = 100});
    auto stuck = otp::consumer<long>::start(system, [&](std::vector<long>& events) {
      released.wait();  // the consumer is as slow as the test wants
      handled += static_cast<long>(events.size());
    });
    REQUIRE(stuck.subscribe(endless.ref(), {.max_demand = 50}).has_value());
    // Events pushed from outside beyond the demand go to the bounded buffer.
    for (int i = 0; i < 100; ++i) endless.push(std::vector<long>(1000, -1));
    const auto stats = endless.stats().value();
    CHECK(generated.load() == 50);  // asked once, never again while stuck
    CHECK(stats.buffered == 100);
    CHECK(stats.dropped == 100 * 1000 - 100);
    release.set_value();
    REQUIRE(eventually([&] { return handled.load() > 10000; }));
    CHECK(endless.stats().value().buffered <= 100);
    CHECK(endless.stop());
  }

  TEST_CASE("back-pressure holds through a producer-consumer") {
    std::atomic<long> generated{0};
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<long> handled{0};
    std::atomic<bool> first_batch{false};
    eam::actor_system system({.workers = 2});
    auto endless = otp::producer<long>::start(system, [&generated](std::size_t demand) {
      std::vector<long> out(demand);
      std::iota(out.begin(), out.end(), generated.fetch_add(static_cast<long>(demand)));
      return out;
    });
    auto doubler = otp::producer_consumer<long>::start(system, [](std::vector<long>& in) {
      for (long& e : in) e *= 2;
      return std::move(in);
    });
    auto stuck = otp::consumer<long>::start(system, [&](std::vector<long>& events) {
      first_batch = true;
      released.wait();
      handled += static_cast<long>(events.size());
    });
    REQUIRE(doubler.subscribe(endless.ref(), {.max_demand = 100}).has_value());
    REQUIRE(stuck.subscribe(doubler.ref(), {.max_demand = 10}).has_value());
    REQUIRE(eventually([&] { return first_batch.load(); }));
    // Round trips through both stages let whatever is in flight settle.
    for (int i = 0; i < 20; ++i) {
      (void)doubler.stats();
      (void)endless.stats();
    }
    CHECK(generated.load() == 100);  // one max_demand upstream; nothing more while stuck
    CHECK(doubler.stats().value().buffered == 0);
    release.set_value();
    REQUIRE(eventually([&] { return handled.load() > 10000; }));
    CHECK(endless.stop());
  }

  TEST_CASE("a producer-consumer transforms, filters and keeps order") {
    stage_log<std::string> log;
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(system, 10000);
    auto evens = otp::producer_consumer<int, std::string>::start(
        system, [] { return 0; },
        [](std::vector<int>& in, const otp::subscription&, int& batches) {
          ++batches;
          std::vector<std::string> out;
          for (int e : in)
            if (e % 2 == 0) out.push_back(std::to_string(e));
          return out;
        });
    auto sink = eam::test::recorder(system, log);
    REQUIRE(evens.subscribe(numbers.ref(), {.max_demand = 64}).has_value());
    REQUIRE(sink.subscribe(evens.ref(), {.max_demand = 16}).has_value());
    REQUIRE(eventually([&] { return log.count() == 5000; }));
    std::vector<std::string> want;
    for (int i = 0; i < 10000; i += 2) want.push_back(std::to_string(i));
    CHECK(log.events() == want);
    CHECK(log.largest_batch() <= 16);
  }

  TEST_CASE("a producer-consumer that expands events buffers the surplus and keeps batches within demand") {
    stage_log<int> log;
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(system, 3000);
    auto tripler = otp::producer_consumer<int>::start(system, [](std::vector<int>& in) {
      std::vector<int> out;
      for (int e : in)
        for (int k = 0; k < 3; ++k) out.push_back(3 * e + k);
      return out;
    });
    auto sink = eam::test::recorder(system, log);
    REQUIRE(tripler.subscribe(numbers.ref(), {.max_demand = 30}).has_value());
    REQUIRE(sink.subscribe(tripler.ref(), {.max_demand = 10}).has_value());
    REQUIRE(eventually([&] { return log.count() == 9000; }));
    CHECK(log.events() == range(0, 9000));
    CHECK(log.largest_batch() <= 10);
    CHECK(tripler.stats().value().dropped == 0);
  }

  TEST_CASE("a three-hop pipeline delivers every event exactly once") {
    stage_log<int> log;
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(system, 50000);
    auto plus_one = [](std::vector<int>& in) {
      for (int& e : in) ++e;
      return std::move(in);
    };
    auto h1 = otp::producer_consumer<int>::start(system, plus_one);
    auto h2 = otp::producer_consumer<int>::start(system, plus_one);
    auto h3 = otp::producer_consumer<int>::start(system, plus_one);
    REQUIRE(h1.subscribe(numbers.ref(), {.max_demand = 200}).has_value());
    REQUIRE(h2.subscribe(h1.ref(), {.max_demand = 200}).has_value());
    REQUIRE(h3.subscribe(h2.ref(), {.max_demand = 200}).has_value());
    auto sink = eam::test::recorder(system, log);
    REQUIRE(sink.subscribe(h3.ref(), {.max_demand = 200}).has_value());
    REQUIRE(eventually([&] { return log.count() == 50000; }));
    CHECK(log.events() == range(3, 50003));
  }

  TEST_CASE("subscribe refuses bad demand bounds and a dead producer with typed errors") {
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(system, 10);
    stage_log<int> log;
    auto sink = eam::test::recorder(system, log);
    auto r = sink.subscribe(numbers.ref(), {.max_demand = 10, .min_demand = 10});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error_value().code() == eam::otp::otp_errc::invalid_subscription);
    r = sink.subscribe(numbers.ref(), {.max_demand = 0});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error_value().code() == eam::otp::otp_errc::invalid_subscription);
    REQUIRE(numbers.stop());
    r = sink.subscribe(numbers.ref());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error_value().code() == eam::errc::actor_not_found);
    CHECK(sink.subscriptions().value().empty());
    CHECK(log.count() == 0);
  }

  TEST_CASE("cancel: the consumer carries on, the producer forgets it and sends nothing more") {
    telemetry_log cancels(otp::stage_telemetry::cancel);
    eam::actor_system system({.workers = 2});
    auto lazy = silent_producer(system);
    stage_log<int> log;
    auto sink = eam::test::recorder(system, log);
    auto sub = sink.subscribe(lazy.ref(), {.max_demand = 10, .cancel = otp::cancel_mode::permanent}).value();
    CHECK(sink.subscriptions().value() == std::vector<otp::subscription>{sub});
    CHECK(lazy.stats().value().consumers == 1);
    CHECK(sink.cancel(sub));
    CHECK_FALSE(sink.cancel(sub));
    REQUIRE(eventually([&] { return lazy.stats().value().consumers == 0; }));
    lazy.push({1, 2, 3});  // nobody asks now: buffered
    CHECK(lazy.stats().value().buffered == 3);
    CHECK(sink.ref().is_alive());  // permanent acts on the producer going, not on its own cancel
    REQUIRE(cancels.size() == 1);
    CHECK(meta(cancels.seen[0].second, "reason") == "cancel");
    CHECK(meta(cancels.seen[0].second, "consumer_tag") == std::to_string(sub.tag));
  }

  TEST_CASE("a consumer of many producers receives from each and cancels any of them alone") {
    // Past eight subscriptions a consumer finds a batch's subscription through an index; a
    // cancel moves the last subscription into the cancelled one's place.
    constexpr int producers = 20;
    eam::actor_system system({.workers = 2});
    stage_log<int> log;
    auto sink = eam::test::recorder(system, log);
    std::vector<otp::producer<int>> all;
    const std::vector<otp::subscription> subs = subscribe_to_new_producers(system, sink, producers, all);
    for (const int i : {0, 10, 19, 9}) CHECK(sink.cancel(subs[static_cast<std::size_t>(i)]));
    CHECK_FALSE(sink.cancel(subs[10]));
    REQUIRE(
        eventually([&] { return all[10].stats().value().consumers == 0 && all[9].stats().value().consumers == 0; }));
    for (int i = 0; i < producers; ++i) all[static_cast<std::size_t>(i)].push({i, i, i});
    REQUIRE(eventually([&] { return log.count() == 3 * (producers - 4); }));
    for (const int i : {0, 10, 19, 9}) CHECK(all[static_cast<std::size_t>(i)].stats().value().buffered == 3);
    CHECK(sink.subscriptions().value().size() == producers - 4);
  }

  TEST_CASE("a consumer of many producers loses the subscriptions of those that end, and only those") {
    // Past eight subscriptions a producer's end finds its subscription through an index by
    // watch. Cancels and ends mixed, the last subscription among them.
    constexpr int producers = 24;
    eam::actor_system system({.workers = 2});
    stage_log<int> log;
    auto sink = eam::test::recorder(system, log);
    std::vector<otp::producer<int>> all;
    const std::vector<otp::subscription> subs = subscribe_to_new_producers(system, sink, producers, all);
    const std::vector<int> ended{23, 0, 12, 13, 5}, cancelled{22, 7};
    for (const int i : cancelled) CHECK(sink.cancel(subs[static_cast<std::size_t>(i)]));
    for (const int i : ended) REQUIRE(all[static_cast<std::size_t>(i)].stop());
    const auto gone = [&](int i) {
      return std::find(ended.begin(), ended.end(), i) != ended.end() ||
             std::find(cancelled.begin(), cancelled.end(), i) != cancelled.end();
    };
    std::vector<std::uint64_t> want;
    for (int i = 0; i < producers; ++i)
      if (!gone(i)) want.push_back(subs[static_cast<std::size_t>(i)].tag);
    const auto tags_held = [&] {
      std::vector<std::uint64_t> tags;
      for (const auto& sub : sink.subscriptions().value()) tags.push_back(sub.tag);
      std::sort(tags.begin(), tags.end());
      return tags;
    };
    REQUIRE(eventually([&] { return tags_held().size() == want.size(); }));
    std::sort(want.begin(), want.end());
    CHECK(tags_held() == want);
    for (int i = 0; i < producers; ++i)
      if (!gone(i)) all[static_cast<std::size_t>(i)].push({i, i});
    REQUIRE(eventually([&] { return log.count() == 2 * want.size(); }));
    CHECK(sink.ref().is_alive());
  }

  TEST_CASE("cancel modes: when the producer stops, permanent consumers end, transient and temporary carry on") {
    eam::actor_system system({.workers = 2});
    one_per_cancel_mode stages(system);
    REQUIRE(stages.producer.stop());
    REQUIRE(eventually([&] { return !stages.permanent.ref().is_alive(); }));
    for (auto* stage : {&stages.transient, &stages.temporary}) {
      REQUIRE(eventually([&] { return has_no_subscriptions(*stage); }));
      CHECK(stage->ref().is_alive());
    }
  }

  TEST_CASE("cancel modes: when the producer crashes, permanent and transient consumers end, temporary carries on") {
    eam::actor_system system({.workers = 2});
    one_per_cancel_mode stages(system);
    system.exit(stages.producer.ref(), eam::exit_reason::custom("boom"));
    REQUIRE(eventually([&] { return !stages.permanent.ref().is_alive() && !stages.transient.ref().is_alive(); }));
    REQUIRE(eventually([&] { return has_no_subscriptions(stages.temporary); }));
    CHECK(stages.temporary.ref().is_alive());
  }

  TEST_CASE("a consumer that ends is cancelled at its producer, with its reason") {
    telemetry_log cancels(otp::stage_telemetry::cancel);
    eam::actor_system system({.workers = 2});
    auto lazy = silent_producer(system);
    stage_log<int> log;
    auto sink = eam::test::recorder(system, log);
    REQUIRE(sink.subscribe(lazy.ref()).has_value());
    REQUIRE(sink.stop());
    REQUIRE(eventually([&] { return lazy.stats().value().consumers == 0; }));
    REQUIRE(cancels.size() == 1);
    CHECK(meta(cancels.seen[0].second, "reason") == "normal");
    CHECK(meta(cancels.seen[0].second, "producer_id") == std::to_string(lazy.ref().id()));
  }

  TEST_CASE("accumulate mode holds demand until forward") {
    stage_log<int> a, b;
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(system, 1000, {.demand = otp::demand_mode::accumulate});
    REQUIRE(eam::test::recorder(system, a).subscribe(numbers.ref(), {.max_demand = 10}).has_value());
    REQUIRE(eam::test::recorder(system, b).subscribe(numbers.ref(), {.max_demand = 10}).has_value());
    CHECK(numbers.stats().value().held_demand == 20);
    CHECK(a.count() + b.count() == 0);
    numbers.demand(otp::demand_mode::forward);
    REQUIRE(eventually([&] { return a.count() + b.count() == 1000; }));
    CHECK(numbers.stats().value().held_demand == 0);
  }

  TEST_CASE("a full buffer keeps the newest events and reports the overflow") {
    telemetry_log overflows(otp::stage_telemetry::buffer_overflow);
    eam::actor_system system({.workers = 2});
    auto source = silent_producer(system, {.buffer_size = 5});
    source.push(range(0, 12));
    const auto stats = source.stats().value();
    CHECK(stats.buffered == 5);
    CHECK(stats.dropped == 7);
    REQUIRE(overflows.size() == 1);
    CHECK(measure(overflows.seen[0].first, "dropped_count") == 7);
    CHECK(measure(overflows.seen[0].first, "buffer_size") == 5);
    stage_log<int> log;
    REQUIRE(eam::test::recorder(system, log).subscribe(source.ref()).has_value());
    REQUIRE(eventually([&] { return log.count() == 5; }));
    CHECK(log.events() == range(7, 12));
  }

  TEST_CASE("a full buffer set to keep the oldest drops new events instead") {
    eam::actor_system system({.workers = 2});
    auto source = silent_producer(system, {.buffer_size = 5, .buffer_keep = otp::keep::oldest});
    source.push(range(0, 12));
    CHECK(source.stats().value().dropped == 7);
    stage_log<int> log;
    REQUIRE(eam::test::recorder(system, log).subscribe(source.ref()).has_value());
    REQUIRE(eventually([&] { return log.count() == 5; }));
    CHECK(log.events() == range(0, 5));
  }

  TEST_CASE("telemetry: subscribe names the producer and the tag - dispatch counts every event") {
    telemetry_log subscribes(otp::stage_telemetry::subscribe);
    telemetry_log dispatches(otp::stage_telemetry::dispatch);
    stage_log<int> log;
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(system, 1000);
    auto sub = eam::test::recorder(system, log).subscribe(numbers.ref(), {.max_demand = 100}).value();
    REQUIRE(eventually([&] { return log.count() == 1000; }));
    REQUIRE(subscribes.size() == 1);
    CHECK(meta(subscribes.seen[0].second, "producer_id") == std::to_string(numbers.ref().id()));
    CHECK(meta(subscribes.seen[0].second, "consumer_tag") == std::to_string(sub.tag));
    std::lock_guard l(dispatches.m);
    double total = 0;
    for (const auto& [ms, md] : dispatches.seen) total += measure(ms, "event_count");
    CHECK(total == 1000);
  }

  TEST_CASE("stages start as children of an actor and stop with it") {
    stage_log<int> log;
    eam::actor_system system({.workers = 2});
    struct start_pipeline {};
    auto owner = system.spawn([&log](eam::actor_context& ctx) {
      return eam::behavior{[&ctx, &log](start_pipeline) -> eam::task<bool> {
        auto numbers = eam::test::counter_producer(ctx, 500);
        auto sink = eam::test::recorder(ctx, log);
        auto op = sink.subscribe_op(numbers.ref());  // named: see task.hpp on GCC 12
        auto r = co_await op;
        co_return r.has_value() && r.value().has_value();
      }};
    });
    CHECK(owner.call(start_pipeline{}).get().value());
    REQUIRE(eventually([&] { return log.count() == 500; }));
    system.stop(owner);
    REQUIRE(eventually([&] { return system.actor_count() == 0; }));
  }
}
