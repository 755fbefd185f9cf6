#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/log.hpp>

#include "../support/eventually.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {
// Captures records while alive; restores the default sink and level afterwards.
struct captured {
  struct line {
    eam::log::level severity;
    std::string component, context, message;
  };
  std::mutex m;
  std::vector<line> lines;
  eam::log::level saved = eam::log::current_level();
  captured() {
    eam::log::set_sink([this](const eam::log::record& r) {
      std::string ctx;
      for (const auto& [k, v] : r.context) ctx += k + "=" + v + " ";
      std::lock_guard l(m);
      lines.push_back({r.severity, std::string(r.component), ctx, std::string(r.message)});
    });
  }
  ~captured() {
    eam::log::set_sink({});
    eam::log::set_level(saved);
  }
  std::vector<line> snapshot() {
    std::lock_guard l(m);
    return lines;
  }
};
struct boom {};
}  // namespace

TEST_SUITE("engine.log") {
  TEST_CASE("a shutdown that times out says so through the log, not straight to stderr") {
    struct hold {};
    captured log;
    std::atomic<bool> release{false};
    eam::actor_system system({.workers = 1});
    auto stuck = system.spawn([&release](eam::actor_context&) {
      return eam::behavior{[&release](hold) {
        for (int i = 0; i < 60'000 && !release.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }};
    });
    eam::unchecked_typed_ref_cast<eam::typed_ref<void(hold)>>(stuck).cast(hold{});
    // The handler holds the worker until the warning is seen (shutdown then joins it).
    std::thread releaser([&] {
      eam::test::eventually([&] {
        for (const auto& l : log.snapshot())
          if (l.message.find("shutdown timed out") != std::string::npos) return true;
        return false;
      });
      release.store(true);
    });
    system.shutdown({.timeout = std::chrono::milliseconds(50)});
    system.await_shutdown();
    releaser.join();
    bool warned = false;
    for (const auto& l : log.snapshot())
      warned = warned || (l.component == "eam.system" && l.severity == eam::log::level::warn &&
                          l.message.find("1 actors still running") != std::string::npos);
    CHECK(warned);
  }

  TEST_CASE("a sink may log, set another sink, or throw: no hang, and the caller never sees the throw") {
    // Each of these hung for ever (the sink ran under the lock that logging and set_sink take)
    // or threw out of the user's logger call.
    struct restore {
      eam::log::level saved = eam::log::current_level();
      ~restore() {
        eam::log::set_sink({});
        eam::log::set_level(saved);
      }
    } restore_at_end;
    eam::log::set_level(eam::log::level::info);
    std::vector<std::string> seen;
    eam::log::set_sink([&seen](const eam::log::record& r) {
      seen.emplace_back(r.message);
      eam::log::logger("test.inner").info("from inside the sink");  // to stderr, not back here
    });
    eam::log::logger("test").info("first");
    CHECK(seen == std::vector<std::string>{"first"});

    eam::log::set_sink([&seen](const eam::log::record& r) {
      seen.emplace_back(r.message);
      eam::log::set_sink({});  // the next record goes to stderr
    });
    eam::log::logger("test").info("second");
    eam::log::logger("test").info("third, to stderr");
    CHECK(seen == std::vector<std::string>{"first", "second"});

    eam::log::set_sink([](const eam::log::record&) { throw std::runtime_error("sink failed"); });
    CHECK_NOTHROW(eam::log::logger("test").info("fourth, to stderr after the sink threw"));
  }

  TEST_CASE("a component logger formats its message and carries its context") {
    captured c;
    eam::log::set_level(eam::log::level::debug);
    eam::log::logger log("billing", {{"shard", "3"}});
    log.with("account", "a-17").info("charged {} cents", 250);
    auto lines = c.snapshot();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].severity == eam::log::level::info);
    CHECK(lines[0].component == "billing");
    CHECK(lines[0].context == "shard=3 account=a-17 ");
    CHECK(lines[0].message == "charged 250 cents");
  }

  TEST_CASE("records below the level are not written, and none silences everything") {
    captured c;
    eam::log::logger log("x");
    eam::log::set_level(eam::log::level::warn);
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    CHECK(c.snapshot().size() == 2);
    eam::log::set_level(eam::log::level::none);
    log.error("silenced");
    CHECK(c.snapshot().size() == 2);
  }

  TEST_CASE("levels parse from text as EAM_LOG_LEVEL is read") {
    CHECK(eam::log::parse_level("DEBUG") == eam::log::level::debug);
    CHECK(eam::log::parse_level("warn") == eam::log::level::warn);
    CHECK(eam::log::parse_level("off") == eam::log::level::none);
    CHECK_FALSE(eam::log::parse_level("loud").has_value());
  }

  TEST_CASE("an actor crash is logged as an error with the actor and the exception's text") {
    captured c;
    eam::log::set_level(eam::log::level::info);
    eam::actor_system system({.workers = 1});
    auto a = system.spawn([](eam::actor_context&) { return eam::behavior{[](boom) -> int { throw std::runtime_error("kaput"); }}; });
    CHECK(a.call(boom{}).get().code() == eam::errc::actor_crashed);
    REQUIRE(eam::test::eventually([&] { return !c.snapshot().empty(); }));
    auto lines = c.snapshot();
    CHECK(lines[0].severity == eam::log::level::error);
    CHECK(lines[0].component == "eam.actor");
    CHECK(lines[0].message.find("crashed: kaput") != std::string::npos);
  }
}
