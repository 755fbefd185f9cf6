#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace {
struct note {
  std::string text;
};
struct history {};
using log_t = std::vector<std::string>;
}  // namespace

TEST_SUITE("engine.continue") {
  TEST_CASE("a continue asked for in init runs before any other message") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn([](eam::actor_context& ctx) {
      auto& log = ctx.make_state<log_t>();
      ctx.continue_with([&log] { log.push_back("continue"); });
      return eam::behavior{[&log](note n) { log.push_back(n.text); }, [&log](history) { return log; }};
    });
    a.cast(note{"first"});  // queued before init runs
    CHECK(a.call(history{}).get().value() == log_t{"continue", "first"});
  }

  TEST_CASE("a continue may ask for another, and handlers may continue too") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn([](eam::actor_context& ctx) {
      auto& log = ctx.make_state<log_t>();
      ctx.continue_with([&ctx, &log] {
        log.push_back("c1");
        ctx.continue_with([&log] { log.push_back("c2"); });
      });
      return eam::behavior{
          [&ctx, &log](note n) {
            log.push_back(n.text);
            ctx.continue_with([&log, t = n.text] { log.push_back("after " + t); });
          },
          [&log](history) { return log; },
      };
    });
    a.cast(note{"x"});
    a.cast(note{"y"});
    CHECK(a.call(history{}).get().value() == log_t{"c1", "c2", "x", "after x", "y", "after y"});
  }

  TEST_CASE("a throw in a continue crashes the actor") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn([](eam::actor_context& ctx) {
      ctx.continue_with([] { throw std::runtime_error("bad continue"); });
      return eam::behavior{[](history) { return log_t{}; }};
    });
    CHECK(a.call(history{}).get().code() == eam::errc::actor_not_found);
    REQUIRE(eam::test::eventually([&] { return !a.is_alive(); }));
  }

  TEST_CASE("a class actor continues from init") {
    struct loader : eam::actor<log_t(history), void(note)> {
      log_t log;
      void init(std::string first) {
        context().continue_with([this, first] { log.push_back("loaded " + first); });
      }
      log_t handle_call(history) { return log; }
      void handle_cast(note n) { log.push_back(n.text); }
    };
    eam::actor_system system({.workers = 2});
    auto a = system.spawn<loader>(std::string("state"));
    a.cast(note{"m"});
    CHECK(a.call(history{}).get().value() == log_t{"loaded state", "m"});
  }
}
