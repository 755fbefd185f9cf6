#include <doctest/doctest.h>

#include "inject_queue.hpp"

#include <atomic>
#include <thread>
#include <vector>

using eam::internal::actor_cell;
using eam::internal::inject_queue;

namespace {
actor_cell* fake(std::uintptr_t i) { return reinterpret_cast<actor_cell*>(i * 8); }
std::uintptr_t index_of(actor_cell* c) { return reinterpret_cast<std::uintptr_t>(c) / 8; }
}  // namespace

TEST_SUITE("engine.inject_queue") {
  TEST_CASE("an actor from outside the pool waits in the hand-off slot and is taken first: the next ones queue") {
    inject_queue q;
    inject_queue::worker_tokens worker(q);  // after q: destroyed first
    q.push_from_outside(fake(1));  // the slot
    q.push_from_outside(fake(2));  // the slot is full: the queue
    q.push(fake(3), worker);       // overflow from a worker: the queue
    CHECK(q.size_approx() == 3);
    CHECK(q.try_pop(worker) == fake(1));
    CHECK(q.try_pop(worker) == fake(2));
    CHECK(q.try_pop(worker) == fake(3));
    CHECK(q.try_pop(worker) == nullptr);
    CHECK(q.size_approx() == 0);
    q.push_from_outside(fake(4));  // free again
    CHECK(q.try_pop(worker) == fake(4));
  }

  TEST_CASE("an actor from outside the pool never overtakes actors already queued: a busy outside thread starves nobody") {
    inject_queue q;
    inject_queue::worker_tokens worker(q);  // after q: destroyed first
    q.push(fake(1), worker);  // overflow from a worker
    // An outside thread that wakes an actor after every pop: with the slot taken first and
    // filled regardless of the queue, fake(1) would never come out; nor would it if the worker
    // kept taking from the outside thread's producer, which never runs dry (the worker's
    // consumer moves on to the next producer every 32 actors).
    std::uintptr_t next = 100;
    q.push_from_outside(fake(next));
    bool first_came_out = false;
    for (int i = 0; i < 100 && !first_came_out; ++i) {
      first_came_out = q.try_pop(worker) == fake(1);
      q.push_from_outside(fake(++next));
    }
    CHECK(first_came_out);
  }

  TEST_CASE("a worker's pushes come out in order, a batch at most as large as asked, behind the hand-off slot's actor") {
    inject_queue q;
    inject_queue::worker_tokens worker(q);
    q.push_from_outside(fake(1));  // the slot
    for (std::uintptr_t i = 2; i <= 5; ++i) q.push(fake(i), worker);
    CHECK(q.size_approx() == 5);
    std::vector<actor_cell*> out(8, nullptr);
    CHECK(q.try_pop_bulk(worker, out.data(), 3) == 3);
    CHECK(std::vector<actor_cell*>(out.begin(), out.begin() + 3) == std::vector<actor_cell*>{fake(1), fake(2), fake(3)});
    CHECK(q.try_pop_bulk(worker, out.data(), 8) == 2);
    CHECK(std::vector<actor_cell*>(out.begin(), out.begin() + 2) == std::vector<actor_cell*>{fake(4), fake(5)});
    CHECK(q.try_pop_bulk(worker, out.data(), 8) == 0);
    CHECK(q.try_pop_bulk(worker, out.data(), 0) == 0);
  }

  TEST_CASE("a worker taking batches while another keeps its backlog full still gets a third's actors") {
    // The batch take moves on to the next producer after each batch: a worker that overflows
    // without pause must not hide what another producer queued before it. Without a consumer
    // token moodycamel starts at the newest producer (busy) and drains it; with its default
    // rotation of 256 actors the first 7 batches would all be busy's.
    inject_queue q;
    inject_queue::worker_tokens other(q), busy(q), taker(q);
    q.push(fake(1), other);
    std::uintptr_t next = 100;
    for (int i = 0; i < 64; ++i) q.push(fake(next++), busy);
    std::vector<actor_cell*> out(32);
    bool other_came_out = false;
    for (int round = 0; round < 4 && !other_came_out; ++round) {
      const std::size_t n = q.try_pop_bulk(taker, out.data(), out.size());
      for (std::size_t i = 0; i < n; ++i) other_came_out = other_came_out || out[i] == fake(1);
      for (std::size_t i = 0; i < n; ++i) q.push(fake(next++), busy);  // the backlog never shrinks
    }
    CHECK(other_came_out);
  }

  TEST_CASE("threads outside the pool racing for the slot lose no actor and duplicate none") {
    inject_queue q;
    inject_queue::worker_tokens worker(q);  // after q: destroyed first
    constexpr std::uintptr_t per_thread = 200'000;
    constexpr unsigned threads = 3;
    std::vector<std::atomic<int>> seen(threads * per_thread + 1);
    std::atomic<unsigned> done{0};
    std::vector<std::thread> outside;
    for (unsigned t = 0; t < threads; ++t)
      outside.emplace_back([&q, &done, t] {
        for (std::uintptr_t i = 1; i <= per_thread; ++i) q.push_from_outside(fake(t * per_thread + i));
        done.fetch_add(1);
      });
    std::uintptr_t taken = 0;
    // Bounded: the pushes are finite, and once they are all done what is left is drained below.
    while (done.load() < threads) {
      if (actor_cell* c = q.try_pop(worker)) {
        seen[index_of(c)].fetch_add(1);
        ++taken;
      } else {
        std::this_thread::yield();
      }
    }
    for (auto& t : outside) t.join();
    while (actor_cell* c = q.try_pop(worker)) {
      seen[index_of(c)].fetch_add(1);
      ++taken;
    }
    CHECK(taken == threads * per_thread);
    unsigned wrong = 0;
    for (std::uintptr_t i = 1; i <= threads * per_thread; ++i) wrong += seen[i].load() != 1;
    CHECK(wrong == 0);
  }
}
