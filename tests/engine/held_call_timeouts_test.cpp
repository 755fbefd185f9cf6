// The timeouts of calls awaited inside actors are held back by the worker that armed them and
// handed to the timer service only for calls still unanswered (held_call_timeouts.hpp).
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"
#include "actor_cell.hpp"
#include "held_call_timeouts.hpp"
#include "system_state.hpp"

#include <atomic>
#include <chrono>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using eam::test::eventually;

namespace {
struct get {};
struct open_all {};
struct stashed {};
struct begin {};
struct spin {};
struct ask {
  int n;
};

// Stashes calls of get until opened: a callee that leaves its callers waiting.
auto gate(eam::actor_context& ctx) {
  struct state {
    bool open = false;
    int stashed = 0;
  };
  auto& st = ctx.make_state<state>();
  return eam::behavior{
      [&ctx, &st](get) {
        if (!st.open && ctx.stash()) ++st.stashed;  // no reply while stashed
        return 5;
      },
      [&ctx, &st](open_all) {
        st.open = true;
        ctx.unstash_all();
      },
      [&st](stashed) { return st.stashed; },
  };
}

using getter_ref = eam::typed_ref<int(get)>;

// What a waiter saw: the answer, or the error's code as a negative number; and how long it waited.
struct seen {
  std::atomic<int> outcome{0};
  std::atomic<long> waited_us{0};
};

// On begin, calls `g` with `timeout` and records what came back.
auto waiter(eam::actor_context&, getter_ref g, std::chrono::milliseconds timeout, seen* out) {
  return eam::behavior{[g, timeout, out](begin) -> eam::task<> {
    const auto start = std::chrono::steady_clock::now();
    auto r = co_await g.call(get{}, timeout);
    const auto waited = std::chrono::steady_clock::now() - start;
    out->waited_us.store(std::chrono::duration_cast<std::chrono::microseconds>(waited).count());
    out->outcome.store(r.has_value() ? r.value() : -r.code().value(), std::memory_order_release);
  }};
}

// Blocks its worker in the handler of get until the waiter has seen an outcome (at most 20 s).
auto stuck_until_seen(eam::actor_context&, seen* out) {
  return eam::behavior{[out](get) {
    (void)eventually([out] { return out->outcome.load() != 0; }, 20s);
    return 5;
  }};
}

// Sends itself messages until the waiter has seen an outcome (at most 20 s): keeps a worker busy.
auto spinner(eam::actor_context& ctx, seen* out, std::atomic<bool>* saw_outcome) {
  const auto bound = std::chrono::steady_clock::now() + 20s;
  auto self = eam::typed_ref_cast<eam::typed_ref<void(spin)>>(ctx.self()).value();
  return eam::behavior{[self, out, saw_outcome, bound](spin) {
    if (out->outcome.load(std::memory_order_acquire) != 0) {
      saw_outcome->store(true, std::memory_order_release);
      return;
    }
    if (std::chrono::steady_clock::now() < bound) self.cast(spin{});
  }};
}

constexpr int timed_out = -static_cast<int>(eam::errc::timeout);

// A waiter calls `callee` with a 50 ms timeout, which must fire, and no earlier than that.
void expect_timeout_calling(eam::actor_system& system, getter_ref callee, seen& out) {
  auto w = system.spawn(waiter, callee, 50ms, &out);
  w.cast(begin{});
  REQUIRE(eventually([&] { return out.outcome.load() != 0; }, 30s));
  CHECK(out.outcome.load() == timed_out);
  CHECK(out.waited_us.load() >= 50'000);
}

// Spawns a gate and a waiter whose call (60 s timeout) the gate keeps; returns the gate once it
// holds the call.
auto start_kept_call(eam::actor_system& system, seen& out) {
  auto g = system.spawn(gate);
  auto w = system.spawn(waiter, getter_ref(g), 60'000ms, &out);
  w.cast(begin{});
  REQUIRE(eventually([&] { return g.call(stashed{}).get().value() == 1; }));
  return std::pair{g, w};
}
}  // namespace

TEST_SUITE("engine.await") {
  TEST_CASE("a look arms only a call that a marking look before it found awaited") {
    using eam::internal::fate_at_look;
    using eam::internal::held_fate;
    // Answered: dropped, whatever the looks saw.
    for (bool seen : {false, true})
      for (bool marking : {false, true}) CHECK(fate_at_look(false, seen, marking) == held_fate::drop);
    // Awaited: armed only at a marking look, and only if the last marking look saw this call.
    CHECK(fate_at_look(true, true, true) == held_fate::arm);
    CHECK(fate_at_look(true, false, true) == held_fate::keep);   // a call made since: marked now
    CHECK(fate_at_look(true, true, false) == held_fate::keep);   // an idle look within the window
    CHECK(fate_at_look(true, false, false) == held_fate::keep);
  }

  TEST_CASE("a held call timeout fires while the worker that holds it sleeps") {
    // The gate keeps the call and nothing else runs: the worker goes idle right after the call
    // and parks, so neither its idle look (too soon to arm) nor an epoch check arms the
    // timeout: the parked worker wakes to hand it over when a look is due (or else the timer
    // thread's look does).
    seen out;  // before the system: its actors use it until the system is gone
    eam::actor_system system({.workers = 1});
    expect_timeout_calling(system, getter_ref(system.spawn(gate)), out);
  }

  TEST_CASE("actors awaiting calls answered at once arm almost no timers") {
    // Each call is answered within microseconds: held back, its timeout never reaches the timer
    // service. The bound leaves room for the timer thread's own looks at a worker that a busy
    // machine holds up for 5 ms, each of which may arm every call awaited then (100 here): a
    // holder that armed every call would arm all 50,000.
    constexpr int clients = 100, calls = 500;
    std::atomic<int> finished{0};  // before the system: its actors use it until it is gone
    eam::actor_system system({.workers = 1});
    auto leaf = system.spawn([](eam::actor_context&) { return eam::behavior{[](ask a) { return a.n + 1; }}; });
    eam::internal::timer_service& timers = leaf.cell()->system().timers;
    const std::uint64_t armed_before = timers.armed();
    std::vector<eam::typed_ref<void(begin)>> pool;
    for (int c = 0; c < clients; ++c)
      pool.push_back(system.spawn([&, target = eam::typed_ref<int(ask)>(leaf)](eam::actor_context&) {
        return eam::behavior{[&, target](begin) -> eam::task<> {
          for (int i = 0; i < calls; ++i) (void)co_await target.call(ask{i}, 30'000ms);
          finished.fetch_add(1);
        }};
      }));
    for (auto& client : pool) client.cast(begin{});
    REQUIRE(eventually([&] { return finished.load() == clients; }, 60s));
    CHECK(timers.armed() - armed_before < clients * calls / 4);
  }

  TEST_CASE("a held call timeout fires while the worker that holds it never goes idle") {
    // One worker, kept busy by an actor that sends itself messages until the waiter's call has
    // timed out: the timeout is handed over at an epoch check, never at idle. A worker that
    // handed over only when idle would let the spinner run into its own bound first.
    seen out;  // before the system: its actors use it until the system is gone
    std::atomic<bool> spinner_saw_outcome{false};
    eam::actor_system system({.workers = 1});
    auto g = system.spawn(gate);
    auto w = system.spawn(waiter, getter_ref(g), 50ms, &out);
    auto s = system.spawn(spinner, &out, &spinner_saw_outcome);
    w.cast(begin{});
    s.cast(spin{});
    REQUIRE(eventually([&] { return out.outcome.load() != 0; }, 30s));
    CHECK(out.outcome.load() == timed_out);
    CHECK(out.waited_us.load() >= 50'000);  // never early
    CHECK(eventually([&] { return spinner_saw_outcome.load(); }));
  }

  TEST_CASE("a held call timeout fires while the worker that holds it is stuck in a long handler") {
    // The callee runs on the caller's worker (a send schedules it there) and blocks that worker
    // until the caller has timed out: only the timer thread's look can hand the timeout over.
    seen out;
    eam::actor_system system({.workers = 2});
    expect_timeout_calling(system, getter_ref(system.spawn(stuck_until_seen, &out)), out);
  }

  TEST_CASE("a held call timeout fires while one worker is stuck and the other never goes idle") {
    // Nobody parks or rests: no worker's watch runs, and the timer thread alone can hand over.
    seen out;
    std::atomic<bool> spinner_saw_outcome{false};
    eam::actor_system system({.workers = 2, .adaptive_workers = false});
    auto s = system.spawn(spinner, &out, &spinner_saw_outcome);
    s.cast(spin{});
    expect_timeout_calling(system, getter_ref(system.spawn(stuck_until_seen, &out)), out);
    CHECK(eventually([&] { return spinner_saw_outcome.load(); }));
  }

  TEST_CASE("a call answered after its held timeout was handed over gets its answer") {
    // The worker goes idle while the gate keeps the call: the timeout is armed in the timer
    // service then, and the answer that comes later cancels it.
    seen out;  // before the system: its actors use it until the system is gone
    eam::actor_system system({.workers = 2});
    auto [g, w] = start_kept_call(system, out);
    g.cast(open_all{});
    REQUIRE(eventually([&] { return out.outcome.load() != 0; }));
    CHECK(out.outcome.load() == 5);
  }

  TEST_CASE("an actor stopped while its call's timeout is held ends and the late answer finds nobody") {
    seen out;  // before the system: its actors use it until the system is gone
    eam::actor_system system({.workers = 1});
    auto [g, w] = start_kept_call(system, out);
    system.stop(w);
    REQUIRE(eventually([&] { return system.actor_count() == 1; }));
    CHECK(out.outcome.load() == 0);  // the task was destroyed, not resumed
    g.cast(open_all{});          // answers a caller that is gone
    CHECK(g.call(stashed{}).get().value() == 1);
  }

  TEST_CASE("many actors awaiting calls across two workers all get their answers") {
    // Answers land on either worker while the other hands over what it holds.
    constexpr int clients = 32, calls = 500;
    // Declared before the system: its actors use them until it is gone.
    std::atomic<long> sum{0};
    std::atomic<int> finished{0};
    eam::actor_system system({.workers = 2});
    auto leaf = system.spawn([](eam::actor_context&) { return eam::behavior{[](ask a) { return a.n + 1; }}; });
    using leaf_ref = eam::typed_ref<int(ask)>;
    for (int c = 0; c < clients; ++c) {
      auto client = system.spawn([&, target = leaf_ref(leaf)](eam::actor_context&) {
        return eam::behavior{[&, target](begin) -> eam::task<> {
          long local = 0;
          for (int i = 0; i < calls; ++i) {
            auto r = co_await target.call(ask{i}, 30'000ms);
            local += r.has_value() ? r.value() : -1'000'000;
          }
          sum.fetch_add(local);
          finished.fetch_add(1);
        }};
      });
      client.cast(begin{});
    }
    REQUIRE(eventually([&] { return finished.load() == clients; }, 60s));
    CHECK(sum.load() == static_cast<long>(clients) * calls * (calls + 1) / 2);
  }
}
