#pragma once
// swim: the membership protocol as a pure state machine (SWIM with Lifeguard, after
// HashiCorp memberlist). It owns no thread, socket or clock: the caller passes the time to
// every call, hands it what arrives, and carries out what it sends through swim_environment.
// The node's I/O thread drives one over a UDP socket and the transport; the simulation
// (tests/cluster/membership_sim.hpp) drives a thousand over a virtual network and clock.
//
// What happens, per member M of this node:
//   probe      every probe_interval (x the awareness multiplier) ping the next member in a
//              shuffled round robin; no ack within probe_timeout: ask indirect_checks others
//              to ping it (they answer ack, or nack when they got none); no ack by the end of
//              the interval: suspect it. Missed nacks mean this node is the slow one: its
//              awareness score rises and stretches its timeouts (Lifeguard's local health).
//   suspicion  a suspected member has a timeout between min and max (membership.hpp); each
//              independent confirmation shrinks it toward min; when it runs out the member is
//              declared dead. A member told it is suspected (or dead) refutes with a higher
//              incarnation, which overrides the accusation everywhere. A suspected member is
//              told so with every ping to it (Lifeguard's buddy system); a suspicion still
//              unconfirmed is gossiped again every min (it may never have left this node, or
//              this node may have missed the refutation); a node that receives an accusation
//              older than the alive record it holds answers the sender with that record.
//   gossip     updates (alive, suspect, dead) ride on every datagram and are sent to
//              gossip_nodes random members every gossip_interval, each about
//              retransmit_mult * log10(n) times; dead members still hear gossip for a while.
//   push-pull  a full state exchange with a random member every push_pull_interval, with the
//              seeds on join, and with a failed member every reconnect_interval (a healed
//              partition merges); remote "dead" entries count as suspicion, not as death.
//   memory     failed members are remembered for reconnect_timeout, left ones for
//              left_retention, so old gossip cannot bring them back.
#include "gossip_envelope.hpp"
#include "gossip_wire.hpp"

#include <eam/cluster/membership.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace eam::cluster::internal {

/// What the protocol needs from the world around it.
class swim_environment {
 public:
  /// Unreliable: may be lost, delayed, reordered.
  virtual void send_datagram(const std::string& address, std::vector<std::byte>&& datagram) = 0;
  /// A state exchange body to the node at `address`, over a reliable channel (the transport).
  virtual void send_state(const std::string& address, std::vector<std::byte>&& body) = 0;
  virtual void member_changed(const member_event& event) = 0;
  /// Milliseconds since the Unix epoch, for datagram timestamps.
  virtual std::int64_t wall_clock_ms() = 0;

 protected:
  ~swim_environment() = default;
};

class swim final : private gossip_visitor {
 public:
  /// Time since any fixed origin (the caller's clock).
  using time = std::chrono::milliseconds;

  swim(membership_config config, member self, swim_environment& env, std::uint64_t seed, time now);

  /// Gossip keys, primary first; empty: open mode (unsigned datagrams).
  void set_keys(std::vector<gossip_key> keys);
  /// Asks the seeds ("host:port") for the cluster's state, and again every join_retry while no
  /// other member is known.
  void join(std::vector<std::string> seeds, time now);
  /// Runs whatever is due. Cheap when nothing is.
  void tick(time now);
  /// When tick next has something to do.
  [[nodiscard]] time next_deadline() const noexcept { return next_due_; }
  void on_datagram(std::string_view from_address, std::span<const std::byte> datagram, time now);
  /// A state exchange from the node at `from_address` (its transport address).
  void on_state_body(std::string_view from_address, std::span<const std::byte> body, time now);
  /// Announces that this node leaves: to every member at once, and by gossip.
  void leave(time now);
  /// Publishes new metadata (a new incarnation of this node's record).
  void set_metadata(std::map<std::string, std::string> metadata, time now);

  [[nodiscard]] const member& self() const noexcept { return members_.at(self_id_).m; }
  /// Every member known, this node included, sorted by id.
  [[nodiscard]] std::vector<member> members() const;
  [[nodiscard]] const member* find(std::string_view id) const;
  /// Members alive or suspect, this node included.
  [[nodiscard]] std::size_t live_count() const noexcept { return live_; }
  [[nodiscard]] membership_stats stats() const noexcept;
  /// The suspicion timeout bounds for the current cluster size.
  [[nodiscard]] std::pair<time, time> suspicion_bounds() const;

 private:
  struct entry {
    member m;
    time state_change{};
  };
  struct suspicion {
    std::uint64_t incarnation = 0;
    time start{}, min{}, max{}, deadline{};
    int expected = 0;  // confirmations that bring the timeout down to min
    std::vector<std::string> confirmers;
    time regossip = time::max();  // when it is gossiped again, while unconfirmed
  };
  struct probe {
    bool active = false;
    std::string target;
    std::uint64_t seq = 0;
    time indirect_at{}, end{};
    bool acked = false, indirect_sent = false;
    int expected_nacks = 0, nacks = 0;
  };
  struct relay {  // an indirect ping this node carries out for another
    std::uint64_t their_seq;
    std::string requester;
    time deadline;
  };
  struct broadcast {
    std::string about;
    encoded_message message;
    int transmits = 0;
  };

  // gossip_visitor: the messages of what arrived (from_ and now_ say where from and when)
  void on_ping(std::uint64_t seq, std::string_view target) override;
  void on_indirect_ping(std::uint64_t seq, std::string_view target, std::string_view target_address) override;
  void on_ack(std::uint64_t seq) override;
  void on_nack(std::uint64_t seq) override;
  void on_alive(member&& m) override;
  void on_suspect(std::string_view id, std::uint64_t incarnation, std::string_view from) override;
  void on_dead(std::string_view id, std::uint64_t incarnation, std::string_view from) override;
  void on_state(bool is_reply, bool is_join, std::vector<member>&& members) override;

  void run_probe(time now);
  void start_probe(time now);
  void gossip(time now);
  void push_pull(time now);
  void reconnect(time now);
  void expire_suspicions(time now);
  void expire_relays(time now);
  void forget_old(time now);

  void apply_alive(member&& m);
  void declare_dead(const std::string& id, std::uint64_t incarnation, std::string_view from);
  void refute(std::uint64_t accused_incarnation);
  static std::uint64_t next_incarnation(std::uint64_t current) noexcept;
  void answer_stale(const member& m);
  void start_suspicion(const std::string& id, std::uint64_t incarnation, std::string_view from);
  bool confirm(suspicion& s, std::string_view from);
  time suspicion_timeout(const suspicion& s) const;

  void queue_broadcast(const std::string& about, encoded_message message);
  /// Sends `primary` to `address` with as many queued updates as fit.
  void send(const std::string& address, std::vector<encoded_message> primary);
  void send_state_to(const std::string& address, bool is_reply, bool is_join);
  void emit(member_event_kind kind, const member& m, std::string reason = {});
  void schedule(time at) noexcept {
    if (at < next_due_) next_due_ = at;
  }
  time scaled(time t) const noexcept { return t * (awareness_ + 1); }
  void adjust_awareness(int delta) noexcept;
  int retransmit_limit() const;
  std::vector<const entry*> pick_random(std::size_t most, const std::vector<std::string>& exclude, bool with_dead,
                                        time now);
  void count_live(member_status before, member_status after) noexcept;

  membership_config config_;
  std::string self_id_;
  swim_environment& env_;
  std::mt19937_64 rng_;
  std::vector<gossip_key> keys_;
  replay_guard replay_;

  std::unordered_map<std::string, entry> members_;
  std::size_t live_ = 1;
  // Every member but this node, sorted by id: the fixed order pick_random draws from (so a seed
  // replays), kept in order as members are added and forgotten rather than sorted on every call.
  std::vector<const entry*> others_by_id_;
  std::vector<std::string> probe_order_;
  std::size_t probe_index_ = 0;
  probe probe_;
  std::unordered_map<std::string, suspicion> suspicions_;
  std::unordered_map<std::uint64_t, relay> relays_;
  // The queued updates by how often each was sent (the index), each bucket in the order its
  // updates came in: the fewest sent go first. Buckets, not one sorted list, so that a datagram
  // costs what it carries, not the length of the queue (a thousand-member join queues a thousand).
  std::vector<std::deque<broadcast>> broadcasts_;
  std::size_t queued_ = 0;
  std::unordered_set<std::string> queued_about_;
  std::size_t smallest_queued_ = SIZE_MAX;  // no queued update is smaller
  std::vector<std::string> seeds_;
  bool leaving_ = false;
  int awareness_ = 0;
  std::uint64_t next_seq_;

  time next_due_{};
  time next_probe_{}, next_gossip_{}, next_push_pull_{}, next_reconnect_{}, next_join_{}, next_sweep_{};
  time next_forget_ = time::max();  // no dead or departed member can be forgotten before

  // set while decoding what arrived
  std::string from_;
  time now_{};
  bool in_datagram_ = false;
  std::vector<encoded_message> stale_answers_;  // answer_stale's, for the datagram being read
  std::vector<std::string> stale_answered_;     // the members they are about

  membership_stats stats_;
};

}  // namespace eam::cluster::internal
