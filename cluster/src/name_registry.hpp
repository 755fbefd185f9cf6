#pragma once
// The distributed registry: names visible on every node, as the engine's name_extension.
//
// Each node is the only source of the names it holds: it announces a name to every connected
// peer when one of its actors takes it (put) and when it is freed (del), and sends a newly
// connected peer all of them (sync). A node's names vanish with it (node_gone).
//
// Two nodes that take one name without knowing of each other (concurrently, or across a
// partition) converge on the same winner everywhere: the claim with the smaller (stamp, node
// id), where a stamp is the owner's hybrid logical clock at registration. Every node applies
// the same rule to the same claims, so the answer does not depend on arrival order. The
// losing node frees the name locally and sends its actor an exit signal (name_conflict).
// Beaten claims of other nodes are kept behind the winner until withdrawn: when a name passes
// from one node to another (a migrated actor), a third node may hear the new claim before the
// old one's del, and must not forget the new one.
// A name that a node already knows to be held elsewhere is refused at once (name_taken).
#include "names_wire.hpp"

#include <eam/engine/name_extension.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eam::cluster::internal {

/// What the registry needs from its node.
class name_registry_host {
 public:
  /// Sends a registry message to every connected peer (from any thread; must not block).
  virtual void broadcast_names(std::vector<std::byte>&& body) = 0;
  /// A ref to actor `id` on node `node` (life `incarnation`) that claims `signatures`; empty
  /// when that node is not connected.
  virtual actor_ref remote_ref(const std::string& node, std::uint64_t incarnation, std::uint64_t id,
                                 const std::vector<wire_signature>& signatures) = 0;
  /// Makes a local actor addressable by peers; returns what it handles of the wire types.
  virtual std::vector<wire_signature> export_named(const actor_ref& actor) = 0;
  /// `actor` lost `name` to `winner`'s earlier claim (called without the registry's lock).
  virtual void name_lost(const std::string& name, const actor_ref& actor, const std::string& winner) = 0;
  /// What whereis answers may have changed (a claim added or dropped): the system's
  /// names_changed(), so that callers holding what they found by name look it up again.
  virtual void names_changed() = 0;
  virtual std::int64_t wall_clock_ms() = 0;

 protected:
  ~name_registry_host() = default;
};

class name_registry final : public name_extension {
 public:
  name_registry(std::string self, name_registry_host& host);

  // name_extension (any thread)
  bool may_register(std::string_view name) override;
  void registered(const std::string& name, const actor_ref& ref) override;
  void unregistered(const std::string& name, std::uint64_t actor_id) override;
  std::optional<actor_ref> whereis(std::string_view name) override;

  /// A registry message from peer `node` (life `incarnation`).
  names_decode_outcome on_message(const std::string& node, std::uint64_t incarnation, std::span<const std::byte> body);
  /// The sync a newly connected peer is sent: every name this node holds, as the bodies of its
  /// parts (encode_sync_parts; `left_out` counts names that cannot be sent).
  [[nodiscard]] std::vector<std::vector<std::byte>> own_sync(std::size_t max_body_bytes, std::size_t& left_out) const;
  /// A peer went away: its names are dropped.
  void node_gone(const std::string& node);

  /// Which node holds `name`, as this node sees it.
  [[nodiscard]] std::optional<std::string> owner_of(std::string_view name) const;
  /// Every name with its owner, sorted by name.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> names() const;

 private:
  struct claim {
    std::string owner;
    std::uint64_t owner_incarnation = 0;
    name_announcement announced;
    actor_ref local;  // when the owner is this node
  };
  struct lost {
    std::string name;
    actor_ref actor;
    std::string winner;
    std::uint64_t stamp;  // of this node's beaten claim, for its del
  };
  /// This node's claim was beaten: withdraws it at the peers (a del, after its put) and tells
  /// the host.
  void withdraw_lost(const lost& l);
  class visitor;

  /// Applies a claim; a local claim it beats is returned (to be told, without the lock).
  std::optional<lost> merge(claim incoming);
  std::optional<lost> apply_claim(claim incoming);  // merge's work; takes lock_ itself
  std::uint64_t next_stamp();
  void drop_claims_of(const std::string& node);  // under lock_

  const std::string self_;
  name_registry_host& host_;
  mutable std::mutex lock_;
  // Every claim known for each name, the winner first (never empty).
  std::map<std::string, std::vector<claim>, std::less<>> claims_;
  std::uint64_t last_stamp_ = 0;
};

}  // namespace eam::cluster::internal
