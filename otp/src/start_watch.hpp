#pragma once
// Finding out, without blocking the supervising actor, whether a child has started: whether
// its init has run. A supervisor starts its children one at a time, so it must learn when each
// init is done; a call it awaited itself would hold every other message, and a handler-less
// actor (child supervision in any actor) cannot await at all. So a small helper actor does the
// waiting and reports in two ways: its own end (normal when the child started, reason
// custom(why) when it did not), which the supervising side watches with a handler, and the
// answer to `start_outcome` calls, for a supervisor that does await (dynamic start_child).

#include <eam/engine/context.hpp>

#include <optional>
#include <string>

namespace eam::otp::detail {

struct start_outcome {};
/// nullopt: the child started; else why not (the child's exit reason, or the error a nested
/// supervisor answered with).
using start_watch_ref = typed_ref<std::optional<std::string>(start_outcome)>;

/// Spawns the helper as a child of `ctx` for `child`.
start_watch_ref spawn_start_watch(actor_context& ctx, const actor_ref& child);

}  // namespace eam::otp::detail
