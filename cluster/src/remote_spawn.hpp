#pragma once
// Remote spawn: the actor types registered by name (placement.hpp), and the messages a node
// sends to another node's spawner actor ("eam.spawner", a local name on every node).
#include <eam/cluster/placement.hpp>
#include <eam/cluster/wire.hpp>
#include <eam/engine/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eam::cluster::internal {

/// One registered actor type.
struct actor_type_entry {
  std::string name;
  detail::remote_factory spawn;
  std::optional<detail::state_codec> migration;  // types that move between nodes
};
/// Null when `type_name` is not registered in this process.
const actor_type_entry* find_actor_type(std::string_view type_name);
/// The migratable registered type whose actors the engine names `engine_type`; null if none.
const actor_type_entry* find_migratable_type(std::string_view engine_type);

inline constexpr std::string_view spawner_name = "eam.spawner";

struct spawn_request {
  std::string type;
  std::string name;
  bool global = false;
  std::vector<char> args;  // a msgpack array of the arguments (bin on the wire)
  /// What a migration asks: `probe` only checks that the type can be restored here; `restore`
  /// rebuilds it from `state` (its saved state, packed) instead of spawning it from `args`.
  bool probe = false;
  bool restore = false;
  std::vector<char> state;
  MSGPACK_DEFINE(type, name, global, args, probe, restore, state);
};

struct spawn_reply {
  actor_ref actor;
  /// What the new actor handles among the wire types (message, reply or "" for a cast).
  std::vector<std::pair<std::string, std::string>> signatures;
  std::optional<eam::error> failure;
  MSGPACK_DEFINE(actor, signatures, failure);
};

using spawner_ref = typed_ref<spawn_reply(spawn_request)>;

}  // namespace eam::cluster::internal
