#pragma once
// worker: one thread of the pool. Its loop: take a runnable actor (LIFO slot, local queue,
// global queue, or steal half of a random victim's queue), give it one turn, repeat; when
// nothing is found after a short spin, park on the scheduler's semaphore.
#include "run_queue.hpp"

#include <atomic>
#include <cstdint>
#include <thread>

namespace eam::internal {

class scheduler;

class worker {
 public:
  worker(scheduler& sched, unsigned index);
  void start();
  void join();

  // -- owner thread only -----------------------------------------------------------------
  /// Makes `c` the next actor this worker runs (called while it runs the sender).
  void schedule_local(actor_cell* c) noexcept;

  // -- any thread -------------------------------------------------------------------------
  [[nodiscard]] std::uint64_t turns() const noexcept { return turns_.load(std::memory_order_relaxed); }
  [[nodiscard]] bool has_queued_work() const noexcept { return queue_.size() != 0; }
  [[nodiscard]] const scheduler& owner() const noexcept { return sched_; }

 private:
  friend class scheduler;
  void run() noexcept;
  actor_cell* next_local() noexcept;
  actor_cell* take_global() noexcept;
  actor_cell* search() noexcept;
  bool park() noexcept;
  void requeue(actor_cell* c) noexcept;
  void stop_searching() noexcept;

  // A ping-pong pair keeps feeding the LIFO slot; after this many LIFO turns in a row the
  // slot's actor goes to the back of the queue so others get their turn.
  static constexpr unsigned max_lifo_streak = 16;
  // The global queue is checked first every this many turns, so it is never starved.
  static constexpr std::uint32_t global_check_interval = 61;

  // -- set at construction ---------------------------------------------------------------
  scheduler& sched_;
  const unsigned index_;
  std::thread thread_;
  // -- owner thread only ------------------------------------------------------------------
  actor_cell* lifo_ = nullptr;
  unsigned lifo_streak_ = 0;
  std::uint32_t tick_ = 0;
  std::uint64_t rng_;
  bool searching_ = false;
  // -- shared: the owner pushes and pops, thieves steal -----------------------------------
  run_queue queue_;
  // -- advisory: read by shutdown to see whether anything still runs ---------------------
  alignas(64) std::atomic<std::uint64_t> turns_{0};
};

}  // namespace eam::internal
