#include "worker.hpp"

#include "actor_cell.hpp"
#include "asymmetric_fence.hpp"
#include "cpu_relax.hpp"
#include "scheduler.hpp"

#include <algorithm>
#include <array>
#include <chrono>

namespace eam::internal {

void set_current_worker(worker* w) noexcept;

namespace {
// How long an idle worker keeps looking before it parks: rounds of (steal attempt on every
// victim + global queue check) with a short pause between them, about 20 us in all. Long
// enough that a request/reply partner on another thread (its next call comes within a
// microsecond or two) finds the worker awake; short, as in Tokio and Go, because a spinning
// worker takes the core from the threads that would make its work: with 64 rounds of 64
// pauses (about 150 us), blocking calls from a thread fell to a few thousand a second on a
// loaded machine. Few pauses per round: a pause takes about 27 ns here, and the work a
// searcher waits for is found one round late on average; with 64 pauses (1.7 us) a round,
// blocking calls from a thread ran at 0.54 M/s on 2 workers, with 4 at 1.79 M/s.
constexpr unsigned search_rounds = 128;
constexpr unsigned pause_per_round = 4;
// A yield now and then lets a thread that shares this core (a caller) run.
constexpr unsigned rounds_per_yield = 32;

// The next wait of a watch (the LIFO watch while parked, the rest watch): while every worker it
// watches sleeps there is nothing to rescue, so it doubles up to `idle`; as soon as one is
// awake it doubles up to `busy` at most, which takes a wait longer than `busy` straight back to
// it and lets one shorter than `busy` (the rest watch's first looks) grow to it.
std::int64_t next_watch_interval(std::int64_t current, std::int64_t busy, std::int64_t idle, bool all_asleep) noexcept {
  return std::min(2 * current, all_asleep ? idle : busy);
}

std::uint64_t next_random(std::uint64_t& s) noexcept {  // xorshift64
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}
}  // namespace

worker::worker(scheduler& sched, unsigned index)
    : sched_(sched),
      index_(index),
      asymmetric_fences_(sched.asymmetric_fences_),
      rng_(0x9E3779B97F4A7C15ull * (index + 1)),
      envelope_cache_(sched.envelope_pool_, index),
      global_tokens_(sched.global_),
      outside_blocks_(outside_pool()),
      held_timeouts_(sched.asymmetric_fences_),
      rest_sem_(0, 1) {}  // a resting worker has nothing to spin for

void worker::start() {
  thread_ = std::thread([this] { run(); });
}

void worker::join() {
  if (thread_.joinable()) thread_.join();
}

inline actor_cell* worker::replace_lifo(actor_cell* next) noexcept {
  if (!asymmetric_fences_) return lifo_.exchange(next, std::memory_order_acq_rel);  // the CAS of [L2] arbitrates
  actor_cell* seen = lifo_.load(std::memory_order_relaxed);  // [L3]: only we fill it; a thief may have emptied it
  lifo_.store(next, std::memory_order_release);              // [L3], and [L1] for `next`
  light_fence();                                             // [L3]
  if (lifo_steal_.load(std::memory_order_relaxed) != steal_idle) [[unlikely]] return settle_with_thief(seen);
  return seen;
}

void worker::schedule_local(actor_cell* c) noexcept {
  if (!lifo_filled_) {  // the slot is empty: only its owner ever fills it
    lifo_.store(c, std::memory_order_release);  // [L1]
    lifo_filled_ = true;
    return;
  }
  if (actor_cell* prev = replace_lifo(c)) requeue(prev);  // a thief may have taken prev
}

actor_cell* worker::settle_with_thief(actor_cell* seen) noexcept {
  // A thief is between its heavy fence and its verdict (microseconds): wait for the verdict.
  std::uintptr_t verdict;
  while ((verdict = lifo_steal_.load(std::memory_order_acquire)) == steal_busy) std::this_thread::yield();  // [L4]
  if (verdict == steal_idle) return seen;  // it found nothing
  lifo_steal_.store(steal_idle, std::memory_order_release);  // collected: the next thief may come
  return reinterpret_cast<actor_cell*>(verdict) == seen ? nullptr : seen;
}

actor_cell* worker::steal_lifo() noexcept {
  if (lifo_.load(std::memory_order_relaxed) == nullptr) return nullptr;  // a hint
  std::uintptr_t idle = steal_idle;
  // One thief at a time, and none while the owner has not collected the last verdict.
  if (!lifo_steal_.compare_exchange_strong(idle, steal_busy, std::memory_order_seq_cst)) return nullptr;  // [L2]
  const bool fenced = asymmetric_fences_;
  if (fenced) heavy_fence();  // [L2]
  actor_cell* c = lifo_.load(std::memory_order_acquire);
  if (c != nullptr && !lifo_.compare_exchange_strong(c, nullptr, std::memory_order_acquire, std::memory_order_relaxed))  // [L2]
    c = nullptr;
  // The verdict stays until the owner collects it ([L4]): an owner that saw the actor before we
  // took it then cannot miss that we did, whenever it looks. Without heavy fences the owner's
  // exchange has already arbitrated: nothing to keep.
  lifo_steal_.store(fenced && c != nullptr ? reinterpret_cast<std::uintptr_t>(c) : steal_idle,
                    std::memory_order_release);  // [L2] -> [L4]
  return c;
}

void worker::requeue(actor_cell* c) noexcept {
  // A turn that makes actors runnable one after another looks at the worker count here, every
  // 64th time: its messages, one to each, form no chains, where the outbox looks
  // (outbox::push). A creator spawning 40,000 children in one turn went on making blocks for a
  // worker alone after the rest watch had woken another to run them: blocks the other worker
  // does not recycle but hands back to the allocator, and none come back to the creator's.
  if (++requeues_ % requeues_per_share_look == 0) [[unlikely]] share_blocks_while_others_run();
  if (!queue_.push(c)) [[unlikely]] {
    spill_older_half(c);
    return;
  }
  sched_.notify();
}

void worker::spill_older_half(actor_cell* c) noexcept {
  // Tokio's overflow: a turn that spawns thousands (skynet's and actor-creation's trees,
  // fork-join-create's 40,000 children) overflows the local queue once per actor. Sent on one at
  // a time, the oldest 256 stayed local and the global queue ran the rest in spawn order: a
  // tree's breadth before its depth, every level's actors alive at once. Half the queue at once,
  // the older half, keeps the newest local (depth first, on a warm cache) and pays the global
  // queue once per 128 actors. The older actors wait in the global queue, which every worker
  // looks at every global_check_interval turns and whenever it has nothing local (engine/README.md:
  // skynet 1.33x on 2 workers, sleeping-barber 0.95x on 1).
  std::array<actor_cell*, run_queue::capacity / 2> older;
  const std::uint32_t n = queue_.take_older_half(older.data());
  if (n != 0) sched_.global_.push_bulk(older.data(), n, global_tokens_);
  if (!queue_.push(c)) [[unlikely]] sched_.global_.push(c, global_tokens_);  // only thieves take meanwhile: cannot happen
  sched_.notify();
}

void worker::push_global(actor_cell* c) noexcept {
  sched_.global_.push(c, global_tokens_);
  sched_.notify();
}

actor_cell* worker::take_global() noexcept {
  return sched_.global_.try_pop(global_tokens_);
}

actor_cell* worker::take_global_batch() noexcept {
  // With nothing local, a batch rather than one actor: a global queue that holds a spawning
  // turn's overflow of thousands is drained a batch per dequeue, and what others should run
  // they steal from here.
  std::array<actor_cell*, global_batch> batch;
  const std::size_t n = sched_.global_.try_pop_bulk(global_tokens_, batch.data(), batch.size());
  if (n == 0) return nullptr;
  for (std::size_t i = 1; i < n; ++i)
    if (!queue_.push(batch[i])) [[unlikely]] sched_.global_.push(batch[i], global_tokens_);  // the queue was empty: cannot happen
  if (n > 1) sched_.notify();  // work others may steal
  return batch[0];
}

void worker::take_handed_off() noexcept {
  std::uint32_t n = sched_.handed_off_.exchange(0, std::memory_order_relaxed);
  while (n-- != 0) {
    actor_cell* c = take_global();
    if (c == nullptr) return;  // taken already (a searcher, the look every global_check_interval turns)
    if (!queue_.push(c)) {
      sched_.global_.push(c, global_tokens_);  // no room: it waits its turn there
      return;
    }
  }
}

actor_cell* worker::next_local() noexcept {
  // What a resting worker handed off comes back at once, not one actor per
  // global_check_interval turns: after a probe with more workers ends, the actors that ran on the
  // others would wait there for hundreds of turns, and their partners with them.
  //
  // Shared work (the global queue, what resting workers handed off) is for active workers only:
  // a worker past the count runs what it holds until its next look at the count, then rests. A
  // shared actor taken meanwhile could hold it running while the tuner counts it out. It
  // happened at the start: the second worker's first look, before it rested, found the
  // program's first message in 7 of 100 fresh systems, and a long turn there (counting's
  // producer) kept two cores busy under a count of one for the whole run, at 1.5 times the CPU
  // per message. An active worker's long turn is the rest watch's to see and rescue.
  if (sched_.handed_off_.load(std::memory_order_relaxed) != 0 && sched_.is_active(index_)) [[unlikely]]
    take_handed_off();
  if (++tick_ % global_check_interval == 0 && sched_.is_active(index_)) {
    if (actor_cell* c = take_global()) return c;
  }
  if (lifo_filled_) {
    lifo_filled_ = false;
    if (actor_cell* c = replace_lifo(nullptr)) {  // [L3]
      if (lifo_streak_ < max_lifo_streak) {
        ++lifo_streak_;
        return c;
      }
      // Fairness only matters when someone waits. With nothing queued here, sending the pair's
      // actor to the back of the queue would notify an idle worker, who steals it and splits
      // the pair over two cores: every message then crosses between caches (ping-pong ran
      // slower on 2 workers than on 1). The global queue still gets its look every
      // global_check_interval turns.
      if (queue_.size() == 0) {
        lifo_streak_ = 0;
        return c;
      }
      requeue(c);  // fairness: to the back of the queue
    }
  }
  lifo_streak_ = 0;
  if (actor_cell* c = queue_.pop()) return c;
  return sched_.is_active(index_) ? take_global_batch() : nullptr;
}

actor_cell* worker::search() noexcept {
  const auto n = static_cast<unsigned>(sched_.workers_.size());
  // Tokio's rule: at most half the workers search at once; the rest park straight away.
  if (!searching()) {
    // Advisory: a stale count lets one more worker search, or parks one a little early.
    if (2 * sched_.searching_.load(std::memory_order_relaxed) >= n && n > 1) return nullptr;
    sched_.searching_.fetch_add(1, std::memory_order_seq_cst);  // [S2]: notify's [S1] sees a searcher, who finds its work
    set_searching(true);
  }
  for (unsigned round = 0; round < search_rounds; ++round) {
    const auto start = static_cast<unsigned>(next_random(rng_) % n);
    for (unsigned i = 0; i < n; ++i) {
      const unsigned victim = (start + i) % n;
      if (victim == index_) continue;
      if (actor_cell* c = sched_.workers_[victim]->queue_.steal_into(queue_, [this](actor_cell* spill) { push_global(spill); }))
        return c;
    }
    // Counted out during the search (the tuner): one actor, as before, not a batch to hold.
    if (actor_cell* c = sched_.is_active(index_) ? take_global_batch() : take_global()) return c;
    if (sched_.stopping_.load(std::memory_order_relaxed)) return nullptr;  // a hint; stop() also signals
    for (unsigned i = 0; i < pause_per_round; ++i) cpu_relax();
    if (round % rounds_per_yield == rounds_per_yield - 1) std::this_thread::yield();
  }
  return nullptr;
}

void worker::stop_searching() noexcept {
  if (!searching()) return;
  set_searching(false);
  // The last searcher to find work wakes another if more is queued: pushes made while we
  // searched skipped their own notify. Dekker with notify ([S1]): the seq_cst decrement comes
  // before the queue check, so either the pusher saw no searcher or we see its work.
  if (sched_.searching_.fetch_sub(1, std::memory_order_seq_cst) == 1 && sched_.any_work_visible()) sched_.notify();
}

bool worker::leave_sleepers() noexcept {
  std::uint32_t s = sched_.sleepers_.load(std::memory_order_relaxed);  // the CAS below orders
  while (s != 0) {
    if (sched_.sleepers_.compare_exchange_weak(s, s - 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {  // [S2]
      sched_.searching_.fetch_add(1, std::memory_order_seq_cst);  // [S2]: counted as a searcher at once
      set_searching(true);
      return true;
    }
  }
  return false;  // a notifier claimed a sleeper: its signal is on its way, and it counted us searching
}

bool worker::park() noexcept {
  // A worker that sleeps keeps no blocks (alone_blocks.hpp) and carves no slab (burst_slabs.hpp).
  // Before it counts as a sleeper: a notifier that sees it there must not wait for up to 131,072
  // frees.
  tls_alone_blocks.release();
  tls_burst_slabs.retire();
  // A hint for the tuner (relaxed): a stale value only delays or allows one probe.
  parked_.store(true, std::memory_order_relaxed);
  struct unpark_on_return {
    std::atomic<bool>& parked;
    ~unpark_on_return() { parked.store(false, std::memory_order_relaxed); }
  } unpark{parked_};
  sched_.sleepers_.fetch_add(1, std::memory_order_seq_cst);  // [S2]
  if (searching()) {
    set_searching(false);
    sched_.searching_.fetch_sub(1, std::memory_order_seq_cst);  // [S2]
  }
  // [S2] then look again: either a notify saw us as a sleeper or we see its work.
  if (sched_.any_work_visible() || sched_.stopping_.load(std::memory_order_seq_cst)) {
    if (leave_sleepers()) return !sched_.stopping_.load(std::memory_order_relaxed);
  }
  // Sleep until notified; with other workers, wake every lifo_watch_interval to look for an
  // actor stranded in a busy worker's LIFO slot (see worker.hpp).
  const bool watch_lifo_slots = sched_.workers_.size() > 1;  // alone, nobody else has a slot
  if (watch_lifo_slots) note_progress();
  watch_interval_us_ = lifo_watch_interval_us;  // we just worked: the system was busy a moment ago
  // Sleeps until notified (true) or the LIFO watch is due (false). While it holds the timeouts
  // of calls its actors await, it also wakes when a look at them is due (held_call_timeouts.hpp)
  // and hands them all over: a call still awaited after this worker slept through a look's
  // window is not one answered within microseconds, which holding is for.
  const auto sleep = [&]() noexcept -> bool {
    for (;;) {
      const std::int64_t look_in_us = held_timeouts_.look_due_in_us();
      if (look_in_us < 0 && !watch_lifo_slots) return sched_.idle_sem_.wait();
      const bool for_look = look_in_us >= 0 && (!watch_lifo_slots || look_in_us < watch_interval_us_);
      if (sched_.idle_sem_.wait(for_look ? look_in_us : watch_interval_us_)) return true;
      if (!for_look || sched_.stopping_.load(std::memory_order_relaxed)) return false;
      held_timeouts_.hand_over();
      deferred_releases_.give_back_all();  // what it let go of: asleep, nothing waits to be freed
    }
  };
  while (!sleep()) {
    // stop() sets stopping_ and then signals every worker: a relaxed look is enough here.
    if (sched_.stopping_.load(std::memory_order_relaxed)) return false;
    // Past the active count (it shrank while we slept): leave, and rest instead (run()).
    const bool resting = !sched_.is_active(index_);
    actor_cell* stranded = resting ? nullptr : take_stranded();
    if (stranded == nullptr && !resting) {
      watch_interval_us_ = next_watch(watch_interval_us_, lifo_watch_interval_us);
      note_progress();
      continue;
    }
    if (stranded != nullptr) schedule_local(stranded);  // runs next, from our own slot
    if (leave_sleepers()) return true;
    sched_.idle_sem_.wait();   // claimed: consume the notifier's signal
    break;
  }
  sched_.wake_resting_watch();
  set_searching(true);  // the notifier counted us as a searcher
  if (sched_.stopping_.load(std::memory_order_relaxed)) {  // stop() signalled us: see above
    set_searching(false);
    return false;
  }
  return true;
}

void worker::note_progress() noexcept {
  const auto& all = sched_.workers_;
  seen_progress_.resize(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) seen_progress_[i] = all[i]->progress();
}

std::int64_t worker::next_watch(std::int64_t current, std::int64_t busy) noexcept {
  // A hint (relaxed): everyone asleep, so back off; someone awake, so watch closely.
  const bool all_asleep = sched_.all_active_asleep();
  return tidy_while_idle(all_asleep) ? busy : next_watch_interval(current, busy, lifo_watch_idle_us, all_asleep);
}

bool worker::tidy_while_idle(bool all_asleep) noexcept {
  bool more = false;
  if (all_asleep) {
    // Blocks other workers made among them: those workers collect too.
    if (envelope_cache_.release() != 0) sched_.pooled_give_backs_.fetch_add(1, std::memory_order_release);
    more = sched_.give_back_pooled_blocks();
  }
  // Acquire: the give-back's frees (blocks this thread made among them) happen before the collect.
  if (const std::uint64_t n = sched_.pooled_give_backs_.load(std::memory_order_acquire); n != collected_give_backs_) {
    collected_give_backs_ = n;
    collect_freed_memory();
  }
  return more;
}

bool worker::rest() noexcept {
  stop_searching();  // a notifier may have woken us as a searcher: that role passes on
  held_timeouts_.look();  // as at idle: the timer thread looks at what it holds while it rests
  deferred_releases_.give_back_all();
  hand_off();
  tls_alone_blocks.release();  // after the hand-off: the actors it gives away go first
  tls_burst_slabs.retire();
  note_progress();
  std::int64_t interval_us = rest_first_look_us;
  std::int64_t backed_off_us = 0;  // the back-off a signal broke, until the first look after it
  // A watch backed off past this is signalled by the first worker that wakes
  // (scheduler::wake_resting_watch).
  std::int64_t woken_past_us = rest_watch_woken_past_us;
  std::chrono::steady_clock::time_point look_at;
  const auto look_after_interval = [&] { look_at = std::chrono::steady_clock::now() + std::chrono::microseconds(interval_us); };
  look_after_interval();
  struct epoch_watch {  // this worker's place in scheduler::epoch_watchers_, given up on return
    std::atomic<unsigned>& watchers;
    bool on = false;
    void set(bool watching) noexcept {
      if (watching != on) watching ? watchers.fetch_add(1, std::memory_order_relaxed) : watchers.fetch_sub(1, std::memory_order_relaxed);
      on = watching;
    }
    ~epoch_watch() { set(false); }
  } watch{sched_.epoch_watchers_};
  for (;;) {
    // stop() sets stopping_ and then signals every worker: a relaxed look is enough here.
    if (sched_.stopping_.load(std::memory_order_relaxed)) return false;
    if (sched_.is_active(index_)) return true;
    if (!sched_.watches(index_)) {
      // Another resting worker watches for all (scheduler::watches). This one sleeps until the
      // count reaches it, as a worker to run or as the watch (set_active signals both), or the
      // system stops; the long bound only caps what a lost signal could cost.
      watch.set(false);
      (void)rest_sem_.wait(rest_unwatched_us);
      interval_us = rest_first_look_us;  // should it watch now, it starts as a rest starts
      backed_off_us = 0;
      woken_past_us = rest_watch_woken_past_us;
      note_progress();
      look_after_interval();
      continue;
    }
    // The watch also wakes when the tuning epoch is due: while a worker rests, the active ones
    // leave the clock to it (run). Its first looks for work held back keep their own pace: with
    // a look at each epoch's end as well, counting's producer was rescued sooner after its long
    // turn began, its counter was taken from that worker's LIFO slot (take_stranded, 10 ms on)
    // before the turn ended, and the pair ran at 0.7x its rate, the counter's memory crossing
    // between cores. At the full interval, about an epoch's length, every wake-up looks: one a
    // millisecond, not two. An idle system's epochs decide nothing: only the looks wake it, and
    // meanwhile an active worker that wakes ends the epochs itself (epochs_watched).
    const auto until_look = std::chrono::duration_cast<std::chrono::microseconds>(look_at - std::chrono::steady_clock::now());
    std::int64_t wait_us = std::max<std::int64_t>(1, until_look.count());
    watch.set(!sched_.all_active_asleep());
    if (watch.on) wait_us = std::min(wait_us, sched_.until_epoch_end_us());
    if (interval_us > woken_past_us) sched_.resting_watch_backed_off_.store(true, std::memory_order_relaxed);
    if (rest_sem_.wait(wait_us)) {
      // Signalled: active again, stopping, or woken from the back-off by a worker that woke
      // (scheduler::wake_resting_watch): the first looks again, as at the start of a rest.
      backed_off_us = interval_us;
      interval_us = rest_first_look_us;
      note_progress();
      look_after_interval();
      continue;
    }
    take_held_back_from(sched_.tune(false));
    if (sched_.is_active(index_)) return true;
    if (interval_us < rest_watch_interval_us && std::chrono::steady_clock::now() < look_at) continue;  // the epoch's end only
    if (const unsigned stalled = sched_.work_held_back(seen_progress_); stalled != scheduler::no_worker) {
      sched_.rescue(stalled, seen_progress_[stalled]);
      // Every worker runs now, but one busy with its own actors steals nothing: what waited
      // behind the long turn waited on, however long the turn (with a ping-pong pair on the other
      // worker, the actor queued behind a waiting handler waited as long as the handler). So it
      // moves now.
      take_held_back(*sched_.workers_[stalled]);
    } else if (backed_off_us != 0 && sched_.all_active_asleep()) {
      // The wake-up that signalled us was a short one (a tick handled, a reply sent): back to the
      // back-off it broke, no further than the signals' threshold, which doubles. Else a program
      // woken every millisecond or few paid a signal and a look each time, or a ramp of looks
      // from rest_first_look_us (BM_periodic_wake_cpu).
      woken_past_us = std::min(2 * woken_past_us, rest_watch_woken_past_max_us);
      interval_us = std::min(backed_off_us, woken_past_us);
      note_progress();
    } else {
      // A wake-up that brought work: the next comes to a watch that looks soon.
      if (backed_off_us != 0) woken_past_us = rest_watch_woken_past_us;
      // Every active worker asleep: nothing runs that could hold work back.
      interval_us = next_watch(interval_us, rest_watch_interval_us);
      note_progress();
    }
    backed_off_us = 0;  // one look decides
    look_after_interval();
  }
}

void worker::hand_off() noexcept {
  std::uint32_t handed = 0;
  if (lifo_filled_) {
    lifo_filled_ = false;
    if (actor_cell* c = replace_lifo(nullptr)) {  // [L3]
      sched_.global_.push(c, global_tokens_);
      ++handed;
    }
  }
  lifo_streak_ = 0;
  while (actor_cell* c = queue_.pop()) {
    sched_.global_.push(c, global_tokens_);
    ++handed;
  }
  if (handed != 0) {
    sched_.handed_off_.fetch_add(handed, std::memory_order_relaxed);  // a hint: a taker that finds the queue empty stops
    sched_.notify();
  }
}

void worker::take_held_back_from(unsigned held_back) noexcept {
  if (held_back != scheduler::no_worker && held_back != index_) [[unlikely]] take_held_back(*sched_.workers_[held_back]);
}

void worker::take_held_back(worker& stalled) noexcept {
  if (actor_cell* c = stalled.steal_lifo(); c != nullptr && !queue_.push(c)) push_global(c);
  for (unsigned round = 0; round < take_held_back_rounds; ++round) {
    actor_cell* c = stalled.queue_.steal_into(queue_, [this](actor_cell* spill) { push_global(spill); });
    if (c == nullptr) break;
    if (!queue_.push(c)) push_global(c);
  }
  if (!sched_.is_active(index_)) hand_off();  // for the workers that run
}

actor_cell* worker::take_stranded() noexcept {
  const auto& all = sched_.workers_;
  for (std::size_t i = 0; i < all.size(); ++i) {
    // Same turn as when we parked: the worker ran one turn for the whole interval, and what
    // sits in its slot has waited behind it.
    if (i == index_ || all[i]->progress() != seen_progress_[i]) continue;
    if (actor_cell* c = all[i]->steal_lifo()) return c;
  }
  return nullptr;
}

void worker::note_backlog(const actor_cell* c) noexcept {
  if (const auto epoch = sched_.census_epoch_.load(std::memory_order_relaxed); epoch != census_epoch_) {
    census_epoch_ = epoch;  // a new request: a few samples, each one walk of one queue
    census_budget_ = samples_per_census;
  }
  --census_budget_;
  constexpr std::size_t limit = 1'000'000;  // enough to call any backlog a backlog
  const std::uint64_t n = c->queued_after_yield(limit);
  // A statistic: relaxed, and a sample lost to a racing take_largest_backlog costs nothing; one
  // stored after that take carries its epoch, so the next census does not report it.
  const std::uint64_t tag = census_epoch_ & epoch_tag_mask;
  const std::uint64_t held = largest_backlog_.load(std::memory_order_relaxed);
  if ((held >> backlog_bits) != tag || n > (held & backlog_mask))
    largest_backlog_.store((tag << backlog_bits) | n, std::memory_order_relaxed);
}

void worker::share_blocks_while_others_run() noexcept {
  // Alone, every block is freed where it was made, and the cache would only add its checks
  // (fan-in on one worker ran 9% slower with them). Looked at when the count may have changed
  // (start, back from parking or resting, the tuner's epoch checks), once per chain a long
  // turn pushes (outbox.hpp) and every 64th actor a turn makes runnable (requeue), not per
  // turn: a stale answer costs those checks for a while, or blocks given to the allocator
  // across threads, not recycled.
  const bool share = sched_.active_.load(std::memory_order_relaxed) > 1;  // a hint
  tls_envelope_cache = share ? &envelope_cache_ : worker_alone();
  if (share) tls_alone_blocks.release();  // kept only while alone
}

void share_envelope_blocks_if_others_run() noexcept {
  if (worker* w = current_worker()) w->share_blocks_while_others_run();
}

void worker::run() noexcept {
  set_current_worker(this);
  tls_deferred_releases = &deferred_releases_;
  tls_held_call_timeouts = &held_timeouts_;
  tls_outside_blocks = &outside_blocks_;
  share_blocks_while_others_run();
  for (;;) {
    actor_cell* c = next_local();
    if (c == nullptr) {
      held_timeouts_.look();  // idle: while it sleeps, the timer thread looks at what it holds
      if (!sched_.is_active(index_)) [[unlikely]] {
        if (!rest()) break;
        share_blocks_while_others_run();
        continue;
      }
      c = search();
      if (c == nullptr) {
        // Asleep, nothing is freed later than this. Not at every idle moment: a worker that
        // steals each short actor a busy one makes (fork-join-create's children) is idle after
        // each, and gave back its releases of their parent every time, a write to the line
        // where the parent counts its children.
        deferred_releases_.give_back_all();
        if (!park()) break;
        share_blocks_while_others_run();
        continue;
      }
    }
    stop_searching();
    // Advisory (one writer): shutdown's quiescence check and the watches only compare it, the
    // tuner sums it. Counted before the turn, so that it does not move during a long one.
    progress_.store(progress_.load(std::memory_order_relaxed) + progress_at_turn_start(handled_), std::memory_order_relaxed);
    const turn_result turn = c->run_turn(sched_.throughput_, handled_);
    // An overloaded actor the turn sent to (mute_table.hpp), counted: usually none.
    actor_cell* const pressed = local_outbox().end_turn();
    switch (turn) {
      case turn_result::idle:
        break;
      case turn_result::yield:
        // Still the consumer: the only moment the queue can be walked. One relaxed load per
        // yield (after `throughput` messages), none per message.
        if (census_budget_ != 0 || sched_.census_epoch_.load(std::memory_order_relaxed) != census_epoch_) [[unlikely]]
          note_backlog(c);
        if (pressed != nullptr && c->try_mute_on(pressed)) [[unlikely]] break;  // its receiver lets it go
        // The one runnable actor here runs again next, from the slot. Pushed to the queue, it
        // woke an idle worker, which took it only to move it to another core, and this worker
        // parked: a fan-in's receiver, its senders waiting on it (mute_table.hpp), moved every
        // few dozen turns (engine/README.md, "Running"). Others still get their turns: the
        // global queue's look every global_check_interval turns, the slot's watch behind a
        // long turn.
        if (!lifo_filled_ && queue_.size() == 0)
          schedule_local(c);
        else
          requeue(c);
        break;
      case turn_result::done:
        c->release();  // the alive reference (actor_cell.hpp C-I1)
        break;
    }
    if (pressed != nullptr) [[unlikely]] pressed->release();
    if (tick_ % give_back_interval == 0) [[unlikely]] {
      held_timeouts_.look_if_due();        // a worker that never idles looks here
      deferred_releases_.give_back_all();  // and frees them here
      if (sched_.adaptive_) {
        const bool epoch_look = tick_ % epoch_check_interval == 0 || sched_.short_epoch_.load(std::memory_order_relaxed);
        if (epoch_look) {
          // Advisory (relaxed): a look lost to the tuner's clearing costs at most one deferred probe.
          if (queue_.size() != 0 || sched_.global_.size_approx() != 0) saw_waiting_work_.store(true, std::memory_order_relaxed);
          // A resting worker's watch ends the epochs on time (rest), however long the active
          // workers' turns; the clock costs a serial workload's one active worker about 1 % of
          // its time (ping-pong, a clock look every 3 us).
          if (!sched_.epochs_watched()) take_held_back_from(sched_.tune(sched_.is_active(index_)));
        }
        // Past the active count: what this worker holds goes to the others, and it rests. Looked
        // at every give_back_interval turns, not at the epoch's looks only: after a probe up
        // ended, the second worker ran the actors it held for up to 128 more turns, 1-2 ms of
        // stage-partition's, whose epoch after the probe then ran at a third of its rate.
        const bool past_count = !sched_.is_active(index_);
        if (past_count && !rest()) break;
        if (past_count || epoch_look) share_blocks_while_others_run();
      }
    }
  }
  held_timeouts_.hand_over();  // before the timer service stops (actor_system's shutdown)
  tls_held_call_timeouts = nullptr;
  deferred_releases_.give_back_all();
  tls_deferred_releases = nullptr;
  tls_envelope_cache = nullptr;
  tls_alone_blocks.release();
  tls_burst_slabs.retire();
  tls_outside_blocks = nullptr;
  set_current_worker(nullptr);
}

}  // namespace eam::internal
