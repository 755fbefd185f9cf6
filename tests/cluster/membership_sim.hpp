#pragma once
// A deterministic simulation of the membership protocol: N swim instances (cluster/src/swim.hpp)
// on one virtual clock and one simulated network, in one thread, with no socket and no sleep.
// Everything random comes from one seeded std::mt19937_64, so a seed replays exactly (on the
// same build).
//
// The network:
//   datagrams       lost with probability `loss`, delayed uniformly in [min_delay, max_delay]
//                   (so they may be reordered), dropped between partition groups;
//   state exchanges reliable (the transport: TCP) but delayed like datagrams and dropped
//                   between partition groups, to a node that is not running, and between nodes
//                   whose keys differ (the transport's CurveZMQ keys come from the same cookie
//                   as the gossip key: a node with another cookie cannot connect at all).
// The nodes:
//   up      ticked whenever its next_deadline() comes, fed what arrives;
//   paused  like a stopped process (SIGSTOP, a long GC): no ticks; what arrives is queued, as a
//           socket buffer fills, up to a cap (the rest is dropped), and handed over when it
//           resumes, before its first tick;
//   killed  gone: everything to it is dropped; may be restarted under the same id, as a new
//           swim with a higher incarnation (the virtual wall clock in ms, as a real node does);
//   left    left gracefully (swim::leave), then ran on for a short linger to spread the news,
//           then stopped like a killed node.
//
// The loop is an event queue ordered by (virtual time, sequence number): datagram and state
// deliveries, node wakeups (a node is ticked only when its deadline comes), resumes and
// shutdowns. A node's wakeup is rescheduled after every call into it. Predicates of
// run_until are checked every `check_every` of virtual time, not after every event.
#include "swim.hpp"

#include <eam/cluster/membership.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace eam::cluster::sim {

using internal::gossip_key;
using internal::swim;
using vtime = std::chrono::milliseconds;

inline constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

enum class node_state : std::uint8_t { up, paused, killed, left };

struct network_config {
  double loss = 0.0;  ///< probability that one datagram is lost
  vtime min_delay{1}, max_delay{3};
  /// Datagrams queued for a paused node (its socket buffer); more are dropped.
  std::size_t paused_datagram_limit = 2048;
  /// State exchanges queued for a paused node (the transport's buffers); more are dropped.
  std::size_t paused_state_limit = 64;
  /// How long a node that left keeps running (spreading the news) before it stops.
  vtime leave_linger{1000};
};

struct node_options {
  std::vector<gossip_key> keys;  ///< empty: open mode
  /// Which cluster the test means the node to belong to: the checks (converged, all_see...)
  /// look at one cluster's nodes only, so that another cluster's node (another cookie, told
  /// to join ours) is neither expected in our views nor asked for its own.
  int cluster = 0;
  std::vector<std::string> roles;
  std::map<std::string, std::string> metadata;
  bool hidden = false;  ///< membership_config::hidden
};

/// One member_event as a node observed it, compact (a 1,000-node join records a million).
struct recorded_event {
  std::int64_t at_ms = 0;
  std::int32_t observer = -1;  ///< node index
  std::int32_t subject = -1;   ///< node index; -1: an id the simulation does not know
  member_event_kind kind = member_event_kind::join;
  bool failed = false;                        ///< leave with reason "failed" (declared dead), not "left"
  node_state subject_state = node_state::up;  ///< what the subject really was at that moment
  std::uint64_t incarnation = 0;
};

struct run_result {
  bool satisfied = false;
  vtime at{};  ///< when the predicate was first seen true, or where the run stopped
};

class simulated_cluster {
 public:
  /// The virtual wall clock (datagram timestamps, restart incarnations) is this + virtual time.
  static constexpr std::int64_t epoch_ms = 1'700'000'000'000;

  explicit simulated_cluster(std::uint64_t seed, membership_config config = {}, network_config network = {})
      : config_(std::move(config)), network_(network), rng_(seed) {}

  simulated_cluster(const simulated_cluster&) = delete;
  simulated_cluster& operator=(const simulated_cluster&) = delete;

  // -- building ---------------------------------------------------------------------------------

  static std::string id_of(int index) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "n%04d", index);
    return buf;
  }
  /// "10.0.x.y:7946": unique for 64,000 nodes.
  static std::string address_of(int index) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "10.%d.%d.%d:7946", index / 64000, (index / 250) % 256, index % 250 + 1);
    return buf;
  }

  /// Adds a node and starts it now; it joins through the given nodes (none: it is the first).
  int add_node(const std::vector<int>& seeds = {}, node_options options = {}) {
    const int index = static_cast<int>(nodes_.size());
    auto n = std::make_unique<sim_node>();
    n->index = index;
    n->id = id_of(index);
    n->address = address_of(index);
    n->options = std::move(options);
    n->env.cluster = this;
    n->env.index = index;
    by_address_.emplace(n->address, index);
    by_id_.emplace(n->id, index);
    nodes_.push_back(std::move(n));
    start(index, seeds);
    return index;
  }

  /// Restarts a killed (or departed) node under its id: a new swim whose incarnation is the
  /// wall clock in ms, above anything its earlier life announced; it joins through `seeds`.
  void restart(int index, const std::vector<int>& seeds) {
    sim_node& n = node(index);
    if (n.state != node_state::killed && n.state != node_state::left)
      throw std::logic_error("restart: the node is still running");
    start(index, seeds);
  }

  // -- faults -----------------------------------------------------------------------------------

  void set_loss(double loss) noexcept { network_.loss = loss; }
  void set_delay(vtime min, vtime max) noexcept {
    network_.min_delay = min;
    network_.max_delay = std::max(min, max);
  }

  /// Stops the node's process: nothing more from it, everything to it dropped.
  void kill(int index) {
    sim_node& n = node(index);
    if (n.state == node_state::killed || n.state == node_state::left) return;
    stop(n, node_state::killed);
  }

  /// Stops the node's clock and inbox for `duration`; what arrives meanwhile waits (capped).
  void pause(int index, vtime duration) {
    sim_node& n = node(index);
    if (n.state != node_state::up) throw std::logic_error("pause: the node is not up");
    n.state = node_state::paused;
    n.wakeup_at = never;  // wakeups already queued are stale now
    push(event{now_ + duration.count(), 0, event_kind::resume, index, -1, n.life, {}});
  }

  /// Graceful departure: swim::leave, a linger of leave_linger, then the process stops.
  void leave(int index) {
    sim_node& n = node(index);
    if (n.state != node_state::up) throw std::logic_error("leave: the node is not up");
    n.protocol->leave(vtime(now_));
    reschedule(n);
    push(event{now_ + network_.leave_linger.count(), 0, event_kind::shutdown, index, -1, n.life, {}});
  }

  /// A keyring change on one node (install, use, remove): it signs with the first key and
  /// accepts all; its transport follows the same keys.
  void set_keys(int index, std::vector<gossip_key> keys) {
    sim_node& n = node(index);
    n.options.keys = keys;
    if (n.protocol) n.protocol->set_keys(std::move(keys));
  }

  void set_metadata(int index, std::map<std::string, std::string> metadata) {
    sim_node& n = node(index);
    n.protocol->set_metadata(std::move(metadata), vtime(now_));
    reschedule(n);
  }

  /// Splits the network: group_of(index) names each node's side; traffic between sides drops.
  void partition(const std::function<int(int)>& group_of) {
    for (auto& n : nodes_) n->group = group_of(n->index);
  }
  void heal() {
    for (auto& n : nodes_) n->group = 0;
  }

  // -- running ----------------------------------------------------------------------------------

  [[nodiscard]] vtime now() const noexcept { return vtime(now_); }

  /// Runs every event up to now + duration.
  void run_for(vtime duration) { run_to(now_ + duration.count()); }

  /// Runs until `done()` holds (checked every `check_every`), at most `limit` from now.
  template <class Predicate>
  run_result run_until(Predicate&& done, vtime limit, vtime check_every = vtime(10)) {
    const std::int64_t end = now_ + limit.count();
    const std::int64_t step = std::max<std::int64_t>(1, check_every.count());
    if (done()) return {true, vtime(now_)};
    while (now_ < end) {  // bounded: now_ grows by at least one ms per pass
      run_to(std::min(end, now_ + step));
      if (done()) return {true, vtime(now_)};
    }
    return {false, vtime(now_)};
  }

  // -- looking --------------------------------------------------------------------------------

  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  [[nodiscard]] node_state state(int index) const { return node(index).state; }
  [[nodiscard]] const std::string& id(int index) const { return node(index).id; }
  [[nodiscard]] const std::string& address(int index) const { return node(index).address; }
  /// The node's protocol (its latest life); never null once added.
  [[nodiscard]] swim& protocol(int index) { return *node(index).protocol; }
  [[nodiscard]] const swim& protocol(int index) const { return *node(index).protocol; }
  [[nodiscard]] std::optional<int> index_of(std::string_view id) const {
    const auto it = by_id_.find(std::string(id));
    if (it == by_id_.end()) return std::nullopt;
    return it->second;
  }

  /// Nodes of `cluster` that run now (not paused, killed or gone): the ones whose view counts.
  [[nodiscard]] std::vector<int> up_nodes(int cluster = 0) const {
    std::vector<int> out;
    for (const auto& n : nodes_)
      if (n->state == node_state::up && n->options.cluster == cluster) out.push_back(n->index);
    return out;
  }
  /// Nodes of `cluster` whose process exists (up or paused): its true members.
  [[nodiscard]] std::vector<int> member_nodes(int cluster = 0) const {
    std::vector<int> out;
    for (const auto& n : nodes_)
      if ((n->state == node_state::up || n->state == node_state::paused) && n->options.cluster == cluster)
        out.push_back(n->index);
    return out;
  }

  /// How `observer` sees `subject` now; null when it does not know it.
  [[nodiscard]] const member* view(int observer, int subject) const {
    return node(observer).protocol->find(node(subject).id);
  }
  [[nodiscard]] std::optional<member_status> status_seen(int observer, int subject) const {
    const member* m = view(observer, subject);
    if (m == nullptr) return std::nullopt;
    return m->status;
  }

  /// Converged: every node of the cluster that is up sees exactly its true members (up or
  /// paused) as live (alive or suspect), and nobody else. A node's live_count() counts its live
  /// members, itself included, so "each true member is live in its view and live_count() equals
  /// their number" says exactly that; the counts are compared first, which is cheap.
  [[nodiscard]] bool converged(int cluster = 0) const {
    const std::vector<int> members = member_nodes(cluster);
    const std::vector<int> observers = up_nodes(cluster);
    for (const int o : observers)
      if (node(o).protocol->live_count() != members.size()) return false;
    for (const int o : observers)
      for (const int m : members) {
        const member* seen = view(o, m);
        if (seen == nullptr || (seen->status != member_status::alive && seen->status != member_status::suspect))
          return false;
      }
    return true;
  }

  /// Every node of the subject's cluster that is up (but `subject`) sees `subject` with a status
  /// that satisfies `ok` (null when it does not know it).
  template <class Ok>
  [[nodiscard]] bool all_see(int subject, Ok&& ok) const {
    const int cluster = node(subject).options.cluster;
    for (const auto& n : nodes_) {
      if (n->state != node_state::up || n->index == subject || n->options.cluster != cluster) continue;
      if (!ok(n->protocol->find(node(subject).id))) return false;
    }
    return true;
  }
  [[nodiscard]] bool all_see_status(int subject, member_status status) const {
    return all_see(subject, [status](const member* m) { return m != nullptr && m->status == status; });
  }
  /// Every node of the cluster that is up sees every true member (up or paused) as alive, not
  /// even suspect.
  [[nodiscard]] bool all_alive_everywhere(int cluster = 0) const {
    if (!converged(cluster)) return false;  // cheap first
    for (const int m : member_nodes(cluster))
      if (!all_see_status(m, member_status::alive)) return false;
    return true;
  }

  // -- the record -------------------------------------------------------------------------------

  [[nodiscard]] const std::vector<recorded_event>& events() const noexcept { return events_; }
  template <class Filter>
  [[nodiscard]] std::size_t count_events(Filter&& keep) const {
    return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), keep));
  }
  /// Declarations of death (leave, "failed") about a node that was up when it was declared.
  [[nodiscard]] std::size_t false_failures(std::int64_t since_ms = 0) const {
    return count_events([&](const recorded_event& e) {
      return e.at_ms >= since_ms && e.kind == member_event_kind::leave && e.failed && e.subject_state == node_state::up;
    });
  }
  /// For each node up now (of the subject's cluster, but the subject), when it first observed an
  /// event about `subject` that `match` accepts, at or after `since`: sorted, earliest first;
  /// `never` for a node that has not.
  template <class Match>
  [[nodiscard]] std::vector<std::int64_t> observation_times(int subject, vtime since, Match&& match) const {
    std::vector<std::int64_t> first(nodes_.size(), never);
    for (const recorded_event& e : events_)
      if (e.subject == subject && e.at_ms >= since.count() && e.at_ms < first[static_cast<std::size_t>(e.observer)] &&
          match(e))
        first[static_cast<std::size_t>(e.observer)] = e.at_ms;
    std::vector<std::int64_t> out;
    const int cluster = node(subject).options.cluster;
    for (const auto& n : nodes_)
      if (n->state == node_state::up && n->index != subject && n->options.cluster == cluster)
        out.push_back(first[static_cast<std::size_t>(n->index)]);
    std::sort(out.begin(), out.end());
    return out;
  }
  /// When the last of those nodes first observed it; nullopt when one of them has not.
  template <class Match>
  [[nodiscard]] std::optional<vtime> all_observed_at(int subject, vtime since, Match&& match) const {
    const std::vector<std::int64_t> times = observation_times(subject, since, std::forward<Match>(match));
    if (times.empty()) return since;
    if (times.back() == never) return std::nullopt;
    return vtime(times.back());
  }
  void clear_events() { events_.clear(); }

  // -- traffic ----------------------------------------------------------------------------------

  struct traffic {
    std::uint64_t datagrams_sent = 0, datagram_bytes_sent = 0;
    std::uint64_t states_sent = 0, state_bytes_sent = 0;
    std::uint64_t datagrams_lost = 0;        ///< by the network's loss
    std::uint64_t dropped_while_paused = 0;  ///< over the paused node's queue cap (as receiver)
  };
  [[nodiscard]] const traffic& traffic_of(int index) const { return node(index).counters; }
  [[nodiscard]] traffic total_traffic() const {
    traffic t;
    for (const auto& n : nodes_) {
      t.datagrams_sent += n->counters.datagrams_sent;
      t.datagram_bytes_sent += n->counters.datagram_bytes_sent;
      t.states_sent += n->counters.states_sent;
      t.state_bytes_sent += n->counters.state_bytes_sent;
      t.datagrams_lost += n->counters.datagrams_lost;
      t.dropped_while_paused += n->counters.dropped_while_paused;
    }
    return t;
  }
  [[nodiscard]] std::uint64_t events_processed() const noexcept { return processed_; }

  [[nodiscard]] const membership_config& config() const noexcept { return config_; }

  /// For digging into a failure: called with every datagram (is_state false) and state exchange
  /// as it is handed to a running node.
  std::function<void(int from, int to, bool is_state, std::span<const std::byte> bytes)> on_delivery;

 private:
  enum class event_kind : std::uint8_t { datagram, state, wakeup, resume, shutdown };

  struct event {
    std::int64_t at = 0;
    std::uint64_t seq = 0;
    event_kind kind = event_kind::wakeup;
    int to = -1;
    int from = -1;
    std::uint64_t life = 0;  // resume, shutdown: the life they belong to
    std::vector<std::byte> payload;
  };
  struct later {  // min-heap on (at, seq): equal times keep the order they were queued in
    bool operator()(const event& a, const event& b) const noexcept {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };

  struct sim_node;
  class node_env final : public internal::swim_environment {
   public:
    simulated_cluster* cluster = nullptr;
    int index = -1;
    void send_datagram(const std::string& address, std::vector<std::byte>&& datagram) override {
      cluster->route(index, address, std::move(datagram), event_kind::datagram);
    }
    void send_state(const std::string& address, std::vector<std::byte>&& body) override {
      cluster->route(index, address, std::move(body), event_kind::state);
    }
    void member_changed(const member_event& e) override { cluster->record(index, e); }
    std::int64_t wall_clock_ms() override { return epoch_ms + cluster->now_; }
  };

  struct queued_arrival {
    event_kind kind;
    int from;
    std::vector<std::byte> payload;
  };

  struct sim_node {
    int index = -1;
    std::string id, address;
    node_options options;
    node_state state = node_state::killed;
    int group = 0;
    std::uint64_t life = 0;  // bumped by every start: stale resumes and shutdowns are ignored
    std::unique_ptr<swim> protocol;
    node_env env;
    std::int64_t wakeup_at = never;    // the wakeup queued for it; never: none
    std::deque<queued_arrival> inbox;  // while paused
    std::size_t inbox_states = 0;
    traffic counters;
  };

  sim_node& node(int index) { return *nodes_.at(static_cast<std::size_t>(index)); }
  const sim_node& node(int index) const { return *nodes_.at(static_cast<std::size_t>(index)); }

  void start(int index, const std::vector<int>& seeds) {
    sim_node& n = node(index);
    ++n.life;
    member self;
    self.id = n.id;
    self.address = n.address;
    self.incarnation = static_cast<std::uint64_t>(epoch_ms + now_);
    self.roles = n.options.roles;
    self.metadata = n.options.metadata;
    // The node's own generator: a seed drawn from the cluster's, so that it too replays.
    membership_config config = config_;
    config.hidden = n.options.hidden;
    n.protocol = std::make_unique<swim>(std::move(config), std::move(self), n.env, rng_(), vtime(now_));
    n.protocol->set_keys(n.options.keys);
    n.state = node_state::up;
    n.inbox.clear();
    n.inbox_states = 0;
    n.wakeup_at = never;
    std::vector<std::string> seed_addresses;
    for (const int s : seeds) seed_addresses.push_back(node(s).address);
    if (!seed_addresses.empty()) n.protocol->join(std::move(seed_addresses), vtime(now_));
    reschedule(n);
  }

  void stop(sim_node& n, node_state as) {
    n.state = as;
    n.wakeup_at = never;
    n.inbox.clear();
    n.inbox_states = 0;
    ++n.life;  // its pending resume or shutdown no longer applies
  }

  /// After any call into a node: make sure a wakeup is queued for its next deadline.
  /// `after_tick`: a deadline at or before now would be a protocol bug; a tick one ms later
  /// keeps the loop moving rather than spinning.
  void reschedule(sim_node& n, bool after_tick = false) {
    if (n.state != node_state::up) return;
    std::int64_t due = n.protocol->next_deadline().count();
    if (due == vtime::max().count()) return;
    due = std::max(due, after_tick ? now_ + 1 : now_);
    if (due >= n.wakeup_at) return;  // an earlier wakeup is queued; it reschedules when it runs
    n.wakeup_at = due;
    push(event{due, 0, event_kind::wakeup, n.index, -1, n.life, {}});
  }

  void push(event e) {
    e.seq = next_seq_++;
    queue_.push_back(std::move(e));
    std::push_heap(queue_.begin(), queue_.end(), later{});
  }

  [[nodiscard]] bool same_side(const sim_node& a, const sim_node& b) const noexcept { return a.group == b.group; }

  /// The transport authenticates with keys from the same cookie as the gossip key: a state
  /// exchange passes only between nodes that share a key (or both run open).
  [[nodiscard]] static bool transport_admits(const sim_node& from, const sim_node& to) {
    if (from.options.keys.empty() || to.options.keys.empty())
      return from.options.keys.empty() && to.options.keys.empty();
    return std::find(to.options.keys.begin(), to.options.keys.end(), from.options.keys.front()) !=
           to.options.keys.end();
  }

  std::uint64_t draw(std::uint64_t range) { return range <= 1 ? 0 : rng_() % range; }
  double uniform01() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

  void route(int from_index, const std::string& address, std::vector<std::byte>&& bytes, event_kind kind) {
    sim_node& from = node(from_index);
    if (kind == event_kind::datagram) {
      ++from.counters.datagrams_sent;
      from.counters.datagram_bytes_sent += bytes.size();
    } else {
      ++from.counters.states_sent;
      from.counters.state_bytes_sent += bytes.size();
    }
    const auto it = by_address_.find(address);
    if (it == by_address_.end()) return;  // nobody listens there
    const sim_node& to = node(it->second);
    if (kind == event_kind::datagram && network_.loss > 0.0 && uniform01() < network_.loss) {
      ++from.counters.datagrams_lost;
      return;
    }
    if (!same_side(from, to)) return;
    if (kind == event_kind::state && !transport_admits(from, to)) return;
    const auto spread = static_cast<std::uint64_t>(network_.max_delay.count() - network_.min_delay.count() + 1);
    const std::int64_t delay = network_.min_delay.count() + static_cast<std::int64_t>(draw(spread));
    push(event{now_ + delay, 0, kind, it->second, from_index, 0, std::move(bytes)});
  }

  void record(int observer, const member_event& e) {
    recorded_event r;
    r.at_ms = now_;
    r.observer = observer;
    r.kind = e.kind;
    r.failed = e.kind == member_event_kind::leave && e.reason == "failed";
    r.incarnation = e.subject.incarnation;
    if (const auto it = by_id_.find(e.subject.id); it != by_id_.end()) {
      r.subject = it->second;
      r.subject_state = node(it->second).state;
    }
    events_.push_back(r);
  }

  void deliver(sim_node& to, event_kind kind, int from_index, std::span<const std::byte> payload) {
    const std::string& from_address = node(from_index).address;
    if (on_delivery) on_delivery(from_index, to.index, kind == event_kind::state, payload);
    if (kind == event_kind::datagram)
      to.protocol->on_datagram(from_address, payload, vtime(now_));
    else
      to.protocol->on_state_body(from_address, payload, vtime(now_));
    reschedule(to);
  }

  void handle(event& e) {
    sim_node& n = node(e.to);
    switch (e.kind) {
      case event_kind::datagram:
      case event_kind::state: {
        if (n.state == node_state::killed || n.state == node_state::left) return;
        if (!same_side(node(e.from), n)) return;  // the partition began while it flew
        if (n.state == node_state::paused) {
          const bool is_state = e.kind == event_kind::state;
          const bool room = is_state ? n.inbox_states < network_.paused_state_limit
                                     : n.inbox.size() - n.inbox_states < network_.paused_datagram_limit;
          if (!room) {
            ++n.counters.dropped_while_paused;
            return;
          }
          n.inbox_states += is_state ? 1 : 0;
          n.inbox.push_back(queued_arrival{e.kind, e.from, std::move(e.payload)});
          return;
        }
        deliver(n, e.kind, e.from, e.payload);
        return;
      }
      case event_kind::wakeup: {
        if (n.state != node_state::up || e.at != n.wakeup_at) return;  // stale
        n.wakeup_at = never;
        n.protocol->tick(vtime(now_));
        reschedule(n, true);
        return;
      }
      case event_kind::resume: {
        if (n.state != node_state::paused || e.life != n.life) return;
        n.state = node_state::up;
        // What waited in its buffers comes first, in the order it arrived, then its timers.
        std::deque<queued_arrival> arrived = std::move(n.inbox);
        n.inbox.clear();
        n.inbox_states = 0;
        for (auto& a : arrived) deliver(n, a.kind, a.from, a.payload);
        reschedule(n);
        return;
      }
      case event_kind::shutdown: {
        if (e.life != n.life || n.state == node_state::killed || n.state == node_state::left) return;
        stop(n, node_state::left);
        return;
      }
    }
  }

  void run_to(std::int64_t end) {
    // Bounded: every event runs once, and what it queues lies at or after its own time; a
    // wakeup at the same time can come only from a delivery, and its tick reschedules later.
    while (!queue_.empty() && queue_.front().at <= end) {
      std::pop_heap(queue_.begin(), queue_.end(), later{});
      event e = std::move(queue_.back());
      queue_.pop_back();
      now_ = e.at;
      ++processed_;
      handle(e);
    }
    now_ = std::max(now_, end);
  }

  membership_config config_;
  network_config network_;
  std::mt19937_64 rng_;
  std::int64_t now_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t processed_ = 0;
  std::vector<event> queue_;
  std::vector<std::unique_ptr<sim_node>> nodes_;
  std::unordered_map<std::string, int> by_address_;
  std::unordered_map<std::string, int> by_id_;
  std::vector<recorded_event> events_;
};

}  // namespace eam::cluster::sim
