#pragma once
/// A distributed node: an actor system whose actors talk to other nodes' actors through
/// ordinary refs (the seed's `createSystem({type: "distributed"})`).
///
///   eam::cluster::register_message<add>("app.add");     // on every node, once
///   auto node = eam::cluster::start_node({.node_id = "a", .port = 0, .seeds = {"127.0.0.1:4370"}}).value();
///   node->wait_for_peer("b", 5s);
///   auto counter = node->whereis<counter_ref>("b", "counter").value();   // checked remotely
///   counter.cast(add{1});
///   int n = counter.call(get{}).get().value();
///   node->shutdown();                                   // peers see this node leave at once
///
/// Semantics follow Erlang distribution: per sender->receiver order; a call gets exactly one
/// answer; when a peer goes away, watchers of its actors get `down` with reason
/// `noconnection`, links an exit signal with it, and calls in flight fail at once with
/// `transport_error`. See cluster/README.md.

#include <eam/cluster/membership.hpp>
#include <eam/cluster/placement.hpp>
#include <eam/cluster/wire.hpp>
#include <eam/engine/any_message.hpp>
#include <eam/engine/message_signature.hpp>
#include <eam/engine/result.hpp>
#include <eam/engine/system.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eam::cluster {

struct node_config {
  /// Unique in the cluster. Empty: "<host>-<pid>-<8 random hex digits>".
  std::string node_id;
  /// Where the node listens for other nodes, and the address they are told to use (empty: the
  /// bind address).
  std::string bind_address = "127.0.0.1";
  std::string advertise_address;
  /// Actor traffic (TCP, ZeroMQ); 0 picks a free port (node::port() tells which).
  std::uint16_t port = 0;
  /// "host:port" of seed nodes: the node connects to them and asks them for the cluster's
  /// members (one reachable seed is enough); every other member is learned by gossip. Seeds
  /// are asked again while no other member is known.
  std::vector<std::string> seeds;
  /// What this node is for ("worker", "frontend"): set here, never changed, seen by every
  /// member (members_by_role).
  std::vector<std::string> roles;
  /// Key -> value published to every member; changed later with node::set_metadata.
  std::map<std::string, std::string> metadata;
  /// Failure detection and gossip (SWIM with Lifeguard, membership.hpp).
  membership_config membership;
  /// When set, start_node returns only once the cluster holds this condition (or fails with
  /// `timeout`): e.g. {.min_members = 3}.
  std::optional<cluster_condition> ready;
  /// At least 16 characters; nullopt reads LIBEAM_COOKIE; neither: open mode (no encryption,
  /// no authentication), with one warning.
  std::optional<std::string> cookie;
  /// Salt of the key derivation (HKDF-SHA256); every node of a cluster uses the same.
  std::string salt = "libeam-v2";
  /// The transport's own backstop for a connection that stopped carrying anything (membership
  /// detects a failed node first): a heartbeat every interval when nothing else was sent, and
  /// the peer is down after `heartbeat_timeout` without any frame from it. A killed process or
  /// a graceful leave is seen at once.
  std::chrono::milliseconds heartbeat_interval{1000};
  std::chrono::milliseconds heartbeat_timeout{30000};
  /// Per peer: the most encoded bytes waiting to be sent. A sender that finds the buffer full
  /// waits until the transport has sent some (flow control: slowed, never dropped).
  std::size_t send_buffer_bytes = 16u << 20;
  /// The largest frame accepted from a peer: larger ones are counted as bad and dropped, up
  /// to twice this size; beyond that ZeroMQ (ZMQ_MAXMSGSIZE) closes the connection itself.
  /// At least 1,024 (invalid_config). A message that does not fit one frame is refused at the
  /// send (a call fails with transport_error; a cast is dropped and counted).
  std::size_t max_frame_bytes = 16u << 20;
  /// How long a whereis waits for the remote node's answer.
  std::chrono::milliseconds lookup_timeout{5000};
  /// A ref that arrives naming an actor of a node this node is not connected to yet (a member
  /// that joined a moment ago, whose ref came through a third node) works: what is sent to it,
  /// its watches and its calls wait, in order, for the connection, up to this long. A node not
  /// connected by then is gone for them: watchers get `noconnection`, calls fail with
  /// `transport_error`, casts are dropped. 0: such a ref arrives dead.
  std::chrono::milliseconds connect_wait{10000};
  /// A node holds about five file descriptors per peer, so the usual soft limit of 1,024 runs
  /// out at about two hundred peers. When set, start_node raises the process's soft limit
  /// (RLIMIT_NOFILE) to its hard limit, as many servers do at start, and logs it.
  bool raise_file_limit = true;
  system_config system;
};

/// Transport counters, cumulative since the node started.
struct transport_stats {
  std::uint64_t frames_out = 0, frames_in = 0;
  /// Of frames_out, those the thread that queued them handed to ZeroMQ itself: a peer's frame
  /// queued while nothing else was, sent without waking the node's I/O thread.
  std::uint64_t frames_from_senders = 0;
  std::uint64_t bytes_out = 0, bytes_in = 0;
  /// Casts, calls and answers to calls, sent to peers and received from them (not the node's
  /// own items: monitors, downs, lookups, membership).
  std::uint64_t messages_out = 0, messages_in = 0;
  /// Frames or items that failed to decode (truncated, oversized, unknown version, kind or
  /// type, garbage): counted, logged, dropped.
  std::uint64_t bad_frames = 0;
  /// Connection attempts refused by authentication (another cookie, open mode against Curve).
  std::uint64_t auth_failures = 0;
  /// Connections this node dialled whose handshake timed out (30 s) with no word from the
  /// listener: a node paused or hung there. Logged once a minute; no auth failure.
  std::uint64_t handshake_timeouts = 0;
  /// Handshakes of connections this node dialled that the other end reset: a listener that
  /// refuses this node's key resets every one (auth_failures counts them from the second in a
  /// row), a process that ended mid-handshake one.
  std::uint64_t handshake_resets = 0;
  /// Turns of the node's I/O loop: one per wake-up (a frame, a datagram, a sender's wake-up, a
  /// timer of the transport or of membership). An idle node turns a few dozen times a second.
  std::uint64_t io_turns = 0;
  /// Connections this node could not open for want of a socket (the process's file
  /// descriptor limit): each is logged, and the member is dialled again a second later.
  std::uint64_t dial_failures = 0;
  /// Casts dropped because their type is not registered or their node was gone.
  std::uint64_t dropped_casts = 0;
  /// Times a sender waited for the send buffer of a peer (flow control).
  std::uint64_t sender_waits = 0;
  /// This node's actors whose end is watched for peers (one per actor whose ref was sent; the
  /// watch is in place before the ref leaves).
  std::uint64_t exported_watched = 0;
  /// Watches peers hold on this node's actors: one per proxy a peer keeps of one of them.
  std::uint64_t peer_watches = 0;
  /// Remote actors this node keeps a proxy for. A proxy nothing here refers to any more (no
  /// ref, watch, link, timer or message) is ended when this has doubled since it was last
  /// looked at (at 1,024 first), and its node drops its watch (peer_watches there).
  std::size_t proxies = 0;
  std::size_t peers_connected = 0;
  /// Nodes not connected that refs from the wire named, waiting for their connection
  /// (node_config::connect_wait); at most 64: a ref to a further one arrives dead.
  std::size_t peers_pending = 0;
  /// Other lives of connected node ids, refused while those are heard from, whose hellos wait
  /// to be taken when those go (a second process under a node id, or a restart whose old life
  /// is not yet known to be gone); one that leaves meanwhile is dropped.
  std::size_t contenders = 0;
  /// Calls of this node's actors and threads sent to connected peers and not yet answered. A
  /// call whose caller gave up (its timeout passed, or it ended) is forgotten, whether or not
  /// its peer ever answers: when the peer's table has doubled since it was last looked at, and
  /// within a heartbeat interval or two however few calls go to that peer.
  std::size_t calls_waiting = 0;
  /// Actors moved away from this node (migrate), migrations that failed once the actor was
  /// paused (a refusal before that, the target not connected or the actor not local, is only
  /// the caller's error), and messages the old selves of moved actors passed on to their
  /// successors.
  std::uint64_t migrated = 0, migration_failures = 0, relayed = 0;
};

namespace internal {
class node_runtime;
}

class node {
 public:
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  [[nodiscard]] actor_system& system() noexcept;
  [[nodiscard]] const std::string& id() const noexcept;
  /// The actor-traffic port actually bound.
  [[nodiscard]] std::uint16_t port() const noexcept;
  /// "host:port" other nodes use to reach this one.
  [[nodiscard]] std::string address() const;
  /// Whether traffic is encrypted and authenticated (a cookie is set).
  [[nodiscard]] bool secure() const noexcept;

  /// Node ids of the peers connected now.
  [[nodiscard]] std::vector<std::string> peers() const;
  /// Waits until `node_id` is connected (true) or the timeout passes (false).
  bool wait_for_peer(std::string_view node_id, std::chrono::milliseconds timeout);

  /// The actor registered as `name` on node `node_id` (this node's own registry when it is
  /// this node). Blocks the calling thread (refused inside an actor: blocking_call_on_worker).
  /// Errors: peer_not_found, registry_lookup_failed, timeout, transport_error.
  [[nodiscard]] result<actor_ref> whereis(std::string_view node_id, std::string_view name);
  /// The same, typed: the remote actor's real signatures are checked (message and reply wire
  /// types, call or cast); `registry_lookup_failed` names what it lacks.
  template <class Ref>
    requires is_typed_ref_v<Ref>
  [[nodiscard]] result<Ref> whereis(std::string_view node_id, std::string_view name) {
    result<actor_ref> found = whereis_checked(node_id, name, signatures_of<Ref>());
    if (!found) return found.error_value();
    return unchecked_typed_ref_cast<Ref>(std::move(found).value());
  }

  [[nodiscard]] transport_stats stats() const;

  // -- membership ------------------------------------------------------------------------------
  /// The members alive or suspected now, this node included, sorted by id.
  [[nodiscard]] std::vector<member> members() const;
  [[nodiscard]] std::vector<member> members_by_role(std::string_view role) const;
  /// Every member this node remembers, the dead and the departed included.
  [[nodiscard]] std::vector<member> all_members() const;
  /// Waits until the condition holds. Error `timeout` (its context names the timeout and what
  /// was missing); `node_stopped` when the node shuts down meanwhile.
  result<void> wait_for_cluster(const cluster_condition& condition = {});
  /// Publishes new metadata for this node (replaces the whole map).
  void set_metadata(std::map<std::string, std::string> metadata);
  /// Calls `callback` for every membership change seen from now on (join, leave, suspect,
  /// alive, update), on the node's I/O thread: keep it short and never block in it. The same
  /// events go to telemetry as "libeam.cluster.join", ".leave", ".suspect", ".alive", ".update".
  /// Returns an id for remove_member_callback.
  std::uint64_t on_member_event(std::function<void(const member_event&)> callback);
  void remove_member_callback(std::uint64_t id);
  [[nodiscard]] membership_stats gossip_stats() const;

  // -- placement and remote spawn (placement.hpp) --------------------------------------------------
  /// Spawns the actor type registered as `type_name` (register_actor) with `args`, on the
  /// node `config` places it (this one by default), and returns a ref that reaches it, typed
  /// and checked against the actor's real signatures. A remote spawn blocks for that node's
  /// answer (refused inside an actor: blocking_call_on_worker). Errors: no_role_match,
  /// actor_class_not_registered (the chosen node lacks the type), bad_spawn_arguments,
  /// name_taken, unhandled_message (the actor lacks one of Ref's signatures, as typed_ref_cast
  /// says: it is killed), timeout, transport_error.
  template <class Ref, class... A>
    requires is_typed_ref_v<Ref>
  result<Ref> spawn(std::string_view type_name, const spawn_config& config, A&&... args) {
    std::vector<char> packed =
        encode_arguments([&](detail::wire_packer& pk) { pk.pack(std::make_tuple(std::decay_t<A>(args)...)); });
    result<actor_ref> spawned = spawn_by_name(type_name, config, std::move(packed));
    if (!spawned) return spawned.error_value();
    result<Ref> typed = typed_ref_cast<Ref>(spawned.value());
    if (!typed) system().exit(spawned.value(), exit_reason::kill());
    return typed;
  }

  /// spawn without blocking, so usable inside an actor (a supervisor starting a child on
  /// another node: eam/distributed/remote_child.hpp): `done` gets the untyped ref or the error,
  /// on a thread of the node's, once the chosen node has answered. Requests are served one at
  /// a time, in order; those still waiting at shutdown get node_stopped.
  template <class... A>
  void spawn_async(std::string_view type_name, const spawn_config& config, std::function<void(result<actor_ref>)> done,
                   A&&... args) {
    std::vector<char> packed =
        encode_arguments([&](detail::wire_packer& pk) { pk.pack(std::make_tuple(std::decay_t<A>(args)...)); });
    spawn_by_name_async(type_name, config, std::move(packed), std::move(done));
  }

  // -- migration (placement.hpp: types registered with their state) ----------------------------
  /// Moves a local actor to node `to` (the seed's migrate): it is paused between two messages,
  /// its state saved and rebuilt there as a new actor of its registered type, which takes its
  /// name (global or local) and the messages queued behind the move, in order; calls among
  /// them are answered by the new actor. Watchers and linked actors get one `eam::moved` each
  /// (the watch or link ends: follow `moved::to`). The old ref passes later messages on for
  /// `forward_for`, then it ends (reason "moved") and what is sent to it is dropped. Returns
  /// the new actor's ref. Blocks (refused inside an actor: blocking_call_on_worker).
  /// Refusals leave the actor running here: same_node; not_a_local_actor; actor_not_migratable
  /// (no saved state, not of a type registered with restore here, a child of another actor);
  /// actor_has_children; timeout (its state was not saved within save_timeout, or `to` did not
  /// answer); actor_class_not_registered or actor_not_migratable (`to` cannot restore the
  /// type); node_draining (`to` drains); peer_not_found. A named actor's successor is rebuilt
  /// after the name is freed; should `to` then fail, it is rebuilt here instead (a new ref,
  /// watchers told `moved`), and the error says so.
  result<actor_ref> migrate(const actor_ref& actor, std::string_view to, const migrate_config& config = {});
  /// The same for the local actor registered as `name`.
  result<actor_ref> migrate(std::string_view name, std::string_view to, const migrate_config& config = {});
  /// Moves every top-level actor of a migratable registered type to `to` (a rolling deploy).
  /// Actors that do not save their state are left alone and not counted. A `to` that is this
  /// node, or a node not connected, moves and counts nothing: `errors` holds why
  /// (`same_node`, `peer_not_found`).
  migrate_all_result migrate_all(std::string_view to, const migrate_config& config = {});
  /// Stops taking spawns by name and migrated actors (node_draining; round-robin placement
  /// skips this node), and health() says degraded "draining". undrain() takes them again.
  void drain();
  void undrain();
  [[nodiscard]] bool draining() const noexcept;

  // -- distributed registry ----------------------------------------------------------------------
  // A global name an actor takes on any node (spawn_options{.name = ..., .global = true})
  // resolves on every node through the system's own calls: system().whereis(name), typed
  // whereis, otp named_ref; a local name (the default) stays the node's own, reachable from
  // elsewhere with whereis(node_id, name), and shadows a global one there. It is announced
  // to every peer at once and dropped everywhere when its actor ends or its node goes. A name
  // known to be held on another node is refused (name_taken); two nodes that take one name
  // concurrently converge everywhere on the earlier claim (a hybrid logical clock, then the
  // smaller node id), and the other actor gets an exit signal with the custom reason
  // "name_conflict: ...". See cluster/README.md.

  /// The node that holds `name`, as this node knows it (itself included).
  [[nodiscard]] std::optional<std::string> name_owner(std::string_view name) const;
  /// Every name this node knows, with the node that holds it, sorted by name.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> registered_names() const;

  // -- distributed process groups (Erlang's pg) --------------------------------------------------
  // Groups of actors from every node, in scopes (independent namespaces). Only an actor of this
  // node joins here; an actor joined twice is listed twice and must leave twice; a member that
  // ends leaves every group on every node, and a node's members vanish with it. Eventually
  // consistent: a member list is what this node has heard (joins reach every peer at once).

  /// Errors: invalid_group (a name that cannot cross the wire), not_a_local_actor.
  result<void> join_group(std::string_view group, const actor_ref& member, std::string_view scope = default_scope);
  /// Removes one join. Errors: invalid_group, not_joined.
  result<void> leave_group(std::string_view group, const actor_ref& member, std::string_view scope = default_scope);
  /// Every member on every node (remote ones as proxies).
  [[nodiscard]] std::vector<actor_ref> group_members(std::string_view group, std::string_view scope = default_scope);
  [[nodiscard]] std::vector<actor_ref> local_group_members(std::string_view group,
                                                          std::string_view scope = default_scope) const;
  /// The groups of `scope` with a member anywhere, sorted.
  [[nodiscard]] std::vector<std::string> which_groups(std::string_view scope = default_scope) const;
  /// Casts `msg` to every member (it must be registered for the wire to reach other nodes);
  /// returns how many took it (a full bounded mailbox or an ended member does not).
  template <class M>
  std::size_t broadcast(std::string_view group, const M& msg, std::string_view scope = default_scope) {
    std::size_t sent = 0;
    for (const actor_ref& member : group_members(group, scope)) {
      message m = message::of(msg);
      if (send(member, m) == cast_result::sent) ++sent;
    }
    return sent;
  }
  /// Erlang's default pg scope.
  static constexpr std::string_view default_scope = "pg";

  // -- keyring (memberlist/Serf semantics) -------------------------------------------------------
  /// Adds a cookie's keys: datagrams and connections signed with them are accepted. Errors:
  /// invalid_config (open mode, short cookie).
  result<void> install_key(std::string_view cookie);
  /// Makes an installed cookie the primary: gossip is signed with it, the node's listener is
  /// re-keyed (its peers pause, reconnect with the new key and go on: nothing lost or
  /// duplicated) and new connections use it. Error key_not_installed.
  result<void> use_key(std::string_view cookie);
  /// Removes a cookie's keys: what is signed with them is refused from now on. Errors:
  /// key_not_installed, key_is_primary.
  result<void> remove_key(std::string_view cookie);
  /// Fingerprints of the installed keys (never the secrets), primary first.
  [[nodiscard]] std::vector<std::string> list_keys() const;

  /// Stops the actors, tells the peers this node leaves (they see it gone at once), closes the
  /// sockets. Idempotent; the destructor calls it.
  void shutdown();
  /// Waits until the node has shut down: by shutdown() on another thread, or by an operator's
  /// stop through the control service (control.hpp, `eamctl stop`). A program that serves
  /// until it is told to stop waits here.
  void wait_for_shutdown();
  /// The same for at most `timeout`; true when the node has shut down.
  bool wait_for_shutdown(std::chrono::milliseconds timeout);

  /// One signature as the wire sees it.
  using signature = message_signature;

 private:
  friend result<std::unique_ptr<node>> start_node(node_config config);
  explicit node(std::unique_ptr<internal::node_runtime> runtime);
  result<actor_ref> whereis_checked(std::string_view node_id, std::string_view name, std::vector<signature> sigs);
  /// Packs arguments with this node's ref encoding (refs among them travel).
  std::vector<char> encode_arguments(const std::function<void(detail::wire_packer&)>& pack);
  result<actor_ref> spawn_by_name(std::string_view type_name, const spawn_config& config, std::vector<char> args);
  void spawn_by_name_async(std::string_view type_name, const spawn_config& config, std::vector<char> args,
                           std::function<void(result<actor_ref>)> done);

  std::unique_ptr<internal::node_runtime> runtime_;
};

/// Starts a node: binds its port, connects to its peers (asynchronously: see wait_for_peer),
/// starts its actor system. Errors: invalid_config (address, port in use, short cookie).
[[nodiscard]] result<std::unique_ptr<node>> start_node(node_config config);

/// Whether `address` is "host:port" with a host and a port of 1 to 65535 (an IPv6 host in
/// brackets), as a seed must be: what start_node and a tool's command line check.
[[nodiscard]] bool is_host_port(std::string_view address) noexcept;

}  // namespace eam::cluster
