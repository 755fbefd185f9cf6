#pragma once
// scheduler: a fixed pool of workers that run actors' turns.
//
// Where a runnable actor goes (schedule):
//   - from a worker thread: that worker's LIFO slot (the actor just messaged runs next, while
//     the message is hot in cache); the slot's previous occupant moves to the worker's local
//     run_queue, where idle workers can steal it;
//   - from any other thread, and on local overflow: the global injection queue (moodycamel's
//     ConcurrentQueue: order across producers does not matter there).
// How idle workers sleep and wake (the Tokio idle protocol, multi_thread/idle.rs, reduced to
// two counters):
//   searching_  workers looking for work (stealing); advisory.
//   sleepers_   workers parked, or about to park, on idle_sem_.
//   notify(): after work is published, wake one sleeper only when no worker is searching; the
//   woken worker is counted as searching before it runs, so a burst of pushes wakes one
//   worker, not all. A searcher that finds work and was the last searcher calls notify(), so
//   wake-ups chain while work remains.
// Orderings (the lost-wake-up argument):
//   [S1] notify: seq_cst fence between publishing work and loading searching_/sleepers_.
//   [S2] park: sleepers_ increment and searching_ decrement are seq_cst RMWs, then every queue
//        is checked again. Store->load on both sides: either notify sees the parker (and
//        wakes it) or the parker sees the work. Acquire/release would not order the stores
//        before the loads.
// How many workers run (active_worker_tuner.hpp): workers [0, active_) run, the others rest
// (worker.hpp). While some worker rests and some active worker is awake, the resting worker's
// watch wakes when the tuning epoch (active_worker_tuner::next_epoch_ns) is due; otherwise an
// active worker that has run epoch_check_interval turns looks at the clock. The first to see
// that the epoch is over takes the tuning lock, hands the tuner the progress of all workers
// during it, and applies the count it answers. A count that grows signals the resting workers
// it wakes; one that shrinks is seen by the workers past it at their next look (every
// give_back_interval turns). active_ is advisory (relaxed): a worker that reads a stale count
// runs or rests a little longer.
#include "active_worker_tuner.hpp"
#include "envelope_cache.hpp"
#include "run_queue.hpp"

#include "inject_queue.hpp"

// lightweightsemaphore.h relies on macros and includes of concurrentqueue.h.
#include <concurrentqueue/concurrentqueue.h>
#include <concurrentqueue/lightweightsemaphore.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace eam::detail {
struct envelope;
}

namespace eam::internal {

class timer_service;
class worker;

class scheduler {
 public:
  /// `adaptive`: let the tuner run fewer workers than `workers` while fewer do more work.
  scheduler(unsigned workers, unsigned throughput, bool adaptive);
  ~scheduler();
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  /// Starts the workers; `timers` watches the call timeouts they hold (held_call_timeouts.hpp).
  void start(timer_service& timers);
  /// Stops and joins the workers. Call once no actor is runnable; not from a worker.
  void stop();

  /// Makes `c` runnable. Any thread; the caller holds `c`'s consumer role and hands it over.
  /// `first_message`, when known, is the envelope that woke it: a worker that takes `c` from
  /// the outside hand-off slot prefetches it, its reply slot, and `c`'s first line and mailbox
  /// (inject_queue.hpp).
  void schedule(actor_cell* c, const detail::envelope* first_message = nullptr) noexcept;
  /// Same, behind the work already queued (not in a worker's LIFO slot): for actors that were
  /// waiting on another one (a muted sender let go), which should not jump the queue.
  void schedule_behind(actor_cell* c) noexcept;

  [[nodiscard]] unsigned size() const noexcept { return static_cast<unsigned>(workers_.size()); }
  [[nodiscard]] unsigned throughput() const noexcept { return throughput_; }
  /// Total progress of the workers (progress_at_turn_start's units): a change means activity (used to
  /// detect quiescence).
  [[nodiscard]] std::uint64_t progress() const noexcept;
  /// How many workers run now (all of them unless adaptive).
  [[nodiscard]] unsigned active_workers() const noexcept { return active_.load(std::memory_order_relaxed); }
  /// Resting workers whose watch wakes at each epoch now (watches: one, or two for a moment
  /// while the watch passes on), for diagnostics and tests.
  [[nodiscard]] unsigned epoch_watchers() const noexcept { return epoch_watchers_.load(std::memory_order_relaxed); }
  /// Whether the calling thread is one of this scheduler's workers.
  [[nodiscard]] bool on_worker() const noexcept;
  /// The longest unbounded queue the workers saw since the previous call, and a request for new
  /// samples: after each call, each worker counts the queues of the next few actors that use a
  /// whole turn (`throughput` messages) with more waiting. Nothing per message; one relaxed
  /// load per yield.
  std::uint64_t sample_backlog() noexcept;
  /// The workers' pool of envelope blocks (envelope_cache.hpp).
  [[nodiscard]] envelope_pool& envelope_blocks() noexcept { return envelope_pool_; }

 private:
  friend class worker;
  void notify() noexcept;
  void push_global(actor_cell* c) noexcept;
  void push_from_outside(actor_cell* c, const detail::envelope* first_message) noexcept;
  bool any_work_visible() const noexcept;
  /// A hint (relaxed) for the watches' back-off: every worker that may run is parked. Resting
  /// workers do not count: with one active worker parked, an idle system is idle.
  [[nodiscard]] bool all_active_asleep() const noexcept {
    return sleepers_.load(std::memory_order_relaxed) >= active_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] bool is_active(unsigned worker_index) const noexcept {
    return worker_index < active_.load(std::memory_order_relaxed);
  }
  /// Whether resting worker `worker_index` keeps the rest watch (worker::rest): the first past
  /// the count does, for all, and wake_backed_off_watch signals it. One watch rescues and ends
  /// epochs for every resting worker; more only read the active workers' lines at every epoch.
  [[nodiscard]] bool watches(unsigned worker_index) const noexcept {
    return worker_index == active_.load(std::memory_order_relaxed);
  }
  /// Whether a resting worker's watch ends the tuning epochs (tune), waking when one is due
  /// (until_epoch_end_us): then the active workers leave the clock alone.
  [[nodiscard]] bool epochs_watched() const noexcept { return epoch_watchers_.load(std::memory_order_relaxed) != 0; }
  /// Called by a worker woken from parking: brings a resting worker's backed-off watch back to
  /// its first looks (resting_watch_backed_off_).
  void wake_resting_watch() noexcept {
    if (resting_watch_backed_off_.load(std::memory_order_relaxed)) [[unlikely]] wake_backed_off_watch();
  }
  void wake_backed_off_watch() noexcept;  // wake_resting_watch's rare path: signals the watch
  /// Microseconds until the running tuning epoch is due, at least one (a hint: tune decides).
  [[nodiscard]] std::int64_t until_epoch_end_us() const noexcept;
  /// Gives the envelope pool's blocks back to the allocator, up to pooled_blocks_per_give_back
  /// and while every active worker sleeps (a watch's wake-up); true when more remain.
  bool give_back_pooled_blocks() noexcept;
  // Freed 1,024 at a time by a worker counted asleep: a message that arrives meanwhile makes its
  // notifier claim a sleeper, and the give-back stops at the end of that chunk (a few dozen
  // microseconds); the worker then finds the notifier's signal. The cap bounds one watch
  // wake-up's work (about a millisecond); the watch looks again soon while more remain.
  static constexpr unsigned pooled_blocks_per_give_back = 64 * 1024;
  /// Ends the tuning epoch if it is over (any worker, now and then; only when adaptive_).
  /// Returns a worker that ran one turn through the whole epoch while actors wait in its slot or
  /// queue, for the caller (active or resting) to take (worker::take_held_back); else no_worker.
  [[nodiscard]] unsigned tune(bool caller_active) noexcept;
  void set_active(unsigned count) noexcept;
  static constexpr unsigned no_worker = ~0u;
  /// The rest watch's verdict (worker.hpp): the index of an active worker that made no progress
  /// since `seen` while work waits behind it, else no_worker.
  unsigned work_held_back(const std::vector<std::uint64_t>& seen) const noexcept;
  /// Makes every worker active while worker `stalled` (its progress `seen` now) runs long turns,
  /// fewer as active_worker_tuner::rescue_look finds they do as much, then goes back to the
  /// tuner's count (tune() looks, by long_turns_ended).
  void rescue(unsigned stalled, std::uint64_t seen) noexcept;

  const unsigned throughput_;
  envelope_pool envelope_pool_{envelope_pool::system_bound};  // before workers_: their caches give their blocks to it
  inject_queue global_;          // before workers_: their tokens in it go first
  std::vector<std::unique_ptr<worker>> workers_;
  timer_service* timers_ = nullptr;  // set by start, before any worker runs; watches their held call timeouts
  moodycamel::LightweightSemaphore idle_sem_;
  alignas(64) std::atomic<std::uint32_t> searching_{0};
  alignas(64) std::atomic<std::uint32_t> sleepers_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint32_t> census_epoch_{0};  // bumped by sample_backlog
  // Bumped after each give-back of envelope blocks (give_back_pooled_blocks, a worker's stacks):
  // every worker then collects what the allocator holds free for it (worker::tidy_while_idle).
  std::atomic<std::uint64_t> pooled_give_backs_{0};
  // Whether the kernel offers heavy fences (asymmetric_fence.hpp): the LIFO slot's protocol
  // (worker.hpp) then spares the owner an RMW per message. Set at construction.
  const bool asymmetric_fences_;
  const bool adaptive_;  // set at construction: more than one worker, and asked for
  alignas(64) std::atomic<unsigned> active_{1};
  // The running epoch is short (a probe, a rescue: next_epoch_ns): the active workers then look
  // at the clock every give_back_interval turns, not every epoch_check_interval. A probe up that
  // loses runs at a fifth of the rate before it, and a look 128 turns apart came 0.4-0.7 ms into
  // stage-partition's probes, not 0.25. A hint (relaxed), written at each epoch's end.
  std::atomic<bool> short_epoch_{false};
  // Resting workers whose watch wakes when each epoch is due (worker::rest): not those backing
  // off while every active worker sleeps, whose next look may be a second away when work comes.
  // A hint (relaxed): a stale count costs an epoch ended a little late, or a clock look.
  std::atomic<unsigned> epoch_watchers_{0};
  // A resting worker's watch backs off while every active worker sleeps, up to a second between
  // looks (worker::rest); the first active worker woken after that wakes it
  // (wake_resting_watch). Else a long turn of the work that woke the system was rescued up to a
  // second late: after 3 s idle, four actors whose turns each ran 1.3 ms got their second
  // worker 645 ms after their first message. A hint (relaxed): a lost wake-up delays the watch
  // to its backed-off look, as before.
  std::atomic<bool> resting_watch_backed_off_{false};
  // Actors a worker that went to rest handed to the global queue and no active worker has taken
  // back yet (a hint, relaxed: the queue itself hands each actor to one taker). Read every turn
  // (worker::next_local), written only when a worker rests.
  std::atomic<std::uint32_t> handed_off_{0};
  std::atomic<std::int64_t> next_epoch_ns_{0};  // a hint: the tuning lock decides
  // -- the tuning lock, and what it guards --------------------------------------------------
  std::atomic<bool> tuning_{false};
  active_worker_tuner tuner_;
  std::int64_t epoch_start_ns_ = 0;  // 0: no epoch running (start, or a rescue began or ended)
  unsigned rescued_ = no_worker;        // the worker whose long turns a rescue waits out
  std::uint64_t rescued_progress_ = 0;  // its progress at the rescue's start or last look
  std::int64_t rescue_looked_ns_ = 0;   // when that was
  std::vector<std::uint64_t> worker_progress_at_epoch_start_;  // one per worker, sized at construction
};

}  // namespace eam::internal
