// A blocking call from a thread outside the pool runs its idle target's turn on the calling
// thread (system_config::calls_run_on_caller): the handler's effects, the actor's end, messages
// that arrive meanwhile and shutdown all behave as they do for a turn on a worker.
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"
#include "caller_turn_gate.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace {
struct which_thread {};
struct stop_after_reply {};

using thread_ref = eam::typed_ref<std::size_t(which_thread), int(stop_after_reply)>;

std::size_t this_thread_hash() { return std::hash<std::thread::id>{}(std::this_thread::get_id()); }

auto reporter(eam::actor_context& ctx) {
  return eam::behavior{
      [](which_thread) { return this_thread_hash(); },
      [&ctx](stop_after_reply) {
        ctx.stop();
        return 7;
      },
  };
}

// Whether the gate refuses this thread an entry now (its close began); an entry it lets in
// leaves at once.
bool refuses_entry(eam::internal::caller_turn_gate& gate) {
  auto* entered = gate.try_enter();
  if (entered == nullptr) return true;
  eam::internal::caller_turn_gate::leave(entered);
  return false;
}

// `count` threads, each entering the gate once and holding its turn until release().
class held_turns {
 public:
  held_turns(eam::internal::caller_turn_gate& gate, int count) {
    for (int t = 0; t < count; ++t)
      threads_.emplace_back([this, &gate] {
        auto* entered = gate.try_enter();
        std::unique_lock l(m_);
        ++tried_;
        entered_ += entered != nullptr ? 1 : 0;
        cv_.notify_all();
        cv_.wait(l, [&] { return let_go_; });
        l.unlock();
        if (entered != nullptr) eam::internal::caller_turn_gate::leave(entered);
      });
    std::unique_lock l(m_);
    cv_.wait(l, [&] { return tried_ == count; });
  }
  held_turns(const held_turns&) = delete;
  held_turns& operator=(const held_turns&) = delete;
  ~held_turns() { release(); }

  int entered() {
    std::lock_guard l(m_);
    return entered_;
  }
  void release() {
    {
      std::lock_guard l(m_);
      let_go_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int tried_ = 0, entered_ = 0;
  bool let_go_ = false;
  std::vector<std::thread> threads_;
};

// Closes the gate on another thread while `turns` hold theirs: a refused entry proves the close
// began, and it returns only after they leave.
void check_close_waits_for(eam::internal::caller_turn_gate& gate, held_turns& turns) {
  std::atomic<bool> close_returned{false};
  std::thread closer([&] {
    gate.close();
    close_returned.store(true);
  });
  CHECK(eam::test::eventually(
      [&] { return refuses_entry(gate); }));  // the close began (CHECK: the closer is joined below)
  CHECK_FALSE(close_returned.load());
  turns.release();
  closer.join();
  CHECK(close_returned.load());
}
}  // namespace

TEST_SUITE("engine.caller_turn") {
  TEST_CASE("a blocking call to an idle actor runs its handler on the calling thread and on a worker when turned off") {
    {
      eam::actor_system system({.workers = 2});
      auto ref = system.spawn(reporter);
      // The first call may find the actor still claimed by its init turn on a worker.
      REQUIRE(eam::test::eventually([&] { return ref.call(which_thread{}).get().value() == this_thread_hash(); }));
      for (int i = 0; i < 100; ++i) CHECK(ref.call(which_thread{}).get().value() == this_thread_hash());
    }
    {
      eam::actor_system system({.workers = 2, .calls_run_on_caller = false});
      auto ref = system.spawn(reporter);
      for (int i = 0; i < 100; ++i) CHECK(ref.call(which_thread{}).get().value() != this_thread_hash());
    }
  }

  TEST_CASE("a zero-timeout call whose turn the caller runs gets its answer: the slot is looked at before the clock") {
    eam::actor_system system({.workers = 1});
    auto ref = system.spawn(reporter);
    REQUIRE(eam::test::eventually([&] { return ref.call(which_thread{}).get().value() == this_thread_hash(); }));
    for (int i = 0; i < 100; ++i) {
      auto r = ref.call(which_thread{}, std::chrono::milliseconds(0)).get();
      REQUIRE(r.has_value());
      CHECK(r.value() == this_thread_hash());
    }
  }

  TEST_CASE("an actor that stops in a turn its caller runs has answered and ended when the call returns") {
    eam::actor_system system({.workers = 2});
    auto ref = system.spawn(reporter);
    REQUIRE(eam::test::eventually([&] { return ref.call(which_thread{}).get().value() == this_thread_hash(); }));
    CHECK(ref.call(stop_after_reply{}).get().value() == 7);
    CHECK_FALSE(ref.is_alive());
    CHECK(ref.call(which_thread{}).get().code() == eam::errc::actor_not_found);
  }

  TEST_CASE("what a handler run by its caller sends reaches its receiver complete and in order") {
    struct number {
      int n;
    };
    struct burst {
      int first;
    };
    struct seen {
      std::atomic<int> count{0};
      bool in_order = true;  // read after shutdown, which joins the workers
    };
    eam::actor_system system({.workers = 2});
    auto tally = std::make_shared<seen>();
    auto counter = system.spawn([tally](eam::actor_context&) {
      return eam::behavior{[tally](number x) {
        if (x.n != tally->count.load(std::memory_order_relaxed)) tally->in_order = false;
        tally->count.fetch_add(1, std::memory_order_release);
      }};
    });
    auto relay = system.spawn([counter](eam::actor_context&) {
      return eam::behavior{[counter](burst b) {
        for (int i = 0; i < 100; ++i) counter.cast(number{b.first + i});  // the outbox chains them
        return b.first;
      }};
    });
    for (int k = 0; k < 200; ++k) CHECK(relay.call(burst{k * 100}).get().value() == k * 100);
    REQUIRE(eam::test::eventually([&] { return tally->count.load(std::memory_order_acquire) == 20000; }));
    system.shutdown();
    CHECK(tally->in_order);
  }

  TEST_CASE("a caller runs its own call only: a message that arrived behind it is handled by a worker") {
    struct query {};
    struct behind {};
    eam::actor_system system({.workers = 1});
    std::atomic<std::size_t> query_ran_on{0}, behind_ran_on{0};
    std::atomic<bool> behind_sent{false};
    auto actor = system.spawn([&](eam::actor_context&) {
      return eam::behavior{
          [](which_thread) { return this_thread_hash(); },
          [&](query) {
            query_ran_on.store(this_thread_hash());
            // Until another thread's message waits behind this call (bounded: a cast that never
            // comes fails the test below rather than hanging it).
            const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
            while (!behind_sent.load() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
            return 1;
          },
          [&](behind) { behind_ran_on.store(this_thread_hash()); },
      };
    });
    // The first calls may find the actor still claimed by its init turn on a worker.
    REQUIRE(eam::test::eventually([&] { return actor.call(which_thread{}).get().value() == this_thread_hash(); }));
    std::thread sender([&] {
      // While the call's handler runs: the actor is claimed, so the cast only queues behind it.
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (query_ran_on.load() == 0 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
      actor.cast(behind{});
      behind_sent.store(true);
    });
    const std::size_t caller = this_thread_hash();
    CHECK(actor.call(query{}).get().value() == 1);
    sender.join();
    REQUIRE(query_ran_on.load() == caller);  // the caller ran the turn, or the test shows nothing
    REQUIRE(eam::test::eventually([&] { return behind_ran_on.load() != 0; }));
    CHECK(behind_ran_on.load() != caller);
  }

  TEST_CASE("casts from another thread while a caller runs the actor's turns are each handled once and in order" *
            doctest::test_suite("concurrency")) {
    struct step {
      int n;
    };
    struct ask {
      int n;
    };
    struct report {};  // the steps handled, or -1 if one came out of order
    eam::actor_system system({.workers = 2});
    auto actor = system.spawn([](eam::actor_context&) {
      auto steps = std::make_shared<int>(0);
      auto in_order = std::make_shared<bool>(true);
      return eam::behavior{
          [steps, in_order](step s) {
            if (s.n != *steps) *in_order = false;
            ++*steps;
          },
          [](ask a) { return a.n; },
          [steps, in_order](report) { return *in_order ? *steps : -1; },
      };
    });
    constexpr int steps = 20000;
    std::thread caster([&] {
      for (int i = 0; i < steps; ++i) actor.cast(step{i});
    });
    int wrong = 0;
    for (int i = 0; i < 5000; ++i)
      if (actor.call(ask{i}).get().value() != i) ++wrong;
    caster.join();
    CHECK(wrong == 0);
    REQUIRE(eam::test::eventually([&] { return actor.call(report{}).get().value() == steps; }));
  }

  TEST_CASE("a task handler run by its caller awaits another actor and answers from a worker") {
    struct ask {
      int n;
    };
    eam::actor_system system({.workers = 2});
    auto leaf = system.spawn([](eam::actor_context&) { return eam::behavior{[](ask a) { return a.n * 2; }}; });
    auto front = system.spawn([leaf](eam::actor_context&) {
      return eam::behavior{[leaf](ask a) -> eam::task<int> {
        auto r = co_await leaf.call(ask{a.n});
        co_return r.value() + 1;
      }};
    });
    for (int i = 0; i < 500; ++i) CHECK(front.call(ask{i}).get().value() == 2 * i + 1);
  }

  // Shutdown joins the workers before the system may be destroyed; a turn a caller runs is
  // waited for the same way (caller_turn_gate.hpp), however long its handler takes.
  TEST_CASE("shutdown waits for a turn a caller runs and the caller gets its answer") {
    struct wait_for_shutdown {};
    std::atomic<std::size_t> ran_on{0};
    std::optional<eam::actor_system> system(std::in_place, eam::system_config{.workers = 2});
    eam::actor_system* sys = &*system;
    auto ref = system->spawn([&ran_on, sys](eam::actor_context&) {
      return eam::behavior{
          [](which_thread) { return this_thread_hash(); },
          [&ran_on, sys](wait_for_shutdown) {
            ran_on.store(this_thread_hash());
            // Bounded: the test fails (below) rather than hangs if shutdown never starts.
            return eam::test::eventually([sys] { return sys->is_shutting_down(); }) ? 1 : 0;
          },
      };
    });
    // Idle from here on: the caller's call claims it and runs the turn.
    REQUIRE(eam::test::eventually([&] { return ref.call(which_thread{}).get().value() == this_thread_hash(); }));
    eam::result<int> answer = eam::error(eam::errc::timeout, "not called");
    std::atomic<std::size_t> caller_thread{0};
    std::thread caller([&, r = ref] {
      caller_thread.store(this_thread_hash());
      answer = r.call(wait_for_shutdown{}, std::chrono::seconds(60)).get();
    });
    REQUIRE(eam::test::eventually([&] { return ran_on.load() != 0; }));
    CHECK(ran_on.load() == caller_thread.load());
    ref = {};
    system->shutdown();
    system.reset();  // the caller may still be in its turn's last steps: the gate kept shutdown back until it left
    caller.join();
    CHECK(answer.value() == 1);
  }

  TEST_CASE("the caller-turn gate lets turns in until it closes and its close waits for every turn inside") {
    eam::internal::caller_turn_gate gate(true);
    CHECK_FALSE(refuses_entry(gate));
    held_turns turn(gate, 1);
    REQUIRE(turn.entered() == 1);
    check_close_waits_for(gate, turn);
    CHECK(refuses_entry(gate));  // closed for good
  }

  TEST_CASE("the caller-turn gate's close waits for turns entered from many threads, whatever their slots") {
    // Threads take slots round robin: more threads than slots put turns in every slot, and in
    // some slots two. The close must wait for each.
    eam::internal::caller_turn_gate gate(true);
    held_turns turns(gate, 40);
    REQUIRE(turns.entered() == 40);  // nothing closed yet
    check_close_waits_for(gate, turns);
  }

  TEST_CASE("the caller-turn gate's close waits for a lone turn in any slot") {
    // New threads take the slots in turn: 16 rounds of one thread holding a turn put the lone
    // turn in every slot once, so a close that skipped a slot would return with it inside.
    for (int round = 0; round < 16; ++round) {
      eam::internal::caller_turn_gate gate(true);
      held_turns turn(gate, 1);
      REQUIRE(turn.entered() == 1);
      check_close_waits_for(gate, turn);
    }
  }

  TEST_CASE("a disabled caller-turn gate lets no turn in and closes at once") {
    eam::internal::caller_turn_gate gate(false);
    CHECK(gate.try_enter() == nullptr);
    gate.close();
    CHECK(gate.try_enter() == nullptr);
  }
}
