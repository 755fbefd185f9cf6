#pragma once
// timer_service: one thread for the whole system that fires deadlines: the timeouts of calls
// awaited inside actors, and the actors' own timers (send_after, send_interval). It also
// watches the call timeouts the workers hold back (held_call_timeouts.hpp): while any worker
// holds some, it looks every watch_interval and hands over what a worker has held for longer
// (a worker stuck in one long handler cannot), so a held timeout is armed within about two
// intervals however busy the workers are.
//
// A binary heap under one mutex, ordered by deadline then arming order (so timers due at the
// same time fire in the order they were armed). Cancelling is O(1): a flag on the entry; the
// heap drops cancelled entries lazily, and compacts when they outnumber the live ones so a
// burst of cancelled calls cannot pile up until their deadlines.
#include <eam/engine/detail/timer.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace eam::detail {
class actor_cell;
}

namespace eam::internal {

class held_call_timeouts;
using detail::actor_cell;
using clock = std::chrono::steady_clock;

/// One armed timer. Owned by the heap and by its arming site until `cancel`.
class timer_entry {
 public:
  timer_entry(actor_cell* target, std::uint64_t id, std::unique_ptr<detail::message_factory> message,
              clock::duration period) noexcept
      : target_(target), id_(id), message_(std::move(message)), period_(period) {}
  [[nodiscard]] bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }

 private:
  friend class timer_service;
  actor_cell* target_;  // counted until the entry is dropped
  std::uint64_t id_;    // the awaited request's id, or the actor's timer id
  std::unique_ptr<detail::message_factory> message_;  // null: a call timeout
  clock::duration period_;                            // zero: fires once
  std::atomic<bool> cancelled_{false};
  std::atomic<std::uint32_t> refs_{2};  // the heap and the arming site
};

class timer_service {
 public:
  timer_service();
  ~timer_service();
  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;

  /// At `deadline`, sends `target` a call_timeout system message for `request_id`, unless
  /// cancelled first. Takes a reference to `target`. Any thread.
  timer_entry* arm_call_timeout(clock::time_point deadline, actor_cell* target, std::uint64_t request_id);
  /// At `deadline` (and every `period` after, unless zero), delivers a fresh copy of the message
  /// to `target` as an ordinary timer envelope carrying `timer_id`. Takes a reference to target.
  timer_entry* arm_message(clock::time_point deadline, clock::duration period, actor_cell* target,
                           std::uint64_t timer_id, std::unique_ptr<detail::message_factory> message);
  /// Stops the timer if it has not fired, and drops the arming site's ownership. Any thread.
  void cancel(timer_entry* t) noexcept;
  /// Watches `h` until unwatch (a worker, for the life of its thread).
  void watch(held_call_timeouts* h);
  void unwatch(held_call_timeouts* h) noexcept;
  /// Called by a holder that starts holding: makes sure the thread looks within watch_interval.
  /// Cheap while the thread looks anyway (a load); otherwise it takes the lock and wakes it.
  void holding_started() noexcept;

  static constexpr std::chrono::milliseconds watch_interval{5};
  /// How many times a timer was put in the heap since the service started: each arming, and
  /// each period of a periodic one (their arming order).
  [[nodiscard]] std::uint64_t armed() {
    std::lock_guard lock(mutex_);
    return seq_;
  }
  /// Joins the thread; pending timers are dropped without firing.
  void stop();

 private:
  struct slot {
    clock::time_point deadline;
    std::uint64_t seq;
    timer_entry* entry;
  };
  struct later {
    bool operator()(const slot& a, const slot& b) const noexcept {
      return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
    }
  };
  timer_entry* arm(clock::time_point deadline, timer_entry* t);
  void fire(timer_entry* t) noexcept;
  void look_at_holders(std::unique_lock<std::mutex>& lock) noexcept;
  void run();
  void drop(timer_entry* t) noexcept;
  void compact_locked();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<slot> heap_;
  std::uint64_t seq_ = 0;
  bool stopping_ = false;
  std::atomic<std::size_t> cancelled_in_heap_{0};
  // The holders, and the next look at them while the looks are on. looking_ pairs
  // with each holder's holding flag in a Dekker handshake (held_call_timeouts::add, and
  // look_at_holders): a holder that starts holding sees the looks on, or the thread, turning
  // them off, sees it holding.
  std::mutex holders_mutex_;  // taken before mutex_ (a look arms timers), never after
  std::vector<held_call_timeouts*> holders_;  // guarded by holders_mutex_
  std::atomic<bool> looking_{false};
  clock::time_point next_look_{};  // guarded by mutex_
  std::thread thread_;
};

}  // namespace eam::internal
