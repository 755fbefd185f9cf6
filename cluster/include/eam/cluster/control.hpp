#pragma once
/// The control service every node runs: an actor registered on it under the local name
/// `eam.control`, which answers an operator's requests from any node of the cluster (so only
/// from a holder of the cookie). `eamctl` is its command-line client; a program may call it
/// too:
///
///   auto control = node->whereis<eam::cluster::control::control_ref>("b", eam::cluster::control::service_name);
///   auto info = control.value().call(eam::cluster::control::info_request{}).get();
///
/// Requests that block (a migration, a stop) run on the service's own thread, one at a time,
/// in the order they came; the node's shutdown waits for the one under way (its timeout
/// bounds it).

#include <eam/cluster/wire.hpp>
#include <eam/engine/actor_ref.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eam::cluster::control {

inline constexpr std::string_view service_name = "eam.control";

/// What a node says of itself.
struct info_request {
  MSGPACK_DEFINE();
};
struct node_info {
  std::string node_id;
  std::string address;
  std::vector<std::string> roles;
  std::map<std::string, std::string> metadata;
  std::int64_t pid = 0;
  std::string health;  ///< "healthy", "degraded" or "unhealthy"
  std::string health_message;
  bool draining = false;
  std::uint64_t actor_count = 0;  ///< the node's own actors: its proxies of remote actors not counted, as actors_request
  std::uint64_t busy_actors = 0;
  std::uint64_t largest_queue = 0;
  std::uint64_t mailbox_backlog = 0;
  std::uint32_t workers = 0;
  std::uint32_t active_workers = 0;
  double uptime_seconds = 0;
  std::vector<std::string> peers;  ///< connected now
  std::uint64_t messages_in = 0, messages_out = 0, bad_frames = 0, auth_failures = 0, dropped_casts = 0;
  MSGPACK_DEFINE(node_id, address, roles, metadata, pid, health, health_message, draining, actor_count, busy_actors,
                 largest_queue, mailbox_backlog, workers, active_workers, uptime_seconds, peers, messages_in,
                 messages_out, bad_frames, auth_failures, dropped_casts);
};

/// Every member the node knows, the dead and the departed included (until its membership
/// forgets them), sorted by id: the cluster as that node sees it. A node that joins later never
/// learns of a member already dead, so an operator asks one that has been there.
struct members_request {
  MSGPACK_DEFINE();
};
struct member_row {
  std::string id;
  std::string status;  ///< "alive", "suspect", "dead" or "left" (eam::cluster::to_string)
  std::string address;
  std::vector<std::string> roles;
  std::uint64_t incarnation = 0;
  MSGPACK_DEFINE(id, status, address, roles, incarnation);
};
struct member_list {
  std::vector<member_row> members;
  MSGPACK_DEFINE(members);
};

/// The node's actors, busiest first: the longest counted mailboxes, then the busy unbounded
/// ones, then the idle; by id within each. At most `limit` of them (0: all).
struct actors_request {
  std::uint32_t limit = 0;
  MSGPACK_DEFINE(limit);
};
struct actor_row {
  std::uint64_t id = 0;
  std::string name;
  std::string type;
  std::uint64_t parent_id = 0;
  std::uint64_t children = 0;
  bool idle = false;
  /// Messages queued: counted for a bounded mailbox; for an unbounded one, which does not
  /// count, nullopt while busy (actor_info::mailbox_length).
  std::optional<std::uint64_t> queued;
  MSGPACK_DEFINE(id, name, type, parent_id, children, idle, queued);
};
struct actor_list {
  std::uint64_t total = 0;  ///< actors on the node, of which `actors` lists up to the limit
  std::vector<actor_row> actors;
  /// The node's proxies of other nodes' actors (forwarding actors, which pass on what is sent
  /// to them): neither listed nor in `total`.
  std::uint64_t proxies = 0;
  MSGPACK_DEFINE(total, actors, proxies);
};

/// node::drain (true) or node::undrain (false); the answer is the state after it.
struct drain_request {
  bool drain = true;
  MSGPACK_DEFINE(drain);
};
struct drain_reply {
  bool draining = false;
  MSGPACK_DEFINE(draining);
};

/// node::migrate of the local actor registered as `name`; the call fails with its error.
struct migrate_request {
  std::string name;
  std::string to;
  std::uint32_t timeout_ms = 5000;  ///< migrate_config's save_timeout and timeout
  MSGPACK_DEFINE(name, to, timeout_ms);
};
struct migrate_reply {
  actor_ref actor;  ///< the moved actor, on `to`
  MSGPACK_DEFINE(actor);
};

/// node::migrate_all to `to`: a rolling deploy's evacuation. With `drain` the node drains
/// first, so that nothing new lands on it meanwhile.
struct migrate_all_request {
  std::string to;
  bool drain = true;
  std::uint32_t timeout_ms = 5000;
  MSGPACK_DEFINE(to, drain, timeout_ms);
};
struct migrate_all_reply {
  std::uint64_t migrated = 0;
  std::uint64_t failed = 0;
  std::vector<std::string> errors;  ///< why each failure failed
  MSGPACK_DEFINE(migrated, failed, errors);
};

/// Shuts the node down (node::shutdown: its peers see it leave at once) once this answer has
/// left. A program waiting in node::wait_for_shutdown returns then.
struct stop_request {
  MSGPACK_DEFINE();
};
struct stop_reply {
  std::string node_id;
  MSGPACK_DEFINE(node_id);
};

using control_ref = typed_ref<node_info(info_request), actor_list(actors_request), drain_reply(drain_request),
                              migrate_reply(migrate_request), migrate_all_reply(migrate_all_request),
                              stop_reply(stop_request), member_list(members_request)>;

/// Registers the messages above for the wire (start_node does it; idempotent).
void register_control_messages();

}  // namespace eam::cluster::control
