#pragma once
// worker: one thread of the pool. Its loop: take a runnable actor (LIFO slot, local queue,
// global queue, or steal half of a random victim's queue), give it one turn, repeat; when
// nothing is found after a short spin, park on the scheduler's semaphore. An actor whose turn
// spent its budget goes to the back of the local queue, or into the empty slot when the queue
// is empty too: nothing else here waits, and a push would only wake a worker to move it.
//
// Only the first `active` workers run (scheduler.hpp, active_worker_tuner.hpp). A worker past
// that count hands what it holds (LIFO slot, local queue) to the global queue and rests on its
// own semaphore, out of the idle protocol's reach, until the count grows again. The first worker
// past the count (scheduler::watches) watches the active workers while it rests, the others
// sleep until the count reaches them: when an active worker made no progress for a whole watch
// interval while work waits in its slot or queue (a long handler), it rescues that work: it
// takes it (take_held_back), and every worker is active, fewer as
// active_worker_tuner::rescue_look finds they do as much, until the worker it waited out handles
// short messages again or sleeps (scheduler::rescue, long_turns_ended), and then the count is
// the tuner's again. What a turn through a whole epoch holds back while a rescue is under way,
// or on a worker past the count, the worker that ends the epoch takes (scheduler::tune).
//
// The LIFO slot is not woken for (a send would pay a wake-up per message) but it is stealable:
// a parked worker wakes every lifo_watch_interval and takes an actor that sat in another
// worker's slot while that worker ran one turn the whole time (a long handler), so a runnable
// actor never waits behind a long handler while a worker idles.
// Stealing is rare and taking is per message, so the owner's take is plain (no RMW) and the
// thief pays: a Dekker handshake with asymmetric fences (asymmetric_fence.hpp) decides which of
// the two gets an actor they both saw. Where the kernel offers no heavy fence, the owner takes
// with an exchange instead and the CAS alone arbitrates.
// Shared:  lifo_         the slot; the owner fills it, the owner or a thief empties it.
//          lifo_steal_   idle; busy (the one thief allowed at a time is deciding); or the actor a
//                        thief took, kept until the owner collects it (only then idle again).
// Orderings of the slot:
//   [L1] owner's put: release store (slot known empty) or the plain replace of [L3]; publishes
//        the actor (its consumer role) to a thief's [L2].
//   [L2] thief: steal idle -> busy (CAS); heavy_fence; load the slot (acquire) and CAS it to
//        null; store the verdict (release, to [L4]): the actor taken, or idle.
//   [L3] owner's take or replace: load the slot, store the new value, light_fence, load
//        lifo_steal_. Dekker against [L2]: the thief sees the owner's store (and cannot take
//        the actor the owner saw), or the owner sees a state other than idle (and settles).
//   [L4] settle: the owner waits out busy (acquire), collects a verdict (back to idle) and
//        drops the actor if the thief took the one it saw.
#include "deferred_releases.hpp"
#include "envelope_cache.hpp"
#include "held_call_timeouts.hpp"
#include "inject_queue.hpp"
#include "outside_blocks.hpp"
#include "run_queue.hpp"

// lightweightsemaphore.h relies on macros and includes of concurrentqueue.h.
#include <concurrentqueue/concurrentqueue.h>
#include <concurrentqueue/lightweightsemaphore.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace eam::internal {

class scheduler;

class worker {
 public:
  worker(scheduler& sched, unsigned index);
  void start();
  void join();
  /// Its place in the pool: workers [0, active) run (scheduler.hpp).
  [[nodiscard]] unsigned index() const noexcept { return index_; }

  // -- owner thread only -----------------------------------------------------------------
  /// Makes `c` the next actor this worker runs (called while it runs the sender).
  void schedule_local(actor_cell* c) noexcept;

  // -- any thread -------------------------------------------------------------------------
  /// The work units of the turns run (progress_at_turn_start): grows as each turn starts.
  [[nodiscard]] std::uint64_t progress() const noexcept { return progress_.load(std::memory_order_relaxed); }
  /// The longest queue this worker saw behind an actor that used its whole turn, since the
  /// last call (sampled only while the scheduler's backlog census is on).
  /// The largest backlog sampled for census `epoch`; a sample taken for an earlier census and
  /// stored late (after the previous take) is not reported again.
  std::uint64_t take_largest_backlog(std::uint32_t epoch) noexcept {
    const std::uint64_t tagged = largest_backlog_.exchange(0, std::memory_order_relaxed);
    return (tagged >> backlog_bits) == (epoch & epoch_tag_mask) ? (tagged & backlog_mask) : 0;
  }
  /// Whether this worker sleeps in the idle protocol (a hint: it may be waking).
  [[nodiscard]] bool parked() const noexcept { return parked_.load(std::memory_order_relaxed); }
  /// Whether this worker looks for work between turns (a hint, as parked()).
  [[nodiscard]] bool searching() const noexcept { return searching_.load(std::memory_order_relaxed); }
  [[nodiscard]] bool has_queued_work() const noexcept { return queue_.size() != 0; }
  /// Whether actors wait in this worker's queue or LIFO slot, for another thread to take (a hint,
  /// relaxed: the rest watch's and the epoch's looks at work held back behind a long turn).
  [[nodiscard]] bool holds_waiting_actors() const noexcept {
    return has_queued_work() || lifo_.load(std::memory_order_relaxed) != nullptr;
  }
  /// Takes the actor in this worker's LIFO slot if it is still there (a thief's [L2]).
  actor_cell* steal_lifo() noexcept;
  /// The owner's [L3]: replaces the slot's occupant with `next` (may be null) and returns the
  /// previous one, unless a thief took it.
  [[gnu::always_inline]] inline actor_cell* replace_lifo(actor_cell* next) noexcept;
  [[gnu::noinline, gnu::cold]] actor_cell* settle_with_thief(actor_cell* seen) noexcept;
  [[nodiscard]] const scheduler& owner() const noexcept { return sched_; }
  /// Points tls_envelope_cache at this worker's cache while more than one worker is active
  /// (called by the worker itself, between turns or from a long one).
  void share_blocks_while_others_run() noexcept;

 private:
  friend class scheduler;
  void run() noexcept;
  actor_cell* next_local() noexcept;
  [[gnu::noinline, gnu::cold]] void take_handed_off() noexcept;
  actor_cell* take_global() noexcept;
  actor_cell* take_global_batch() noexcept;  // into the local queue; the first to run now
  actor_cell* search() noexcept;
  bool park() noexcept;
  bool leave_sleepers() noexcept;
  actor_cell* take_stranded() noexcept;
  void note_progress() noexcept;
  /// At a watch's wake-up, parked or resting, `all_asleep` the look at whether every active
  /// worker sleeps: then gives this worker's envelope blocks and the pool's back to the
  /// allocator (scheduler::give_back_pooled_blocks); after any worker's give-back, has the
  /// allocator collect this thread's freed memory. True when the pool has more to give back:
  /// the watch looks again soon.
  bool tidy_while_idle(bool all_asleep) noexcept;
  /// A watch's next wait after one of `current` microseconds (the LIFO watch's, `busy` the
  /// lifo_watch_interval_us, or the rest watch's, rest_watch_interval_us): tidies while idle,
  /// then `busy` while the pool has more to give back, else next_watch_interval's back-off.
  std::int64_t next_watch(std::int64_t current, std::int64_t busy) noexcept;
  bool rest() noexcept;
  void hand_off() noexcept;
  /// Takes, as a thief, what waits behind `stalled`'s long turn (its LIFO slot and its queue)
  /// into this worker's queue, or hands it to the global queue when this worker is not active:
  /// the rest watch's rescue, and what scheduler::tune finds held back.
  void take_held_back(worker& stalled) noexcept;
  /// The same for the worker scheduler::tune named, if any (not this one).
  void take_held_back_from(unsigned held_back) noexcept;
  [[gnu::cold, gnu::noinline]] void note_backlog(const actor_cell* c) noexcept;
  void requeue(actor_cell* c) noexcept;
  [[gnu::noinline]] void spill_older_half(actor_cell* c) noexcept;  // requeue's overflow
  void push_global(actor_cell* c) noexcept;  // through our producer, then a notify
  void stop_searching() noexcept;
  void set_searching(bool on) noexcept { searching_.store(on, std::memory_order_relaxed); }  // owner only

  // A ping-pong pair keeps feeding the LIFO slot; after this many LIFO turns in a row the
  // slot's actor goes to the back of the queue so others get their turn, when others wait in
  // the local queue (see next_local).
  static constexpr unsigned max_lifo_streak = 16;
  // The global queue is checked first every this many turns, so it is never starved.
  static constexpr std::uint32_t global_check_interval = 61;
  // The most a worker with nothing local takes from the global queue at once.
  static constexpr std::size_t global_batch = 32;
  // Turns between two give-backs of the releases held (deferred_releases.hpp) and of the call
  // timeouts held (held_call_timeouts.hpp), for a worker that never idles.
  static constexpr std::uint32_t give_back_interval = 32;
  // Turns between two looks at the clock, for the scheduler's tuning epochs (a multiple of
  // give_back_interval). The clock is a vDSO call that orders the time-stamp counter read (an
  // lfence and rdtsc on x86): looked at every 32 turns, it took 2.0 % of ping-pong's samples
  // on 2 workers, whose one active worker runs about ten million turns a second. An epoch ends
  // at most this many turns after it is due. Only while no resting worker's watch wakes at the
  // epochs (scheduler::epochs_watched): ping-pong's one active worker on 2 workers looks at the
  // clock not at all.
  static constexpr std::uint32_t epoch_check_interval = 4 * give_back_interval;
  // How often a resting worker looks for work held back behind a busy active worker. It also
  // wakes when the tuner's epoch is due, and ends it (scheduler::tune).
  // About a thousand wake-ups a second, only while some active worker is awake: a fraction of
  // a percent of a core, for a stall of at most two intervals.
  static constexpr std::int64_t rest_watch_interval_us = 1'000;
  // A worker that starts resting (at a system's start, after a probe) looks first after this,
  // then twice as long each time up to rest_watch_interval_us: a long turn that began as it went
  // to rest is rescued within a few hundred microseconds, not two milliseconds. A program's
  // first message always starts on worker 0 (next_local), and sleeping-barber's factory, which
  // sends every customer from one turn, ran on 2 workers at 0.44-0.66x its rate on 1 while the
  // first look came after a millisecond, its room filling meanwhile.
  static constexpr std::int64_t rest_first_look_us = 100;
  // A resting watch backed off past this (every active worker asleep for about twice as long) is
  // woken by the first worker woken after it (scheduler::wake_resting_watch), and looks from
  // rest_first_look_us. Past the busy interval: a long handler that began after a few
  // milliseconds idle waited up to the threshold for its rescue, and at 16 ms
  // (BM_rescue_after_idle: 1.6 ms on average after 3 ms idle, 2.5 ms after 12 ms) trapezoid's
  // first 5-8 ms ran on one worker in three runs of eight.
  static constexpr std::int64_t rest_watch_woken_past_us = rest_watch_interval_us;
  // Each signal that finds the active workers asleep again at its first look (a short wake-up:
  // a tick, a reply) doubles the threshold for the next up to this, and one that finds work
  // brings it back. A program woken every millisecond thus pays about what it paid with no
  // signal below 16 ms, not a signal and a look per wake-up (BM_periodic_wake_cpu).
  static constexpr std::int64_t rest_watch_woken_past_max_us = 16'000;
  // How long a resting worker that does not watch sleeps between looks at whether it should: the
  // count's changes signal it (scheduler::set_active), so this bounds only a lost signal. Each
  // resting worker woke at every epoch and every watch interval before: on 16 workers, 15 of
  // them for a serial workload's one active worker, ten times the context switches of one.
  static constexpr std::int64_t rest_unwatched_us = 1'000'000;
  // Steals by take_held_back, each half of what is left: enough to empty a full queue.
  static constexpr unsigned take_held_back_rounds = 32;
  // How often a parked worker looks for an actor stranded in a busy worker's LIFO slot.
  static constexpr std::int64_t lifo_watch_interval_us = 10'000;
  // While every worker sleeps there is nothing to rescue: the watch backs off, doubling up to
  // this, and returns to lifo_watch_interval as soon as any worker is awake at a check.
  static constexpr std::int64_t lifo_watch_idle_us = 1'000'000;
  // Queues a worker walks per backlog census (health() call): the first actors that yield.
  static constexpr std::uint32_t samples_per_census = 8;
  // Actors made runnable (requeue) between two looks at whether the envelope blocks are shared
  // (share_blocks_while_others_run), for a long turn that makes one after another.
  static constexpr std::uint32_t requeues_per_share_look = 64;

  // -- set at construction ---------------------------------------------------------------
  scheduler& sched_;
  const unsigned index_;
  const bool asymmetric_fences_;  // the scheduler's, kept here: read on every LIFO take
  std::thread thread_;
  // -- owner thread only ------------------------------------------------------------------
  bool lifo_filled_ = false;  // the owner put an actor in the slot and has not taken it back
  unsigned lifo_streak_ = 0;
  std::vector<std::uint64_t> seen_progress_;  // other workers' progress when this one parked or rested
  std::int64_t watch_interval_us_ = lifo_watch_interval_us;
  std::uint32_t census_epoch_ = 0;   // the last backlog census request this worker answered
  std::uint32_t census_budget_ = 0;  // samples it may still take for it
  std::uint32_t tick_ = 0;
  std::uint32_t requeues_ = 0;  // requeue's calls, for its look at the worker count
  std::uint64_t collected_give_backs_ = 0;  // the scheduler's pooled_give_backs_ at this worker's last collect
  unsigned handled_ = 0;  // messages the last turn handled, counted into progress_ at the next
  std::uint64_t rng_;
  envelope_cache envelope_cache_;  // the small envelope blocks this thread frees and reuses
  inject_queue::worker_tokens global_tokens_;  // our producer and consumer in the scheduler's global queue
  outside_blocks outside_blocks_;  // the blocks of threads outside the pool this thread frees
  deferred_releases deferred_releases_;  // given back when idle, at every epoch check and at the end
  held_call_timeouts held_timeouts_;     // handed over when idle or resting, when due at an epoch check, and at the end
  // -- shared: the owner pushes and pops, thieves steal -----------------------------------
  run_queue queue_;
  std::atomic<actor_cell*> lifo_{nullptr};
  static constexpr std::uintptr_t steal_idle = 0, steal_busy = 1;  // else: the actor taken
  std::atomic<std::uintptr_t> lifo_steal_{steal_idle};
  moodycamel::LightweightSemaphore rest_sem_;  // signalled when this worker becomes active again
  // -- advisory: read by shutdown to see whether anything still runs, by the tuner, and by the
  //    LIFO and rest watches ------------------------------------------------------------------
  alignas(64) std::atomic<std::uint64_t> progress_{0};
  std::atomic<bool> parked_{false};  // set for the whole of park(): the tuner tells a long turn from sleep
  // Counted in the scheduler's searching_: the owner's state, which the tuner reads as a hint
  // (ran_one_turn_through).
  std::atomic<bool> searching_{false};
  // Set at a look every epoch_check_interval turns when runnable actors waited in this
  // worker's queue or the global queue; the tuner reads and clears it once per epoch.
  std::atomic<bool> saw_waiting_work_{false};
  // Written on yields only, while the census is on: the census epoch's low 24 bits above a
  // sample of at most 2^40 - 1.
  static constexpr unsigned backlog_bits = 40;
  static constexpr std::uint64_t backlog_mask = (std::uint64_t{1} << backlog_bits) - 1;
  static constexpr std::uint64_t epoch_tag_mask = (std::uint64_t{1} << (64 - backlog_bits)) - 1;
  std::atomic<std::uint64_t> largest_backlog_{0};
};

/// The worker whose thread calls, or null on a thread outside every pool.
worker* current_worker() noexcept;

}  // namespace eam::internal
