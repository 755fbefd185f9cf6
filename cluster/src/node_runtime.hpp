#pragma once
// node_runtime: everything behind eam::cluster::node.
//
// Threads:
//   - the I/O thread owns every ZeroMQ socket (they are not thread-safe): it binds the ROUTER
//     that receives from every peer, dials one DEALER per peer that it sends through, answers
//     ZAP requests, watches connection events, drains the peers' outgoing buffers, decodes
//     what arrives and delivers it to local actors (never blocking on them), sends heartbeats
//     and declares silent peers down;
//     it also owns the membership protocol (swim.hpp) and its UDP socket (same port number as
//     the transport): datagrams in and out, push-pull state over the transport, and what
//     membership decides (a member found: dial it; declared dead or left: its peer is down);
//   - any thread (workers, callers) encodes into a peer's outgoing buffer (peer.hpp), through
//     a proxy or when answering a call from a peer; it wakes the I/O thread with an eventfd.
//     Other requests for the I/O thread (metadata, keyring) go through a command list.
// Shared tables, each under its own lock: peers by node id; this node's actors that peers may
// address (exported), and which peers watch each; the proxies of remote actors.
#include "control_service.hpp"
#include "frame.hpp"
#include "group_registry.hpp"
#include "key_derivation.hpp"
#include "name_registry.hpp"
#include "peer.hpp"
#include "proxy.hpp"
#include "ref_resolver.hpp"
#include "remote_spawn.hpp"
#include "swim.hpp"

#include <eam/cluster/node.hpp>
#include <eam/engine/log.hpp>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace eam::cluster::internal {

class zap_authenticator;
struct link;

/// What the exports notifier is told (from the engine's watch of an exported actor, on the
/// thread where that actor ends or moves): tell the peers that watch it.
struct exported_ended {
  std::uint64_t id;
  exit_reason reason;
};
struct exported_moved {
  std::uint64_t id;
  actor_ref to;
  std::string node;
};

/// What the relay stopper is asked: end a migrated actor's relay after `after`.
struct stop_relay_later {
  actor_ref relay;
  std::chrono::milliseconds after;
};
struct stop_relay {
  actor_ref relay;
};

class node_runtime final : public ref_resolver,
                           private swim_environment,
                           private name_registry_host,
                           private group_registry_host {
 public:
  /// Binds, starts the I/O thread and the actor system. Throws eam::error(invalid_config).
  explicit node_runtime(node_config config);
  ~node_runtime();

  actor_system& system() noexcept { return *system_; }
  const actor_system& system() const noexcept { return *system_; }
  /// The local ids of this node's proxies of remote actors now.
  std::unordered_set<std::uint64_t> proxy_ids() const;
  /// The relays of actors moved away from this node, by local id: what each is, for listings
  /// (a relay keeps its actor's name as spawned, which it freed for its successor).
  std::unordered_map<std::uint64_t, std::string> relay_labels() const;
  const std::string& id() const noexcept { return config_.node_id; }
  std::uint16_t port() const noexcept { return port_; }
  std::string address() const;
  bool secure() const noexcept { return secure_; }
  std::vector<std::string> connected_peers() const;
  bool wait_for_peer(std::string_view node, std::chrono::milliseconds timeout);
  /// Waits `patience` for the node's answer (lookup_timeout when none is given).
  result<actor_ref> whereis(std::string_view node, std::string_view name, const std::vector<node::signature>& sigs,
                            std::optional<std::chrono::milliseconds> patience = std::nullopt);
  transport_stats stats() const;
  void shutdown();
  /// Shuts the node down on a thread of its own (the control service's stop: a worker must not
  /// wait for its own system's end); the destructor joins it.
  void request_shutdown();
  /// Waits until shutdown has ended, for at most `timeout` (none: for ever); true when it has.
  bool wait_for_shutdown(std::optional<std::chrono::milliseconds> timeout);

  // membership
  std::vector<member> members(bool with_departed) const;
  result<void> wait_for_cluster(const cluster_condition& condition);
  void set_metadata(std::map<std::string, std::string> metadata);
  std::uint64_t on_member_event(std::function<void(const member_event&)> callback);
  void remove_member_callback(std::uint64_t id);
  membership_stats gossip_stats() const;

  // placement and remote spawn
  /// Spawns registered type `type` where `config` places it; `args` is the msgpack array of
  /// its arguments. Blocks for a remote node's answer (refused inside an actor).
  result<actor_ref> spawn_by_name(std::string_view type, const spawn_config& config, std::vector<char> args);
  /// spawn_by_name on the node's spawn thread (started on first use); `done` runs there.
  void spawn_by_name_async(std::string type, spawn_config config, std::vector<char> args,
                           std::function<void(result<actor_ref>)> done);
  /// Runs a spawn request here (the spawner actor's handler, or a local placement).
  spawn_reply spawn_here(const spawn_request& request);

  // migration (migration.cpp)
  result<actor_ref> migrate(const actor_ref& actor, const std::string& to, const migrate_config& config) {
    bool eligible = true;
    return migrate_one(actor, to, config, eligible);
  }
  migrate_all_result migrate_all(const std::string& to, const migrate_config& config);
  /// Why `to` cannot take this node's actors (this node itself, or a node not connected), or
  /// nothing: checked once before a migrate_all, which then moves nothing and counts nothing.
  std::optional<error> migration_target_refused(const std::string& to) const;
  void set_draining(bool on) noexcept { draining_.store(on, std::memory_order_relaxed); }
  bool draining() const noexcept { return draining_.load(std::memory_order_relaxed); }

  // distributed registry and process groups
  group_registry& groups() noexcept { return *groups_; }
  std::optional<std::string> name_owner(std::string_view name) const;
  std::vector<std::pair<std::string, std::string>> registered_names() const;

  // keyring
  result<void> install_key(std::string_view cookie);
  result<void> use_key(std::string_view cookie);
  result<void> remove_key(std::string_view cookie);
  std::vector<std::string> list_keys() const;

  // -- for proxies and inbound calls (any thread) ------------------------------------------------
  void cast_dropped(std::string_view why, std::uint32_t casts = 1);
  detail::wire_ref encode(const actor_ref& ref) override;
  actor_ref decode(const detail::wire_ref& ref) override;
  /// A local actor that peers may address ended: tell the peers that watch it.
  void local_actor_ended(std::uint64_t id, const exit_reason& reason);
  /// A local actor that peers may address migrated: tell the peers that watch it.
  void local_actor_moved(std::uint64_t id, const actor_ref& to, const std::string& node);

 private:
  friend class inbound;
  struct lookup_wait {
    std::string node;
    std::promise<result<std::uint64_t>> answer;  // the remote actor id, or why not
  };

  // I/O thread
  void run_io();
  void open_sockets();
  void close_sockets(bool announce_leave);
  /// A new link; the listener is expected to have the keyring entry named `server_key` (a
  /// fingerprint; empty or unknown: the primary).
  link& dial(const std::string& address, bool configured, std::string server_key = {});
  /// Queues this node's hello on `l`: the first frame a listener accepts from a connection.
  void send_hello(link& l);
  /// Closes `old` and dials its address again with keyring entry `server_key` for the
  /// listener, keeping its peer and the frames it still holds (in order, after the hello).
  link& replace_link(link& old, std::string server_key, int linger_ms);
  void close_link(link& l, int linger_ms);
  /// Closes (close_link) and forgets every link `which` picks.
  void close_links_where(const std::function<bool(const link&)>& which, int linger_ms);
  void read_router();
  void read_link_events();
  /// False when the link was closed (its peer went down).
  bool read_monitor(link& l);
  /// Reads what the listener sent back on a link whose node has not greeted back: a refusal of
  /// this node's hello, the only frame a listener sends a dialler.
  void read_refusals(link& l);
  /// The listener's side: tells the connection `routing_id` why its hello was refused.
  void send_refusal(const std::string& routing_id, const refusal& r);
  /// What a standing refusal says, for health and wait_for_cluster (any thread); none: empty.
  std::string refusal_text() const;
  /// What refusal `r` says of this node: "node id X is in use: ...".
  std::string in_use_text(const refusal& r) const;
  void read_router_monitor();
  /// What flush did: frames handed to ZeroMQ, and whether it gave the peer's frames back
  /// because a command posted before they were queued has not run yet.
  struct flushed {
    std::size_t frames = 0;
    bool held_back = false;
  };
  /// Hands the link's frames to ZeroMQ, those it refused before first.
  flushed flush(link& l);
  /// Whether the sweep flushes `l` now: frames ZeroMQ refused, frames whose notice was spent
  /// (flush_again), or its peer's notice (taken here). Reads no lock: a quiet link costs one
  /// relaxed load.
  bool needs_flush(link& l);
  void flush_all();
  // The send gate of a link's peer (send_gate.hpp). guard: held while the I/O thread uses the
  // link's DEALER, refused frames or send time (empty for a link no peer greeted yet). The gate
  // opens on a plain link (greeted, not holding, not draining) and closes before the link is
  // closed, replaced or re-keyed.
  std::unique_lock<std::mutex> guard(link& l);
  void open_gate_if_plain(link& l);
  void close_gate(link& l);
  friend bool flush_from_sender(send_gate& gate) noexcept;
  void heartbeat_and_expire();
  void on_frame(const std::string& routing_id, std::span<const std::byte> frame);
  void on_hello(const std::string& routing_id, hello&& h);
  void peer_down(std::shared_ptr<peer> p, std::string_view why);
  /// A pending peer (pending_peers_) that will not connect: removed from the table already.
  void pending_peer_gone(const std::shared_ptr<peer>& p, std::string_view why);
  /// Ends the proxies of `p`'s actors with `noconnection` (their watchers and links hear it).
  void stop_proxies_of(const std::shared_ptr<peer>& p);
  /// Under peers_lock_: `node`'s life `incarnation` is gone for good (gone_lives_).
  void note_gone_life(const std::string& node, std::uint64_t incarnation) noexcept;
  void note_bad_frame(std::string_view from, std::string_view why);
  void read_datagrams();
  void send_on_link(link& l, std::span<const std::byte> frame);
  link* link_to(std::string_view address);
  void after_membership_change();
  void run_commands();
  void post(std::function<void()> command);
  void apply_keys();  // the keyring's current keys to gossip and ZAP (I/O thread)
  // re-keying the listener (use_key): peers prove they sent everything, then reconnect
  void start_rekey();
  void finish_rekey();
  void on_rekey_request(const std::shared_ptr<peer>& from, std::string_view fingerprint);
  void on_rekey_barrier(const std::shared_ptr<peer>& from);
  void close_drained_links();
  swim::time swim_now() const;

  // swim_environment (I/O thread)
  void send_datagram(const std::string& address, std::vector<std::byte>&& datagram) override;
  void send_state(const std::string& address, std::vector<std::byte>&& body) override;
  void member_changed(const member_event& event) override;
  std::int64_t wall_clock_ms() override;  // also the registry's

  // name_registry_host
  void broadcast_names(std::vector<std::byte>&& body) override;
  actor_ref remote_ref(const std::string& node, std::uint64_t incarnation, std::uint64_t id,
                         const std::vector<wire_signature>& signatures) override;
  std::vector<wire_signature> export_named(const actor_ref& actor) override;
  void name_lost(const std::string& name, const actor_ref& actor, const std::string& winner) override;
  void names_changed() override;
  // group_registry_host (remote_ref above serves both)
  void broadcast_groups(std::vector<std::byte>&& body) override;
  bool export_if_local(const actor_ref& actor) override;
  /// A control frame of `kind` with `body` to every connected peer, from any thread.
  void broadcast_control(frame_kind kind, std::vector<std::byte>&& body);
  /// The sync of names and groups a newly connected peer is sent (I/O thread).
  void send_syncs(const std::shared_ptr<peer>& p);
  /// Sends a control frame to `p` on the link that carries its traffic (I/O thread).
  void send_to_peer(const std::shared_ptr<peer>& p, std::span<const std::byte> frame);

  // shared tables
  std::shared_ptr<peer> find_peer(std::string_view node) const;
  /// The peer that a ref from the wire names: the connected one of its node, if that is the
  /// ref's life; else the node's pending peer (made now if there is none). Null, a dead ref, for
  /// a life other than the connected or pending one, a life gone (gone_lives_), a name no node
  /// could have, when max_pending_peers are pending already, when connect_wait is 0, or once
  /// the node stops.
  std::shared_ptr<peer> peer_for_ref(const detail::wire_ref& ref);
  /// A peer asks where life `incarnation` of `node` listens (a where item, I/O thread): answered
  /// when this node is connected to that life, or once it connects when it is pending (a ref
  /// this node hands on may come to a third node before this node's own dial is greeted).
  void answer_where(const std::shared_ptr<peer>& from, const std::string& node, std::uint64_t incarnation);
  /// The answer to a where item this node sent `from`: a pending peer's node is dialled there
  /// (I/O thread). Ignored unless `from` was asked about that pending life, and after the first.
  void on_node_at(const std::shared_ptr<peer>& from, const std::string& node, std::uint64_t incarnation,
                  const std::string& address);
  /// A pending peer dialled at `address` on an answer will not connect: the link, never greeted,
  /// is closed unless membership knows a member there (I/O thread).
  void close_unanswered_dial(const std::string& address);
  actor_ref proxy_for(const std::shared_ptr<peer>& p, std::uint64_t remote_id, std::vector<proxy::signature> sigs);
  actor_ref exported(std::uint64_t id) const;
  void export_actor(const actor_ref& ref);
  /// The node `config` places a spawn on. Errors: no_role_match.
  /// The nodes to try for a spawn, in order: the one placement picks first.
  result<std::vector<std::string>> place(const spawn_config& config) const;
  void serve_async_spawns();  // the spawn thread
  /// Asks node `to`'s spawner (blocking; outside actors). A reply without an actor and without
  /// a failure is a probe's yes.
  result<spawn_reply> call_spawner(const std::string& to, spawn_request request, std::chrono::milliseconds timeout);
  /// migrate; `eligible` false when the actor does not take part in migration at all (saves no
  /// state, not of a registered type, not local), as migrate_all counts.
  result<actor_ref> migrate_one(const actor_ref& actor, const std::string& to, const migrate_config& config,
                                bool& eligible);
  /// A ref to the actor a remote spawner answered with, that checks its signatures.
  actor_ref spawned_ref(const spawn_reply& reply);

  node_config config_;
  std::string advertised_;
  bool secure_ = false;
  std::uint64_t incarnation_ = 0;
  std::uint16_t port_ = 0;
  // The listener's Curve key pair (the primary key's when it was bound).
  std::array<std::uint8_t, 32> curve_public_{}, curve_secret_{};
  log::logger log_;

  std::unique_ptr<actor_system> system_;
  std::shared_ptr<name_registry> names_;  // also held by the system (its name extension)
  std::unique_ptr<group_registry> groups_;
  mutable std::atomic<std::uint64_t> round_robin_{0};  // placement::round_robin's turn
  std::atomic<bool> draining_{false};
  // spawn_async's requests, served in order by one thread of their own (a remote spawn blocks
  // for its answer, which no worker may do).
  std::mutex async_spawns_lock_;
  std::condition_variable async_spawns_changed_;
  std::vector<std::function<void(bool stopping)>> async_spawns_;
  bool async_spawns_closed_ = false;
  std::thread async_spawner_;
  std::atomic<std::uint64_t> migrations_{0}, migrations_failed_{0};
  // Shared with the relays, which may outlive a migrate call (not the node: they end with it).
  std::shared_ptr<std::atomic<std::uint64_t>> relayed_ = std::make_shared<std::atomic<std::uint64_t>>(0);
  typed_ref<void(stop_relay_later), void(stop_relay)> relay_stopper_;  // ends each migrated actor's relay after its forward_for
  // relay_labels(): set when a relay starts, dropped when the relay stopper ends it.
  mutable std::mutex relays_lock_;
  std::unordered_map<std::uint64_t, std::string> relays_;
  std::mutex spawners_lock_;
  std::unordered_map<std::string, actor_ref> spawners_;  // other nodes' spawners, by node id, once looked up
  // export_named's answers by the actor's type (handling_type), with the number of wire types
  // registered when each was made: what a type handles never changes, and the wire registry
  // only grows, so an answer holds until a type is registered after it.
  std::mutex exported_signatures_lock_;
  std::unordered_map<const void*, std::pair<std::size_t, std::vector<wire_signature>>> exported_signatures_;
  // Tells the peers of an exported actor's end or move, off the thread where that happens (a
  // worker during the actor's exit, which must not wait for a peer's flow control).
  typed_ref<void(exported_ended), void(exported_moved)> exports_notifier_;

  // -- I/O thread only ----------------------------------------------------------------------------
  void* zmq_ = nullptr;
  void* router_ = nullptr;
  void* router_monitor_ = nullptr;
  std::unique_ptr<zap_authenticator> zap_;
  std::vector<std::unique_ptr<link>> links_;
  std::unordered_map<std::string, std::shared_ptr<peer>> by_routing_id_;
  std::unordered_set<std::string> given_up_;  // routing ids of connections whose peer went down
  // Sessions: the number the next one is given (peer::session), and the last session this node
  // ended with the node at an address, said in the next hello there (hello::ended), so that a
  // node that missed the end ends its side too. At most max_ended_sessions addresses.
  std::uint64_t last_session_ = 0;
  std::map<std::string, std::uint64_t> ended_sessions_;
  void note_ended_session(const std::string& address, std::uint64_t session);
  // A hello of another life of a connected node that was heard from lately: a second process
  // under the same node id (or a restart whose old life is not yet known to be gone). It is
  // refused, and the latest one per node waits here: when the connected life goes down, it is
  // taken (adopt_contender), so a restart still gets in without its hello being sent again.
  // A refused node heartbeats on the connection it was refused on: one silent past
  // heartbeat_timeout (killed) is dropped, as one that says leave is.
  struct contender {
    std::string routing_id;
    hello greeting;
    std::chrono::steady_clock::time_point last_heard;
  };
  std::unordered_map<std::string, contender> contenders_;  // by node id
  std::atomic<std::size_t> contenders_waiting_{0};          // its size, for stats (any thread)
  /// After every change to contenders_: its size where stats reads it.
  void contenders_changed() noexcept { contenders_waiting_.store(contenders_.size(), std::memory_order_relaxed); }
  // The other side of it: refusals of this node's own hello that stand, by the address of the
  // link that got one, until that connection ends (the next one says hello again) or the
  // refusing node greets this one (it took this node as its contender). Written on the I/O
  // thread, read by health and wait_for_cluster.
  mutable std::mutex refusals_lock_;
  std::map<std::string, refusal> refusals_;
  std::chrono::steady_clock::time_point refusal_logged_{};  // I/O thread
  void adopt_contender(const std::string& node);
  int next_monitor_ = 0;
  std::chrono::steady_clock::time_point last_expiry_check_ = std::chrono::steady_clock::now();
  // When the peers' calls were last looked at for callers that gave up (peer::forget_abandoned_calls_unless_looked).
  std::chrono::steady_clock::time_point last_calls_look_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_redial_check_{};
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> bad_frame_logged_;
  std::string bound_endpoint_;
  int udp_fd_ = -1;
  int udp_family_ = AF_INET;
  std::unordered_map<std::string, std::vector<std::uint8_t>> udp_addresses_;  // "host:port" -> sockaddr
  std::unique_ptr<swim> swim_;
  std::chrono::steady_clock::time_point origin_ = std::chrono::steady_clock::now();
  std::vector<member_event> membership_changes_;  // what swim decided, acted on after it returns
  struct rekey_state {
    bool active = false;
    std::chrono::steady_clock::time_point deadline;
    std::vector<std::shared_ptr<peer>> waiting;  // peers whose barrier has not come yet
    std::vector<std::promise<void>> done;         // use_key callers
  } rekey_;
  // Until then the listener refuses peers' connections as part of its own re-key (a peer's new
  // link before the rebind, its old one after, within that link's linger of rekey_wait): not
  // counted as auth failures.
  std::chrono::steady_clock::time_point listener_rekey_window_until_{};
  std::thread io_;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  bool shut_down_ = false;
  std::mutex shutdown_lock_;
  std::thread stopper_;  // request_shutdown's, started once (under shutdown_requests_lock_)
  std::mutex shutdown_requests_lock_;
  std::mutex shutdown_ended_lock_;
  std::condition_variable shutdown_ended_changed_;
  bool shutdown_ended_ = false;  // under shutdown_ended_lock_: wait_for_shutdown returns
  std::unique_ptr<control_service> control_;

  // -- shared -------------------------------------------------------------------------------------
  mutable std::mutex members_lock_;
  std::condition_variable members_changed_;
  std::vector<member> members_snapshot_;  // everything swim knows, refreshed after each change
  membership_stats gossip_stats_;
  bool members_closed_ = false;  // the node stopped: waits end
  bool snapshot_stale_ = true;   // I/O thread: this node's own record changed

  std::mutex callbacks_lock_;
  std::uint64_t next_callback_ = 0;
  std::map<std::uint64_t, std::function<void(const member_event&)>> callbacks_;

  std::mutex commands_lock_;
  std::vector<std::function<void()>> commands_;
  // Commands posted and not yet run to their end (incremented in post, before the command is
  // queued; decremented after it ran). What a posted command sends (a name's or a group's
  // change) leaves before anything queued after the post: flush takes a peer's frames, and
  // while any command is pending gives them back instead of sending them, and flush_all runs
  // the commands first. Before, a frame queued just after a post could leave in the flush that
  // followed the last run of the commands, ahead of the command.
  std::atomic<std::uint64_t> commands_pending_{0};

  // The keyring: primary first. Read by the I/O thread when it dials and signs.
  mutable std::mutex keys_lock_;
  std::vector<cluster_keys> ring_;

  mutable std::mutex peers_lock_;
  std::condition_variable peers_changed_;
  std::unordered_map<std::string, std::shared_ptr<peer>> peers_;
  // Nodes not connected (yet) that a ref from the wire named: a member that joined a moment ago,
  // whose ref came through a third node before this node dialled it. Its proxies are made on a
  // peer that is not connected: what is sent to them waits in its buffer, in order, until its
  // hello (on_hello takes the same peer), or until `give_up_at` (config_.connect_wait), when
  // the peer goes down as a connected one would. Guarded by peers_lock_ (taken with peers_, so
  // that a ref decoded while the hello arrives finds one or the other).
  struct pending_peer {
    std::shared_ptr<peer> p;
    std::chrono::steady_clock::time_point give_up_at;
    // The peers whose refs named it, asked where it listens (a where item each, at most
    // max_where_asked), and the address an answer gave, dialled (I/O thread) once.
    std::vector<std::string> asked;
    std::string dialled;
    // The peers that asked this node where it listens while it was pending: told once its hello
    // is taken (at most max_where_waiting; weak, as a peer that goes meanwhile needs no answer).
    std::vector<std::weak_ptr<peer>> waiting;
  };
  static constexpr std::size_t max_where_asked = 4;
  static constexpr std::size_t max_where_waiting = 16;
  std::unordered_map<std::string, pending_peer> pending_peers_;
  // Refs from the wire name nodes: a peer inventing names must not make one pending each.
  static constexpr std::size_t max_pending_peers = 64;
  // The lives of nodes this node was connected to and lost, newest last (guarded by
  // peers_lock_): a ref to one arrives dead at once, as before pending peers, instead of
  // waiting connect_wait for a connection that cannot come (a life never returns). Bounded:
  // the oldest are forgotten first.
  std::set<std::pair<std::string, std::uint64_t>> gone_lives_;
  std::deque<std::pair<std::string, std::uint64_t>> gone_lives_order_;
  static constexpr std::size_t max_gone_lives = 4096;
  // What the peers no longer in peers_ counted in messages_out (guarded by peers_lock_): each
  // peer counts its own under its buffer's lock, which its senders write anyway.
  std::uint64_t messages_out_of_gone_peers_ = 0;

  mutable std::mutex exports_lock_;
  std::unordered_map<std::uint64_t, actor_ref> exported_;
  // The peers that watch an exported actor, each with how many of its monitors are live: a
  // monitor adds one and a demonitor takes one away, because a peer's demonitor for a proxy it
  // ended and its monitor for the proxy of the same actor it made next leave from different
  // threads, in either order; the watch ends when the count does.
  struct peer_watch {
    std::shared_ptr<peer> by;
    std::uint64_t monitors;
  };
  std::unordered_map<std::uint64_t, std::vector<peer_watch>> watched_by_;
  std::uint64_t peer_watches_ = 0;  // the monitors counted in watched_by_
  // The reasons of the exported actors that ended lately, newest last (under exports_lock_): a
  // peer's monitor comes when the peer makes its proxy, after the ref arrived, so an actor that
  // ended right after its ref left (a linker ending in the handler that linked) was answered
  // noproc, and the remote end of its link died of noproc instead of its reason. Bounded: the
  // oldest are forgotten first, and a monitor of one of those gets noproc.
  std::unordered_map<std::uint64_t, exit_reason> ended_exports_;
  std::deque<std::uint64_t> ended_exports_order_;
  static constexpr std::size_t max_ended_exports = 4096;
  /// Under exports_lock_: why the exported actor `id` ended, if it ended lately.
  [[nodiscard]] const exit_reason* ended_export(std::uint64_t id) const noexcept {
    const auto it = ended_exports_.find(id);
    return it == ended_exports_.end() ? nullptr : &it->second;
  }
  /// Under exports_lock_: `from` monitors the exported actor `id` once more (on_monitor).
  void add_monitor(std::uint64_t id, const std::shared_ptr<peer>& from);
  /// Under exports_lock_: one of `from`'s monitors of `id` ends (on_demonitor).
  void take_back_monitor(std::uint64_t id, const std::shared_ptr<peer>& from) noexcept;

  mutable std::mutex proxies_lock_;
  struct remote_actor {
    std::shared_ptr<peer> home;
    std::uint64_t id;
  };
  struct local_proxy {
    actor_ref ref;
    std::shared_ptr<proxy> forwarder;
  };
  // By proxy cell; the proxy's own id guards against a cell address reused by another actor.
  std::unordered_map<const void*, std::pair<std::uint64_t, remote_actor>> proxy_identity_;
  std::unordered_map<const peer*, std::unordered_map<std::uint64_t, local_proxy>> proxies_;  // by node, remote id
  // Proxies nothing refers to but proxies_ (eam::only_reference) are ended when the table has
  // doubled since the last look (at least proxies_before_a_look), as a peer's calls are looked at:
  // a node keeps at most about twice the proxies something refers to, not one per remote actor
  // whose ref it ever received.
  static constexpr std::size_t proxies_before_a_look = 1024;
  std::size_t proxy_count_ = 0;                             // in proxies_
  std::size_t look_at_proxies_at_ = proxies_before_a_look;  // proxy_count_ that starts a look
  struct unreferenced_proxy {
    actor_ref ref;
    std::shared_ptr<peer> home;
    std::uint64_t id;
  };
  /// Under proxies_lock_: `n` proxies left the tables (their actor or node ended). A table that
  /// shrank to a quarter of where the next look starts brings that look nearer.
  void proxies_left(std::size_t n) noexcept;
  /// Under proxies_lock_: takes the proxies nothing refers to out of the tables into `out`.
  void take_unreferenced_proxies(std::vector<unreferenced_proxy>& out);
  /// After the lock: ends them and takes back their monitors at their nodes.
  void end_unreferenced_proxies(std::vector<unreferenced_proxy>& taken) noexcept;

  std::mutex lookups_lock_;
  std::uint64_t next_lookup_ = 0;
  std::unordered_map<std::uint64_t, lookup_wait> lookups_;

  // When a dial without a socket was last logged (dial: the constructor, then the I/O thread).
  std::chrono::steady_clock::time_point dial_failure_logged_{};
  std::chrono::steady_clock::time_point handshake_timeout_logged_{};  // I/O thread
  std::atomic<std::uint64_t> frames_out_{0}, frames_in_{0}, bytes_out_{0}, bytes_in_{0}, messages_in_{0},
      bad_frames_{0}, auth_failures_{0}, handshake_timeouts_{0}, handshake_resets_{0}, dial_failures_{0}, io_turns_{0}, dropped_casts_{0}, sender_waits_{0},
      exported_watched_{0}, frames_from_senders_{0};
};

}  // namespace eam::cluster::internal
