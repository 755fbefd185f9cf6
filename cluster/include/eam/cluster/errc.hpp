#pragma once
/// The cluster layer's error codes (domain "cluster"). Values go on the wire: append, never
/// renumber. The engine's `errc` has the codes every layer shares (transport_error,
/// peer_not_found, authentication_failed).

#include <eam/engine/error.hpp>

#include <cstdint>

namespace eam::cluster {

enum class cluster_errc : std::uint8_t {
  /// A message type that crosses nodes was never registered (register_message) on this node
  /// or on the receiving one; the context names the type.
  type_not_registered = 1,
  /// The node could not start: a bad address, a port in use, a cookie too short.
  invalid_config = 2,
  /// The node has shut down.
  node_stopped = 3,
  /// A keyring operation named a cookie that is not installed.
  key_not_installed = 4,
  /// The primary key cannot be removed: use another first.
  key_is_primary = 5,
  /// Only an actor of this node can join a process group here (Erlang's pg): the ref stands
  /// for an actor of another node.
  not_a_local_actor = 6,
  /// A scope or group name that cannot cross the wire: empty, over 1,024 bytes, or holding a
  /// control character.
  invalid_group = 7,
  /// leave_group for an actor that is not in the group.
  not_joined = 8,
  /// A remote spawn's arguments do not decode as the registered type's (the context says why).
  bad_spawn_arguments = 9,
  /// migrate was asked to move an actor to the node it is on.
  same_node = 10,
  /// The node is draining (node::drain): it takes no spawns and no migrated actors.
  node_draining = 11,
  /// The receiving node could not decode a message's payload: over its limits (more than
  /// 65,536 entries in an array or map, over 8 MiB in a string or binary, nesting deeper than
  /// 31 levels) or not in the shape of the type registered there under its wire name. The call
  /// (or the call whose answer it was) fails with this; the context says which, and what
  /// followed it in its frame arrives as usual.
  undecodable_payload = 12,
  /// Another node of this node's id is connected to the cluster and heard from: the nodes this
  /// one dialled refuse it (the one connected first stays, as Erlang refuses a second node of a
  /// name) and take it once that one is gone. The context says which node refused and where
  /// the other one is. From wait_for_cluster, whose condition then cannot hold.
  node_id_in_use = 13,
};

}  // namespace eam::cluster

template <>
struct eam::error_code_enum<eam::cluster::cluster_errc> {
  static const error_domain& domain() noexcept;
};
