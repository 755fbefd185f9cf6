// Run-time typed messages (any_message.hpp).
#include <eam/engine/any_message.hpp>

#include "actor_cell.hpp"

namespace eam {

reply_handle message::take_reply() noexcept {
  if (e_ == nullptr) return {};
  return reply_handle(std::move(e_->reply));
}

bool handles(const actor_ref& ref, message_type_id message, message_type_id reply) noexcept {
  if (!ref) return false;
  const detail::signature_id sig{message.descriptor(), reply.descriptor()};
  return detail::cell_handles_all(ref.cell(), &sig, 1);
}

const void* handling_type(const actor_ref& ref) noexcept {
  const detail::actor_cell* c = ref.cell();
  // The type descriptor is static, as in cell_handles_all; a forwarder answers for itself.
  if (c == nullptr || c->is_dead() || c->forwarder() != nullptr) return nullptr;
  return &c->type();
}

cast_result send(const actor_ref& to, message& m) noexcept {
  detail::envelope* e = m.release();
  if (e == nullptr) return cast_result::gone;
  // A message still carrying a caller's answer channel is a call passed on: its handler answers.
  e->kind = e->reply.pending() ? detail::envelope_kind::call : detail::envelope_kind::cast;
  switch (detail::offer(to.cell(), e)) {
    case detail::send_result::delivered:
      return cast_result::sent;
    case detail::send_result::refused:
      m = message(e);
      return cast_result::full;
    case detail::send_result::dropped:
      break;
  }
  return cast_result::gone;
}

void send_call(const actor_ref& to, message&& m, reply_receiver& receiver) noexcept {
  detail::envelope* e = m.release();
  if (e == nullptr) {
    detail::reply_address none(detail::reply_kind::receiver, &receiver, 0);
    detail::complete_error(none, error(errc::actor_not_found, "an empty message"));
    return;
  }
  if (e->reply.pending())  // never for a fresh message: no error (and its string) to build then
    detail::complete_error(e->reply, error(errc::actor_not_found, "the call was passed on as a new call"));
  e->kind = detail::envelope_kind::call;
  e->reply = detail::reply_address(detail::reply_kind::receiver, &receiver, 0);
  (void)detail::send(to.cell(), e);  // a dead or full target answers the receiver with the error
}

}  // namespace eam
