#pragma once
// The end of a message's contents, inline where every handled message passes (actor_cell::retire,
// which leaves the memory to the mailbox, and free_envelope): an unanswered call is failed, then
// the payload's destructor runs if it has one. Out of line, the turn loop paid a call and a
// return per message for two tests.
#include <eam/engine/detail/envelope.hpp>

namespace eam::internal {

/// Answers a call that is dropped before its handler answered with actor_not_found. Out of line
/// and cold, so that destroying any other message saves no registers for it.
[[gnu::noinline, gnu::cold]] void fail_unanswered_call(detail::envelope* e) noexcept;

[[gnu::always_inline]] inline void destroy_contents_inline(detail::envelope* e) noexcept {
  if (e->reply.pending()) [[unlikely]] fail_unanswered_call(e);
  if (e->type->destroy != nullptr) e->type->destroy(e->payload());
}

}  // namespace eam::internal
