#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/migration.hpp>

#include "../support/eventually.hpp"
#include "../support/probe.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {
using eam::test::eventually;
using eam::test::probe;
using eam::test::probe_log;
using eam::test::sync_probe;
using eam::test::watch_this;

struct crash {};
struct ping {};
auto fragile(eam::actor_context&) {
  return eam::behavior{[](crash) { throw std::runtime_error("boom"); }, [](ping) { return 1; }};
}
void open_database() { throw std::runtime_error("no database"); }
}  // namespace

TEST_SUITE("engine.monitor") {
  TEST_CASE("a watcher gets exactly one down with reason normal when the target stops") {
    eam::actor_system system({.workers = 2});
    auto log = std::make_shared<probe_log>();
    auto p = system.spawn(probe, log, false);
    auto target = system.spawn(fragile);
    p.cast(watch_this{target});
    (void)p.call(sync_probe{}).get();
    system.stop(target);
    REQUIRE(eventually([&] { return log->size() == 1; }));
    CHECK(log->snapshot()[0] == "down " + std::to_string(target.id()) + " normal");
  }

  TEST_CASE("a crash reaches the watcher as a down with the error and its text") {
    eam::actor_system system({.workers = 2});
    auto log = std::make_shared<probe_log>();
    auto p = system.spawn(probe, log, false);
    auto target = system.spawn(fragile);
    p.cast(watch_this{target});
    (void)p.call(sync_probe{}).get();
    target.cast(crash{});
    REQUIRE(eventually([&] { return log->size() == 1; }));
    CHECK(log->snapshot()[0] == "down " + std::to_string(target.id()) + " error: boom");
  }

  TEST_CASE("watching an actor that is already gone gives an immediate down with noproc") {
    eam::actor_system system({.workers = 2});
    auto log = std::make_shared<probe_log>();
    auto target = system.spawn(fragile);
    system.stop(target);
    REQUIRE(eventually([&] { return !target.is_alive(); }));
    auto p = system.spawn(probe, log, false);
    p.cast(watch_this{target});
    REQUIRE(eventually([&] { return log->size() == 1; }));
    CHECK(log->snapshot()[0] == "down " + std::to_string(target.id()) + " noproc");
  }

  // Erlang's spawn_monitor in two steps, as OTP's supervisors take them: spawn a child, then
  // watch it within the same turn. The child may run on another worker in between and end
  // before the watch reaches it; its parent still learns why it ended (the reason its
  // child_exited carries), not noproc, or a failed init would read as a missing actor.
  TEST_CASE("a parent's watch on a child that ended before the watch reached it hears the child's reason") {
    struct set_on_destroy {
      explicit set_on_destroy(std::shared_ptr<std::atomic<bool>> f) : flag(std::move(f)) {}
      set_on_destroy(const set_on_destroy&) = delete;
      set_on_destroy& operator=(const set_on_destroy&) = delete;
      ~set_on_destroy() { flag->store(true, std::memory_order_release); }
      std::shared_ptr<std::atomic<bool>> flag;
    };
    struct start {};
    std::promise<eam::exit_reason> heard;
    auto got = heard.get_future();
    auto child_gone = std::make_shared<std::atomic<bool>>(false);
    eam::actor_system system({.workers = 2});
    auto parent = system.spawn([&heard, child_gone](eam::actor_context& ctx) {
      return eam::behavior{[&ctx, &heard, child_gone](start) {
        auto guard = std::make_shared<set_on_destroy>(child_gone);
        auto child = ctx.spawn([guard = std::move(guard)](eam::actor_context&) {
          open_database();
          return eam::behavior{[](ping) { return 1; }};
        });
        // Hold this turn until the child's cell has dropped its factory, which it does after
        // telling its watchers: the other worker takes it from this one meanwhile.
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (!child_gone->load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up)
          std::this_thread::yield();
        ctx.watch(child, [&heard](const eam::down& d) { heard.set_value(d.reason); });
        return child_gone->load(std::memory_order_acquire);
      }};
    });
    auto ran_elsewhere = parent.call(start{}).get();
    REQUIRE(ran_elsewhere);
    REQUIRE(ran_elsewhere.value());  // the child ended while its parent's turn went on
    REQUIRE(got.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    CHECK(got.get().to_string() == "error: no database");
  }

  TEST_CASE("a parent that watches a child whose end it has already heard gets noproc") {
    struct watch_first_child {};
    std::promise<eam::exit_reason> heard;
    auto got = heard.get_future();
    eam::actor_system system({.workers = 2});
    auto parent = system.spawn([&heard](eam::actor_context& ctx) {
      auto child = ctx.spawn([](eam::actor_context& c) {
        c.stop();
        return eam::behavior{[](ping) { return 1; }};
      });
      return eam::behavior{[&ctx, &heard, child](watch_first_child) {
        if (!ctx.children().empty()) return false;  // its end not heard yet: ask again
        ctx.watch(child, [&heard](const eam::down& d) { heard.set_value(d.reason); });
        return true;
      }};
    });
    REQUIRE(eventually([&] {
      auto watched = parent.call(watch_first_child{}).get();
      return watched && watched.value();
    }));
    REQUIRE(got.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    CHECK(got.get() == eam::exit_reason::noproc());
  }

  TEST_CASE("several watchers each get their own down") {
    eam::actor_system system({.workers = 2});
    auto log = std::make_shared<probe_log>();
    auto a = system.spawn(probe, log, false);
    auto b = system.spawn(probe, log, false);
    auto target = system.spawn(fragile);
    a.cast(watch_this{target});
    b.cast(watch_this{target});
    a.cast(watch_this{target});  // a second watch of a is a second down
    (void)a.call(sync_probe{}).get();
    (void)b.call(sync_probe{}).get();
    target.cast(crash{});
    REQUIRE(eventually([&] { return log->size() == 3; }));
  }

  TEST_CASE("unwatch drops the down even when it is already queued") {
    struct start_watching {
      eam::actor_ref target;
    };
    struct unwatch_once_gone {
      eam::actor_ref target;
    };
    struct seen {};
    eam::actor_system system({.workers = 2});
    auto target = system.spawn(fragile);
    auto watcher = system.spawn([](eam::actor_context& ctx) {
      struct state {
        eam::watch_ref ref;
        int downs = 0;
      };
      auto& st = ctx.make_state<state>();
      return eam::behavior{
          [&ctx, &st](start_watching w) { st.ref = ctx.watch(w.target); },
          [&ctx, &st](unwatch_once_gone u) {
            // Hold this handler until the target (run by the other worker) has ended: its down
            // is then in our mailbox, behind this message, when we unwatch.
            (void)eventually([&] { return !u.target.is_alive(); });
            ctx.unwatch(st.ref);
          },
          [&st](eam::down) { ++st.downs; },
          [&st](seen) { return st.downs; },
      };
    });
    watcher.cast(start_watching{target});
    (void)watcher.call(seen{}).get();  // the watch request is queued at the target
    watcher.cast(unwatch_once_gone{target});
    system.stop(target);
    REQUIRE(eventually([&] { return !target.is_alive(); }));
    CHECK(watcher.call(seen{}).get().value() == 0);
  }

  TEST_CASE("a class actor receives down through handle_info") {
    struct watcher : eam::actor<void(watch_this), int(ping)> {
      int downs = 0;
      void handle_cast(watch_this w) { (void)context().watch(w.target); }
      int handle_call(ping) { return downs; }
      void handle_info(const eam::down& d) { downs += d.reason.type() == eam::exit_reason::kind::error ? 1 : 100; }
    };
    eam::actor_system system({.workers = 2});
    auto w = system.spawn<watcher>();
    auto target = system.spawn(fragile);
    w.cast(watch_this{target});
    (void)w.call(ping{}).get();  // the watch request is queued at the target
    target.cast(crash{});
    REQUIRE(eventually([&] { return w.call(ping{}).get().value() == 1; }));
  }

  TEST_CASE("a watcher that hears of an end no longer counts the ended actor") {
    // Many watchers make the dying actor's loop of downs long, so the first watchers run on the
    // other worker while it still tells the rest: each must already see it gone from the count.
    struct count_seen {
      std::mutex m;
      std::vector<std::size_t> counts;
    };
    constexpr std::size_t watchers = 2000;
    eam::actor_system system({.workers = 2});
    auto seen = std::make_shared<count_seen>();
    auto target = system.spawn(fragile);
    auto counting_watcher = [&system, seen](eam::actor_context& ctx) {
      return eam::behavior{
          [&ctx](watch_this w) { (void)ctx.watch(w.target); },
          [](sync_probe) { return 0; },
          [&system, seen](const eam::down&) {
            std::lock_guard l(seen->m);
            seen->counts.push_back(system.actor_count());
          },
      };
    };
    std::vector<decltype(system.spawn(counting_watcher))> all;
    for (std::size_t i = 0; i < watchers; ++i) all.push_back(system.spawn(counting_watcher));
    for (auto& w : all) w.cast(watch_this{target});
    for (auto& w : all) (void)w.call(sync_probe{}).get();  // every watch is queued at the target
    system.stop(target);
    REQUIRE(eventually([&] {
      std::lock_guard l(seen->m);
      return seen->counts.size() == watchers;
    }));
    std::lock_guard l(seen->m);
    CHECK(std::count(seen->counts.begin(), seen->counts.end(), watchers) == watchers);
  }

  TEST_CASE("a watcher that hears of an end sees the ended actor dead (is_alive false, as in Erlang after a DOWN)") {
    // The actor counted as alive until the end of its finish, after it had told its watchers:
    // with many watchers, the first ones ran on the other worker while it told the rest, and
    // their refs to it still read alive.
    constexpr std::size_t watchers = 2000;
    // Both workers always run: the watchers woken first run beside the dying actor's worker.
    eam::actor_system system({.workers = 2, .adaptive_workers = false});
    auto target = system.spawn(fragile);
    auto alive_seen = std::make_shared<std::atomic<std::size_t>>(0);
    auto downs = std::make_shared<std::atomic<std::size_t>>(0);
    auto checking_watcher = [target, alive_seen, downs](eam::actor_context& ctx) {
      return eam::behavior{
          [&ctx](watch_this w) { (void)ctx.watch(w.target); },
          [](sync_probe) { return 0; },
          [target, alive_seen, downs](const eam::down&) {
            if (target.is_alive()) alive_seen->fetch_add(1);
            downs->fetch_add(1);
          },
      };
    };
    std::vector<decltype(system.spawn(checking_watcher))> all;
    for (std::size_t i = 0; i < watchers; ++i) all.push_back(system.spawn(checking_watcher));
    for (auto& w : all) w.cast(watch_this{target});
    for (auto& w : all) (void)w.call(sync_probe{}).get();  // every watch is queued at the target
    system.stop(target);
    REQUIRE(eventually([&] { return downs->load() == watchers; }));
    CHECK(alive_seen->load() == 0);
  }

  // actor_system::watch: a watch without a watching actor, for a layer that tells others.
  TEST_CASE("a watch from outside actors is in place when it returns: an end sent right after shows its reason") {
    eam::actor_system system({.workers = 2});
    for (int round = 0; round < 200; ++round) {
      auto target = system.spawn(fragile);
      std::promise<eam::down> heard;
      auto got = heard.get_future();
      system.watch(target, [&heard](const eam::down& d) { heard.set_value(d); });
      target.cast(crash{});  // a later watch would see noproc
      REQUIRE(got.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
      const eam::down d = got.get();
      REQUIRE(d.reason.to_string() == "error: boom");
      CHECK(d.actor == target);
      CHECK(d.ref.watched == target.id());
      CHECK(d.ref.watcher == 0);
    }
  }

  TEST_CASE("a watch from outside actors on an ended or empty ref hears noproc") {
    eam::actor_system system({.workers = 2});
    auto target = system.spawn(fragile);
    system.stop(target);
    REQUIRE(eventually([&] { return !target.is_alive(); }));
    std::promise<eam::exit_reason> heard;
    auto got = heard.get_future();
    system.watch(target, [&heard](const eam::down& d) { heard.set_value(d.reason); });
    REQUIRE(got.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    CHECK(got.get() == eam::exit_reason::noproc());

    bool at_once = false;  // an empty ref has nothing to wait for
    system.watch(eam::actor_ref{}, [&at_once](const eam::down& d) { at_once = d.reason == eam::exit_reason::noproc(); });
    CHECK(at_once);
  }

  TEST_CASE("a move does not end a watch from outside actors: on_moved, then the old self's end reaches on_down") {
    eam::actor_system system({.workers = 2});
    auto target = system.spawn(fragile);
    auto successor = system.spawn(fragile);
    std::promise<eam::moved> moved_seen;
    std::promise<eam::exit_reason> down_seen;
    auto moved_got = moved_seen.get_future();
    auto down_got = down_seen.get_future();
    system.watch(
        target, [&down_seen](const eam::down& d) { down_seen.set_value(d.reason); },
        [&moved_seen](const eam::moved& m) { moved_seen.set_value(m); });
    eam::announce_moved(target, successor, "elsewhere");
    REQUIRE(moved_got.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    const eam::moved m = moved_got.get();
    CHECK(m.from == target);
    CHECK(m.to == successor);
    CHECK(m.node == "elsewhere");
    CHECK(down_got.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
    system.stop(target, eam::exit_reason::custom("relay_done"));
    REQUIRE(down_got.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    CHECK(down_got.get() == eam::exit_reason::custom("relay_done"));
  }
}
