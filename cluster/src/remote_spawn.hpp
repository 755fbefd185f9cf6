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

/// Null when `type_name` is not registered in this process.
const detail::remote_factory* find_actor_type(std::string_view type_name);

inline constexpr std::string_view spawner_name = "eam.spawner";

struct spawn_request {
  std::string type;
  std::string name;
  bool global = false;
  std::vector<char> args;  // a msgpack array of the arguments (bin on the wire)
  MSGPACK_DEFINE(type, name, global, args);
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
