#include "timer_service.hpp"

#include "actor_cell.hpp"
#include "held_call_timeouts.hpp"

#include <algorithm>

namespace eam::internal {

timer_service::timer_service() : thread_([this] { run(); }) {}

timer_service::~timer_service() { stop(); }

void timer_service::stop() {
  {
    std::lock_guard lock(wake_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  for (shard& s : shards_) {
    for (slot& e : s.heap) drop(e.entry);
    s.heap.clear();
  }
}

std::uint64_t timer_service::armed() {
  std::uint64_t sum = 0;
  for (shard& s : shards_) {
    std::lock_guard lock(s.lock);
    sum += s.seq;
  }
  return sum;
}

timer_entry* timer_service::arm_call_timeout(clock::time_point deadline, actor_cell* target, std::uint64_t request_id) {
  return arm(deadline, new timer_entry(target, request_id, nullptr, clock::duration::zero()));
}

timer_entry* timer_service::arm_message(clock::time_point deadline, clock::duration period, actor_cell* target,
                                        std::uint64_t timer_id, std::unique_ptr<detail::message_factory> message) {
  return arm(deadline, new timer_entry(target, timer_id, std::move(message), period));
}

// A failed arm gives back what it took (the entry and the target's reference): a held call
// timeout whose arming ran out of memory is tried again later (held_call_timeouts::look_held),
// and each failed try would otherwise keep one more reference to its actor.
timer_entry* timer_service::arm(clock::time_point deadline, timer_entry* t) {
  t->target_->add_ref();
  t->shard_ = shard_of(t->target_->id());
  shard& s = shards_[t->shard_];
  bool first = false;
  try {
    std::lock_guard lock(s.lock);
    const std::size_t cancelled = s.cancelled.load(std::memory_order_relaxed);
    if (cancelled > 1024 && 2 * cancelled > s.heap.size()) compact_locked(s);
    s.heap.push_back({deadline, s.seq++, t});
    std::push_heap(s.heap.begin(), s.heap.end(), later{});
    first = s.heap.front().entry == t;
  } catch (...) {
    t->target_->release();
    delete t;
    throw;
  }
  // [W]: after the shard's unlock. Only a heap's new first ([F]) due before the thread's next
  // look changes how long it sleeps, and a pass already asked for sees this timer ([V]).
  if (first && deadline.time_since_epoch().count() < next_wake_.load(std::memory_order_relaxed) &&
      !woken_.load(std::memory_order_relaxed))
    wake_thread();
  return t;
}

void timer_service::wake_thread() noexcept {
  {
    std::lock_guard lock(wake_mutex_);
    woken_.store(true, std::memory_order_relaxed);
  }
  wake_.notify_one();
}

void timer_service::cancel(timer_entry* t) noexcept {
  if (!t->cancelled_.exchange(true, std::memory_order_acq_rel))
    shards_[t->shard_].cancelled.fetch_add(1, std::memory_order_relaxed);
  drop(t);
}

void timer_service::drop(timer_entry* t) noexcept {
  if (t->refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  t->target_->release();
  delete t;
}

void timer_service::compact_locked(shard& s) {
  auto live_end = std::partition(s.heap.begin(), s.heap.end(), [](const slot& e) { return !e.entry->cancelled(); });
  for (auto it = live_end; it != s.heap.end(); ++it) drop(it->entry);
  s.cancelled.fetch_sub(static_cast<std::size_t>(s.heap.end() - live_end), std::memory_order_relaxed);
  s.heap.erase(live_end, s.heap.end());
  std::make_heap(s.heap.begin(), s.heap.end(), later{});
}

void timer_service::watch(held_call_timeouts* h) {
  std::lock_guard lock(holders_mutex_);
  holders_.push_back(h);
  h->watched_by(this);
}

void timer_service::unwatch(held_call_timeouts* h) noexcept {
  std::lock_guard lock(holders_mutex_);  // waits out a look that may be handing over for h
  std::erase(holders_, h);
}

void timer_service::holding_started() noexcept {
  if (looking_.load(std::memory_order_seq_cst)) return;  // Dekker with look_at_holders
  {
    std::lock_guard lock(wake_mutex_);
    if (looking_.load(std::memory_order_relaxed)) return;
    looking_.store(true, std::memory_order_relaxed);
    next_look_ = clock::now() + watch_interval;
    woken_.store(true, std::memory_order_relaxed);
  }
  wake_.notify_one();
}

void timer_service::look_at_holders(std::unique_lock<std::mutex>& wake) noexcept {
  wake.unlock();  // a hand-over arms timers, which may wake this thread
  {
    std::lock_guard holders(holders_mutex_);
    const clock::time_point now = clock::now();
    for (held_call_timeouts* h : holders_)
      if (h->held_for_at_least(watch_interval, now)) h->rescue();
    const auto any_holding = [this] {
      return std::any_of(holders_.begin(), holders_.end(), [](const held_call_timeouts* h) { return h->holding(); });
    };
    if (!any_holding()) {
      // Off, then look again: a holder that started holding meanwhile either saw the looks on
      // (and relies on them) or sees them off and turns them on itself (holding_started).
      looking_.store(false, std::memory_order_seq_cst);
      std::atomic_thread_fence(std::memory_order_seq_cst);  // the re-check's relaxed loads come after the store
      if (any_holding()) looking_.store(true, std::memory_order_relaxed);
    }
  }
  wake.lock();
  next_look_ = clock::now() + watch_interval;
}

clock::time_point timer_service::take_due(shard& s, clock::time_point now, std::vector<due_timer>& due) noexcept {
  std::lock_guard lock(s.lock);
  while (!s.heap.empty() && s.heap.front().deadline <= now) {
    std::pop_heap(s.heap.begin(), s.heap.end(), later{});
    const slot next = s.heap.back();
    s.heap.pop_back();
    timer_entry* t = next.entry;
    // A one-shot is fired or cancelled, never both: whoever flips the flag first decides. A
    // periodic timer stays armed until cancelled; a message racing a cancel is dropped by the
    // actor, which forgets a timer id as soon as it cancels it.
    const bool was_cancelled = t->period_ == clock::duration::zero() ? t->cancelled_.exchange(true, std::memory_order_acq_rel)
                                                                     : t->cancelled();
    if (was_cancelled) {
      s.cancelled.fetch_sub(1, std::memory_order_relaxed);
      drop(t);
      continue;
    }
    try {
      due.push_back({next.deadline, due.size(), t});
    } catch (...) {  // out of memory: this firing is lost, as fire's own failure loses one
      if (t->period_ == clock::duration::zero()) {
        drop(t);
      } else {  // its next period; within the capacity its pop left, so this cannot throw
        s.heap.push_back({next.deadline + t->period_, s.seq++, t});
        std::push_heap(s.heap.begin(), s.heap.end(), later{});
      }
    }
  }
  return s.heap.empty() ? never : s.heap.front().deadline;
}

clock::time_point timer_service::fire_due(std::vector<due_timer>& due, clock::time_point now) noexcept {
  // A heap: the entries of one shard came out in deadline then arming order, and `order` keeps
  // that among equal deadlines.
  std::make_heap(due.begin(), due.end(), due_later{});
  std::uint64_t next_order = due.size();
  clock::time_point earliest = never;
  while (!due.empty()) {
    std::pop_heap(due.begin(), due.end(), due_later{});
    const due_timer d = due.back();
    due.pop_back();
    timer_entry* t = d.entry;
    shard& s = shards_[t->shard_];
    if (t->period_ != clock::duration::zero() && t->cancelled()) {  // cancelled since it was taken
      s.cancelled.fetch_sub(1, std::memory_order_relaxed);          // counted by cancel, never re-armed
      drop(t);
      continue;
    }
    fire(t);  // never under a lock: delivery may run a dead actor's drain
    if (t->period_ == clock::duration::zero()) {
      drop(t);
      continue;
    }
    const clock::time_point again = d.deadline + t->period_;
    if (again <= now) {                         // a late thread: due already, so it keeps its place among the others
      due.push_back({again, next_order++, t});  // within the capacity its pop left: no throw
      std::push_heap(due.begin(), due.end(), due_later{});
      continue;
    }
    std::lock_guard lock(s.lock);
    if (t->cancelled()) {
      s.cancelled.fetch_sub(1, std::memory_order_relaxed);  // counted by cancel, never re-armed
      drop(t);
      continue;
    }
    try {
      s.heap.push_back({again, s.seq++, t});
      std::push_heap(s.heap.begin(), s.heap.end(), later{});
      earliest = std::min(earliest, again);
    } catch (...) {  // out of memory: the timer ends; a cancel from its actor must not count it
      if (t->cancelled_.exchange(true, std::memory_order_acq_rel)) s.cancelled.fetch_sub(1, std::memory_order_relaxed);
      drop(t);
    }
  }
  return earliest;
}

void timer_service::run() {
  std::vector<due_timer> due;
  std::unique_lock wake(wake_mutex_);
  while (!stopping_) {
    woken_.store(false, std::memory_order_relaxed);  // [V]: before the pass
    clock::time_point now = clock::now();
    if (looking_.load(std::memory_order_relaxed) && now >= next_look_) {
      look_at_holders(wake);
      continue;
    }
    clock::time_point next = looking_.load(std::memory_order_relaxed) ? next_look_ : never;
    wake.unlock();
    // [W]: before the first shard's lock.
    next_wake_.store(never.time_since_epoch().count(), std::memory_order_relaxed);
    for (shard& s : shards_) next = std::min(next, take_due(s, now, due));
    if (!due.empty()) next = std::min(next, fire_due(due, now));
    wake.lock();
    next_wake_.store(next.time_since_epoch().count(), std::memory_order_relaxed);
    if (woken_.load(std::memory_order_relaxed) || stopping_) continue;
    now = clock::now();
    if (next <= now) continue;
    if (next == never)
      wake_.wait(wake, [this] { return woken_.load(std::memory_order_relaxed) || stopping_; });
    else
      wake_.wait_until(wake, next, [this] { return woken_.load(std::memory_order_relaxed) || stopping_; });
  }
}

void timer_service::fire(timer_entry* t) noexcept {
  try {
    if (t->message_) {
      detail::envelope* e = t->message_->make(t->id_);
      if (e->kind == detail::envelope_kind::timer)
        t->target_->deliver(e);
      else
        t->target_->deliver_system(e);
    } else {
      detail::envelope* e = detail::make_envelope<std::uint64_t>(detail::envelope_kind::call_timeout, t->id_);
      e->reply.request_id = t->id_;
      t->target_->deliver_system(e);
    }
  } catch (...) {
    // Out of memory: this firing is lost; a periodic timer tries again next period.
  }
}

}  // namespace eam::internal
