// handle_continue, the stash and deferred answers: work an actor leaves for its own next steps.
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

reply_address actor_cell::take_reply() noexcept {
  envelope* current = current_envelope();
  // A stashed call's address is parked until the turn ends (stash_handled): it stays the
  // stash's, and a cast's or an answered call's address is empty already.
  if (current == nullptr) return {};
  return std::move(current->reply);
}

bool actor_cell::unstash() noexcept {
  if (!extras_ || extras_->stash.empty()) return false;
  deferred_.push_front(extras_->stash.pop_front());  // ahead of everything not yet handled
  pending_ |= turn_changed;                          // the next message comes from deferred_
  return true;
}

void actor_cell::unstash_all() noexcept {
  if (!extras_ || extras_->stash.empty()) return;
  deferred_.splice_front(extras_->stash);
  pending_ |= turn_changed;  // the next message comes from deferred_
}

void actor_cell::clear_stash() noexcept {
  if (!extras_) return;
  extras_->stash.drain([](envelope* e) {
    complete_error(e->reply, error(errc::stash_cleared, "the actor cleared its stash"));
    free_envelope(e);
  });
}

}  // namespace eam::detail
