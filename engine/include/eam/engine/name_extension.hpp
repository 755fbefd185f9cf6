#pragma once
/// A seam that extends an actor system's name registry beyond the system, e.g. to a registry
/// replicated over a cluster (eam::cluster installs one). Without one, names are local only.
///
/// The system calls it on name operations, never on the message path: before and after a
/// local actor takes a global name (spawn_options::name with spawn_options::global), when a
/// name is freed (its actor ended, or actor_system::unregister: any name, the extension
/// ignores those it does not hold), and when whereis finds no local actor. Calls come from
/// whichever thread spawns, ends the actor or looks up, without any engine lock held: an
/// implementation guards its own state and must not block (an actor's end runs on a worker).
/// Whenever what its whereis answers changes (a name taken or freed elsewhere, a node gone), it
/// calls actor_system::names_changed() after the change: callers keep what they found by name
/// until the system's names_version() moves.
#include <eam/engine/actor_ref.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eam {

class name_extension {
 public:
  virtual ~name_extension() = default;
  /// Before a local actor takes `name`: false refuses it, and the spawn fails with name_taken
  /// (the name is held elsewhere).
  [[nodiscard]] virtual bool may_register(std::string_view name) = 0;
  /// `name` now belongs to the local actor `ref`.
  virtual void registered(const std::string& name, const actor_ref& ref) = 0;
  /// `name` was freed here; `actor_id` held it.
  virtual void unregistered(const std::string& name, std::uint64_t actor_id) = 0;
  /// No local actor has `name`: the actor that has it elsewhere, or nullopt.
  [[nodiscard]] virtual std::optional<actor_ref> whereis(std::string_view name) = 0;
};

}  // namespace eam
