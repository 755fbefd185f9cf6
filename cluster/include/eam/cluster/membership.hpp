#pragma once
/// Cluster membership: who is in the cluster, as every node comes to agree through gossip.
///
/// The protocol is SWIM with the Lifeguard refinements, as HashiCorp memberlist runs it: each
/// node probes one member per interval (round robin in random order), asks k others to probe
/// it indirectly when it does not answer, suspects it when nobody could reach it, and declares
/// it dead when the suspicion was not refuted in time. Updates ride on the probes' datagrams.
/// See cluster/README.md ("Membership") for the bounds and the choices.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace eam::cluster {

enum class member_status : std::uint8_t {
  alive = 0,
  suspect = 1,  ///< some node could not reach it; still a member until declared dead
  dead = 2,     ///< declared dead (failed); remembered for a while, then forgotten
  left = 3,     ///< left gracefully
};

[[nodiscard]] std::string_view to_string(member_status s) noexcept;

/// One member as this node sees it.
struct member {
  std::string id;
  /// "host:port": the transport's TCP address; the gossip UDP socket has the same port.
  std::string address;
  /// Raised by the member itself to refute a suspicion or publish new metadata; a restarted
  /// node starts above its earlier life.
  std::uint64_t incarnation = 0;
  member_status status = member_status::alive;
  std::vector<std::string> roles;  ///< set when the node starts, never changed
  std::map<std::string, std::string> metadata;

  [[nodiscard]] bool has_role(std::string_view role) const noexcept;
  friend bool operator==(const member&, const member&) = default;
};

enum class member_event_kind : std::uint8_t {
  join,     ///< a member appeared, or came back after it left or was declared dead
  leave,    ///< a member left (reason "left") or was declared dead (reason "failed")
  suspect,  ///< a member is suspected: it is still a member
  alive,    ///< a suspected member refuted the suspicion
  /// A live member's record changed: its metadata or address, or its incarnation (a
  /// refutation, or a new life of the node restarted under its id before it was declared dead)
  update,
};

[[nodiscard]] std::string_view to_string(member_event_kind k) noexcept;

struct member_event {
  member_event_kind kind = member_event_kind::join;
  member subject;
  std::string reason;  ///< leave: "left" or "failed"
};

/// Tuning of the protocol. Defaults follow memberlist's LAN configuration, with a suspicion
/// multiplier of 3 (memberlist's is 4) so that a failure among 100 nodes is declared in about
/// 8 s (the simulation's median; its slowest node, about 12 s). The suspicion timeout for n
/// members is
///   min = suspicion_mult * max(1, log10(n)) * probe_interval,   max = suspicion_max_timeout_mult * min,
/// and shrinks from max toward min as independent nodes confirm the suspicion (Lifeguard).
struct membership_config {
  std::chrono::milliseconds probe_interval{1000};
  std::chrono::milliseconds probe_timeout{500};
  int indirect_checks = 3;
  /// Each update is sent retransmit_mult * ceil(log10(n + 1)) times.
  int retransmit_mult = 4;
  int suspicion_mult = 3;
  int suspicion_max_timeout_mult = 6;
  /// Lifeguard's local health: a node that misses acks and nacks (it is the slow one) waits up
  /// to this many times longer before its probes and accusations.
  int awareness_max_multiplier = 8;
  std::chrono::milliseconds gossip_interval{200};
  int gossip_nodes = 3;
  /// Dead members still receive gossip for this long (so a paused node learns and refutes).
  std::chrono::milliseconds gossip_to_the_dead{30000};
  /// A full state exchange with one random member (over the transport), scaled up beyond 32
  /// members.
  std::chrono::milliseconds push_pull_interval{30000};
  /// A failed member is tried again (a state exchange) at this interval, so that a healed
  /// partition merges; it is forgotten after reconnect_timeout.
  std::chrono::milliseconds reconnect_interval{10000};
  std::chrono::milliseconds reconnect_timeout{std::chrono::hours(1)};
  /// How long a member that left is remembered (old gossip cannot bring it back meanwhile).
  std::chrono::milliseconds left_retention{std::chrono::minutes(2)};
  /// While no other member is known, the seeds are asked again at this interval.
  std::chrono::milliseconds join_retry{1000};
  /// Piggybacked updates fill a datagram up to this many bytes (one larger update goes alone).
  std::size_t datagram_budget = 1400;
  /// Signed datagrams older or newer than this (by the sender's clock) are refused; the
  /// nonces seen are remembered twice as long, so a replay inside the window is refused too.
  std::chrono::milliseconds replay_window{30000};
  /// A hidden node (Erlang's hidden nodes) is no member: it asks its seeds for the members,
  /// then one member every probe_interval for its view (sending nothing of its own, and
  /// hearing no gossip), and never probes, gossips or says goodbye. No member lists it, counts
  /// it, places actors on it or sees it join or leave; it connects to the nodes it talks to as
  /// any node does, and they to it. For tools that visit a cluster (eamctl).
  bool hidden = false;
};

/// What wait_for_cluster (or node_config::ready) waits for: at least `min_members` members
/// alive or suspect, this node included, and every node id in `nodes` among them.
struct cluster_condition {
  std::size_t min_members = 2;
  std::vector<std::string> nodes;
  std::chrono::milliseconds timeout{30000};
};

/// Gossip counters, cumulative since the node started.
struct membership_stats {
  std::uint64_t datagrams_out = 0, datagrams_in = 0;
  std::uint64_t bytes_out = 0, bytes_in = 0;
  /// Datagrams dropped before the protocol saw them, by reason.
  std::uint64_t unsigned_dropped = 0, forged_dropped = 0, replayed_dropped = 0, stale_dropped = 0,
                malformed_dropped = 0;
  std::uint64_t probes = 0, probes_failed = 0, suspicions_raised = 0, refutations = 0;
  std::uint64_t push_pulls = 0;
  int awareness = 0;  ///< Lifeguard's local health score (0: healthy)
};

}  // namespace eam::cluster
