#pragma once
// Remote spawn: the actor types registered by name (placement.hpp), and the messages a node
// sends to another node's spawner actor ("eam.spawner", a local name on every node).
#include <eam/cluster/placement.hpp>
#include <eam/cluster/wire.hpp>
#include <eam/engine/error.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
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
  /// Names this request for a spawn_withdrawn that may follow it (0: none will).
  std::uint64_t token = 0;
  MSGPACK_DEFINE(type, name, global, args, probe, restore, state, token);
};

/// The caller of the spawn_request `token` stopped waiting (its timeout passed): an actor the
/// request made is stopped. It leaves after the request on the same connection, so the spawner
/// has handled the request when it handles this: a target that answered too late (paused,
/// overloaded) does not keep a second live copy of an actor its caller rebuilt at home (a
/// migration) or counts as not spawned (a spawn).
struct spawn_withdrawn {
  std::uint64_t token = 0;
  MSGPACK_DEFINE(token);
};

struct spawn_reply {
  actor_ref actor;
  /// What the new actor handles among the wire types (message, reply or "" for a cast).
  std::vector<std::pair<std::string, std::string>> signatures;
  std::optional<eam::error> failure;
  MSGPACK_DEFINE(actor, signatures, failure);
};

using spawner_ref = typed_ref<spawn_reply(spawn_request), void(spawn_withdrawn)>;

/// The spawner's memory of the actors its recent requests made, by token, so that a
/// spawn_withdrawn finds its actor: the last `kept` of them (a withdraw follows its request at
/// once, behind at most what its caller sent meanwhile).
class recent_spawns {
 public:
  static constexpr std::size_t kept = 1024;
  void note(std::uint64_t token, actor_ref actor);
  /// The actor request `token` made, taken out; empty when it made none or was forgotten.
  actor_ref take(std::uint64_t token);

 private:
  std::unordered_map<std::uint64_t, actor_ref> by_token_;
  std::deque<std::uint64_t> order_;
};

}  // namespace eam::cluster::internal
