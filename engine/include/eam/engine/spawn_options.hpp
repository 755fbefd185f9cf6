#pragma once
/// How an actor is spawned: its registered name and its mailbox bound (the options every
/// `spawn` overload takes first).

#include <cstdint>
#include <string>

namespace eam {

/// What a bounded mailbox does with a message that finds it full. Calls dropped either way
/// fail with `mailbox_full`; system messages (exits, downs, stops, replies) are never dropped.
enum class overflow_strategy : std::uint8_t {
  drop_newest,  ///< drop the arriving message
  drop_oldest,  ///< drop the oldest queued message to make room
  error,        ///< refuse: `cast` throws eam::error(mailbox_full), a call fails with it
};

struct spawn_options {
  /// A unique name to register the actor under; freed when it stops. Empty: no name.
  std::string name;
  /// The name is global: also offered to the system's name extension (name_extension.hpp),
  /// which a cluster node installs to make it resolve on every node (Erlang's global names).
  /// Without an extension, the same as a local name.
  bool global = false;
  /// The most ordinary messages the mailbox holds; 0: the system default (unbounded unless
  /// system_config says otherwise).
  std::uint32_t mailbox_bound = 0;
  overflow_strategy overflow = overflow_strategy::drop_newest;
};

}  // namespace eam
