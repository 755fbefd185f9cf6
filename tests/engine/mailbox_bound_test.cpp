#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/telemetry.hpp>

#include "../support/eventually.hpp"
#include "../support/probe.hpp"

#include <atomic>
#include <memory>
#include <vector>

namespace {
using eam::test::eventually;

struct hold {};
struct item {
  int n;
};
struct get {};
struct handled {};

// An actor whose `hold` handler blocks until the test releases it, so the test can fill its
// mailbox while it is busy (the system has a second worker for everything else).
struct holder_state {
  std::atomic<bool> holding{false}, released{false};
  std::atomic<int> items{0};
};
auto holdable(eam::actor_context& ctx, std::shared_ptr<holder_state> h) {
  auto& seen = ctx.make_state<std::vector<int>>();
  return eam::behavior{
      [h](hold) {
        h->holding = true;
        (void)eventually([&] { return h->released.load(); });
      },
      [&seen, h](item i) {
        seen.push_back(i.n);
        ++h->items;
      },
      [](get) { return 1; },
      [&seen](handled) { return seen; },
  };
}

// Spawns a holdable actor with the given bound, holds it, and casts items 0..9.
struct filled {
  std::shared_ptr<holder_state> h = std::make_shared<holder_state>();
  eam::typed_ref<void(hold), void(item), int(get), std::vector<int>(handled)> ref;
  filled(eam::actor_system& system, eam::overflow_strategy s, int count = 10) {
    ref = system.spawn({.mailbox_bound = 3, .overflow = s}, holdable, h);
    ref.cast(hold{});
    REQUIRE(eventually([&] { return h->holding.load(); }));
    for (int i = 0; i < count; ++i) {
      try {
        ref.cast(item{i});
      } catch (const eam::error&) {
      }
    }
  }
  // Lets the actor go on and waits until it handled `n` items, so the call that reads them
  // finds room in the mailbox.
  void release(int n = 3) {
    h->released = true;
    REQUIRE(eventually([&] { return h->items.load() == n; }));
  }
};
}  // namespace

TEST_SUITE("engine.mailbox_bound") {
  TEST_CASE("drop_newest keeps the first messages up to the bound") {
    eam::actor_system system({.workers = 2});
    filled f(system, eam::overflow_strategy::drop_newest);
    f.release();
    CHECK(f.ref.call(handled{}).get().value() == std::vector<int>{0, 1, 2});
  }

  TEST_CASE("drop_oldest keeps the newest messages up to the bound") {
    eam::actor_system system({.workers = 2});
    filled f(system, eam::overflow_strategy::drop_oldest);
    f.release();
    CHECK(f.ref.call(handled{}).get().value() == std::vector<int>{7, 8, 9});
  }

  TEST_CASE("the error strategy makes cast throw mailbox_full once the mailbox is full") {
    eam::actor_system system({.workers = 2});
    filled f(system, eam::overflow_strategy::error, 3);
    try {
      f.ref.cast(item{99});
      FAIL("a cast into a full mailbox with the error strategy must throw");
    } catch (const eam::error& e) {
      CHECK(e.code() == eam::errc::mailbox_full);
    }
    f.release();
    CHECK(f.ref.call(handled{}).get().value() == std::vector<int>{0, 1, 2});
  }

  TEST_CASE("a call that finds the mailbox full fails with mailbox_full") {
    eam::actor_system system({.workers = 2});
    filled f(system, eam::overflow_strategy::drop_newest);
    CHECK(f.ref.call(get{}).get().code() == eam::errc::mailbox_full);
    f.release();
    CHECK(f.ref.call(get{}).get().value() == 1);  // room again
  }

  TEST_CASE("a full bounded mailbox still takes system messages: stop ends the actor and its watcher hears it") {
    eam::actor_system system({.workers = 2});
    auto log = std::make_shared<eam::test::probe_log>();
    filled f(system, eam::overflow_strategy::drop_newest);
    auto p = system.spawn(eam::test::probe, log, false);
    p.cast(eam::test::watch_this{f.ref});
    (void)p.call(eam::test::sync_probe{}).get();
    system.stop(f.ref);
    f.h->released = true;
    REQUIRE(eventually([&] { return log->size() == 1; }));
    CHECK(log->snapshot()[0].find("normal") != std::string::npos);
  }

  TEST_CASE("an overflow emits libeam.mailbox.overflow with the actor and message type") {
    std::atomic<int> overflows{0};
    eam::telemetry::attach("overflow-test", {eam::telemetry::events::mailbox_overflow},
                           [&](std::string_view, const eam::telemetry::measurements&, const eam::telemetry::metadata& md) {
                             for (const auto& [k, v] : md)
                               if (k == "message_type" && v.find("item") != std::string::npos) ++overflows;
                           });
    {
      eam::actor_system system({.workers = 2});
      filled f(system, eam::overflow_strategy::drop_newest);
      f.release();
    }
    eam::telemetry::detach("overflow-test");
    CHECK(overflows.load() == 7);
  }

  TEST_CASE("the system's default bound applies to actors spawned without one") {
    eam::actor_system system({.workers = 2, .default_mailbox_bound = 3});
    auto h = std::make_shared<holder_state>();
    auto ref = system.spawn(holdable, h);
    ref.cast(hold{});
    REQUIRE(eventually([&] { return h->holding.load(); }));
    for (int i = 0; i < 10; ++i) ref.cast(item{i});
    h->released = true;
    REQUIRE(eventually([&] { return h->items.load() == 3; }));
    CHECK(ref.call(handled{}).get().value() == std::vector<int>{0, 1, 2});
  }
}
