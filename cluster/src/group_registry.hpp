#pragma once
// Distributed process groups (Erlang's pg): named groups, in scopes, of actors from every node.
//
// Each node is the only source of its own members: it announces a join or a leave to every
// connected peer, sends a newly connected peer all of them (sync), and a member that ends
// leaves every group everywhere (local_actor_ended). A node's members vanish with it
// (node_gone). Eventually consistent, as pg is: a member list is what this node has heard.
#include "frame.hpp"
#include "groups_wire.hpp"

#include <eam/engine/actor_ref.hpp>
#include <eam/engine/result.hpp>

#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace eam::cluster::internal {

/// What the groups need from their node.
class group_registry_host {
 public:
  /// Queues a groups message for every connected peer, in call order (from any thread, with
  /// the groups' lock held: it must only queue, never block or call back).
  virtual void broadcast_groups(std::vector<std::byte>&& body) = 0;
  /// A ref to actor `id` on node `node` (life `incarnation`); empty when that node is not connected.
  virtual actor_ref remote_ref(const std::string& node, std::uint64_t incarnation, std::uint64_t id,
                               const std::vector<wire_signature>& signatures) = 0;
  /// When `actor` is an actor of this node: makes it addressable by peers (its end is then
  /// reported through local_actor_ended) and returns true.
  virtual bool export_if_local(const actor_ref& actor) = 0;

 protected:
  ~group_registry_host() = default;
};

class group_registry {
 public:
  explicit group_registry(group_registry_host& host) : host_(host) {}

  /// Errors: invalid_group, not_a_local_actor.
  result<void> join(const group_key& key, const actor_ref& member);
  /// Removes one join of `member`. Errors: invalid_group, not_joined.
  result<void> leave(const group_key& key, const actor_ref& member);
  /// Every member on every node, as far as this node knows (an actor joined twice is listed twice).
  [[nodiscard]] std::vector<actor_ref> members(const group_key& key);
  [[nodiscard]] std::vector<actor_ref> local_members(const group_key& key) const;
  /// The groups of `scope` with at least one member, sorted.
  [[nodiscard]] std::vector<std::string> groups(const std::string& scope) const;

  /// A groups message from peer `node` (life `incarnation`).
  groups_decode_outcome on_message(const std::string& node, std::uint64_t incarnation, std::span<const std::byte> body);
  /// What a newly connected peer is sent: every local member, as the bodies of a sync's parts
  /// (encode_groups_sync_parts; `left_out` counts groups that cannot be sent).
  [[nodiscard]] std::vector<std::vector<std::byte>> own_sync(std::size_t max_body_bytes, std::size_t& left_out) const;
  void node_gone(const std::string& node);
  /// A local actor that peers may address ended: it leaves every group.
  void local_actor_ended(std::uint64_t id);

 private:
  // One peer's members of one group, in join order (an actor joined twice is listed twice), and
  // each actor's places in that list, oldest first: a peer announces every member's end as a
  // leave, and a search of the list per leave made a mass end of its members quadratic here.
  struct remote_members {
    std::uint64_t incarnation = 0;
    std::list<std::uint64_t> actors;
    std::unordered_map<std::uint64_t, std::vector<std::list<std::uint64_t>::iterator>> places;
    void add(std::uint64_t id);
    bool remove_oldest(std::uint64_t id);  // false when `id` has no join here
  };
  class visitor;
  void drop_node(const std::string& node);  // under lock_
  /// Whether a change of `node` at `version` is new here (not in its last sync); records it.
  bool fresh(const std::string& node, std::uint64_t version);  // under lock_

  group_registry_host& host_;
  mutable std::mutex lock_;
  // Local members in join order (an actor joined twice is listed twice), and each join again
  // by the joining actor's id and then its group: a local actor's end, reported for every
  // exported actor, looked through every group's members, and a member's leave through its
  // group's; an actor's leave looked through all its joins, and each join copied them (an
  // actor in 20,000 groups: see cluster/README.md).
  using local_groups = std::map<group_key, std::list<actor_ref>>;
  struct joins_in_group {
    local_groups::iterator group;  // erased only once empty, so no join holds an erased one
    std::vector<std::list<actor_ref>::iterator> at;  // oldest first
  };
  // Under lock_: takes the oldest of `joins` out of its group (erased once empty).
  void drop_oldest(joins_in_group& joins);
  local_groups local_;
  // By the group's key, whose address a std::map node keeps until the group is erased.
  std::unordered_map<std::uint64_t, std::unordered_map<const group_key*, joins_in_group>> joins_by_actor_;
  std::uint64_t version_ = 0;  // local changes so far: each join or leave is announced with its own
  std::map<group_key, std::map<std::string, remote_members>> remote_;  // by group, then node
  std::map<std::string, std::uint64_t> applied_;  // per peer, the version its changes reached here
};

}  // namespace eam::cluster::internal
