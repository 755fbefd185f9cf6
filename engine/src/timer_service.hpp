#pragma once
// timer_service: one thread for the whole system that fires deadlines: the timeouts of calls
// awaited inside actors, and the actors' own timers (send_after, send_interval). It also
// watches the call timeouts the workers hold back (held_call_timeouts.hpp): while any worker
// holds some, it looks every watch_interval and hands over what a worker has held for longer
// (a worker stuck in one long handler cannot), so a held timeout is armed within about two
// intervals however busy the workers are.
//
// The timers sit in shard_count binary heaps, each under its own lock, ordered by deadline then
// arming order; an actor's timers all go to the shard its id picks. Workers that arm and cancel
// the timers of different actors at once then take different locks and write different heaps:
// with one heap under one lock they passed its lines between their cores on every arm and
// cancel. So an actor's timers due at the same time fire in the order it armed them; the thread
// fires what it finds due in deadline order across the shards. Cancelling is O(1): a flag on
// the entry; a heap drops cancelled entries lazily, and compacts when they outnumber its live
// ones so a burst of cancelled calls cannot pile up until their deadlines.
//
// Waking the thread. It publishes in next_wake_ when it will look next, and an arm whose timer
// became its heap's first and is due before that wakes it (woken_, under wake_mutex_). While it
// collects what is due and works out its next wake, next_wake_ reads `never`, so such an arm in
// that window wakes it too.
// [F] A timer that is not its heap's first needs no wake: the heap's first is due no later, and
// the thread looks by then (it saw that timer, or was woken for it by this same rule); the pass
// that takes the first out, fired or cancelled, finds this one behind it. A compaction that
// drops a cancelled first leaves the thread's next look earlier than needed, never later.
// [W] The thread stores `never` before it locks the first shard, and an arm loads next_wake_
// after unlocking its shard. If the thread's pass read that shard before the arm's push, the
// arm's lock came after the thread's unlock, so its load sees `never` or the thread's later
// store (the deadline it computed without the new timer) and it wakes the thread when it must.
// If the pass read the shard after the push, the pass saw the timer. The mutexes order all of
// this, so next_wake_ itself is relaxed.
// [V] An arm that would wake the thread but finds woken_ set leaves it: the pass that takes
// that request (its clear of woken_ comes after the set the arm read) scans the arm's shard
// after the push. Were that scan before the push, the clear, sequenced before it, would happen
// before the arm's load through the shard's lock, and the arm would read the clear or later.
#include <eam/engine/detail/timer.hpp>

#include <array>
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
  std::uint32_t shard_ = 0;             // the heap it is in: its target's
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
  static constexpr std::size_t shard_count = 16;
  /// How many times a timer was put in a heap since the service started: each arming, and
  /// each period of a periodic one.
  [[nodiscard]] std::uint64_t armed();
  /// The shard whose heap holds the timers of the actor with this id.
  [[nodiscard]] static std::uint32_t shard_of(std::uint64_t actor_id) noexcept {
    return static_cast<std::uint32_t>((actor_id * 0x9e3779b97f4a7c15ULL) >> 60);  // the top 4 bits: 16 shards
  }
  /// Joins the thread; pending timers are dropped without firing.
  void stop();

 private:
  static constexpr clock::time_point never = clock::time_point::max();
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
  struct alignas(64) shard {
    std::mutex lock;
    std::vector<slot> heap;                 // guarded by lock
    std::uint64_t seq = 0;                  // guarded by lock: the arming order
    std::atomic<std::size_t> cancelled{0};  // cancelled entries still in heap (cancel needs no lock)
  };
  struct due_timer {
    clock::time_point deadline;
    std::uint64_t order;  // the pass's collection order, then re-arms: ties fire in this order
    timer_entry* entry;
  };
  struct due_later {
    bool operator()(const due_timer& a, const due_timer& b) const noexcept {
      return a.deadline != b.deadline ? a.deadline > b.deadline : a.order > b.order;
    }
  };
  timer_entry* arm(clock::time_point deadline, timer_entry* t);
  // Moves the entries of `s` due by `now` to `due` (dropping cancelled ones); its next deadline.
  clock::time_point take_due(shard& s, clock::time_point now, std::vector<due_timer>& due) noexcept;
  // Fires `due` in deadline order and arms the next period of the periodic ones (in `due`
  // itself when that is due by `now` too, so a late thread keeps the order); the earliest
  // deadline of those it put back in their heaps.
  clock::time_point fire_due(std::vector<due_timer>& due, clock::time_point now) noexcept;
  void fire(timer_entry* t) noexcept;
  void wake_thread() noexcept;
  void look_at_holders(std::unique_lock<std::mutex>& wake) noexcept;
  void run();
  static void drop(timer_entry* t) noexcept;
  static void compact_locked(shard& s);

  std::array<shard, shard_count> shards_;
  // The thread's next look at the heaps ([W] above), and whether it was asked to look again
  // before sleeping (written under wake_mutex_, read by arms without it). Their own line: the
  // thread writes both once a pass, and every arm reads next_wake_.
  alignas(64) std::atomic<clock::rep> next_wake_{never.time_since_epoch().count()};
  std::atomic<bool> woken_{false};
  alignas(64) std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by wake_mutex_
  // The holders, and the next look at them while the looks are on. looking_ pairs
  // with each holder's holding flag in a Dekker handshake (held_call_timeouts::add, and
  // look_at_holders): a holder that starts holding sees the looks on, or the thread, turning
  // them off, sees it holding.
  // Taken before a shard's lock (a look arms timers), never after.
  std::mutex holders_mutex_;
  std::vector<held_call_timeouts*> holders_;  // guarded by holders_mutex_
  std::atomic<bool> looking_{false};
  clock::time_point next_look_{};  // guarded by wake_mutex_
  std::thread thread_;
};

}  // namespace eam::internal
