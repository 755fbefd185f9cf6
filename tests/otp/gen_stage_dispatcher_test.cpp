#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include "../support/eventually.hpp"
#include "stage_recorder.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace {
using eam::test::eventually;
using eam::test::range;
using eam::test::silent_producer;
using eam::test::stage_log;
namespace otp = eam::otp;

std::vector<int> sorted(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  return v;
}
}  // namespace

TEST_SUITE("otp.gen_stage.dispatchers") {
  TEST_CASE("demand: four consumers share the events and each event is delivered exactly once") {
    constexpr int total = 200000;
    std::vector<stage_log<int>> logs(4);
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(system, total);
    for (auto& log : logs)
      REQUIRE(eam::test::recorder(system, log).subscribe(numbers.ref(), {.max_demand = 50}).has_value());
    auto delivered = [&] {
      std::size_t n = 0;
      for (auto& log : logs) n += log.count();
      return n;
    };
    REQUIRE(eventually([&] { return delivered() == total; }));
    std::vector<int> all;
    for (auto& log : logs) {
      auto events = log.events();
      CHECK(std::is_sorted(events.begin(), events.end()));  // one producer: in order per consumer
      CHECK(log.largest_batch() <= 50);
      all.insert(all.end(), events.begin(), events.end());
    }
    CHECK(sorted(all) == range(0, total));
  }

  TEST_CASE("demand: each batch goes to the consumer with the highest pending demand") {
    stage_log<int> small, large;
    eam::actor_system system({.workers = 2});
    // A silent producer: only pushed events flow.
    auto source = silent_producer(system);
    // min_demand 0: neither asks again before its demand is used up.
    REQUIRE(
        eam::test::recorder(system, small).subscribe(source.ref(), {.max_demand = 10, .min_demand = 0}).has_value());
    REQUIRE(
        eam::test::recorder(system, large).subscribe(source.ref(), {.max_demand = 50, .min_demand = 0}).has_value());
    source.push(range(0, 30));   // large (50) takes all
    source.push(range(30, 60));  // large (20 left) first, then small (10)
    REQUIRE(eventually([&] { return small.count() + large.count() == 60; }));
    CHECK(large.events() == range(0, 50));
    CHECK(small.events() == range(50, 60));
  }

  TEST_CASE("broadcast: every consumer sees the identical sequence, at the pace of the slowest") {
    constexpr int total = 50000;
    std::vector<stage_log<int>> logs(3);
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(
        system, total, {.dispatcher = otp::dispatcher_kind::broadcast, .demand = otp::demand_mode::accumulate});
    const std::size_t demands[] = {10, 100, 1000};
    for (std::size_t i = 0; i < 3; ++i)
      REQUIRE(eam::test::recorder(system, logs[i]).subscribe(numbers.ref(), {.max_demand = demands[i]}).has_value());
    numbers.demand(otp::demand_mode::forward);
    for (auto& log : logs) REQUIRE(eventually([&] { return log.count() == total; }));
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(logs[i].events() == range(0, total));
      CHECK(logs[i].largest_batch() <= demands[i]);
    }
  }

  TEST_CASE("broadcast: a late subscriber sees only events dispatched after it joined") {
    stage_log<int> early, late;
    eam::actor_system system({.workers = 2});
    auto source = silent_producer(system, {.dispatcher = otp::dispatcher_kind::broadcast});
    REQUIRE(eam::test::recorder(system, early).subscribe(source.ref(), {.max_demand = 100}).has_value());
    source.push(range(0, 10));
    REQUIRE(eventually([&] { return early.count() == 10; }));
    REQUIRE(eam::test::recorder(system, late).subscribe(source.ref(), {.max_demand = 100}).has_value());
    source.push(range(10, 20));
    REQUIRE(eventually([&] { return early.count() == 20 && late.count() == 10; }));
    CHECK(early.events() == range(0, 20));
    CHECK(late.events() == range(10, 20));
  }

  TEST_CASE("broadcast: a consumer with a selector gets only what it accepts, in order, at the others' pace") {
    // As GenStage's :selector: the events a consumer declines count as handled for its demand,
    // so one that declines everything holds nobody back.
    constexpr int total = 20000;
    stage_log<int> all, even, none;
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(
        system, total, {.dispatcher = otp::dispatcher_kind::broadcast, .demand = otp::demand_mode::accumulate});
    REQUIRE(eam::test::recorder(system, all).subscribe(numbers.ref(), {.max_demand = 100}).has_value());
    REQUIRE(eam::test::recorder(system, even)
                .subscribe(numbers.ref(), {.max_demand = 10}, [](const int& e) { return e % 2 == 0; })
                .has_value());
    REQUIRE(eam::test::recorder(system, none)
                .subscribe(numbers.ref(), {.max_demand = 10}, [](const int&) { return false; })
                .has_value());
    numbers.demand(otp::demand_mode::forward);
    REQUIRE(eventually([&] { return all.count() == total && even.count() == total / 2; }));
    CHECK(all.events() == range(0, total));
    std::vector<int> evens;
    for (int e = 0; e < total; e += 2) evens.push_back(e);
    CHECK(even.events() == evens);
    CHECK(even.largest_batch() <= 10);
    CHECK(none.count() == 0);
    CHECK(numbers.stats().value().buffered == 0);
  }

  TEST_CASE("a selector is refused by a producer that does not broadcast") {
    stage_log<int> log;
    eam::actor_system system({.workers = 2});
    for (const auto kind : {otp::dispatcher_kind::demand, otp::dispatcher_kind::partition}) {
      auto source = silent_producer(system, {.dispatcher = kind, .partitions = 2});
      auto refused =
          eam::test::recorder(system, log).subscribe(source.ref(), {.partition = 0}, [](const int&) { return true; });
      REQUIRE_FALSE(refused.has_value());
      CHECK(refused.error_value().code() == otp::otp_errc::invalid_subscription);
      CHECK(source.stats().value().consumers == 0);
    }
  }

  TEST_CASE("partition: each consumer gets exactly its partition's events, in order") {
    constexpr int total = 100000;
    std::vector<stage_log<int>> logs(4);
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(
        system, total,
        {.dispatcher = otp::dispatcher_kind::partition, .partitions = 4, .demand = otp::demand_mode::accumulate});
    for (std::size_t p = 0; p < 4; ++p)
      REQUIRE(eam::test::recorder(system, logs[p])
                  .subscribe(numbers.ref(), {.max_demand = 100, .partition = p})
                  .has_value());
    numbers.demand(otp::demand_mode::forward);
    for (auto& log : logs) REQUIRE(eventually([&] { return log.count() == total / 4; }));
    for (int p = 0; p < 4; ++p) {
      std::vector<int> want;
      for (int e = p; e < total; e += 4) want.push_back(e);
      CHECK(logs[static_cast<std::size_t>(p)].events() == want);
      CHECK(logs[static_cast<std::size_t>(p)].largest_batch() <= 100);
    }
  }

  TEST_CASE("partition: dispatches of fewer events than partitions keep each partition's events in order") {
    // 64 partitions, max_demand 3: past the first dispatch each one is a few events, which the
    // dispatcher routes visiting only the partitions they go to, to a consumer or its buffer.
    constexpr int partitions = 64, total = partitions * 40;
    std::vector<stage_log<int>> logs(partitions);
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(system, total,
                                               {.dispatcher = otp::dispatcher_kind::partition,
                                                .partitions = partitions,
                                                .demand = otp::demand_mode::accumulate});
    for (std::size_t p = 0; p < partitions; ++p)
      REQUIRE(
          eam::test::recorder(system, logs[p]).subscribe(numbers.ref(), {.max_demand = 3, .partition = p}).has_value());
    numbers.demand(otp::demand_mode::forward);
    for (auto& log : logs) REQUIRE(eventually([&] { return log.count() == total / partitions; }));
    for (int p = 0; p < partitions; ++p) {
      std::vector<int> want;
      for (int e = p; e < total; e += partitions) want.push_back(e);
      CHECK(logs[static_cast<std::size_t>(p)].events() == want);
      CHECK(logs[static_cast<std::size_t>(p)].largest_batch() <= 3);
    }
    CHECK(numbers.stats().value().buffered == 0);
  }

  TEST_CASE(
      "partition: a dispatch of fewer events than partitions buffers, and reports drops, for the partitions it "
      "reaches") {
    stage_log<int> zero, one;
    eam::actor_system system({.workers = 2});
    auto source =
        silent_producer(system, {.dispatcher = otp::dispatcher_kind::partition, .partitions = 16, .buffer_size = 2});
    REQUIRE(eam::test::recorder(system, zero).subscribe(source.ref(), {.partition = 0}).has_value());
    for (int e : {16, 1, 17, 33, 32}) source.push({e});  // one event a dispatch; 1, 17, 33 to partition 1
    REQUIRE(eventually([&] { return zero.count() == 2; }));
    const auto stats = source.stats().value();
    CHECK(stats.buffered == 2);  // 17 and 33: the buffer keeps the newest two
    CHECK(stats.dropped == 1);
    REQUIRE(eam::test::recorder(system, one).subscribe(source.ref(), {.partition = 1}).has_value());
    REQUIRE(eventually([&] { return one.count() == 2; }));
    CHECK(one.events() == std::vector<int>{17, 33});
    CHECK(zero.events() == std::vector<int>{16, 32});
  }

  TEST_CASE("partition: a custom hash routes by key and nullopt discards") {
    struct order {
      std::string customer;
      int amount;
    };
    std::vector<stage_log<order>> logs(2);
    eam::actor_system system({.workers = 2});
    auto orders = otp::producer<order>::start(system, [](std::size_t) { return std::vector<order>{}; },
                                              {.dispatcher = otp::dispatcher_kind::partition,
                                               .partitions = 2,
                                               .hash = [](const order& o) -> std::optional<std::size_t> {
                                                 if (o.amount < 0) return std::nullopt;  // invalid orders are dropped
                                                 return o.customer == "alice" ? 0 : 1;
                                               }});
    for (std::size_t p = 0; p < 2; ++p)
      REQUIRE(eam::test::recorder(system, logs[p]).subscribe(orders.ref(), {.partition = p}).has_value());
    orders.push({{"alice", 1}, {"bob", 2}, {"alice", -5}, {"bob", 3}, {"alice", 4}});
    REQUIRE(eventually([&] { return logs[0].count() == 2 && logs[1].count() == 2; }));
    auto amounts = [](std::vector<order> v) {
      std::vector<int> out;
      for (const auto& o : v) out.push_back(o.amount);
      return out;
    };
    CHECK(amounts(logs[0].events()) == std::vector<int>{1, 4});
    CHECK(amounts(logs[1].events()) == std::vector<int>{2, 3});
    CHECK(orders.stats().value().buffered == 0);
  }

  TEST_CASE("partition: a hash naming a partition that does not exist ends the producer") {
    // Out of range, the largest index included: nullopt is the only way to discard an event.
    for (const std::size_t bad : {std::size_t{2}, std::numeric_limits<std::size_t>::max()}) {
      CAPTURE(bad);
      stage_log<int> zero;
      eam::actor_system system({.workers = 2});
      auto source = eam::test::silent_producer(
          system, {.dispatcher = otp::dispatcher_kind::partition,
                   .partitions = 2,
                   .hash = [bad](const int& e) -> std::optional<std::size_t> { return e == 3 ? bad : 0; }});
      REQUIRE(eam::test::recorder(system, zero).subscribe(source.ref(), {.partition = 0}).has_value());
      source.push({0, 1, 2});
      REQUIRE(eventually([&] { return zero.count() == 3; }));
      source.push({4, 3, 5});
      REQUIRE(eventually([&] { return !source.ref().is_alive(); }));
      CHECK(zero.events() == std::vector<int>{0, 1, 2});  // the batch the throw cut short was not sent
    }
  }

  TEST_CASE("partition: events of a partition without a consumer wait in its own buffer") {
    stage_log<int> zero, one;
    eam::actor_system system({.workers = 2});
    auto source = silent_producer(system, {.dispatcher = otp::dispatcher_kind::partition, .partitions = 2});
    REQUIRE(eam::test::recorder(system, zero).subscribe(source.ref(), {.partition = 0}).has_value());
    source.push(range(0, 10));
    REQUIRE(eventually([&] { return zero.count() == 5; }));
    CHECK(source.stats().value().buffered == 5);  // the odd ones
    REQUIRE(eam::test::recorder(system, one).subscribe(source.ref(), {.partition = 1}).has_value());
    REQUIRE(eventually([&] { return one.count() == 5; }));
    CHECK(one.events() == std::vector<int>{1, 3, 5, 7, 9});
    CHECK(zero.events() == std::vector<int>{0, 2, 4, 6, 8});
  }

  TEST_CASE("partition: consumers that ask unevenly get every event of their partitions") {
    // The events made for one partition's demand go half to the other's: an ask its buffer
    // served was not passed on, so the producer was asked for less than the demand it left
    // open, and with one consumer's demand above its min_demand it stopped for good (after 890
    // of each partition's 5,000 here).
    constexpr int total = 10000;
    std::vector<stage_log<int>> logs(2);
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(system, total, {.dispatcher = otp::dispatcher_kind::partition, .partitions = 2});
    const std::size_t max_demand[2] = {10, 1000};
    for (std::size_t p = 0; p < 2; ++p)
      REQUIRE(eam::test::recorder(system, logs[p])
                  .subscribe(numbers.ref(), {.max_demand = max_demand[p], .partition = p})
                  .has_value());
    for (auto& log : logs) REQUIRE(eventually([&] { return log.count() == total / 2; }));
    for (int p = 0; p < 2; ++p) {
      std::vector<int> want;
      for (int e = p; e < total; e += 2) want.push_back(e);
      CHECK(logs[static_cast<std::size_t>(p)].events() == want);
    }
    CHECK(numbers.stats().value().buffered == 0);
  }

  TEST_CASE("partition: a partition without a consumer holds the producer back, drops nothing, and goes on once taken") {
    // The events made for partition 0's demand go half to partition 1's buffer: partition 0
    // gets part of what it asked for and waits. Were they made up for, partition 1's buffer of
    // 1,000 would overflow while partition 0 ran through its 50,000 events.
    constexpr int total = 100000;
    stage_log<int> zero, one;
    eam::actor_system system({.workers = 2});
    auto numbers = eam::test::counter_producer(
        system, total, {.dispatcher = otp::dispatcher_kind::partition, .partitions = 2, .buffer_size = 1000});
    REQUIRE(eam::test::recorder(system, zero).subscribe(numbers.ref(), {.max_demand = 100, .partition = 0}).has_value());
    REQUIRE(eventually([&] { return zero.count() > 0; }));
    REQUIRE(eam::test::recorder(system, one).subscribe(numbers.ref(), {.max_demand = 100, .partition = 1}).has_value());
    REQUIRE(eventually([&] { return zero.count() == total / 2 && one.count() == total / 2; }));
    CHECK(numbers.stats().value().dropped == 0);
    std::vector<int> odd;
    for (int e = 1; e < total; e += 2) odd.push_back(e);
    CHECK(one.events() == odd);
  }

  TEST_CASE("partition: a missing, out-of-range or taken partition is refused") {
    stage_log<int> a, b;
    eam::actor_system system({.workers = 2});
    auto source = silent_producer(system, {.dispatcher = otp::dispatcher_kind::partition, .partitions = 2});
    auto first = eam::test::recorder(system, a);
    auto second = eam::test::recorder(system, b);
    for (auto opts : {otp::subscribe_options{}, otp::subscribe_options{.partition = 2}}) {
      auto r = first.subscribe(source.ref(), opts);
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error_value().code() == eam::otp::otp_errc::invalid_subscription);
    }
    REQUIRE(first.subscribe(source.ref(), {.partition = 1}).has_value());
    auto taken = second.subscribe(source.ref(), {.partition = 1});
    REQUIRE_FALSE(taken.has_value());
    CHECK(taken.error_value().code() == eam::otp::otp_errc::invalid_subscription);
    CHECK(second.subscriptions().value().empty());
    CHECK(source.stats().value().consumers == 1);
    // Once its consumer cancels, the partition can be taken again.
    auto sub = first.subscriptions().value().at(0);
    REQUIRE(first.cancel(sub));
    REQUIRE(eventually([&] { return second.subscribe(source.ref(), {.partition = 1}).has_value(); }));
  }

  TEST_CASE("partition: starting without partitions, or without a hash for a type it cannot hash, throws") {
    struct opaque {
      int x;
    };
    eam::actor_system system({.workers = 1});
    auto none = [](std::size_t) { return std::vector<opaque>{}; };
    CHECK_THROWS_AS(otp::producer<opaque>::start(system, none, {.dispatcher = otp::dispatcher_kind::partition}),
                    eam::error);
    CHECK_THROWS_AS(
        otp::producer<opaque>::start(system, none, {.dispatcher = otp::dispatcher_kind::partition, .partitions = 2}),
        eam::error);
    auto ok =
        otp::producer<opaque>::start(system, none,
                                     {.dispatcher = otp::dispatcher_kind::partition,
                                      .partitions = 2,
                                      .hash = [](const opaque& o) -> std::optional<std::size_t> { return o.x % 2; }});
    CHECK(ok.stats().value().consumers == 0);
  }

  TEST_CASE("partition: the default hash spreads strings and negative integers into range") {
    auto by_string = otp::default_partition_hash<std::string>(3);
    auto by_int = otp::default_partition_hash<int>(3);
    for (const char* s : {"", "a", "alice", "bob"}) CHECK(by_string(s).value() < 3);
    CHECK(by_string("alice") == by_string("alice"));
    CHECK(by_int(-1).value() == 2);
    CHECK(by_int(7).value() == 1);
    struct keyed {
      std::string key;
    };
    CHECK(otp::default_partition_hash<keyed>(3)(keyed{"alice"}) == by_string("alice"));
  }
}
