#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"
#include "timer_service.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {
using eam::test::eventually;

struct tick {};
struct numbered {
  int n;
};
struct marker {};
struct arm_after {
  std::chrono::milliseconds delay;
};
struct arm_interval {
  std::chrono::milliseconds period;
};
struct cancel_last {};
struct cancel_everything {};
struct arm_marker {
  std::chrono::milliseconds delay;
};
struct report {};
struct summary {
  int ticks = 0;
  int markers = 0;
  std::vector<int> order;
  bool last_cancel = false;
};

// An actor that arms timers on request and counts what they deliver.
auto timed(eam::actor_context& ctx) {
  struct state {
    summary s;
    eam::timer_ref last;
  };
  auto& st = ctx.make_state<state>();
  return eam::behavior{
      [&ctx, &st](arm_after a) { st.last = ctx.send_after(tick{}, a.delay); },
      [&ctx, &st](arm_interval a) { st.last = ctx.send_interval(tick{}, a.period); },
      [&ctx, &st](arm_marker a) { (void)ctx.send_after(marker{}, a.delay); },
      [&ctx, &st](cancel_last) { st.s.last_cancel = ctx.cancel_timer(st.last); },
      [&ctx](cancel_everything) { ctx.cancel_all_timers(); },
      [&st](tick) { ++st.s.ticks; },
      [&st](marker) { ++st.s.markers; },
      [&st](numbered n) { st.s.order.push_back(n.n); },
      [&st](report) { return st.s; },
  };
}

// One `timed` actor for each of the timer service's heaps (the heap its id picks).
auto one_timed_actor_per_heap(eam::actor_system& system) {
  using eam::internal::timer_service;
  std::vector<decltype(system.spawn(timed))> actors(timer_service::shard_count);
  for (int spawned = 0; std::any_of(actors.begin(), actors.end(), [](const auto& r) { return !r; }); ++spawned) {
    REQUIRE(spawned < 10000);
    auto a = system.spawn(timed);
    auto& slot = actors[timer_service::shard_of(a.id())];
    if (!slot) slot = a;
  }
  return actors;
}
}  // namespace

TEST_SUITE("engine.timer") {
  TEST_CASE("send_after delivers the message once, not before its delay") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn(timed);
    const auto start = std::chrono::steady_clock::now();
    a.cast(arm_after{30ms});
    REQUIRE(eventually([&] { return a.call(report{}).get().value().ticks == 1; }));
    CHECK(std::chrono::steady_clock::now() - start >= 30ms);
    // A marker armed after it, three times as far, proves no second tick followed.
    a.cast(arm_marker{90ms});
    REQUIRE(eventually([&] { return a.call(report{}).get().value().markers == 1; }));
    CHECK(a.call(report{}).get().value().ticks == 1);
  }

  TEST_CASE("send_interval repeats until cancelled, and cancel_timer then returns true") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn(timed);
    a.cast(arm_interval{10ms});
    REQUIRE(eventually([&] { return a.call(report{}).get().value().ticks >= 3; }));
    a.cast(cancel_last{});
    const int at_cancel = a.call(report{}).get().value().ticks;
    CHECK(a.call(report{}).get().value().last_cancel);
    a.cast(arm_marker{50ms});
    REQUIRE(eventually([&] { return a.call(report{}).get().value().markers == 1; }));
    CHECK(a.call(report{}).get().value().ticks == at_cancel);
  }

  TEST_CASE("a timer cancelled before it fires never delivers and cancelling it after delivery returns false") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn(timed);
    a.cast(arm_after{40ms});
    a.cast(cancel_last{});
    CHECK(a.call(report{}).get().value().last_cancel);
    a.cast(arm_marker{120ms});
    REQUIRE(eventually([&] { return a.call(report{}).get().value().markers == 1; }));
    CHECK(a.call(report{}).get().value().ticks == 0);

    a.cast(arm_after{1ms});
    REQUIRE(eventually([&] { return a.call(report{}).get().value().ticks == 1; }));
    a.cast(cancel_last{});
    CHECK_FALSE(a.call(report{}).get().value().last_cancel);
  }

  TEST_CASE("cancel_all_timers stops every timer of the actor") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn(timed);
    a.cast(arm_interval{10ms});
    a.cast(arm_interval{15ms});
    a.cast(arm_after{30ms});
    a.cast(cancel_everything{});
    const int at_cancel = a.call(report{}).get().value().ticks;
    a.cast(arm_marker{100ms});
    REQUIRE(eventually([&] { return a.call(report{}).get().value().markers == 1; }));
    CHECK(a.call(report{}).get().value().ticks == at_cancel);
  }

  TEST_CASE("one-shot timers due together fire in the order they were armed") {
    struct arm_many {};
    eam::actor_system system({.workers = 2});
    auto a = system.spawn([](eam::actor_context& ctx) {
      auto& order = ctx.make_state<std::vector<int>>();
      return eam::behavior{
          [&ctx](arm_many) {
            for (int i = 0; i < 100; ++i) (void)ctx.send_after(numbered{i}, 5ms);
          },
          [&order](numbered n) { order.push_back(n.n); },
          [&order](report) { return order; },
      };
    });
    a.cast(arm_many{});
    std::vector<int> got;
    REQUIRE(eventually([&] {
      got = a.call(report{}).get().value();
      return got.size() == 100;
    }));
    std::vector<int> expected(100);
    for (int i = 0; i < 100; ++i) expected[static_cast<std::size_t>(i)] = i;
    CHECK(got == expected);
  }

  TEST_CASE("a timer due before all that is armed fires, whichever actor's heap it is in") {
    // The timer thread sleeps until the earliest deadline it knows: an hour, after the first
    // actor's timer. Then one actor per heap, one at a time, arms a timer due in 5 ms: each
    // must wake the thread, or it would sleep on for the hour. One of them shares the hour's
    // heap, where the new timer is not the heap's only one.
    eam::actor_system system({.workers = 2});
    auto far = system.spawn(timed);
    far.cast(arm_after{std::chrono::hours(1)});
    auto near = one_timed_actor_per_heap(system);
    for (auto& a : near) {
      a.cast(arm_marker{5ms});
      REQUIRE(eventually([&] { return a.call(report{}).get().value().markers == 1; }));
    }
    CHECK(far.call(report{}).get().value().ticks == 0);
  }

  TEST_CASE("periodic timers in every heap keep firing, and stop when cancelled") {
    eam::actor_system system({.workers = 2});
    auto actors = one_timed_actor_per_heap(system);
    for (auto& a : actors) a.cast(arm_interval{2ms});
    for (auto& a : actors) REQUIRE(eventually([&] { return a.call(report{}).get().value().ticks >= 3; }));
    for (auto& a : actors) {
      a.cast(cancel_last{});
      CHECK(a.call(report{}).get().value().last_cancel);
    }
  }

  TEST_CASE("timers die with their actor") {
    eam::actor_system system({.workers = 2});
    auto ticks = std::make_shared<std::atomic<int>>(0);
    auto a = system.spawn([ticks](eam::actor_context& ctx) {
      (void)ctx.send_interval(tick{}, 5ms);
      return eam::behavior{[ticks](tick) { ticks->fetch_add(1); }};
    });
    REQUIRE(eventually([&] { return ticks->load() >= 2; }));
    system.stop(a);
    REQUIRE(eventually([&] { return system.actor_count() == 0; }));
    const int at_stop = ticks->load();
    auto clock = system.spawn(timed);
    clock.cast(arm_marker{50ms});
    REQUIRE(eventually([&] { return clock.call(report{}).get().value().markers == 1; }));
    CHECK(ticks->load() == at_stop);
  }

  // The idle tests watch a shared counter instead of calling the actor: a call is a message,
  // and any message resets the idle timeout.
  TEST_CASE("an idle actor gets a timeout info message, again while it stays idle") {
    eam::actor_system system({.workers = 2});
    auto seen = std::make_shared<std::atomic<int>>(0);
    auto idle_ms = std::make_shared<std::atomic<long>>(0);
    auto a = system.spawn([seen, idle_ms](eam::actor_context& ctx) {
      ctx.set_idle_timeout(20ms);
      return eam::behavior{[seen, idle_ms](eam::timeout t) {
        idle_ms->store(static_cast<long>(t.idle.count()));
        seen->fetch_add(1);
      }};
    });
    REQUIRE(eventually([&] { return seen->load() >= 2; }));
    CHECK(idle_ms->load() == 20);
  }

  // Lower bounds only: a slow machine delays a timeout, it never brings one forward.
  TEST_CASE("an idle timeout counts from the end of a handler that outlasted it, not from its start") {
    struct work {};
    using clock = std::chrono::steady_clock;
    eam::actor_system system({.workers = 2});
    auto handler_end = std::make_shared<std::atomic<clock::rep>>(0);
    auto first_timeout = std::make_shared<std::atomic<clock::rep>>(0);
    auto a = system.spawn([handler_end, first_timeout](eam::actor_context& ctx) {
      ctx.set_idle_timeout(50ms);
      return eam::behavior{[handler_end](work) {
                             std::this_thread::sleep_for(300ms);  // the idle check comes due meanwhile
                             handler_end->store(clock::now().time_since_epoch().count());
                           },
                           [handler_end, first_timeout](eam::timeout) {
                             if (handler_end->load() != 0 && first_timeout->load() == 0)
                               first_timeout->store(clock::now().time_since_epoch().count());
                           }};
    });
    eam::unchecked_typed_ref_cast<eam::typed_ref<void(work)>>(a).cast(work{});
    REQUIRE(eventually([&] { return first_timeout->load() != 0; }));
    // Before, the check that came due during the handler sent the timeout as it returned.
    CHECK(clock::duration(first_timeout->load() - handler_end->load()) >= 25ms);
  }

  TEST_CASE("an actor awaiting a reply gets no idle timeouts piled up behind the await") {
    struct slow {};
    struct go {};
    using clock = std::chrono::steady_clock;
    eam::actor_system system({.workers = 2});
    auto slowpoke = eam::unchecked_typed_ref_cast<eam::typed_ref<int(slow)>>(system.spawn([](eam::actor_context&) {
      return eam::behavior{[](slow) {
        std::this_thread::sleep_for(400ms);
        return 1;
      }};
    }));
    auto await_end = std::make_shared<std::atomic<clock::rep>>(0);
    auto timeouts_after = std::make_shared<std::vector<clock::rep>>();
    auto lock = std::make_shared<std::mutex>();
    auto a = system.spawn([=](eam::actor_context& ctx) {
      ctx.set_idle_timeout(50ms);
      return eam::behavior{[=](go) -> eam::task<void> {
                             auto answer = co_await slowpoke.call(slow{}, 30s);
                             (void)answer;
                             await_end->store(clock::now().time_since_epoch().count());
                           },
                           [=](eam::timeout) {
                             std::lock_guard g(*lock);
                             if (await_end->load() != 0) timeouts_after->push_back(clock::now().time_since_epoch().count());
                           }};
    });
    eam::unchecked_typed_ref_cast<eam::typed_ref<void(go)>>(a).cast(go{});
    REQUIRE(eventually([&] {
      std::lock_guard g(*lock);
      return !timeouts_after->empty();
    }));
    std::lock_guard g(*lock);
    // Before, every check during the 400 ms await queued one more, all handled at once after it.
    CHECK(clock::duration(timeouts_after->front() - await_end->load()) >= 25ms);
  }

  TEST_CASE("an idle timeout of zero turns it off") {
    struct off {};
    eam::actor_system system({.workers = 2});
    auto seen = std::make_shared<std::atomic<int>>(0);
    auto a = system.spawn([seen](eam::actor_context& ctx) {
      ctx.set_idle_timeout(10ms);
      return eam::behavior{[seen](eam::timeout) { seen->fetch_add(1); }, [&ctx](off) { ctx.set_idle_timeout(0ms); }};
    });
    REQUIRE(eventually([&] { return seen->load() >= 1; }));
    a.cast(off{});
    auto clock = system.spawn(timed);
    (void)clock.call(report{}).get();
    const int at_off = seen->load();  // at most one more may have been queued before `off`
    clock.cast(arm_marker{60ms});
    REQUIRE(eventually([&] { return clock.call(report{}).get().value().markers == 1; }));
    CHECK(seen->load() <= at_off + 1);
  }

  TEST_CASE("a class actor gets its idle timeout through handle_info") {
    struct count {};
    auto seen = std::make_shared<std::atomic<int>>(0);
    struct sleepy : eam::actor<int(count)> {
      std::shared_ptr<std::atomic<int>> seen;
      void init(std::shared_ptr<std::atomic<int>> s) {
        seen = std::move(s);
        context().set_idle_timeout(10ms);
      }
      int handle_call(count) { return seen->load(); }
      void handle_info(const eam::timeout&) { seen->fetch_add(1); }
    };
    eam::actor_system system({.workers = 2});
    auto a = system.spawn<sleepy>(seen);
    REQUIRE(eventually([&] { return seen->load() >= 1; }));
  }
}
