// A call's answer channel (reply_handle.hpp), answered later or from another thread.
#include <eam/engine/any_message.hpp>
#include <eam/engine/reply_handle.hpp>

#include "actor_cell.hpp"

namespace eam {

reply_handle::~reply_handle() {
  if (to_.pending()) detail::complete_error(to_, error(errc::actor_not_found, "the call was dropped unanswered"));
}

bool reply_handle::abandoned() const noexcept {
  switch (to_.kind) {
    case detail::reply_kind::slot: return static_cast<const detail::reply_slot_base*>(to_.target)->caller_gave_up();
    case detail::reply_kind::actor:
      return !static_cast<const detail::actor_cell*>(to_.target)->awaits_call(to_.request_id);
    case detail::reply_kind::receiver: return static_cast<const reply_receiver*>(to_.target)->caller_gave_up();
    case detail::reply_kind::none: return false;
  }
  return false;
}

void reply_handle::fail(error e) noexcept { detail::complete_error(to_, std::move(e)); }

void reply_handle::reply(message&& value) noexcept {
  if (!value) {
    fail(error(errc::unexpected_reply_type, "an empty message as the answer"));
    return;
  }
  (void)value.take_reply();  // an answer is never itself a call: a pending one fails here
  detail::envelope* e = value.release();
  e->kind = detail::envelope_kind::reply;
  switch (to_.kind) {
    case detail::reply_kind::none: detail::free_envelope(e); return;
    case detail::reply_kind::slot: {
      auto* slot = static_cast<detail::reply_slot_base*>(to_.target);
      to_.kind = detail::reply_kind::none;
      if (!slot->discard_if_abandoned()) {
        try {
          slot->ops->set_from(slot, *e);
        } catch (...) {  // the value's move threw: the caller still gets exactly one answer
          slot->ops->set_error(slot, error(errc::actor_crashed, "moving the answer threw"));
        }
        slot->publish();
      }
      detail::free_envelope(e);
      return;
    }
    case detail::reply_kind::actor:  // the caller's call_op checks the type (accept)
      detail::send_reply(to_, e);
      return;
    case detail::reply_kind::receiver: detail::send_reply_to_receiver(to_, e); return;
  }
}

}  // namespace eam
