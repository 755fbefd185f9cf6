#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"

#include <stdexcept>

namespace {
struct boom {};
struct ping {};
struct boom_later {};

auto fragile(eam::actor_context&) {
  return eam::behavior{
      [](boom) -> int { throw std::runtime_error("kaboom"); },
      [](ping) { return 1; },
      [](boom_later) -> eam::task<int> {
        co_await std::suspend_never{};
        throw std::runtime_error("kaboom in a task");
      },
  };
}
}  // namespace

TEST_SUITE("engine.crash") {
  TEST_CASE("an exception escaping a call handler reaches the caller as actor_crashed with its text") {
    eam::actor_system system({.workers = 2});
    auto ref = system.spawn(fragile);
    auto r = ref.call(boom{}).get();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.code() == eam::errc::actor_crashed);
    CHECK(r.error_value().context() == "kaboom");
  }

  TEST_CASE("a crashed actor is gone: later calls fail with actor_not_found") {
    eam::actor_system system({.workers = 2});
    auto ref = system.spawn(fragile);
    (void)ref.call(boom{}).get();
    REQUIRE(eam::test::eventually([&] { return !ref.is_alive(); }));
    CHECK(ref.call(ping{}).get().code() == eam::errc::actor_not_found);
    CHECK(system.actor_count() == 0);
  }

  TEST_CASE("a crash discards the mailbox: calls queued behind it fail and none is handled") {
    eam::actor_system system({.workers = 1});
    auto ref = system.spawn(fragile);
    std::vector<eam::result<int>> results;
    std::thread t([&] { results.push_back(ref.call(boom{}).get()); });
    t.join();
    for (int i = 0; i < 3; ++i) results.push_back(ref.call(ping{}).get());
    CHECK(results[0].code() == eam::errc::actor_crashed);
    for (int i = 1; i < 4; ++i) CHECK(results[static_cast<std::size_t>(i)].code() == eam::errc::actor_not_found);
  }

  TEST_CASE("an exception thrown by a task handler crashes the actor and fails the call") {
    eam::actor_system system({.workers = 2});
    auto ref = system.spawn(fragile);
    auto r = ref.call(boom_later{}).get();
    CHECK(r.code() == eam::errc::actor_crashed);
    CHECK(r.error_value().context() == "kaboom in a task");
    REQUIRE(eam::test::eventually([&] { return !ref.is_alive(); }));
  }

  TEST_CASE("an exception in init crashes the actor before it handles anything") {
    eam::actor_system system({.workers = 2});
    struct bad_init : eam::actor<int(ping)> {
      void init() { throw std::runtime_error("bad init"); }
      int handle_call(ping) { return 1; }
    };
    auto ref = system.spawn<bad_init>();
    CHECK(ref.call(ping{}).get().code() == eam::errc::actor_not_found);
  }

  TEST_CASE("a crash in a task that awaits another actor fails the outer caller too") {
    eam::actor_system system({.workers = 2});
    auto inner = system.spawn(fragile);
    auto outer = system.spawn([inner](eam::actor_context&) {
      return eam::behavior{[inner](ping) -> eam::task<int> {
        auto r = co_await inner.call(boom{});
        co_return r.value();  // throws the inner crash: this actor crashes too
      }};
    });
    auto r = outer.call(ping{}).get();
    CHECK(r.code() == eam::errc::actor_crashed);
    CHECK(r.error_value().context().find("kaboom") != std::string::npos);
  }
}
