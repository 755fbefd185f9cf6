#pragma once
/// Info messages: what the engine tells an actor about other actors. They travel through the
/// actor's mailbox in order with everything else, and reach a handler taking the type (a
/// functional behavior's lambda, a class actor's `handle_info` overload). They are not part of
/// an actor's typed interface: nobody casts them.

#include <eam/engine/actor_ref.hpp>
#include <eam/engine/error.hpp>

#include <chrono>
#include <cstdint>
#include <type_traits>

namespace eam {

/// Names one monitor, returned by `watch`; `unwatch` takes it back.
struct watch_ref {
  std::uint64_t id = 0;
  friend bool operator==(watch_ref, watch_ref) = default;
};

/// Names one timer of an actor, returned by send_after / send_interval.
struct timer_ref {
  std::uint64_t id = 0;
  friend bool operator==(timer_ref, timer_ref) = default;
};

/// A watched actor ended. Exactly one per watch, unless unwatched first.
struct down {
  watch_ref ref;
  actor_ref actor;
  exit_reason reason;
};

/// A linked actor ended, or someone sent this actor an exit signal, while it traps exits.
struct exit_signal {
  actor_ref from;
  exit_reason reason;
};

/// The actor got no message for its idle timeout (see actor_context::set_idle_timeout); sent
/// again every idle period while it stays idle.
struct timeout {
  std::chrono::milliseconds idle;
};

template <class T>
inline constexpr bool is_info_message_v =
    std::is_same_v<T, down> || std::is_same_v<T, exit_signal> || std::is_same_v<T, timeout>;

}  // namespace eam
