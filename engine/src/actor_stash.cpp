// handle_continue and the stash: work an actor leaves for its own next steps.
#include "actor_cell.hpp"

#include <eam/engine/telemetry.hpp>

namespace eam::detail {

void actor_cell::run_continue() noexcept {
  pending_ &= ~continue_pending;
  std::function<void()> next = std::move(extras_->next_continue);
  extras_->next_continue = nullptr;
  try {
    next();
  } catch (...) {
    record_crash(telemetry::detail::what_of(std::current_exception()));
  }
  after_handler();
}

void actor_cell::continue_with(std::function<void()> next) {
  more().next_continue = std::move(next);
  pending_ |= continue_pending;
}

bool actor_cell::stash() noexcept {
  envelope* current = current_envelope();
  if (current == nullptr || (pending_ & stash_current) != 0) return false;
  pending_ |= stash_current;
  set_current_reply(std::move(current->reply));  // the handler's return must not answer it
  return true;
}

bool actor_cell::unstash() noexcept {
  if (!extras_ || extras_->stash_head == nullptr) return false;
  extras& x = *extras_;
  envelope* e = x.stash_head;
  x.stash_head = static_cast<envelope*>(e->next.load(std::memory_order_relaxed));
  if (x.stash_head == nullptr) x.stash_tail = nullptr;
  e->next.store(deferred_head_, std::memory_order_relaxed);  // ahead of everything not yet handled
  deferred_head_ = e;
  if (deferred_tail_ == nullptr) deferred_tail_ = e;
  return true;
}

void actor_cell::unstash_all() noexcept {
  if (!extras_ || extras_->stash_head == nullptr) return;
  extras& x = *extras_;
  x.stash_tail->next.store(deferred_head_, std::memory_order_relaxed);
  if (deferred_tail_ == nullptr) deferred_tail_ = x.stash_tail;
  deferred_head_ = x.stash_head;
  x.stash_head = x.stash_tail = nullptr;
}

void actor_cell::clear_stash() noexcept {
  if (!extras_) return;
  for (envelope* e = extras_->stash_head; e != nullptr;) {
    envelope* next = static_cast<envelope*>(e->next.load(std::memory_order_relaxed));
    complete_error(e->reply, error(errc::stash_cleared, "the actor cleared its stash"));
    free_envelope(e);
    e = next;
  }
  extras_->stash_head = extras_->stash_tail = nullptr;
}

}  // namespace eam::detail
