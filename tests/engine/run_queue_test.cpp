#include <doctest/doctest.h>

#include "run_queue.hpp"

#include <atomic>
#include <thread>
#include <vector>

using eam::internal::actor_cell;
using eam::internal::run_queue;

namespace {
actor_cell* fake(std::uintptr_t i) { return reinterpret_cast<actor_cell*>(i * 8); }
std::uintptr_t index_of(actor_cell* c) { return reinterpret_cast<std::uintptr_t>(c) / 8; }
// For thieves whose own queue always has room: an overflow would be a lost actor in the test.
auto no_overflow = [](actor_cell*) { FAIL("a stolen actor found no room in the thief's empty queue"); };

// An owner's queue with two thieves stealing from it until finish(), and how often each of the
// `total` items was taken: the concurrent tests push 1..total and check each is taken once.
struct stealing_run {
  static constexpr std::uintptr_t total = 200000;
  run_queue owner_q;
  std::vector<std::atomic<int>> seen = std::vector<std::atomic<int>>(total + 1);
  std::atomic<bool> done{false};
  std::vector<std::thread> thieves;

  explicit stealing_run(bool yield_between_steals) {
    for (int t = 0; t < 2; ++t)
      thieves.emplace_back([this, yield_between_steals] {
        run_queue mine;
        while (!done.load()) {
          if (actor_cell* c = owner_q.steal_into(mine, [this](actor_cell* d) { take(d); })) {
            take(c);
            while (actor_cell* d = mine.pop()) take(d);
          }
          if (yield_between_steals) std::this_thread::yield();
        }
      });
  }
  void take(actor_cell* c) { seen[index_of(c)].fetch_add(1); }
  /// Drains what the owner holds, stops the thieves and returns how many items were not taken
  /// exactly once.
  int finish() {
    while (actor_cell* c = owner_q.pop()) take(c);
    // Thieves may still hold a claimed batch: stop only after they have drained it.
    done = true;
    for (auto& t : thieves) t.join();
    int wrong = 0;
    for (std::uintptr_t i = 1; i <= total; ++i) wrong += seen[i].load() != 1;
    return wrong;
  }
};
}  // namespace

TEST_SUITE("engine.run_queue") {
  TEST_CASE("the owner pops in FIFO order and a full queue refuses pushes") {
    run_queue q;
    for (std::uintptr_t i = 1; i <= run_queue::capacity; ++i) CHECK(q.push(fake(i)));
    CHECK_FALSE(q.push(fake(999)));
    for (std::uintptr_t i = 1; i <= run_queue::capacity; ++i) CHECK(q.pop() == fake(i));
    CHECK(q.pop() == nullptr);
  }

  TEST_CASE("a thief takes half rounded up: it returns the oldest and queues the rest in its own queue") {
    run_queue victim, thief;
    for (std::uintptr_t i = 1; i <= 5; ++i) victim.push(fake(i));
    CHECK(victim.steal_into(thief, no_overflow) == fake(1));
    CHECK(thief.pop() == fake(2));
    CHECK(thief.pop() == fake(3));
    CHECK(thief.pop() == nullptr);
    CHECK(victim.pop() == fake(4));
    CHECK(victim.pop() == fake(5));
    CHECK(victim.steal_into(thief, no_overflow) == nullptr);
  }

  TEST_CASE("a thief whose queue is full hands what it cannot keep to the overflow: nothing is lost") {
    run_queue victim, thief;
    for (std::uintptr_t i = 1; i <= 8; ++i) victim.push(fake(i));
    for (std::uintptr_t i = 100; i < 100 + run_queue::capacity; ++i) REQUIRE(thief.push(fake(i)));
    std::vector<actor_cell*> spilled;
    CHECK(victim.steal_into(thief, [&](actor_cell* c) { spilled.push_back(c); }) == fake(1));
    CHECK(spilled == std::vector<actor_cell*>{fake(2), fake(3), fake(4)});
  }

  TEST_CASE("a full queue hands its older half to its owner, oldest first, and keeps the newer half in order") {
    run_queue q;
    std::vector<actor_cell*> older(run_queue::capacity);
    for (std::uintptr_t i = 1; i < run_queue::capacity; ++i) REQUIRE(q.push(fake(i)));
    CHECK(q.take_older_half(older.data()) == 0);  // room left: nothing to spill
    REQUIRE(q.push(fake(run_queue::capacity)));
    REQUIRE(q.take_older_half(older.data()) == run_queue::capacity / 2);
    for (std::uintptr_t i = 1; i <= run_queue::capacity / 2; ++i) CHECK(older[i - 1] == fake(i));
    CHECK(q.push(fake(999)));  // room again
    for (std::uintptr_t i = run_queue::capacity / 2 + 1; i <= run_queue::capacity; ++i) CHECK(q.pop() == fake(i));
    CHECK(q.pop() == fake(999));
    CHECK(q.pop() == nullptr);
  }

  TEST_CASE("an owner spilling half its full queue while thieves steal: every item taken exactly once" * doctest::test_suite("concurrency")) {
    stealing_run run(/*yield_between_steals=*/true);  // so that the owner fills the queue between steals
    std::vector<actor_cell*> spilled(run_queue::capacity);
    int spills = 0;
    for (std::uintptr_t i = 1; i <= stealing_run::total;) {
      if (run.owner_q.push(fake(i))) {
        ++i;
        continue;
      }
      // Full: spill as a worker does; 0 means a thief made room and the push is tried again.
      const std::uint32_t n = run.owner_q.take_older_half(spilled.data());
      spills += n != 0;
      for (std::uint32_t k = 0; k < n; ++k) run.take(spilled[k]);
    }
    CHECK(run.finish() == 0);
    // 200,000 pushes in a tight loop against thieves that yield between steals: the queue
    // fills hundreds of times, so the spill did race the steals.
    CHECK(spills > 0);
  }

  TEST_CASE("under concurrent stealing every pushed item is taken exactly once" * doctest::test_suite("concurrency")) {
    stealing_run run(/*yield_between_steals=*/false);
    for (std::uintptr_t i = 1; i <= stealing_run::total;) {
      if (run.owner_q.push(fake(i))) {
        ++i;
      } else if (actor_cell* c = run.owner_q.pop()) {
        run.take(c);
      }
    }
    CHECK(run.finish() == 0);
  }
}
