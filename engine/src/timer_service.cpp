#include "timer_service.hpp"

#include "actor_cell.hpp"
#include "held_call_timeouts.hpp"

#include <algorithm>

namespace eam::internal {

timer_service::timer_service() : thread_([this] { run(); }) {}

timer_service::~timer_service() { stop(); }

void timer_service::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  for (slot& s : heap_) drop(s.entry);
  heap_.clear();
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
  bool earliest = false;
  t->target_->add_ref();
  try {
    std::lock_guard lock(mutex_);
    if (cancelled_in_heap_.load(std::memory_order_relaxed) > 1024 &&
        2 * cancelled_in_heap_.load(std::memory_order_relaxed) > heap_.size())
      compact_locked();
    heap_.push_back({deadline, seq_++, t});
    std::push_heap(heap_.begin(), heap_.end(), later{});
    earliest = heap_.front().entry == t;
  } catch (...) {
    t->target_->release();
    delete t;
    throw;
  }
  if (earliest) wake_.notify_one();  // only an earlier deadline changes how long the thread sleeps
  return t;
}

void timer_service::cancel(timer_entry* t) noexcept {
  if (!t->cancelled_.exchange(true, std::memory_order_acq_rel)) cancelled_in_heap_.fetch_add(1, std::memory_order_relaxed);
  drop(t);
}

void timer_service::drop(timer_entry* t) noexcept {
  if (t->refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  t->target_->release();
  delete t;
}

void timer_service::compact_locked() {
  auto live_end = std::partition(heap_.begin(), heap_.end(), [](const slot& s) { return !s.entry->cancelled(); });
  for (auto it = live_end; it != heap_.end(); ++it) drop(it->entry);
  cancelled_in_heap_.fetch_sub(static_cast<std::size_t>(heap_.end() - live_end), std::memory_order_relaxed);
  heap_.erase(live_end, heap_.end());
  std::make_heap(heap_.begin(), heap_.end(), later{});
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
    std::lock_guard lock(mutex_);
    if (looking_.load(std::memory_order_relaxed)) return;
    looking_.store(true, std::memory_order_relaxed);
    next_look_ = clock::now() + watch_interval;
  }
  wake_.notify_one();
}

void timer_service::look_at_holders(std::unique_lock<std::mutex>& lock) noexcept {
  lock.unlock();  // a hand-over arms timers, under mutex_
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
  lock.lock();
  next_look_ = clock::now() + watch_interval;
}

void timer_service::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const clock::time_point now = clock::now();
    const bool looking = looking_.load(std::memory_order_relaxed);
    if (looking && now >= next_look_) {
      look_at_holders(lock);
      continue;
    }
    clock::time_point wake = looking ? next_look_ : clock::time_point::max();
    if (!heap_.empty()) wake = std::min(wake, heap_.front().deadline);  // a copy: the heap may grow while we wait
    if (wake > now) {
      if (wake == clock::time_point::max())
        wake_.wait(lock);
      else
        wake_.wait_until(lock, wake);
      continue;
    }
    std::pop_heap(heap_.begin(), heap_.end(), later{});
    const slot due = heap_.back();
    heap_.pop_back();
    timer_entry* t = due.entry;
    // A one-shot is fired or cancelled, never both: whoever flips the flag first decides. A
    // periodic timer stays armed until cancelled; a message racing a cancel is dropped by the
    // actor, which forgets a timer id as soon as it cancels it.
    const bool was_cancelled = t->period_ == clock::duration::zero() ? t->cancelled_.exchange(true, std::memory_order_acq_rel)
                                                                     : t->cancelled();
    if (was_cancelled) {
      cancelled_in_heap_.fetch_sub(1, std::memory_order_relaxed);
      drop(t);
      continue;
    }
    lock.unlock();  // never send while holding the lock: delivery may run a dead actor's drain
    fire(t);
    lock.lock();
    if (t->period_ == clock::duration::zero()) {
      drop(t);
    } else if (t->cancelled()) {
      cancelled_in_heap_.fetch_sub(1, std::memory_order_relaxed);  // counted by cancel, never re-armed
      drop(t);
    } else {
      heap_.push_back({due.deadline + t->period_, seq_++, t});
      std::push_heap(heap_.begin(), heap_.end(), later{});
    }
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
