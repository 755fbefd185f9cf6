// An actor's timers (send_after, send_interval) and its idle timeout; the timer thread itself
// is timer_service.
#include "actor_cell.hpp"
#include "system_state.hpp"

namespace eam::detail {

// -- timers and the idle timeout ---------------------------------------------------------------------

namespace {
// The idle timeout's own check travels as a system message, so it is not ordinary activity.
class idle_check_factory final : public message_factory {
 public:
  envelope* make(std::uint64_t id) const override {
    envelope* e = make_envelope<std::uint64_t>(envelope_kind::idle_check, id);
    e->reply.request_id = id;
    return e;
  }
};
}  // namespace

std::uint64_t arm_timer(actor_cell* self, std::unique_ptr<message_factory> message, std::chrono::milliseconds delay,
                        bool periodic) {
  return self->arm_timer(std::move(message), delay, periodic);
}

std::uint64_t actor_cell::arm_timer(std::unique_ptr<message_factory> message, std::chrono::milliseconds delay, bool periodic) {
  extras& x = more();
  const std::uint64_t id = ++x.next_request_id;
  const auto period = periodic ? internal::clock::duration(delay) : internal::clock::duration::zero();
  x.timers.push_back({id, sys_->timers.arm_message(internal::clock::now() + delay, period, this, id, std::move(message)), periodic});
  return id;
}

bool actor_cell::cancel_timer(std::uint64_t id) noexcept {
  if (!extras_) return false;
  auto& t = extras_->timers;
  extras::armed_timer* a = t.find(id);
  if (a == nullptr) return false;
  sys_->timers.cancel(a->entry);
  t.erase(a);
  return true;
}

void actor_cell::cancel_all_timers() noexcept {
  if (!extras_) return;
  for (auto& a : extras_->timers) sys_->timers.cancel(a.entry);
  extras_->timers.clear();
}

bool actor_cell::take_timer_message(std::uint64_t id) noexcept {
  if (!extras_) return false;
  auto& t = extras_->timers;
  extras::armed_timer* a = t.find(id);
  if (a == nullptr) return false;
  if (!a->periodic) {  // delivered: the timer is done
    sys_->timers.cancel(a->entry);
    t.erase(a);
  }
  return true;
}

void actor_cell::set_idle_timeout(std::chrono::milliseconds idle) {
  if (!extras_ && idle.count() == 0) return;
  extras& x = more();
  if (x.idle_timer != nullptr) sys_->timers.cancel(x.idle_timer);
  x.idle_timer = nullptr;
  x.idle = idle;
  idle_watch_ = idle.count() > 0;
  if (!idle_watch_) return;
  x.handled_at_arm = x.handled;
  x.idle_since = internal::clock::now();
  arm_idle_check(x.idle_since + idle);
}

void actor_cell::arm_idle_check(internal::clock::time_point deadline) {
  extras& x = *extras_;
  x.idle_timer_id = ++x.next_request_id;
  x.idle_timer = sys_->timers.arm_message(deadline, internal::clock::duration::zero(), this, x.idle_timer_id,
                                          std::make_unique<idle_check_factory>());
}

void actor_cell::note_activity(unsigned handled) noexcept {
  extras_->handled += handled;
  extras_->idle_since = internal::clock::now();
}

void actor_cell::on_idle_check(std::uint64_t id) noexcept {
  if (!extras_ || extras_->idle_timer_id != id || extras_->idle_timer == nullptr) return;  // stale
  extras& x = *extras_;
  sys_->timers.cancel(x.idle_timer);  // it fired; drop our hold on it
  x.idle_timer = nullptr;
  // Settled when this turn ends (settle_idle): a handler that ran past the deadline in this
  // very turn is counted by then. Decided here, it read a 300 ms handler as 300 ms of idling
  // and sent the timeout the moment the handler returned.
  x.idle_check_due = true;
}

void actor_cell::settle_idle(unsigned handled) noexcept {
  if (handled != 0) note_activity(handled);
  extras& x = *extras_;
  if (!x.idle_check_due) return;
  x.idle_check_due = false;
  const auto now = internal::clock::now();
  try {
    // A timeout sent and not handled yet (set aside while the actor awaits a reply), or a reply
    // awaited: not idle, and no second timeout behind the first. Before, each check read the
    // unhandled one as activity long past, and an await of 1 s left 9 timeouts queued.
    if (x.handled < x.handled_at_arm || awaiting()) {
      arm_idle_check(now + x.idle);
      return;
    }
    if (x.handled != x.handled_at_arm) {  // activity since: count the idle time from its end
      x.handled_at_arm = x.handled;
      if (x.idle_since + x.idle > now) {
        arm_idle_check(x.idle_since + x.idle);
        return;
      }
    }
    // In order with the rest of the mailbox, as an info message; it counts as handled itself.
    envelope* info = make_envelope<timeout>(envelope_kind::cast, timeout{x.idle});
    push_own_info(info);
    x.handled_at_arm = x.handled + 1;
    arm_idle_check(now + x.idle);
  } catch (...) {
    // Out of memory: the idle timeout stops firing.
  }
}

}  // namespace eam::detail
