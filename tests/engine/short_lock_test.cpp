// short_lock (engine/src/short_lock.hpp): mutual exclusion with threads contending, including
// ones that wait long enough to sleep on the word, and try_lock.
#include <doctest/doctest.h>

#include "short_lock.hpp"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

using eam::internal::short_lock;

TEST_SUITE("engine.short_lock") {
  TEST_CASE("try_lock fails while the lock is held and succeeds once it is free") {
    short_lock l;
    CHECK(l.try_lock());
    CHECK_FALSE(l.try_lock());
    l.unlock();
    CHECK(l.try_lock());
    l.unlock();
  }

  TEST_CASE("threads contending for the lock never overlap: no increment is lost" * doctest::test_suite("concurrency")) {
    short_lock l;
    std::int64_t counter = 0;  // plain: only the lock orders the threads' updates
    constexpr int threads = 4, rounds = 100'000;
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&] {
        for (int i = 0; i < rounds; ++i) {
          std::lock_guard g(l);
          ++counter;
        }
      });
    for (auto& t : ts) t.join();
    CHECK(counter == std::int64_t{threads} * rounds);
  }

  TEST_CASE("waiters held off for long sleep on the lock and each gets it once it is freed" * doctest::test_suite("concurrency")) {
    short_lock l;
    l.lock();
    constexpr int waiters = 3;
    std::atomic<int> arrived{0}, got{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < waiters; ++t)
      ts.emplace_back([&] {
        arrived.fetch_add(1);
        std::lock_guard g(l);  // past its spins while the test holds the lock: asleep, or about to be
        got.fetch_add(1);
      });
    // Bounded: the threads only have to start. Holding the lock meanwhile sends each past its
    // spins, so the unlock below finds the word contended and must wake a sleeper.
    for (int i = 0; i < 1'000'000 && arrived.load() < waiters; ++i) std::this_thread::yield();
    for (int i = 0; i < 1'000; ++i) std::this_thread::yield();
    CHECK(got.load() == 0);
    l.unlock();
    for (auto& t : ts) t.join();
    CHECK(got.load() == waiters);
  }
}
