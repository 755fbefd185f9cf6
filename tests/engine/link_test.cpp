#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"
#include "../support/probe.hpp"

#include <atomic>
#include <memory>
#include <stdexcept>

namespace {
using eam::test::eventually;
using eam::test::link_to;
using eam::test::probe;
using eam::test::probe_log;
using eam::test::sync_probe;
using eam::test::watch_this;

struct crash {};
struct finish {};
struct ping {};
struct link_with {
  eam::actor_ref other;
};
struct unlink_from {
  eam::actor_ref other;
};
struct step {
  int index;
};
struct flood {
  eam::typed_ref<void(step)> target;
  int steps;
};

// A worker that can crash, stop normally, and link itself to others.
auto worker(eam::actor_context& ctx) {
  return eam::behavior{
      [](crash) { throw std::runtime_error("boom"); },
      [&ctx](finish) { ctx.stop(); },
      [&ctx](link_with l) { ctx.link(l.other); },
      [&ctx](unlink_from u) { ctx.unlink(u.other); },
      [](ping) { return 1; },
  };
}

// An observer watching `target`, so the test can see how it ended.
struct observed {
  std::shared_ptr<probe_log> log = std::make_shared<probe_log>();
  eam::typed_ref<void(watch_this), void(link_to), bool(sync_probe)> probe_ref;
  observed(eam::actor_system& system, const eam::actor_ref& target, bool trap = false) {
    probe_ref = system.spawn(probe, log, trap);
    probe_ref.cast(watch_this{target});
    (void)probe_ref.call(sync_probe{}).get();
  }
};
}  // namespace

TEST_SUITE("engine.link") {
  TEST_CASE("a linked actor that does not trap exits dies with its partner's abnormal reason") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn(worker);
    auto b = system.spawn(worker);
    observed watch_b(system, b);
    a.cast(link_with{b});
    (void)a.call(ping{}).get();  // the link request is queued at b before the crash below
    a.cast(crash{});
    REQUIRE(eventually([&] { return watch_b.log->size() == 1; }));
    CHECK(watch_b.log->snapshot()[0] == "down " + std::to_string(b.id()) + " error: boom");
  }

  TEST_CASE("a partner's normal exit leaves a linked actor running") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn(worker);
    auto b = system.spawn(worker);
    observed watch_a(system, a);
    a.cast(link_with{b});
    (void)a.call(ping{}).get();
    a.cast(finish{});
    REQUIRE(eventually([&] { return watch_a.log->size() == 1; }));
    CHECK(b.call(ping{}).get().value() == 1);
    CHECK(b.is_alive());
  }

  TEST_CASE("an actor that traps exits receives its partner's end as an exit_signal message") {
    eam::actor_system system({.workers = 2});
    auto log = std::make_shared<probe_log>();
    auto trapper = system.spawn(probe, log, true);
    auto a = system.spawn(worker);
    trapper.cast(link_to{a});
    (void)trapper.call(sync_probe{}).get();
    a.cast(crash{});
    REQUIRE(eventually([&] { return log->size() == 1; }));
    CHECK(log->snapshot()[0] == "exit " + std::to_string(a.id()) + " error: boom");
    CHECK(trapper.call(sync_probe{}).get().value());  // still alive
  }

  TEST_CASE("kill ends an actor even when it traps exits, with reason killed") {
    eam::actor_system system({.workers = 2});
    auto log = std::make_shared<probe_log>();
    auto trapper = system.spawn(probe, log, true);
    observed watch_t(system, trapper);
    system.exit(trapper, eam::exit_reason::kill());
    REQUIRE(eventually([&] { return watch_t.log->size() == 1; }));
    CHECK(watch_t.log->snapshot()[0] == "down " + std::to_string(trapper.id()) + " killed");
  }

  TEST_CASE("an exit signal with a custom reason ends a non-trapping actor with that reason") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn(worker);
    observed watch_a(system, a);
    system.exit(a, eam::exit_reason::custom("shutdown requested"));
    REQUIRE(eventually([&] { return watch_a.log->size() == 1; }));
    CHECK(watch_a.log->snapshot()[0] == "down " + std::to_string(a.id()) + " shutdown requested");
  }

  TEST_CASE("an exit signal to a trapping actor arrives as a message and does not end it") {
    eam::actor_system system({.workers = 2});
    auto log = std::make_shared<probe_log>();
    auto trapper = system.spawn(probe, log, true);
    system.exit(trapper, eam::exit_reason::custom("please"));
    REQUIRE(eventually([&] { return log->size() == 1; }));
    CHECK(log->snapshot()[0] == "exit 0 please");  // from outside any actor: an empty ref
    CHECK(trapper.call(sync_probe{}).get().value());
  }

  TEST_CASE("an exit signal with reason normal is ignored by another actor") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn(worker);
    system.exit(a, eam::exit_reason::normal());
    CHECK(a.call(ping{}).get().value() == 1);
    CHECK(a.is_alive());
  }

  TEST_CASE("after unlink a partner's crash no longer ends the actor") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn(worker);
    auto b = system.spawn(worker);
    observed watch_a(system, a);
    a.cast(link_with{b});
    a.cast(unlink_from{b});
    (void)a.call(ping{}).get();  // link then unlink reached b before the crash
    (void)b.call(ping{}).get();
    b.cast(crash{});
    REQUIRE(eventually([&] { return !b.is_alive(); }));
    CHECK(a.call(ping{}).get().value() == 1);
    CHECK(watch_a.log->size() == 0);
  }

  TEST_CASE("an exit signal an actor gets while it works through a backlog ends it before the next queued message") {
    // One worker: the flooder's handler queues every step before the target's turn begins,
    // and the kill the first step sends lands in the target's system queue mid-turn.
    eam::actor_system system({.workers = 1});
    auto handled = std::make_shared<std::atomic<int>>(0);
    auto target = system.spawn([handled](eam::actor_context& ctx) {
      return eam::behavior{[&ctx, handled](step s) {
        handled->fetch_add(1);
        if (s.index == 0) ctx.exit(ctx.self(), eam::exit_reason::kill());
      }};
    });
    observed watch_target(system, target);
    auto flooder = system.spawn([](eam::actor_context&) {
      return eam::behavior{[](const flood& f) {
        for (int i = 0; i < f.steps; ++i) f.target.cast(step{i});
      }};
    });
    flooder.cast(flood{eam::typed_ref<void(step)>(target), 200});
    REQUIRE(eventually([&] { return watch_target.log->size() == 1; }));
    CHECK(watch_target.log->snapshot()[0] == "down " + std::to_string(target.id()) + " killed");
    CHECK(handled->load() == 1);
  }

  TEST_CASE("linking to an actor that is already gone signals noproc") {
    eam::actor_system system({.workers = 2});
    auto gone = system.spawn(worker);
    system.stop(gone);
    REQUIRE(eventually([&] { return !gone.is_alive(); }));
    auto log = std::make_shared<probe_log>();
    auto trapper = system.spawn(probe, log, true);
    trapper.cast(link_to{gone});
    REQUIRE(eventually([&] { return log->size() == 1; }));
    CHECK(log->snapshot()[0] == "exit " + std::to_string(gone.id()) + " noproc");
  }
}
