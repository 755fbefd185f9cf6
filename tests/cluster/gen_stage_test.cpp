// GenStage across node processes: a slow consumer here subscribes to a producer on another
// node; every event arrives exactly once and in order, demand crossing the wire keeps the
// producer within max_demand of what the consumer took, and the producer's node dying ends a
// permanent subscription with noconnection. Consumers on two other nodes of one producer here
// each get every event. The node programs are stopped by their pids.
#include "child_node.hpp"
#include "test_nodes.hpp"

#include "../support/eventually.hpp"

#include <doctest/doctest.h>
#include <eam/otp/gen_stage/consumer.hpp>
#include <eam/otp/gen_stage/producer.hpp>

#include <mutex>
#include <thread>

using namespace eam::test::remote;
using eam::test::child_node;
using eam::test::eventually;
using namespace std::chrono_literals;

namespace {

#ifdef EAM_TEST_SANITIZED
constexpr std::int64_t wanted = 2'000;
#else
constexpr std::int64_t wanted = 20'000;
#endif

std::unique_ptr<eam::cluster::node> start_here() { return start_test_node("here", {}, 2); }

struct received {
  std::mutex lock;
  std::int64_t next = 0;       // the event expected next
  bool in_order = true;
  std::atomic<std::int64_t> count{0};
};

}  // namespace

TEST_SUITE("cluster.gen_stage") {
  TEST_CASE("a slow consumer of a remote producer gets every event once in order and bounds the producer") {
    auto here = start_here();
    child_node b(member_args("b", *here));
    REQUIRE(here->wait_for_peer("b", 30s));
    auto producer = here->whereis<eam::otp::source_ref<std::int64_t>>("b", "numbers");
    REQUIRE(producer.has_value());
    auto produced = here->whereis<produced_ref>("b", "numbers_produced").value();

    auto seen = std::make_shared<received>();
    auto consumer = eam::otp::consumer<std::int64_t>::start(here->system(), [seen](std::vector<std::int64_t>& events) {
      {
        std::lock_guard g(seen->lock);
        for (const std::int64_t e : events) {
          if (e != seen->next) seen->in_order = false;
          ++seen->next;
        }
      }
      seen->count.fetch_add(static_cast<std::int64_t>(events.size()));
      std::this_thread::sleep_for(200us);  // slow: the producer must wait for demand
    });
    constexpr std::size_t max_demand = 50;
    REQUIRE(consumer.subscribe(producer.value(), {.max_demand = max_demand, .min_demand = 25}));

    // Demand bounds production: the producer makes only what was asked, and the consumer never
    // has more than max_demand asked and not yet received.
    int checks = 0;
    while (seen->count.load() < wanted && checks < 100000) {
      const auto made = produced.call(produced_query{}).get().value();
      const auto taken = static_cast<std::uint64_t>(seen->count.load());
      CHECK(made <= taken + max_demand);
      ++checks;
    }
    REQUIRE(seen->count.load() >= wanted);
    consumer.stop();
    std::lock_guard g(seen->lock);
    CHECK(seen->in_order);
    CHECK(seen->next == seen->count.load());
    MESSAGE(seen->count.load() << " events across the wire, bound checked " << checks << " times");
  }

  TEST_CASE("a selector does not cross nodes: the subscription is refused, and the consumer subscribes without one") {
    auto here = start_here();
    child_node b(member_args("b", *here));
    REQUIRE(here->wait_for_peer("b", 30s));
    auto producer = here->whereis<eam::otp::source_ref<std::int64_t>>("b", "numbers").value();
    auto consumer = eam::otp::consumer<std::int64_t>::start(here->system(), [](std::vector<std::int64_t>&) {});
    auto refused = consumer.subscribe(producer, {.max_demand = 10}, [](const std::int64_t& e) { return e > 0; });
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error_value().code() == eam::otp::otp_errc::invalid_subscription);
    CHECK(std::string(refused.error_value().what()).find("cannot cross nodes") != std::string::npos);
    REQUIRE(consumer.subscriptions().value().empty());
    CHECK(consumer.subscribe(producer, {.max_demand = 10}).has_value());
    consumer.stop();
  }

  TEST_CASE("consumers on two other nodes of one broadcast producer each get every event once in order") {
    // Each node program's consumer is the first subscription its process makes. Tags counted
    // from 1 in every process gave both the same one, and the producer served one consumer
    // twice and the other never, which stalled a broadcast at the silent one's demand.
    auto here = start_here();
    constexpr std::int64_t total = wanted;
    auto source = eam::otp::producer<std::int64_t>::start(
        here->system(), [] { return std::int64_t{0}; },
        [](std::size_t demand, std::int64_t& next) {
          std::vector<std::int64_t> out;
          while (out.size() < demand && next < total) out.push_back(next++);
          return out;
        },
        {.dispatcher = eam::otp::dispatcher_kind::broadcast, .demand = eam::otp::demand_mode::accumulate},
        {.name = "fan.source"});
    // Each is ready once its consumer has subscribed.
    child_node b(member_args("b", *here, {"--consume", "here/fan.source"}));
    child_node c(member_args("c", *here, {"--consume", "here/fan.source"}));
    REQUIRE(source.stats().value().consumers == 2);
    source.demand(eam::otp::demand_mode::forward);
    for (const char* id : {"b", "c"}) {
      CAPTURE(id);
      auto consumed = here->whereis<consumed_ref>(id, "consumed").value();
      sink_state seen;
      CHECK(eventually(
          [&] {
            seen = consumed.call(get_sink{}).get().value();
            return seen.count >= static_cast<std::uint64_t>(total);
          },
          60s));
      CHECK(seen.count == static_cast<std::uint64_t>(total));
      CHECK(seen.in_order);
      CHECK(seen.sum == static_cast<std::uint64_t>(total * (total - 1) / 2));
    }
    source.stop();
  }

  TEST_CASE("a permanent subscription to a producer whose node dies ends the consumer") {
    auto here = start_here();
    child_node b(member_args("b", *here));
    REQUIRE(here->wait_for_peer("b", 30s));
    auto producer = here->whereis<eam::otp::source_ref<std::int64_t>>("b", "numbers").value();
    auto count = std::make_shared<std::atomic<std::int64_t>>(0);
    auto consumer = eam::otp::consumer<std::int64_t>::start(here->system(), [count](std::vector<std::int64_t>& events) {
      count->fetch_add(static_cast<std::int64_t>(events.size()));
    });
    REQUIRE(consumer.subscribe(producer, {.max_demand = 100, .cancel = eam::otp::cancel_mode::permanent}));
    REQUIRE(eventually([&] { return count->load() > 0; }));
    b.kill_hard();
    CHECK(eventually([&] { return !consumer.ref().is_alive(); }, 60s));
  }
}
