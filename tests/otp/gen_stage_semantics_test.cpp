// GenStage semantics a pipeline ported from Elixir relies on (hexdocs.pm/gen_stage), where
// libeam once differed: what a producer-consumer received is handed on before its producer's
// end ends it, and the producer-consumer's buffer.
#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include "../support/eventually.hpp"
#include "stage_recorder.hpp"

#include <mutex>
#include <string>
#include <vector>

namespace {
using eam::test::eventually;
using eam::test::range;
using eam::test::silent_producer;
using eam::test::stage_log;
namespace otp = eam::otp;

// A producer-consumer that passes events on as they are.
otp::producer_consumer<int> pass_through(eam::actor_system& system, otp::producer_options<int> options = {}) {
  return otp::producer_consumer<int>::start(system, [](std::vector<int>& in) { return std::move(in); }, std::move(options));
}
}  // namespace

TEST_SUITE("otp.gen_stage.semantics") {
  TEST_CASE("a producer-consumer hands on what it received before its producer's end ends it") {
    for (const auto& [mode, reason] : {std::pair{otp::cancel_mode::permanent, eam::exit_reason::normal()},
                                       std::pair{otp::cancel_mode::transient, eam::exit_reason::custom("boom")}}) {
      eam::actor_system system({.workers = 2});
      auto source = silent_producer(system);
      auto middle = pass_through(system);
      REQUIRE(middle.subscribe(source.ref(), {.max_demand = 100, .cancel = mode}).has_value());
      source.push(range(0, 50));
      REQUIRE(source.stats().has_value());  // the push is dispatched: the middle holds the 50, nobody asks it
      if (reason == eam::exit_reason::normal())
        REQUIRE(source.stop());
      else
        system.exit(source.ref(), reason);
      REQUIRE(eventually([&] { return !source.ref().is_alive(); }));
      // Still here, holding them: its end waits behind them, as GenStage queues the cancel.
      REQUIRE(middle.stats().has_value());
      stage_log<int> log;
      auto sink = eam::test::recorder(system, log);
      REQUIRE(sink.subscribe(middle.ref()).has_value());
      REQUIRE(eventually([&] { return !middle.ref().is_alive(); }));
      CHECK(eventually([&] { return log.count() >= 50; }));
      CHECK(log.events() == range(0, 50));
    }
  }

  TEST_CASE("a producer-consumer's buffer is unbounded by default: an expansion loses nothing") {
    eam::actor_system system({.workers = 2});
    for (const bool bounded : {false, true}) {
      auto source = eam::test::counter_producer(system, 2000);
      // Each event becomes 50: one demand of 1,000 downstream yields 50,000 events at once.
      auto fifty_each = otp::producer_consumer<int>::start(
          system,
          [](std::vector<int>& in) {
            std::vector<int> out;
            for (int e : in)
              for (int k = 0; k < 50; ++k) out.push_back(e * 50 + k);
            return out;
          },
          bounded ? otp::producer_options<int>{.buffer_size = 1000} : otp::producer_options<int>{});
      stage_log<int> log;
      auto sink = eam::test::recorder(system, log);
      REQUIRE(sink.subscribe(fifty_each.ref()).has_value());
      REQUIRE(fifty_each.subscribe(source.ref()).has_value());
      if (bounded) {  // a bound given still holds
        CHECK(eventually([&] { return fifty_each.stats().value().dropped > 0; }));
      } else {
        REQUIRE(eventually([&] { return log.count() >= 100000; }, std::chrono::seconds(60)));
        CHECK(log.events() == range(0, 100000));
        CHECK(fifty_each.stats().value().dropped == 0);
      }
      REQUIRE(source.stop());
      REQUIRE(fifty_each.stop());
      REQUIRE(sink.stop());
    }
  }

  TEST_CASE("a broadcast refuses a second subscription of the same consumer, which would get every event twice") {
    eam::actor_system system({.workers = 2});
    auto source = silent_producer(system, {.dispatcher = otp::dispatcher_kind::broadcast});
    stage_log<int> log;
    auto sink = eam::test::recorder(system, log);
    REQUIRE(sink.subscribe(source.ref()).has_value());
    const auto again = sink.subscribe(source.ref());
    REQUIRE_FALSE(again.has_value());
    CHECK(again.code() == eam::otp::otp_errc::invalid_subscription);
    CHECK(source.stats().value().consumers == 1);
    CHECK(sink.subscriptions().value().size() == 1);
    // Another consumer still joins, and each gets each event once.
    stage_log<int> other_log;
    REQUIRE(eam::test::recorder(system, other_log).subscribe(source.ref()).has_value());
    source.push(range(0, 3));
    REQUIRE(eventually([&] { return log.count() >= 3 && other_log.count() >= 3; }));
    CHECK(source.stats().has_value());  // the push was dispatched: a duplicate would have come with it
    CHECK(log.events() == range(0, 3));
    CHECK(other_log.events() == range(0, 3));
  }

  TEST_CASE("a full buffer's drops are logged as a warning, as GenStage logs them") {
    std::mutex m;
    std::vector<std::string> warnings;
    eam::log::set_sink([&](const eam::log::record& r) {
      if (r.severity != eam::log::level::warn || r.component != "eam.otp.gen_stage") return;
      std::lock_guard l(m);
      warnings.emplace_back(r.message);
    });
    struct restore_sink {
      ~restore_sink() { eam::log::set_sink({}); }
    } restore;
    eam::actor_system system({.workers = 2});
    auto source = silent_producer(system, {.buffer_size = 5});
    source.push(range(0, 8));  // nobody asks: 5 kept, 3 dropped
    REQUIRE(source.stats().value().dropped == 3);
    std::lock_guard l(m);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find(std::to_string(source.ref().id())) != std::string::npos);
    CHECK(warnings[0].find("3 dropped") != std::string::npos);
  }

  TEST_CASE("accumulate mode holds the events pushed meanwhile too: a broadcast's late subscriber sees them") {
    eam::actor_system system({.workers = 2});
    auto source = silent_producer(
        system, {.dispatcher = otp::dispatcher_kind::broadcast, .demand = otp::demand_mode::accumulate});
    stage_log<int> early, late;
    REQUIRE(eam::test::recorder(system, early).subscribe(source.ref()).has_value());
    source.push(range(0, 3));
    CHECK(source.stats().value().buffered == 3);  // held, not sent
    REQUIRE(eam::test::recorder(system, late).subscribe(source.ref()).has_value());
    source.demand(otp::demand_mode::forward);
    REQUIRE(eventually([&] { return early.count() >= 3 && late.count() >= 3; }));
    CHECK(early.events() == range(0, 3));
    CHECK(late.events() == range(0, 3));
    CHECK(source.stats().value().buffered == 0);
  }

  TEST_CASE("a consumer's cancel with a reason acts by the subscription's cancel mode, as GenStage's cancel/3") {
    eam::actor_system system({.workers = 2});
    struct expect {
      otp::cancel_mode mode;
      eam::exit_reason reason;
      bool ends;
    };
    for (const expect& e : {expect{otp::cancel_mode::permanent, eam::exit_reason::normal(), true},
                            expect{otp::cancel_mode::transient, eam::exit_reason::shutdown(), false},
                            expect{otp::cancel_mode::transient, eam::exit_reason::custom("bad"), true},
                            expect{otp::cancel_mode::temporary, eam::exit_reason::custom("bad"), false}}) {
      CAPTURE(e.reason.to_string());
      auto source = silent_producer(system);
      stage_log<int> log;
      auto sink = eam::test::recorder(system, log);
      const auto sub = sink.subscribe(source.ref(), {.cancel = e.mode});
      REQUIRE(sub.has_value());
      CHECK(sink.cancel(sub.value(), e.reason));
      REQUIRE(eventually([&] { return source.stats().value().consumers == 0; }));
      if (e.ends)
        CHECK(eventually([&] { return !sink.ref().is_alive(); }));
      else
        CHECK(sink.subscriptions().has_value());  // alive, answering
      REQUIRE(source.stop());
    }
    // Without a reason it never ends the consumer, whatever the mode.
    auto source = silent_producer(system);
    stage_log<int> log;
    auto sink = eam::test::recorder(system, log);
    const auto sub = sink.subscribe(source.ref(), {.cancel = otp::cancel_mode::permanent});
    REQUIRE(sub.has_value());
    CHECK(sink.cancel(sub.value()));
    CHECK(sink.subscriptions().has_value());
  }
}
