// Regression tests for defects found by using the engine as its users would (issue 11). Each
// case failed (crashed, hung past its bound, or reported a wrong value) before its fix.
#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/telemetry.hpp>

#include "../support/eventually.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {
struct get {};
struct put {
  int v;
};
struct fetch {
  std::string key;
};
struct lookup {
  std::string key;
};
struct quit {};
struct work {
  std::string text;
};
struct release_all {};
struct seen_work {};

// A 1 KB message that counts its live copies.
struct payload {
  static inline std::atomic<int> live{0};
  std::string data = std::string(1024, 'x');
  payload() { ++live; }
  payload(const payload& o) : data(o.data) { ++live; }
  payload(payload&& o) noexcept : data(std::move(o.data)) { ++live; }
  ~payload() { --live; }
};

auto store(eam::actor_context&) {
  return eam::behavior{[](get) { return 1; }, [](put) {}};
}
}  // namespace

TEST_SUITE("engine.hardening") {
  TEST_CASE("typed whereis compares reply types and call or cast, not only message types") {
    eam::actor_system system({.workers = 2});
    auto s = system.spawn({.name = "store"}, store);
    CHECK(system.whereis<eam::typed_ref<int(get), void(put)>>("store").has_value());
    CHECK(system.whereis<eam::typed_ref<int(get)>>("store").has_value());
    auto wrong_reply = system.whereis<eam::typed_ref<std::string(get)>>("store");
    REQUIRE_FALSE(wrong_reply.has_value());
    CHECK(wrong_reply.code() == eam::errc::registry_lookup_failed);
    CHECK_FALSE(system.whereis<eam::typed_ref<int(put)>>("store").has_value());   // put is a cast
    CHECK_FALSE(system.whereis<eam::typed_ref<void(get)>>("store").has_value());  // get is a call
  }

  TEST_CASE("typed whereis racing the actor's stop never touches a destroyed actor") {
    eam::actor_system system({.workers = 2});
    for (int round = 0; round < 300; ++round) {
      auto s = system.spawn({.name = "racer"}, store);
      std::atomic<bool> stop{false};
      std::thread looker([&] {
        while (!stop.load()) (void)system.whereis<eam::typed_ref<int(get)>>("racer");
      });
      system.stop(s);
      REQUIRE(eam::test::eventually([&] { return !s.is_alive(); }));
      stop = true;
      looker.join();
    }
  }

  TEST_CASE("introspection while new actors build their state is free of data races") {
    eam::actor_system system({.workers = 2});
    std::atomic<bool> stop{false};
    std::thread observer([&] {
      while (!stop.load()) (void)system.actors();
    });
    for (int i = 0; i < 2000; ++i) {
      system.spawn([](eam::actor_context& ctx) {
        ctx.make_state<int>(0);
        ctx.stop();
        return eam::behavior{[](get) { return 0; }};
      });
    }
    REQUIRE(eam::test::eventually([&] { return system.actor_count() == 0; }));
    stop = true;
    observer.join();
  }

  TEST_CASE("the README's task pattern: a message built inside the call, co_awaited with GCC 12") {
    eam::actor_system system({.workers = 2});
    auto db = system.spawn([](eam::actor_context&) {
      return eam::behavior{[](fetch f) { return f.key + "!"; }};
    });
    auto front = system.spawn([db](eam::actor_context&) {
      return eam::behavior{[db](lookup l) -> eam::task<std::string> {
        auto r = co_await db.call<fetch>(eam::within{2000ms}, l.key);
        auto again = co_await db.call<fetch>(l.key);
        if (!again || *again != *r) co_return std::string("the default-timeout shape failed");
        co_return r ? *r : std::string("failed");
      }};
    });
    for (int i = 0; i < 500; ++i) {
      const std::string key = "a key long enough to live on the heap " + std::to_string(i);
      CHECK(front.call(lookup{key}).get().value() == key + "!");
    }
  }

  TEST_CASE("an exception from terminate ends the actor with that error and the process lives on") {
    struct fragile_end : eam::actor<int(get)> {
      int handle_call(get) { return 1; }
      void terminate(const eam::exit_reason&) { throw std::runtime_error("terminate failed"); }
    };
    eam::actor_system system({.workers = 2});
    std::atomic<bool> got_down{false};
    std::string reason;
    auto a = system.spawn<fragile_end>();
    auto watcher = system.spawn([&, a](eam::actor_context& ctx) {
      return eam::behavior{[&ctx, a](get) {
                             (void)ctx.watch(a);
                             return 0;
                           },
                           [&](eam::down d) {
                             reason = d.reason.to_string();
                             got_down = true;
                           }};
    });
    (void)watcher.call(get{}).get();            // the watcher has sent its watch request...
    REQUIRE(a.call(get{}).get().value() == 1);  // ...which `a` took before this call, ahead of the stop
    system.stop(a);
    REQUIRE(eam::test::eventually([&] { return got_down.load(); }));
    CHECK(reason.find("terminate failed") != std::string::npos);
    CHECK(system.is_running());
  }

#ifndef EAM_BEFORE_FIX
  TEST_CASE("shutdown from inside a handler stops the system and the main thread can wait for it") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn([&system](eam::actor_context&) {
      return eam::behavior{[&system](quit) { system.shutdown(); }};
    });
    a.cast(quit{});
    system.await_shutdown();
    CHECK_FALSE(system.is_running());
    CHECK(system.actor_count() == 0);
  }
#endif

  TEST_CASE("an actor woken just before a long handler runs on an idle worker, not after the handler") {
    eam::actor_system system({.workers = 2});
    std::atomic<bool> b_ran{false};
    auto b = system.spawn([&](eam::actor_context&) { return eam::behavior{[&](put) { b_ran = true; }}; });
    std::atomic<bool> b_ran_during_handler{false};
    auto a = system.spawn([&, b](eam::actor_context&) {
      return eam::behavior{[&, b](get) {
        b.cast(put{1});
        // A long handler: it waits (bounded) for b, which must not sit behind it.
        b_ran_during_handler = eam::test::eventually([&] { return b_ran.load(); }, 20s);
        return 0;
      }};
    });
    (void)a.call(get{}, 30s).get();
    CHECK(b_ran_during_handler.load());
  }

  TEST_CASE("an actor taken from a busy worker's LIFO slot runs once per message, whoever takes it") {
    // Handlers that send and then run for about one watch interval: sometimes the owner takes
    // the woken actor back, sometimes an idle worker steals it, sometimes they race.
    eam::actor_system system({.workers = 2});
    std::atomic<int> handled{0}, concurrent{0}, overlap{0};
    auto b = system.spawn([&](eam::actor_context&) {
      return eam::behavior{[&](put) {
        if (concurrent.fetch_add(1) != 0) ++overlap;  // two workers running one actor
        ++handled;
        concurrent.fetch_sub(1);
      }};
    });
    auto a = system.spawn([&, b](eam::actor_context&) {
      return eam::behavior{[&, b](get) {
        b.cast(put{1});
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(12);
        while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
        return 0;
      }};
    });
    constexpr int rounds = 40;
    for (int i = 0; i < rounds; ++i) (void)a.call(get{}, 30s).get();
    REQUIRE(eam::test::eventually([&] { return handled.load() == rounds; }));
    CHECK(overlap.load() == 0);
    (void)a.call(get{}, 30s).get();
    CHECK(eam::test::eventually([&] { return handled.load() == rounds + 1; }));
  }

  TEST_CASE("drop_oldest holds at most the bound while the actor is busy and an evicted call fails when evicted") {
    eam::actor_system system({.workers = 2});
    std::atomic<bool> busy{false}, release{false};
    auto a = system.spawn({.mailbox_bound = 5, .overflow = eam::overflow_strategy::drop_oldest},
                          [&](eam::actor_context&) {
                            return eam::behavior{
                                [&](get) {
                                  busy = true;
                                  (void)eam::test::eventually([&] { return release.load(); }, 30s);
                                  return 0;
                                },
                                [](const payload&) {},
                                [](put p) { return p.v; },
                            };
                          });
    auto blocked = std::thread([&] { (void)a.call(get{}, 60s).get(); });
    REQUIRE(eam::test::eventually([&] { return busy.load(); }));
    eam::result<int> evicted = eam::error(eam::errc::timeout);
    std::atomic<bool> answered{false};
    std::thread caller([&] {
      evicted = a.call(put{7}, 60s).get();
      answered = true;
    });
    REQUIRE(eam::test::eventually([&] { return system.actors().size() == 1; }));
    for (int i = 0; i < 100000 && !answered.load(); ++i) std::this_thread::yield();  // the call is queued first
    for (int i = 0; i < 20000; ++i) a.cast(payload{});
    CHECK(payload::live.load() <= 5);
    CHECK(eam::test::eventually([&] { return answered.load(); }, 20s));  // answered while the actor is still busy
    release = true;
    blocked.join();
    caller.join();
    CHECK(evicted.code() == eam::errc::mailbox_full);
  }

  TEST_CASE("a stashed message taken by value keeps its content") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn([](eam::actor_context& ctx) {
      struct state {
        bool ready = false;
        std::vector<std::string> seen;
      };
      auto& st = ctx.make_state<state>();
      return eam::behavior{
          [&](work w) {
            if (!st.ready && ctx.stash()) return;
            st.seen.push_back(w.text);
          },
          [&](fetch f) {
            if (!st.ready && ctx.stash()) return std::string();
            return f.key;
          },
          [&](release_all) {
            st.ready = true;
            ctx.unstash_all();
          },
          [&](seen_work) { return st.seen; },
      };
    });
    const std::string long_text(100, 'w');
    a.cast(work{long_text});
    std::string reply;
    std::thread caller([&] { reply = a.call(fetch{long_text + "?"}).get().value(); });
    REQUIRE(eam::test::eventually([&] {
      auto infos = system.actors();
      return !infos.empty() && infos[0].idle;
    }));
    a.cast(release_all{});
    caller.join();
    CHECK(reply == long_text + "?");
    CHECK(a.call(seen_work{}).get().value() == std::vector<std::string>{long_text});
  }

  TEST_CASE("an init that throws is not followed by terminate but watchers still hear the init error") {
    static std::atomic<int> terminated{0};
    struct bad_init : eam::actor<int(get)> {
      void init() { throw std::runtime_error("init failed"); }
      int handle_call(get) { return 1; }
      void terminate(const eam::exit_reason&) { ++terminated; }
    };
    eam::actor_system system({.workers = 2});
    auto a = system.spawn<bad_init>();
    CHECK(a.call(get{}).get().code() == eam::errc::actor_not_found);
    REQUIRE(eam::test::eventually([&] { return !a.is_alive(); }));
    CHECK(terminated.load() == 0);
  }

  TEST_CASE("a reply that cannot be built reaches the caller as actor_crashed, not as a timeout") {
    struct bomb {
      bomb() = default;
      bomb(const bomb&) { throw std::runtime_error("cannot copy the reply"); }
      bomb(bomb&&) { throw std::runtime_error("cannot move the reply"); }  // NOLINT: throws on purpose
    };
    eam::actor_system system({.workers = 2});
    auto a = system.spawn([](eam::actor_context&) { return eam::behavior{[](get) { return bomb{}; }}; });
    auto r = a.call(get{}, 30s).get();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.code() == eam::errc::actor_crashed);

    auto b = system.spawn([](eam::actor_context&) { return eam::behavior{[](get) { return bomb{}; }}; });
    auto asker = system.spawn([b](eam::actor_context&) {
      return eam::behavior{[b](put) -> eam::task<int> {
        auto op = b.call(get{}, 30s);
        auto reply = co_await op;
        co_return reply ? 0 : reply.code().value();
      }};
    });
    CHECK(asker.call(put{0}, 40s).get().value() == static_cast<int>(eam::errc::actor_crashed));
  }

  TEST_CASE("a throwing telemetry handler silences no other handler and never reaches the emitter") {
    eam::telemetry::reset();
    int second = 0;
    eam::telemetry::attach("thrower", {"test.hardening.event"},
                           [](std::string_view, const auto&, const auto&) { throw std::runtime_error("bad handler"); });
    eam::telemetry::attach("counter", {"test.hardening.event"},
                           [&](std::string_view, const auto&, const auto&) { ++second; });
    CHECK_NOTHROW(eam::telemetry::execute("test.hardening.event", {}, {}));
    CHECK_NOTHROW(eam::telemetry::execute("test.hardening.event", {}, {}));
    CHECK(second == 2);
    CHECK_THROWS_AS(eam::telemetry::attach("counter", {"test.hardening.event"},
                                           [](std::string_view, const auto&, const auto&) {}),
                    eam::error);
    eam::telemetry::reset();
  }
}
