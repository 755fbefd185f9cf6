#pragma once
// Finding out, without blocking the supervising actor, whether a child has started: whether
// its init has run. A supervisor starts its children one at a time, so it must learn when each
// init is done, and awaiting a call itself would hold every other message (and an actor with
// child supervision may not await at all). So a small helper actor asks the child and reports
// by its own end, which the supervising side watches with a handler:
//   normal                       the child started;
//   custom(start_watch_refused)  a nested supervisor answered that its children failed to
//                                start: the reason follows the marker;
//   custom(start_watch_ended)    the child ended first: its own down, which the supervising
//                                side also watches, says how.

#include <eam/engine/context.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace eam::otp::detail {

inline constexpr std::string_view start_watch_refused = "refused: ";
inline constexpr std::string_view start_watch_ended = "ended";

/// Why the start failed, from the helper's abnormal exit reason.
inline std::string start_watch_failure(const exit_reason& helper_reason) {
  const std::string& text = helper_reason.text();
  if (text.starts_with(start_watch_refused)) return text.substr(start_watch_refused.size());
  return helper_reason.to_string();  // the helper itself failed
}

/// Spawns the helper as a child of `ctx` for `child`, watches it with `on_down`, and only then
/// lets it ask: returns the watch's id. The helper's down always carries its verdict. Watched
/// after it could already ask, a helper run at once by another worker (one spawned from a turn
/// on a program's thread, or stolen) could end before the watch reached it, and the watch then
/// answered noproc, which read as a failed start: the child was started again while it ran.
std::uint64_t watch_start(actor_context& ctx, const actor_ref& child, std::function<void(const down&)> on_down);

}  // namespace eam::otp::detail
