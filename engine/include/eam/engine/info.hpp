#pragma once
/// Info messages: what the engine tells an actor about other actors. They travel through the
/// actor's mailbox in order with everything else, and reach a handler taking the type (a
/// functional behavior's lambda, a class actor's `handle_info` overload). They are not part of
/// an actor's typed interface: nobody casts them.

#include <eam/engine/actor_ref.hpp>
#include <eam/engine/error.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <type_traits>

namespace eam {

/// Names one monitor, returned by `watch`; `unwatch` takes it back. Carries the ids of the
/// watching and the watched actor.
struct watch_ref {
  std::uint64_t id = 0;
  std::uint64_t watcher = 0;
  std::uint64_t watched = 0;
  friend bool operator==(watch_ref, watch_ref) = default;
};

/// Names the link between two actors, returned by `link`; the `exit_signal` a linked actor's
/// end produces carries the same value. Symmetric: the lower id first.
struct link_ref {
  std::uint64_t first = 0;
  std::uint64_t second = 0;
  [[nodiscard]] static link_ref between(std::uint64_t a, std::uint64_t b) noexcept {
    return a < b ? link_ref{a, b} : link_ref{b, a};
  }
  explicit operator bool() const noexcept { return first != 0 || second != 0; }
  friend bool operator==(link_ref, link_ref) = default;
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
  link_ref link;  ///< the link that carried it; empty for exit(ref, reason)
};

/// The actor got no message for its idle timeout (see actor_context::set_idle_timeout); sent
/// again every idle period while it stays idle.
struct timeout {
  std::chrono::milliseconds idle;
};

/// A watched or linked actor moved to another home (the cluster's migration, migration.hpp)
/// and lives on as `to`. It ends the watch or the link as a down would, without the actor
/// having ended: watch or link `to` to follow it. Exactly one per watch and per link.
struct moved {
  actor_ref from;
  actor_ref to;
  std::string node;  ///< the node `to` lives on
  watch_ref watch;   ///< the watch it ends; empty when it ends a link
  link_ref link;     ///< the link it ends; empty when it ends a watch
};

template <class T>
inline constexpr bool is_info_message_v = std::is_same_v<T, down> || std::is_same_v<T, exit_signal> ||
                                          std::is_same_v<T, timeout> || std::is_same_v<T, moved>;

}  // namespace eam
