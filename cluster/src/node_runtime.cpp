#include "node_runtime.hpp"

#include "config_check.hpp"
#include "exported_lately.hpp"
#include "inbound.hpp"
#include "key_derivation.hpp"
#include "stalled_frames.hpp"
#include "zap_authenticator.hpp"

#include <eam/cluster/errc.hpp>
#include <eam/engine/behavior.hpp>
#include <eam/engine/context.hpp>
#include <eam/engine/forwarding.hpp>
#include <eam/engine/telemetry.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <random>

namespace eam::cluster::internal {

namespace {

constexpr std::size_t frame_target_bytes = 256u << 10;
constexpr int send_high_water_frames = 64;
constexpr int leave_linger_ms = 1000;
constexpr int handshake_linger_ms = 100;  // a link still in its handshake at the end: close_sockets
constexpr int connect_timeout_ms = 5000;
constexpr std::size_t max_ended_sessions = 4096;
// peer_down's reason for a session the peer said it ended (hello::ended): the peer dropped
// that session already, so it is not told (a leave on the old connection could reach it after
// the hello that starts the next one, and end that).
constexpr std::string_view ended_by_peer = "it had ended this connection, and dialled again";
constexpr auto log_interval = std::chrono::minutes(1);
constexpr int monitored_events = ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

std::string default_node_id() {
  // Host and pid name the process for a reader, and a random suffix keeps the id unique where
  // they repeat: containers on the host's network share its hostname and each may run as pid
  // 1, and two nodes in one process share both. Two nodes under one id evicted each other on
  // every greeting, as a restarted node.
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "node");
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(rd()));
  return std::string(host) + "-" + std::to_string(::getpid()) + "-" + suffix;
}

// What a hello accepts as a node's name (frame.cpp): a ref naming anything else names no node
// that could ever connect.
bool could_be_node_id(std::string_view id) {
  return !id.empty() && id.size() <= 200 &&
         std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c <= '~'; });
}

// The peer whose frame the I/O thread is decoding (null on other threads and between frames): a
// ref in it that names a node not connected yet is asked about there (peer_for_ref).
thread_local peer* refs_from = nullptr;

class decoding_from {
 public:
  explicit decoding_from(peer& p) noexcept : previous_(std::exchange(refs_from, &p)) {}
  ~decoding_from() { refs_from = previous_; }
  decoding_from(const decoding_from&) = delete;
  decoding_from& operator=(const decoding_from&) = delete;

 private:
  peer* previous_;
};

// A node's incarnation, a spawn request's token: never 0, which means none.
std::uint64_t random_nonzero() {
  std::random_device rd;
  std::uint64_t x = 0;
  while (x == 0) x = (std::uint64_t{rd()} << 32) | rd();
  return x;
}

void set_int(void* socket, int option, int value) { zmq_setsockopt(socket, option, &value, sizeof value); }

[[noreturn]] void fail_config(const std::string& why) { throw error(cluster_errc::invalid_config, why); }

void check_zmq(int rc, const std::string& what) {
  if (rc != 0) fail_config(what + ": " + zmq_strerror(zmq_errno()));
}

// "host:port" -> (host, port); the host without the brackets of an IPv6 literal.
std::pair<std::string, std::string> split_host_port(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return {std::string(address), ""};
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {std::string(host), std::string(address.substr(colon + 1))};
}

std::string to_host_port(const sockaddr_storage& from) {
  char host[INET6_ADDRSTRLEN] = {};
  if (from.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(from);
    inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a.sin6_port));
  }
  const auto& a = reinterpret_cast<const sockaddr_in&>(from);
  inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(a.sin_port));
}

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::byte> control_frame(frame_kind kind, std::string_view text = {}) {
  std::vector<std::byte> f(2 + text.size());
  f[0] = std::byte{wire_version};
  f[1] = static_cast<std::byte>(kind);
  if (!text.empty()) std::memcpy(f.data() + 2, text.data(), text.size());  // an empty view may hold nullptr
  return f;
}

constexpr auto rekey_wait = std::chrono::seconds(5);

// The soft limit of open files up to the hard one (node_config::raise_file_limit): a node holds
// about five descriptors per peer, and libzmq aborts the process when it runs out of them in
// some of its own threads, where this node cannot see it coming.
void raise_file_limit(const log::logger& log) {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= r.rlim_max) return;
  const rlim_t before = r.rlim_cur;
  r.rlim_cur = r.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &r) == 0)
    log.info("raised the soft limit of open files from {} to {} (node_config::raise_file_limit)", before,
             r.rlim_max == RLIM_INFINITY ? std::string("unlimited") : std::to_string(r.rlim_max));
}

// ZeroMQ's sockets per context: a link takes three (its DEALER, the monitor, the monitor's
// other end), and the default of 1,023 refused links past about 340 peers. As many as the
// process may open files (each socket holds one), within what this libzmq allows.
int max_zmq_sockets(void* context) {
  rlimit r{};
  const rlim_t files = ::getrlimit(RLIMIT_NOFILE, &r) == 0 ? r.rlim_cur : 1024;
  const int ceiling = zmq_ctx_get(context, ZMQ_SOCKET_LIMIT);
  const rlim_t wanted = std::max<rlim_t>(files, 1023);
  return ceiling > 0 && wanted > static_cast<rlim_t>(ceiling) ? ceiling : static_cast<int>(wanted);
}

void emit_peer_event(std::string_view event, const std::string& self, const peer& p, std::string_view why) {
  if (!telemetry::any_handlers()) return;
  try {
    telemetry::execute(event, {},
                       {{"node_id", self}, {"peer", p.node}, {"address", p.address}, {"reason", std::string(why)}});
  } catch (...) {
  }
}

}  // namespace

/// One outgoing connection (I/O thread only): a DEALER dialling a node's address, its event
/// monitor, and the frames ZeroMQ refused for now (its high-water mark).
struct link {
  std::string address;
  bool configured = false;  // a seed: dialled again after a loss
  void* dealer = nullptr;
  void* monitor = nullptr;
  std::shared_ptr<peer> to;  // set once the node's hello has come
  stalled_frames stalled;
  // Flushed on the next sweep without a notice from its peer (flush_all): its peer holds frames
  // whose notice was spent, given back for a command or left when the peer moved here from
  // another link. (A notice that comes during a hold stays unread until it lifts: needs_flush.)
  bool flush_again = false;
  std::chrono::steady_clock::time_point last_sent;
  std::string server_key;      // fingerprint of the key the listener is expected to have
  std::string client_key;      // fingerprint of the key pair this link presents
  // Dialled for a listener about to be re-keyed: its handshakes fail until then, which is no
  // reason to try another key. Until its handshake succeeds it holds every frame itself (none
  // in ZeroMQ's queue, which a replaced DEALER would lose), and takes none from its peer's
  // buffer (senders wait: flow control).
  std::chrono::steady_clock::time_point rekey_grace_until{};
  bool holding = false;
  // Replaced for a re-keying peer: sends what it still holds (ending with the barrier), then
  // closes. Its peer is served by the new link meanwhile.
  bool draining = false;
  // A connection of this DEALER completed its handshake since it was last greeted: the hello
  // queued before it has left on it.
  bool hello_delivered = false;
  // The listener key whose refusal began this pass over the keyring (empty: none refused yet).
  std::string first_refused_key;
  // A handshake of this DEALER ended by a reset since its last good one: a listener refusing
  // the key, or a process ending mid-handshake. Only the first tells them apart (read_monitor).
  bool reset_in_handshake = false;
};

node_runtime::node_runtime(node_config config) : config_(std::move(config)), log_("cluster") {
  if (config_.node_id.empty()) config_.node_id = default_node_id();
  std::optional<std::string> cookie = config_.cookie;
  if (!cookie)
    if (const char* env = std::getenv("LIBEAM_COOKIE"); env != nullptr && *env != '\0') cookie = env;
  if (auto problem = check_node_config(config_, cookie)) fail_config(problem->why);
  if (cookie) {
    const cluster_keys keys = derive_cluster_keys(*cookie, config_.salt);
    curve_public_ = keys.curve_public;
    curve_secret_ = keys.curve_secret;
    ring_.push_back(keys);
    secure_ = true;
  } else {
    static std::once_flag warned;
    std::call_once(warned, [&] {
      log_.warn("no cookie (node_config::cookie or LIBEAM_COOKIE): open mode, traffic is neither encrypted nor "
                "authenticated");
    });
  }
  incarnation_ = random_nonzero();
  log_ = log_.with("node", config_.node_id);

  if (config_.raise_file_limit) raise_file_limit(log_);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) fail_config("eventfd failed");
  try {
    open_sockets();  // here, not on the I/O thread: a port in use fails start_node
  } catch (...) {
    close_sockets(false);
    ::close(wake_fd_);
    throw;
  }
  advertised_ = (config_.advertise_address.empty() ? config_.bind_address : config_.advertise_address) + ":" +
                std::to_string(port_);

  system_config sc = config_.system;
  sc.node_id = config_.node_id;
  system_ = std::make_unique<actor_system>(sc);
  names_ = std::make_shared<name_registry>(config_.node_id, static_cast<name_registry_host&>(*this));
  system_->set_name_extension(names_);
  groups_ = std::make_unique<group_registry>(static_cast<group_registry_host&>(*this));
  register_message<spawn_request>("eam.spawn_request");
  register_message<spawn_reply>("eam.spawn_reply");
  register_message<spawn_withdrawn>("eam.spawn_withdrawn");
  system_->spawn({.name = std::string(spawner_name)}, [this](actor_context& ctx) {
    auto& recent = ctx.make_state<recent_spawns>();
    return behavior{[this, &recent](const spawn_request& r) {
                      spawn_reply reply = spawn_here(r);
                      if (r.token != 0 && reply.actor) recent.note(r.token, reply.actor);
                      return reply;
                    },
                    [this, &recent](const spawn_withdrawn& w) {
                      if (actor_ref made = recent.take(w.token))
                        system_->stop(made, exit_reason::custom("spawn withdrawn: its caller stopped waiting"));
                    }};
  });
  exports_notifier_ = system_->spawn([this](actor_context&) {
    return behavior{[this](const exported_ended& e) { local_actor_ended(e.id, e.reason); },
                    [this](const exported_moved& m) { local_actor_moved(m.id, m.to, m.node); }};
  });
  relay_stopper_ = system_->spawn([this](actor_context& ctx) {
    return behavior{[&ctx](stop_relay_later& r) { ctx.send_after(stop_relay{std::move(r.relay)}, r.after); },
                    [this, &ctx](stop_relay& r) {
                      {
                        std::lock_guard lock(relays_lock_);
                        relays_.erase(r.relay.id());
                      }
                      ctx.system().stop(r.relay, exit_reason::custom("moved"));
                    }};
  });
  control_ = std::make_unique<control_service>(*this);
  for (const std::string& address : config_.seeds) dial(address, true);
  member self;
  self.id = config_.node_id;
  self.address = advertised_;
  // Above any earlier life of this node id, so that a restarted node is a new member.
  self.incarnation = static_cast<std::uint64_t>(epoch_ms());
  self.roles = config_.roles;
  self.metadata = config_.metadata;
  swim_ = std::make_unique<swim>(config_.membership, std::move(self), static_cast<swim_environment&>(*this), random_nonzero(), swim_now());
  apply_keys();
  swim_->join(config_.seeds, swim_now());
  after_membership_change();
  system_->add_health_check("cluster", [this] {
    if (std::string refused = refusal_text(); !refused.empty())
      return component_health{health_status::unhealthy, std::move(refused)};
    if (draining()) return component_health{health_status::degraded, "draining"};
    const auto connected = connected_peers().size();
    if (!config_.seeds.empty() && connected == 0)
      return component_health{health_status::degraded, "no peer connected"};
    return component_health{};
  });
  // Under the lock shutdown takes first: a shutdown on another thread (the control service's
  // stop, started by a worker) reads io_ after this write, which the thread's own start does
  // not order (the handle is written after the thread runs).
  std::lock_guard guard(shutdown_lock_);
  io_ = std::thread([this] { run_io(); });
}

node_runtime::~node_runtime() {
  shutdown();
  {
    std::lock_guard guard(shutdown_requests_lock_);
    if (stopper_.joinable()) stopper_.join();
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::string node_runtime::address() const { return advertised_; }

// -- sockets (I/O thread, and the constructor before it starts) ------------------------------------

void node_runtime::open_sockets() {
  zmq_ = zmq_ctx_new();
  if (zmq_ == nullptr) fail_config("zmq_ctx_new failed");
  zmq_ctx_set(zmq_, ZMQ_IO_THREADS, 1);
  zmq_ctx_set(zmq_, ZMQ_MAX_SOCKETS, max_zmq_sockets(zmq_));  // before the first socket
  if (secure_) zap_ = std::make_unique<zap_authenticator>(zmq_, std::vector<zap_authenticator::curve_key>{curve_public_});

  router_ = zmq_socket(zmq_, ZMQ_ROUTER);
  set_int(router_, ZMQ_LINGER, 0);
  const std::int64_t max_message = static_cast<std::int64_t>(2 * config_.max_frame_bytes);
  zmq_setsockopt(router_, ZMQ_MAXMSGSIZE, &max_message, sizeof max_message);
  set_int(router_, ZMQ_RCVHWM, send_high_water_frames);
  set_int(router_, ZMQ_ROUTER_HANDOVER, 1);  // a restarted peer's new connection replaces its old one
  if (secure_) {
    set_int(router_, ZMQ_CURVE_SERVER, 1);
    zmq_setsockopt(router_, ZMQ_CURVE_SECRETKEY, curve_secret_.data(), curve_secret_.size());
    zmq_setsockopt(router_, ZMQ_ZAP_DOMAIN, "libeam", 6);
  }
  const std::string monitor_endpoint = "inproc://eam-router-monitor";
  // A wrong key or open mode fails the listener's handshake as a protocol error (the Curve box
  // does not open, the mechanisms differ), a client key ZAP refuses as an auth error. Without
  // detail is a dialler that went away or stopped answering mid-handshake (a paused node's
  // peers give up on it): no refusal, not counted.
  check_zmq(zmq_socket_monitor(router_, monitor_endpoint.c_str(),
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH),
            "monitoring the listening socket");
  router_monitor_ = zmq_socket(zmq_, ZMQ_PAIR);
  set_int(router_monitor_, ZMQ_LINGER, 0);
  check_zmq(zmq_connect(router_monitor_, monitor_endpoint.c_str()), "monitoring the listening socket");

  // The transport's TCP port, and membership's UDP socket on the same number. With port 0 the
  // kernel picks a free TCP port, whose UDP twin may be taken (rarely): then another one.
  const std::string endpoint =
      "tcp://" + config_.bind_address + ":" + (config_.port == 0 ? std::string("*") : std::to_string(config_.port));
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  const std::string host = config_.bind_address == "*" ? std::string() : config_.bind_address;
  for (int attempt = 0;; ++attempt) {
    check_zmq(zmq_bind(router_, endpoint.c_str()), "binding " + endpoint);
    char bound[256] = {};
    std::size_t len = sizeof bound;
    zmq_getsockopt(router_, ZMQ_LAST_ENDPOINT, bound, &len);
    const std::string_view b(bound);
    port_ = static_cast<std::uint16_t>(std::stoi(std::string(b.substr(b.rfind(':') + 1))));
    bound_endpoint_ = bound;

    addrinfo* found = nullptr;
    if (::getaddrinfo(host.empty() ? nullptr : host.c_str(), std::to_string(port_).c_str(), &hints, &found) != 0 ||
        found == nullptr)
      fail_config("cannot resolve " + config_.bind_address + " for UDP");
    udp_family_ = found->ai_family;
    udp_fd_ = ::socket(found->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int bound_udp = udp_fd_ < 0 ? -1 : ::bind(udp_fd_, found->ai_addr, found->ai_addrlen);
    const int why = errno;
    ::freeaddrinfo(found);
    if (bound_udp == 0) break;
    if (udp_fd_ >= 0) ::close(udp_fd_);
    udp_fd_ = -1;
    if (config_.port != 0 || why != EADDRINUSE || attempt == 15)
      fail_config("binding UDP port " + std::to_string(port_) + " for membership: " + std::strerror(why));
    zmq_unbind(router_, bound_endpoint_.c_str());
  }
  const int buffer = 4 << 20;  // a burst of gossip while the I/O thread is busy
  ::setsockopt(udp_fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
}

link& node_runtime::dial(const std::string& address, bool configured, std::string server_key) {
  auto owned = std::make_unique<link>();
  link& l = *owned;
  l.address = address;
  l.configured = configured;
  l.server_key = std::move(server_key);
  l.dealer = zmq_socket(zmq_, ZMQ_DEALER);
  if (l.dealer == nullptr) {  // kept without a socket, and dialled again a second later
    const auto failed = dial_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
    const auto now = std::chrono::steady_clock::now();
    if (now - dial_failure_logged_ >= log_interval) {  // every peer fails each second: once a minute
      dial_failure_logged_ = now;
      log_.warn(
          "cannot dial {}: no socket: {} ({} dials failed so far; each peer takes about five open files: "
          "raise `ulimit -n`)",
          address, zmq_strerror(zmq_errno()), failed);
    }
    links_.push_back(std::move(owned));
    return l;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(incarnation_));
  const std::string routing_id = "n" + std::string(hex) + config_.node_id;  // never starts with a zero byte
  zmq_setsockopt(l.dealer, ZMQ_ROUTING_ID, routing_id.data(), routing_id.size());
  set_int(l.dealer, ZMQ_LINGER, 0);
  set_int(l.dealer, ZMQ_SNDHWM, send_high_water_frames);
  set_int(l.dealer, ZMQ_RECONNECT_IVL, 100);
  set_int(l.dealer, ZMQ_RECONNECT_IVL_MAX, 1000);
  // A connect whose SYNs go unanswered (a partition that drops them) is given up and made
  // again, not left to the kernel's backoff: dialled during a partition, it otherwise waited up
  // to 32 s more for its next SYN once the partition healed. 5 s leaves room for two lost SYNs.
  set_int(l.dealer, ZMQ_CONNECT_TIMEOUT, connect_timeout_ms);
  // A listener sends a dialler nothing but a refusal (a few hundred bytes): anything larger
  // ends the connection in ZeroMQ itself.
  const std::int64_t max_answer = refusal_frame_max_bytes;
  zmq_setsockopt(l.dealer, ZMQ_MAXMSGSIZE, &max_answer, sizeof max_answer);
  if (secure_) {
    // This node's primary key pair as the client; the listener's public key is that of the
    // keyring entry this link tries (the primary first, the next one after a refusal).
    std::lock_guard lock(keys_lock_);
    const cluster_keys& mine = ring_.front();
    // By fingerprint, not by place: use_key reorders the ring. A key removed meanwhile: the primary.
    const auto named = std::find_if(ring_.begin(), ring_.end(),
                                    [&](const cluster_keys& k) { return k.fingerprint() == l.server_key; });
    const cluster_keys& theirs = named != ring_.end() ? *named : mine;
    l.server_key = theirs.fingerprint();
    l.client_key = mine.fingerprint();
    zmq_setsockopt(l.dealer, ZMQ_CURVE_SERVERKEY, theirs.curve_public.data(), theirs.curve_public.size());
    zmq_setsockopt(l.dealer, ZMQ_CURVE_PUBLICKEY, mine.curve_public.data(), mine.curve_public.size());
    zmq_setsockopt(l.dealer, ZMQ_CURVE_SECRETKEY, mine.curve_secret.data(), mine.curve_secret.size());
  }
  const std::string monitor_endpoint = "inproc://eam-link-" + std::to_string(next_monitor_++);
  zmq_socket_monitor(l.dealer, monitor_endpoint.c_str(), monitored_events);
  l.monitor = zmq_socket(zmq_, ZMQ_PAIR);
  set_int(l.monitor, ZMQ_LINGER, 0);
  zmq_connect(l.monitor, monitor_endpoint.c_str());
  // From the bind address when it is a specific one (a multi-homed host, or nodes on separate
  // loopback addresses): peers see traffic come from where this node listens.
  const std::string& from = config_.bind_address;
  const bool specific = !from.empty() && from != "*" && from != "0.0.0.0" && from != "::";
  const std::string endpoint = "tcp://" + (specific ? from + ":0;" : std::string()) + address;
  if (zmq_connect(l.dealer, endpoint.c_str()) != 0)
    log_.warn("cannot dial {}: {}", address, zmq_strerror(zmq_errno()));
  send_hello(l);  // queued until connected
  links_.push_back(std::move(owned));
  return l;
}

void node_runtime::send_hello(link& l) {
  if (l.dealer == nullptr) return;  // a dial that got no socket: it says hello when dialled again
  frame_buffer hello_frame;
  const auto ended = ended_sessions_.find(l.address);
  pack_hello(hello_frame, hello{config_.node_id, incarnation_, advertised_, l.to ? l.to->session : 0,
                                ended != ended_sessions_.end() ? ended->second : 0});
  zmq_send(l.dealer, hello_frame.data(), hello_frame.size(), ZMQ_DONTWAIT);
  l.last_sent = std::chrono::steady_clock::now();
}

void node_runtime::close_link(link& l, int linger_ms) {
  {
    std::lock_guard lock(refusals_lock_);
    refusals_.erase(l.address);  // a new link to the address says hello again
  }
  close_gate(l);
  l.stalled.close_all();
  if (l.dealer != nullptr) {
    zmq_socket_monitor(l.dealer, nullptr, 0);
    set_int(l.dealer, ZMQ_LINGER, linger_ms);
    zmq_close(l.dealer);
    l.dealer = nullptr;
  }
  if (l.monitor != nullptr) {
    zmq_close(l.monitor);
    l.monitor = nullptr;
  }
}

void node_runtime::close_sockets(bool announce_leave) {
  for (auto& l : links_) {
    close_gate(*l);
    // Every connection says leave behind its hello, greeted back or not: a peer that took the
    // hello counts this node connected, and when its own connection here never came up
    // (refused, unreachable, still dialling) this frame is the only end it hears before its
    // heartbeat timeout (membership's "left" leaves the peer to its connection). A hello still
    // queued may go out during the linger, so the leave goes behind it on every link. A link
    // whose handshake had not completed gets a short linger: on a live connection it completes
    // within it and both frames go; to an address nothing answers the node's end must not wait
    // the whole second for nothing (each eamctl run left one such link on the nodes it met).
    if (announce_leave && l->dealer != nullptr) {
      const char leave[2] = {static_cast<char>(wire_version), static_cast<char>(frame_kind::leave)};
      zmq_send(l->dealer, leave, sizeof leave, ZMQ_DONTWAIT);
    }
    const bool greeted = l->to || l->hello_delivered;
    close_link(*l, !announce_leave ? 0 : greeted ? leave_linger_ms : handshake_linger_ms);
  }
  links_.clear();
  if (router_monitor_ != nullptr) zmq_close(router_monitor_);
  if (router_ != nullptr) {
    zmq_socket_monitor(router_, nullptr, 0);
    zmq_close(router_);
  }
  router_ = router_monitor_ = nullptr;
  zap_.reset();
  if (udp_fd_ >= 0) ::close(udp_fd_);
  udp_fd_ = -1;
  if (zmq_ != nullptr) zmq_ctx_term(zmq_);  // waits for the leave frames (their linger)
  zmq_ = nullptr;
}

// -- the I/O loop ----------------------------------------------------------------------------------

void node_runtime::run_io() {
  scoped_ref_resolver resolve(*this);  // refs in what arrives become proxies or local refs
  peer::this_thread_drains();
  const auto tick = std::min<std::chrono::milliseconds>(config_.heartbeat_interval / 4, std::chrono::milliseconds(100));
  auto next_tick = std::chrono::steady_clock::now();
  std::vector<zmq_pollitem_t> items;
  while (!stopping_.load(std::memory_order_acquire)) {
    items.clear();
    // Each ZeroMQ socket in the set costs zmq_poll system calls on every turn: connection
    // events are read on the tick instead (a lost connection is seen within one tick), and a
    // DEALER is polled only while it holds frames ZeroMQ refused. ZAP stays: a handshake waits.
    items.push_back({router_, 0, ZMQ_POLLIN, 0});
    items.push_back({nullptr, wake_fd_, ZMQ_POLLIN, 0});
    items.push_back({nullptr, udp_fd_, ZMQ_POLLIN, 0});
    if (zap_) items.push_back({zap_->socket(), 0, ZMQ_POLLIN, 0});
    for (auto& l : links_)
      if (l->stalled.any() && !l->holding) items.push_back({l->dealer, 0, ZMQ_POLLOUT, 0});
    const auto gossip_due = origin_ + swim_->next_deadline();
    const auto wake_at = std::min(next_tick, gossip_due);
    // Rounded up: rounded down, the last millisecond before each deadline (the tick's, gossip's)
    // was a poll of 0 ms, again and again, a busy loop of up to 1 ms a deadline: about 1 % of a
    // core for an idle node. Now a deadline is met up to 1 ms late.
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake_at - std::chrono::steady_clock::now());
    zmq_poll(items.data(), static_cast<int>(items.size()), std::max<long>(0, wait.count()));
    io_turns_.fetch_add(1, std::memory_order_relaxed);

    if (items[1].revents & ZMQ_POLLIN) {
      std::uint64_t count;
      (void)!::read(wake_fd_, &count, sizeof count);
    }
    if (zap_ && (items[3].revents & ZMQ_POLLIN)) zap_->handle_pending();
    if (items[0].revents & ZMQ_POLLIN) read_router();
    if (items[2].revents & ZMQ_POLLIN) read_datagrams();
    run_commands();
    swim_->tick(swim_now());
    after_membership_change();
    flush_all();
    if (std::chrono::steady_clock::now() >= next_tick) {
      read_router_monitor();
      read_link_events();
      heartbeat_and_expire();
      next_tick = std::chrono::steady_clock::now() + tick;
    }
  }
  for (auto& waiting : rekey_.done) waiting.set_value();  // use_key returns
  rekey_.done.clear();
  swim_->leave(swim_now());  // every member hears it at once (datagrams go out synchronously)
  flush_all();  // what actors sent while the system stopped still leaves, then the leave frames
  read_link_events();  // handshakes done since the last tick: their links carry a leave too
  close_sockets(true);
}

void node_runtime::read_router() {
  // Bounded in time, so that flushing and heartbeats keep their turn under a flood: a peer
  // must never take this node for dead because it was busy reading.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(5);
  for (int n = 0; n < 1024 && (n == 0 || std::chrono::steady_clock::now() < until); ++n) {
    zmq_msg_t id, frame;
    zmq_msg_init(&id);
    if (zmq_msg_recv(&id, router_, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&id);
      return;
    }
    const std::string routing_id(static_cast<const char*>(zmq_msg_data(&id)), zmq_msg_size(&id));
    zmq_msg_close(&id);
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, router_, 0) < 0) {
      zmq_msg_close(&frame);
      return;
    }
    bool extra = zmq_msg_more(&frame) != 0;
    while (extra) {  // a DEALER of ours sends one part; more is someone else's shape
      zmq_msg_t rest;
      zmq_msg_init(&rest);
      zmq_msg_recv(&rest, router_, 0);
      extra = zmq_msg_more(&rest) != 0;
      zmq_msg_close(&rest);
    }
    const auto* bytes = static_cast<const std::byte*>(zmq_msg_data(&frame));
    const std::size_t size = zmq_msg_size(&frame);
    frames_in_.fetch_add(1, std::memory_order_relaxed);
    bytes_in_.fetch_add(size, std::memory_order_relaxed);
    if (size > config_.max_frame_bytes)
      note_bad_frame(routing_id, "a frame larger than max_frame_bytes");
    else
      on_frame(routing_id, {bytes, size});
    zmq_msg_close(&frame);
  }
}

void node_runtime::on_frame(const std::string& routing_id, std::span<const std::byte> frame) {
  const auto it = by_routing_id_.find(routing_id);
  if (it == by_routing_id_.end()) {
    // A connection that has not said who it is: only a hello is accepted from it.
    hello_only first;
    const decode_outcome out = decode_frame(frame, first);
    // A connection this node gave up on (its peer declared failed, say) may still deliver what
    // was on its way: dropped quietly, until a hello starts a new life of it.
    if (!first.got && given_up_.contains(routing_id)) {
      // A refused life that leaves says so on the connection it was refused on (a node's leave
      // goes on every link): its hello must not be taken once the life connected now goes, as
      // a connection to a process that is no more. Its heartbeats there keep it waiting.
      const bool leave = frame.size() == 2 && frame[0] == std::byte{wire_version} &&
                         static_cast<frame_kind>(frame[1]) == frame_kind::leave;
      for (auto it = contenders_.begin(); it != contenders_.end(); ++it) {
        if (it->second.routing_id != routing_id) continue;
        if (leave) {
          contenders_.erase(it);
          contenders_changed();
        } else {
          it->second.last_heard = std::chrono::steady_clock::now();
        }
        break;
      }
      return;
    }
    if (first.got) given_up_.erase(routing_id);
    if (out.bad || !first.got)
      note_bad_frame(routing_id, out.bad ? out.why : "a frame before the hello");
    else
      on_hello(routing_id, std::move(*first.got));
    return;
  }
  std::shared_ptr<peer> from = it->second;
  from->last_heard = std::chrono::steady_clock::now();
  if (frame.size() >= 2 && frame[0] == std::byte{wire_version}) {
    const auto rest = frame.subspan(2);
    const std::string_view text(reinterpret_cast<const char*>(rest.data()), std::min<std::size_t>(rest.size(), 64));
    switch (static_cast<frame_kind>(frame[1])) {
      case frame_kind::gossip_state:
        swim_->on_state_body(from->address, rest, swim_now());
        return;
      case frame_kind::rekey_request: return on_rekey_request(from, text);
      case frame_kind::rekey_barrier: return on_rekey_barrier(from);
      case frame_kind::names: {
        const names_decode_outcome out = names_->on_message(from->node, from->incarnation, rest);
        if (out.bad) note_bad_frame(from->node, "registry: " + out.why);
        return;
      }
      case frame_kind::groups: {
        const groups_decode_outcome out = groups_->on_message(from->node, from->incarnation, rest);
        if (out.bad) note_bad_frame(from->node, "groups: " + out.why);
        return;
      }
      default: break;
    }
  }
  inbound visitor(*this, from, routing_id);
  const decoding_from source(*from);
  const decode_outcome out = decode_frame(frame, visitor);
  messages_in_.fetch_add(visitor.messages(), std::memory_order_relaxed);
  if (out.bad) note_bad_frame(from->node, out.why);
}

void node_runtime::on_hello(const std::string& routing_id, hello&& h) {
  if (h.node == config_.node_id) {
    note_bad_frame(routing_id, "a hello with this node's own id");
    return;
  }
  const std::shared_ptr<peer> known = find_peer(h.node);
  if (known && known->incarnation == h.incarnation) {
    // A node names the session it ended at an address only while it holds none there: the one
    // held here is that one, or one whose number never came (its hello lost with a connection
    // that broke as it was sent), which the node holds no more either.
    const bool ended_here = h.ended != 0 && (h.ended == known->remote_session || known->remote_session == 0);
    if (!ended_here) {  // the same session on another connection
      by_routing_id_[routing_id] = known;
      known->last_heard = std::chrono::steady_clock::now();
      if (h.session != 0) known->remote_session = h.session;
      return;
    }
    // It ended the session this node still holds, and the end never came here (its leave was
    // refused by a full pipe, or this node was paused past its timeouts). Each side would go on
    // hearing only half of the other: this one drops what the node sends on the connection it
    // gave up, and it sends nothing until this one says hello again, which it never does while
    // it holds the session. So the session ends here too, and this hello starts the next one.
    peer_down(known, ended_by_peer);
  } else if (known) {
    // Another life while this one is heard from (it sends at least every heartbeat interval):
    // two processes under one node id. Each taking the other's place made the node drop and
    // retake them hundreds of times a second, and every ref to either die; as Erlang refuses a
    // second node of a name, the one connected first stays. A life already gone never comes back.
    bool gone;
    {
      std::lock_guard lock(peers_lock_);
      gone = gone_lives_.contains({h.node, h.incarnation});
    }
    const auto silent = std::chrono::steady_clock::now() - known->last_heard;
    if (gone || silent < 2 * config_.heartbeat_interval) {
      note_bad_frame(routing_id, "a hello of node " + h.node + " (another life, at " + h.address +
                                     ") while it is connected and heard from, at " + known->address +
                                     ": refused (node ids must be unique)");
      send_refusal(routing_id, refusal{refusal_reason::node_id_in_use, config_.node_id, known->address});
      given_up_.insert(routing_id);  // what else it sends is dropped quietly
      if (!gone) {
        std::string node = h.node;  // the key apart: an assignment evaluates its right side first
        contenders_[node] = contender{routing_id, std::move(h), std::chrono::steady_clock::now()};
        contenders_changed();
      }
      return;
    }
    peer_down(known, "restarted");  // a new incarnation: the old one's refs stay dead
  }
  // The peer is connected in the table first, in one step with leaving the pending ones: a ref
  // to the node decoded meanwhile (on another thread) finds it, and sends to it wait in its
  // buffer for the link below, as they did while it was pending. What may throw (the
  // allocations) comes before anything changes: a pending peer never leaves its table without
  // entering the other.
  std::string address = h.address;
  std::string dialled;  // where an answer to a where item said the node listens, if anywhere
  std::vector<std::weak_ptr<peer>> waiting;  // who asked this node where it listens meanwhile
  std::shared_ptr<peer> p, other_life;
  {
    std::lock_guard lock(peers_lock_);
    const auto pending = pending_peers_.find(h.node);
    const bool adopt = pending != pending_peers_.end() && pending->second.p->incarnation == h.incarnation;
    if (pending != pending_peers_.end()) dialled.swap(pending->second.dialled);
    if (adopt) waiting.swap(pending->second.waiting);
    if (!adopt)
      p = std::make_shared<peer>(h.node, h.incarnation, address,
                                 peer_limits{config_.send_buffer_bytes, frame_target_bytes, config_.max_frame_bytes},
                                 wake_fd_, sender_waits_, std::make_shared<send_gate>(*this));
    std::shared_ptr<peer>& slot = peers_[h.node];
    if (pending != pending_peers_.end()) {
      (adopt ? p : other_life) = std::move(pending->second.p);
      pending_peers_.erase(pending);
    }
    if (adopt) {
      p->address.swap(address);
      p->last_heard = std::chrono::steady_clock::now();  // heard first now, not when the ref came
    }
    if (slot) messages_out_of_gone_peers_ += slot->messages_out();  // an earlier life of the node
    slot = p;
  }
  if (other_life) pending_peer_gone(other_life, "its node connected as another life");
  by_routing_id_[routing_id] = p;
  p->session = ++last_session_;
  p->remote_session = h.session;
  ended_sessions_.erase(h.address);  // a session ended before this one is not this one
  link* out = nullptr;
  for (auto& l : links_)
    if (l->address == h.address && !l->to && l->dealer != nullptr) out = l.get();
  if (out == nullptr) out = &dial(h.address, false);
  ended_sessions_.erase(out->address);
  out->to = p;
  send_hello(*out);  // with the session's number, which the hello this link began with lacked
  out->flush_again = true;  // what was sent to it while it was pending waits in its buffer
  open_gate_if_plain(*out);
  if (dialled != h.address) close_unanswered_dial(dialled);  // the answer named another address
  for (const auto& asker : waiting)
    if (const auto to = asker.lock())  // the I/O thread never waits for room
      (void)to->enqueue([&](packer& pk) { pack_node_at(pk, p->node, p->incarnation, p->address); });
  peers_changed_.notify_all();
  {
    std::lock_guard lock(refusals_lock_);
    std::erase_if(refusals_, [&](const auto& r) { return r.second.by == p->node; });  // it took this node
  }
  log_.info("node {} ({}) connected", p->node, p->address);
  emit_peer_event("libeam.cluster.peer_connected", config_.node_id, *p, "hello");
  send_syncs(p);
}

// `p` by value: it may be a link's own pointer, and this closes that link.
void node_runtime::peer_down(std::shared_ptr<peer> p, std::string_view why) {
  if (!p->is_up()) return;
  {
    std::lock_guard gate(p->gate().lock);
    p->gate().open = nullptr;  // its link is closed below: no sender uses it from now on
  }
  p->go_down();  // fails the calls in flight with transport_error
  names_->node_gone(p->node);
  groups_->node_gone(p->node);
  {
    std::lock_guard lock(peers_lock_);
    if (auto it = peers_.find(p->node); it != peers_.end() && it->second == p) {
      messages_out_of_gone_peers_ += p->messages_out();  // after go_down: nothing more is queued
      peers_.erase(it);
    }
    note_gone_life(p->node, p->incarnation);
  }
  peers_changed_.notify_all();
  for (auto it = by_routing_id_.begin(); it != by_routing_id_.end();) {
    if (it->second != p) {
      ++it;
      continue;
    }
    if (given_up_.size() < 4096) given_up_.insert(it->first);
    it = by_routing_id_.erase(it);
  }
  stop_proxies_of(p);
  {
    std::lock_guard lock(exports_lock_);
    // An actor no other peer watches leaves the table: its end then has nobody to tell.
    for (auto it = watched_by_.begin(); it != watched_by_.end();) {
      std::erase_if(it->second, [&](const peer_watch& w) {
        if (w.by != p) return false;
        peer_watches_ -= w.monitors;
        return true;
      });
      it = it->second.empty() ? watched_by_.erase(it) : std::next(it);
    }
  }
  {
    std::lock_guard lock(lookups_lock_);
    for (auto it = lookups_.begin(); it != lookups_.end();) {
      if (it->second.node == p->node) {
        it->second.answer.set_value(error(errc::transport_error, "node " + p->node + " is gone"));
        it = lookups_.erase(it);
      } else {
        ++it;
      }
    }
  }
  // The next hello to it says this session ended, in case the leave below never reaches it.
  note_ended_session(p->address, p->session);
  for (std::size_t i = 0; i < links_.size(); ++i) {
    if (links_[i]->to != p) continue;
    const std::string address = links_[i]->address;
    const bool configured = links_[i]->configured;
    note_ended_session(address, p->session);
    // The end is mutual, as a broken connection is: a peer we give up on (silent, restarted)
    // hears it, so that it does not go on taking us for connected.
    const bool tell = why != "left" && why != "connection lost" && why != ended_by_peer;
    if (tell) {
      const char leave[2] = {static_cast<char>(wire_version), static_cast<char>(frame_kind::leave)};
      zmq_send(links_[i]->dealer, leave, sizeof leave, ZMQ_DONTWAIT);
    }
    close_link(*links_[i], tell ? leave_linger_ms : 0);
    links_.erase(links_.begin() + static_cast<std::ptrdiff_t>(i));
    if (configured) dial(address, true);  // it may come back, as a new incarnation
    break;
  }
  log_.info("node {} is gone ({})", p->node, why);
  emit_peer_event("libeam.cluster.peer_disconnected", config_.node_id, *p, why);
  // After the caller's turn: it may be walking the tables a hello changes.
  if (contenders_.contains(p->node)) {
    try {
      post([this, node = p->node] { adopt_contender(node); });
    } catch (const std::bad_alloc&) {
      contenders_.erase(p->node);  // out of memory: that life connects again when it next dials
      contenders_changed();
    }
  }
}

void node_runtime::note_ended_session(const std::string& address, std::uint64_t session) {
  if (session == 0 || address.empty()) return;  // a pending peer's: no session was started
  if (!ended_sessions_.contains(address) && ended_sessions_.size() >= max_ended_sessions)
    ended_sessions_.erase(ended_sessions_.begin());  // that node's end may then need its timeouts
  ended_sessions_[address] = session;
}

void node_runtime::adopt_contender(const std::string& node) {
  const auto it = contenders_.find(node);
  if (it == contenders_.end()) return;
  contender c = std::move(it->second);
  contenders_.erase(it);
  contenders_changed();
  if (find_peer(node)) return;  // another hello of the node came first
  given_up_.erase(c.routing_id);
  on_hello(c.routing_id, std::move(c.greeting));
}

void node_runtime::note_gone_life(const std::string& node, std::uint64_t incarnation) noexcept {
  try {
    if (!gone_lives_.emplace(node, incarnation).second) return;
    try {
      gone_lives_order_.emplace_back(node, incarnation);
    } catch (...) {
      gone_lives_.erase({node, incarnation});
      throw;
    }
    if (gone_lives_order_.size() > max_gone_lives) {
      gone_lives_.erase(gone_lives_order_.front());
      gone_lives_order_.pop_front();
    }
  } catch (...) {  // out of memory: a ref to that life waits connect_wait instead
  }
}

void node_runtime::stop_proxies_of(const std::shared_ptr<peer>& p) {
  std::unordered_map<std::uint64_t, local_proxy> gone;
  {
    std::lock_guard lock(proxies_lock_);
    if (auto it = proxies_.find(p.get()); it != proxies_.end()) {
      gone.swap(it->second);
      proxies_.erase(it);
    }
    for (auto& [id, proxy] : gone) proxy_identity_.erase(proxy.ref.cell());
    proxies_left(gone.size());
  }
  for (auto& [id, proxy] : gone) system_->stop(proxy.ref, exit_reason::noconnection());
}

void node_runtime::pending_peer_gone(const std::shared_ptr<peer>& p, std::string_view why) {
  p->go_down();  // its calls fail with transport_error; senders waiting for room go on
  // Nothing queued for it ever left: its casts (all it counted but its calls: it never called
  // this node, so it has no answers) are dropped.
  const std::uint64_t casts = p->messages_out() - p->calls_ever();
  if (casts != 0)
    cast_dropped("node " + p->node + " did not connect within connect_wait",
                 static_cast<std::uint32_t>(std::min<std::uint64_t>(casts, std::numeric_limits<std::uint32_t>::max())));
  stop_proxies_of(p);
  {
    std::lock_guard lock(peers_lock_);
    messages_out_of_gone_peers_ += p->messages_out();  // after go_down: all of it
  }
  log_.info("node {}, named by a ref, is gone before it connected ({})", p->node, why);
}

void node_runtime::read_link_events() {
  // read_monitor may close a link (and dial it again): walk by index, never past a closed one.
  for (std::size_t i = 0; i < links_.size();) {
    link* l = links_[i].get();
    if (!l->to && l->dealer != nullptr) read_refusals(*l);
    if (read_monitor(*l)) ++i;  // else links_[i] is another link now (or none): look at it next
  }
}

void node_runtime::read_refusals(link& l) {
  for (int n = 0; n < 16; ++n) {  // one a hello: a handful at most
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, l.dealer, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&frame);
      return;
    }
    refusal r;
    const decode_outcome out =
        decode_refusal({static_cast<const std::byte*>(zmq_msg_data(&frame)), zmq_msg_size(&frame)}, r);
    zmq_msg_close(&frame);
    if (out.bad) {
      note_bad_frame(l.address, out.why);
      continue;
    }
    {
      std::lock_guard lock(refusals_lock_);
      refusals_[l.address] = r;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - refusal_logged_ >= log_interval) {  // each new connection is refused again: once a minute
      refusal_logged_ = now;
      log_.error("{} (refused at {}); this one stays out of the cluster until that one is gone", in_use_text(r),
                 l.address);
    }
  }
}

void node_runtime::send_refusal(const std::string& routing_id, const refusal& r) {
  frame_buffer frame;
  pack_refusal(frame, r);
  // Back on the connection the hello came on (its DEALER reads it); a connection gone since is
  // dropped by ZeroMQ, which is all a refusal needs.
  if (zmq_send(router_, routing_id.data(), routing_id.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
    zmq_send(router_, frame.data(), frame.size(), ZMQ_DONTWAIT);
}

std::string node_runtime::in_use_text(const refusal& r) const {
  return "node id " + config_.node_id + " is in use: node " + r.by + " refused this node, being connected to " +
         "another node " + config_.node_id + " at " + r.address;
}

std::string node_runtime::refusal_text() const {
  std::lock_guard lock(refusals_lock_);
  return refusals_.empty() ? std::string() : in_use_text(refusals_.begin()->second);
}

bool node_runtime::read_monitor(link& l) {
  for (;;) {
    zmq_msg_t event, endpoint;
    zmq_msg_init(&event);
    if (zmq_msg_recv(&event, l.monitor, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&event);
      return true;
    }
    std::uint16_t id = 0;
    std::uint32_t value = 0;  // the event's detail: an errno, a protocol error code
    if (zmq_msg_size(&event) >= 6) {
      std::memcpy(&id, zmq_msg_data(&event), 2);
      std::memcpy(&value, static_cast<const char*>(zmq_msg_data(&event)) + 2, 4);
    }
    zmq_msg_close(&event);
    zmq_msg_init(&endpoint);
    zmq_msg_recv(&endpoint, l.monitor, 0);
    zmq_msg_close(&endpoint);
    const bool rekeying = std::chrono::steady_clock::now() < l.rekey_grace_until;
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {  // the listener has its new key
      l.hello_delivered = true;                 // what was queued, the hello first, leaves on this connection
      l.reset_in_handshake = false;
      l.rekey_grace_until = {};
      l.first_refused_key.clear();
      if (l.holding) {  // written only while the gate is closed: a sender reads it (flush)
        l.holding = false;
        open_gate_if_plain(l);
      }
    }
    // A connection dialled with a listener's next key fails its handshakes (and so ends) until
    // that listener is re-keyed: not a lost peer.
    if (id == ZMQ_EVENT_DISCONNECTED && l.to && !rekeying) {
      peer_down(l.to, "connection lost");  // closes this link: stop reading it
      return false;
    }
    if (id == ZMQ_EVENT_DISCONNECTED && !l.to) {
      std::lock_guard lock(refusals_lock_);
      refusals_.erase(l.address);  // the next connection's hello may be taken
    }
    // A link whose node has not greeted back: ZeroMQ dials again by itself, and reaches
    // whatever listens at the address then. Its hello went out on the connection that ended
    // (to a node that was stopping, say, with a new life of it about to start there), and a
    // node refuses every frame of a connection that has not said hello: it is said again.
    if (id == ZMQ_EVENT_DISCONNECTED && !l.to && l.hello_delivered) {
      l.hello_delivered = false;
      send_hello(l);
    }
    // A handshake that ended without a word from the listener and without the listener closing
    // the connection timed out (ZeroMQ's handshake interval, 30 s): a node paused or hung, not
    // a refusal. A listener that refuses a key closes the connection (EPIPE, ECONNRESET here).
    if (id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL && value != EPIPE && value != ECONNRESET) {
      handshake_timeouts_.fetch_add(1, std::memory_order_relaxed);
      const auto now = std::chrono::steady_clock::now();
      if (now - handshake_timeout_logged_ >= log_interval) {
        handshake_timeout_logged_ = now;
        log_.warn("the handshake with {} did not complete: the node does not answer (paused or hung?)", l.address);
      }
      continue;
    }
    // A listener that refuses this node's key resets the connection, and so does a process
    // that ends in the middle of the handshake (an eamctl session that leaves as this node
    // dials it back): both read the same here. ZeroMQ dials a reset connection again by itself
    // (100 ms later, up to 1 s): a listener still there that resets the next handshake too is
    // refusing it, while a process gone refuses the connection itself (no handshake, no event).
    // The first reset is let go; counting it took sessions ending for a wrong cookie.
    if (id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) handshake_resets_.fetch_add(1, std::memory_order_relaxed);
    if (id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL && !l.reset_in_handshake) {
      l.reset_in_handshake = true;
      continue;
    }
    if (id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL || id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
        id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
      // A refusal is an auth failure once no other key is left to try: a correct rotation (a
      // link dialled with the next key before its listener is re-keyed, a key pair removed
      // over there, the listener on another installed key) must not read as a wrong cookie.
      const auto refused = [&] {
        if (rekeying) return;  // the listener is about to take the key this link expects
        auth_failures_.fetch_add(1, std::memory_order_relaxed);
        note_bad_frame(l.address, "the handshake failed: another cookie, or open mode against a secure node");
        bad_frames_.fetch_sub(1, std::memory_order_relaxed);  // counted as an auth failure, not a bad frame
      };
      if (!secure_) {  // no keys to try (open mode has an empty ring): it dials again
        refused();
        continue;
      }
      std::size_t keys;
      std::string primary, next_key;
      {
        std::lock_guard lock(keys_lock_);
        keys = ring_.size();
        primary = ring_.front().fingerprint();
        const auto at = std::find_if(ring_.begin(), ring_.end(),
                                     [&](const cluster_keys& k) { return k.fingerprint() == l.server_key; });
        next_key = at == ring_.end() || std::next(at) == ring_.end() ? primary : std::next(at)->fingerprint();
      }
      if (l.draining) return true;  // the re-keyed listener's old connection: it carried all it had
      // A key pair this node no longer uses (dialled before use_key) may have been removed over
      // there: the next attempt presents the primary. Otherwise, with several keys installed,
      // the listener may have another one of them: the next attempt tries the next key, and a
      // pass over the whole ring that every listener key refused counts once.
      if (l.client_key != primary) {
        const auto grace = l.rekey_grace_until;
        const bool holding = l.holding;
        std::string first_refused = l.first_refused_key;
        link& fresh = replace_link(l, l.server_key, 0);
        fresh.rekey_grace_until = grace;
        fresh.holding = holding;
        fresh.first_refused_key = std::move(first_refused);
        open_gate_if_plain(fresh);
        return false;
      }
      if (keys > 1 && !rekeying) {
        std::string first_refused = l.first_refused_key.empty() ? l.server_key : l.first_refused_key;
        if (next_key == first_refused) {
          refused();
          first_refused.clear();
        }
        link& fresh = replace_link(l, next_key, 0);
        fresh.first_refused_key = std::move(first_refused);
        open_gate_if_plain(fresh);
        return false;
      }
      refused();
    }
  }
}

void node_runtime::read_router_monitor() {
  for (;;) {
    zmq_msg_t event, endpoint;
    zmq_msg_init(&event);
    if (zmq_msg_recv(&event, router_monitor_, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&event);
      return;
    }
    zmq_msg_close(&event);
    zmq_msg_init(&endpoint);
    zmq_msg_recv(&endpoint, router_monitor_, 0);
    const std::string from(static_cast<const char*>(zmq_msg_data(&endpoint)), zmq_msg_size(&endpoint));
    zmq_msg_close(&endpoint);
    if (std::chrono::steady_clock::now() < listener_rekey_window_until_) continue;
    auth_failures_.fetch_add(1, std::memory_order_relaxed);  // only handshake failures are monitored here
    note_bad_frame(from, "refused a connection: its handshake failed (another cookie, or open mode)");
    bad_frames_.fetch_sub(1, std::memory_order_relaxed);
  }
}

node_runtime::flushed node_runtime::flush(link& l) {
  flushed out;
  if (l.holding) return out;
  const auto sent = [&](std::size_t size) {
    frames_out_.fetch_add(1, std::memory_order_relaxed);
    bytes_out_.fetch_add(size, std::memory_order_relaxed);
    l.last_sent = std::chrono::steady_clock::now();
    ++out.frames;
  };
  while (!l.stalled.empty()) {
    const std::size_t size = zmq_msg_size(&l.stalled.front());
    if (zmq_msg_send(&l.stalled.front(), l.dealer, ZMQ_DONTWAIT) < 0) return out;  // still full
    l.stalled.pop_front();
    sent(size);
  }
  if (!l.to) return out;
  std::vector<frame_buffer> frames;
  l.to->take_frames(frames);
  // Acquire, after the take: a command posted before one of these frames was queued (its count
  // released before the queuing, which the buffer's lock orders before the take) is seen here.
  if (!frames.empty() && commands_pending_.load(std::memory_order_acquire) != 0) {
    l.to->give_back_frames(frames);
    out.held_back = true;
    return out;
  }
  for (auto& f : frames) {
    zmq_msg_t m;
    const std::size_t size = f.size();
    zmq_msg_init_data(&m, f.release(), size, [](void* data, void*) { std::free(data); }, nullptr);
    if (!l.stalled.empty() || zmq_msg_send(&m, l.dealer, ZMQ_DONTWAIT) < 0)
      l.stalled.push_back(m);  // kept in order; sent when the socket has room (POLLOUT)
    else
      sent(size);
  }
  return out;
}

std::unique_lock<std::mutex> node_runtime::guard(link& l) {
  if (!l.to) return {};
  return std::unique_lock(l.to->gate().lock);
}

void node_runtime::open_gate_if_plain(link& l) {
  if (!l.to || l.holding || l.draining || l.dealer == nullptr) return;
  std::lock_guard lock(l.to->gate().lock);
  l.to->gate().open = &l;
}

void node_runtime::close_gate(link& l) {
  if (!l.to) return;
  std::lock_guard lock(l.to->gate().lock);
  if (l.to->gate().open == &l) l.to->gate().open = nullptr;
}

bool flush_from_sender(send_gate& gate) noexcept {
  // try_lock: a sender never waits for the I/O thread or another sender; whoever holds the
  // gate takes this sender's frame too, or the I/O thread, woken, does.
  std::unique_lock lock(gate.lock, std::try_to_lock);
  if (!lock.owns_lock() || gate.open == nullptr) return false;
  link& l = *gate.open;
  if (!l.stalled.empty()) return false;  // the I/O thread may be polling its DEALER
  // A link that sent a moment ago is streaming: its frames fill while the I/O thread wakes,
  // and sent from here each would leave alone (remote-cast at 0.7x its rate).
  if (std::chrono::steady_clock::now() - l.last_sent < send_gate::quiet_before_direct) return false;
  node_runtime::flushed done;
  try {
    done = gate.runtime.flush(l);
  } catch (...) {  // out of memory taking the frames: the I/O thread tries again
    return false;
  }
  gate.runtime.frames_from_senders_.fetch_add(done.frames, std::memory_order_relaxed);
  // A command the I/O thread has to run first, or frames ZeroMQ refused (it polls for room).
  return !done.held_back && l.stalled.empty();
}

bool node_runtime::needs_flush(link& l) {
  // A holding link sends nothing: its peer's notice waits, unread, until the hold lifts.
  if (l.holding || l.dealer == nullptr) return false;
  if (l.flush_again || l.stalled.any()) return true;
  return l.to && l.to->take_io_notice();
}

void node_runtime::flush_all() {
  bool drained = false;
  // A flush that gave frames back waits for a command posted before them: run the commands,
  // then flush again. Bounded: what is posted meanwhile waits for the next turn of the loop.
  for (int round = 0; round < 4; ++round) {
    bool held_back = false;
    drained = false;
    for (auto& l : links_) {
      if (needs_flush(*l)) {
        const auto gate = guard(*l);
        l->flush_again = flush(*l).held_back;
        held_back = held_back || l->flush_again;
      }
      drained = drained || (l->draining && !l->stalled.any());
    }
    if (!held_back) break;
    run_commands();
  }
  if (drained) close_drained_links();
}

void node_runtime::heartbeat_and_expire() {
  const auto now = std::chrono::steady_clock::now();
  // A node that was not running (stopped, swapped out, starved) has heard nothing because it
  // listened to nothing: its peers' silence over that gap is not theirs, so it is forgiven.
  const auto gap = now - last_expiry_check_;
  last_expiry_check_ = now;
  if (gap > config_.heartbeat_timeout / 2) {
    for (auto& [id, p] : by_routing_id_) p->last_heard = now;
    for (auto& [node, c] : contenders_) c.last_heard = now;
    log_.warn("this node's I/O loop did not run for {} ms: its peers' silence over that time is not counted",
              std::chrono::duration_cast<std::chrono::milliseconds>(gap).count());
  }
  std::erase_if(contenders_, [&](const auto& c) { return now - c.second.last_heard > config_.heartbeat_timeout; });
  contenders_changed();
  for (auto& l : links_) {
    const auto gate = guard(*l);
    // On a connection this node's hello was refused on too: the listener keeps the hello while
    // it hears from this node (contenders_).
    const bool refused = !l->to && [&] {
      std::lock_guard lock(refusals_lock_);
      return refusals_.contains(l->address);
    }();
    if ((!l->to && !refused) || !l->stalled.empty() || now - l->last_sent < config_.heartbeat_interval) continue;
    const char beat[2] = {static_cast<char>(wire_version), static_cast<char>(frame_kind::heartbeat)};
    if (zmq_send(l->dealer, beat, sizeof beat, ZMQ_DONTWAIT) == 2) l->last_sent = now;
  }
  std::vector<std::shared_ptr<peer>> silent;
  for (auto& [id, p] : by_routing_id_)
    if (now - p->last_heard > config_.heartbeat_timeout && std::find(silent.begin(), silent.end(), p) == silent.end())
      silent.push_back(p);
  for (auto& p : silent) {
    log_.info("node {}: nothing heard for {} ms", p->node,
              std::chrono::duration_cast<std::chrono::milliseconds>(now - p->last_heard).count());
    peer_down(p, "silent past heartbeat_timeout");
  }
  std::vector<std::shared_ptr<peer>> never_connected;
  std::vector<std::string> dialled;
  {
    std::lock_guard lock(peers_lock_);
    for (auto it = pending_peers_.begin(); it != pending_peers_.end();) {
      if (now < it->second.give_up_at) {
        ++it;
        continue;
      }
      never_connected.push_back(std::move(it->second.p));
      dialled.push_back(std::move(it->second.dialled));
      it = pending_peers_.erase(it);
    }
  }
  for (auto& p : never_connected) pending_peer_gone(p, "not connected within connect_wait");
  for (const auto& address : dialled) close_unanswered_dial(address);
  if (now - last_calls_look_ >= config_.heartbeat_interval) {
    last_calls_look_ = now;
    std::vector<std::shared_ptr<peer>> peers;
    {
      std::lock_guard lock(peers_lock_);
      for (const auto& [node, p] : peers_) peers.push_back(p);
    }
    for (const auto& p : peers) p->forget_abandoned_calls_unless_looked();  // outside peers_lock_, as in stats
  }
  for (auto it = bad_frame_logged_.begin(); it != bad_frame_logged_.end();)
    it = now - it->second > log_interval ? bad_frame_logged_.erase(it) : std::next(it);
  if (rekey_.active && now >= rekey_.deadline) {
    std::string silent;
    for (const auto& p : rekey_.waiting) silent += (silent.empty() ? "" : ", ") + p->node;
    log_.warn("re-keying: no barrier from {} within {} s; their connections are cut", silent,
              std::chrono::duration_cast<std::chrono::seconds>(rekey_wait).count());
    finish_rekey();
  }
  for (auto& l : links_) {
    if (l->holding && now >= l->rekey_grace_until) {
      l->holding = false;  // the peer never re-keyed: try anyway
      open_gate_if_plain(*l);
    }
  }
  // A member that membership holds alive but that has no connection (lost, or never made) is
  // dialled, once a second: its actors are reachable again once it answers.
  if (now - last_redial_check_ >= std::chrono::seconds(1)) {
    last_redial_check_ = now;
    // Dials that got no socket: a seed is dialled again here, a member by the loop below.
    const auto no_socket = [](const link& l) { return l.dealer == nullptr && !l.to; };
    std::vector<std::pair<std::string, std::string>> seeds_again;
    for (const auto& l : links_)
      if (no_socket(*l) && l->configured) seeds_again.emplace_back(l->address, l->server_key);
    close_links_where(no_socket, 0);
    for (auto& [address, key] : seeds_again) dial(address, true, std::move(key));
    for (const member& m : members(false))
      if (m.id != config_.node_id && m.status == member_status::alive && !find_peer(m.id) && !link_to(m.address))
        dial(m.address, false);
  }
}

void node_runtime::note_bad_frame(std::string_view from, std::string_view why) {
  bad_frames_.fetch_add(1, std::memory_order_relaxed);
  // `from` may be a routing id a stranger chose: only printable bytes reach the log.
  std::string shown;
  for (const char c : from.substr(0, 64)) {
    if (c > ' ' && c <= '~') {
      shown += c;
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
      shown += hex;
    }
  }
  const auto now = std::chrono::steady_clock::now();
  if (bad_frame_logged_.size() >= 1024) return;  // a flood of new senders: counted, not logged
  auto [it, fresh] = bad_frame_logged_.try_emplace(shown, now);
  if (!fresh) return;  // logged within the last minute
  log_.warn("dropped input from {}: {} (logged once a minute per sender)", shown, why);
}

void node_runtime::cast_dropped(std::string_view why, std::uint32_t casts) {
  dropped_casts_.fetch_add(casts, std::memory_order_relaxed);
  static std::atomic<std::int64_t> last_log{0};
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::steady_clock::now().time_since_epoch()).count();
  std::int64_t last = last_log.load(std::memory_order_relaxed);
  if (now - last >= 60 && last_log.compare_exchange_strong(last, now, std::memory_order_relaxed))
    log_.warn("a cast to a remote actor was dropped: {} (logged once a minute)", why);
}

// -- shared tables ---------------------------------------------------------------------------------

std::shared_ptr<peer> node_runtime::find_peer(std::string_view node) const {
  std::lock_guard lock(peers_lock_);
  const auto it = peers_.find(std::string(node));
  return it != peers_.end() ? it->second : nullptr;
}

std::vector<std::string> node_runtime::connected_peers() const {
  std::lock_guard lock(peers_lock_);
  std::vector<std::string> out;
  for (const auto& [node, p] : peers_) out.push_back(node);
  std::sort(out.begin(), out.end());
  return out;
}

bool node_runtime::wait_for_peer(std::string_view node, std::chrono::milliseconds timeout) {
  std::unique_lock lock(peers_lock_);
  return peers_changed_.wait_for(lock, timeout, [&] { return peers_.contains(std::string(node)); });
}

actor_ref node_runtime::exported(std::uint64_t id) const {
  std::lock_guard lock(exports_lock_);
  const auto it = exported_.find(id);
  return it != exported_.end() ? it->second : actor_ref{};
}

void node_runtime::export_actor(const actor_ref& ref) {
  bool fresh;
  {
    std::lock_guard lock(exports_lock_);
    fresh = exported_.try_emplace(ref.id(), ref).second;
  }
  if (!fresh) return;
  // Watched before the ref leaves in the frame being packed, so that whatever a peer sends to
  // end the actor finds the watch in place (a later watch would see noproc). The watch stays
  // through a move, on the relay, whose end is then told too.
  const std::uint64_t id = ref.id();
  system_->watch(
      ref, [this, id](const down& d) { exports_notifier_.cast(exported_ended{id, d.reason}); },
      [this, id](const moved& m) { exports_notifier_.cast(exported_moved{id, m.to, m.node}); });
  exported_watched_.fetch_add(1, std::memory_order_relaxed);
}

void node_runtime::add_monitor(std::uint64_t id, const std::shared_ptr<peer>& from) {
  auto& watchers = watched_by_[id];
  const auto mine = std::find_if(watchers.begin(), watchers.end(), [&](const peer_watch& w) { return w.by == from; });
  if (mine != watchers.end())
    ++mine->monitors;
  else
    watchers.push_back({from, 1});
  ++peer_watches_;
}

void node_runtime::take_back_monitor(std::uint64_t id, const std::shared_ptr<peer>& from) noexcept {
  const auto it = watched_by_.find(id);
  if (it == watched_by_.end()) return;  // ended already (its down is on the way), or a forged id
  auto& watchers = it->second;
  const auto mine = std::find_if(watchers.begin(), watchers.end(), [&](const peer_watch& w) { return w.by == from; });
  if (mine == watchers.end()) return;
  --peer_watches_;
  if (--mine->monitors == 0) watchers.erase(mine);
  if (watchers.empty()) watched_by_.erase(it);
}

void node_runtime::local_actor_ended(std::uint64_t id, const exit_reason& reason) {
  groups_->local_actor_ended(id);
  std::vector<peer_watch> watchers;
  {
    std::lock_guard lock(exports_lock_);
    exported_.erase(id);
    if (auto it = watched_by_.find(id); it != watched_by_.end()) {
      watchers = std::move(it->second);
      watched_by_.erase(it);
      for (const peer_watch& w : watchers) peer_watches_ -= w.monitors;
    }
    try {  // in the same hold as the erase: a monitor finds one or the other
      if (ended_exports_.try_emplace(id, reason).second) {
        ended_exports_order_.push_back(id);
        if (ended_exports_order_.size() > max_ended_exports) {
          ended_exports_.erase(ended_exports_order_.front());
          ended_exports_order_.pop_front();
        }
      }
    } catch (...) {  // out of memory: a monitor of it gets noproc, as before
      ended_exports_.erase(id);
    }
  }
  scoped_ref_resolver resolve(*this);
  for (auto& w : watchers) {
    try {
      (void)w.by->enqueue([&](packer& pk) { pack_down(pk, id, reason); });
    } catch (const std::exception&) {
    }
  }
}

void node_runtime::local_actor_moved(std::uint64_t id, const actor_ref& to, const std::string& node) {
  std::vector<peer_watch> watchers;
  {
    std::lock_guard lock(exports_lock_);
    if (auto it = watched_by_.find(id); it != watched_by_.end()) watchers = it->second;
  }
  scoped_ref_resolver resolve(*this);
  for (auto& w : watchers) {
    try {
      (void)w.by->enqueue([&](packer& pk) { pack_moved(pk, id, to, node); });
    } catch (const std::exception&) {
    }
  }
}

detail::wire_ref node_runtime::encode(const actor_ref& ref) {
  const bool ours = system_->owns(ref);
  if (ours && exported_lately::contains(incarnation_, ref)) return {config_.node_id, incarnation_, ref.id()};
  {
    std::lock_guard lock(proxies_lock_);
    if (auto it = proxy_identity_.find(ref.cell()); it != proxy_identity_.end() && it->second.first == ref.id())
      return {it->second.second.home->node, it->second.second.home->incarnation, it->second.second.id};
  }
  // An ended actor leaves as one of this node's, whichever system it was of (this node's, or
  // one gone since: a ref kept past a node's restart in this process; or another live one's,
  // which peers then do not match to that node's name for it): its id, unique in the process,
  // names no actor here, so peers find it gone (a monitor gets noproc, a send finds no actor),
  // as they do an export that has ended since (exported_lately.hpp). Nothing to watch.
  if (!ref.is_alive()) return {config_.node_id, incarnation_, ref.id()};
  // A live actor of another system here (an application's own beside the node's, or a second
  // node's) is not this node's to export: peers would reach it through a node whose system,
  // placement and shutdown it is not part of. It cannot cross the wire: the send fails as for
  // any value msgpack cannot represent.
  if (!ours) throw msgpack::type_error();
  export_actor(ref);
  exported_lately::add(incarnation_, ref);
  return {config_.node_id, incarnation_, ref.id()};
}

actor_ref node_runtime::decode(const detail::wire_ref& ref) {
  if (ref.node == config_.node_id) return ref.incarnation == incarnation_ ? exported(ref.actor) : actor_ref{};
  std::shared_ptr<peer> p = peer_for_ref(ref);
  if (!p) return {};  // another life of the node, a gone one, or none to wait for: a dead ref
  return proxy_for(p, ref.actor, {});
}

std::shared_ptr<peer> node_runtime::peer_for_ref(const detail::wire_ref& ref) {
  std::shared_ptr<peer> p;
  {
    std::lock_guard lock(peers_lock_);
    if (const auto it = peers_.find(ref.node); it != peers_.end())
      return it->second->incarnation == ref.incarnation ? it->second : nullptr;
    auto it = pending_peers_.find(ref.node);
    if (it != pending_peers_.end() && it->second.p->incarnation != ref.incarnation) return nullptr;
    if (it == pending_peers_.end()) {
      if (config_.connect_wait.count() <= 0 || pending_peers_.size() >= max_pending_peers ||
          !could_be_node_id(ref.node) || stopping_.load(std::memory_order_acquire) ||
          gone_lives_.contains({ref.node, ref.incarnation}))
        return nullptr;
      auto made = std::make_shared<peer>(ref.node, ref.incarnation, std::string(),
                                         peer_limits{config_.send_buffer_bytes, frame_target_bytes, config_.max_frame_bytes},
                                         wake_fd_, sender_waits_, std::make_shared<send_gate>(*this));
      it = pending_peers_
               .emplace(ref.node, pending_peer{std::move(made), std::chrono::steady_clock::now() + config_.connect_wait, {}, {}, {}})
               .first;
    }
    p = it->second.p;
    // The peer that sent the ref knows where its node listens, if it is connected to it (a
    // hidden node, which no member dials, or a member this node has not heard of yet): asked
    // once, and each further peer that names it too, up to a few.
    std::vector<std::string>& asked = it->second.asked;
    if (refs_from == nullptr || !it->second.dialled.empty() || asked.size() >= max_where_asked ||
        std::find(asked.begin(), asked.end(), refs_from->node) != asked.end())
      return p;
    try {
      asked.push_back(refs_from->node);
    } catch (const std::bad_alloc&) {
      return p;  // it waits for membership to report its node, as before
    }
  }
  try {
    // The I/O thread never waits for room (peer::this_thread_drains).
    (void)refs_from->enqueue([&](packer& pk) { pack_where(pk, ref.node, ref.incarnation); });
  } catch (const std::exception&) {
  }
  return p;
}

void node_runtime::answer_where(const std::shared_ptr<peer>& from, const std::string& node,
                                std::uint64_t incarnation) {
  std::string address;
  {
    std::lock_guard lock(peers_lock_);
    if (const auto it = peers_.find(node); it != peers_.end()) {
      if (it->second->incarnation != incarnation) return;  // another life: nothing to say
      address = it->second->address;
    } else {
      // Pending here too (this node handed on a ref before its own dial was greeted): the
      // answer waits for the hello, which may never come (then nobody is told, as before).
      const auto pending = pending_peers_.find(node);
      if (pending == pending_peers_.end() || pending->second.p->incarnation != incarnation) return;
      auto& waiting = pending->second.waiting;
      const bool known = std::any_of(waiting.begin(), waiting.end(),
                                     [&](const std::weak_ptr<peer>& w) { return w.lock() == from; });
      if (known || waiting.size() >= max_where_waiting) return;
      try {
        waiting.push_back(from);
      } catch (const std::bad_alloc&) {
      }
      return;
    }
  }
  (void)from->enqueue([&](packer& pk) { pack_node_at(pk, node, incarnation, address); });
}

void node_runtime::on_node_at(const std::shared_ptr<peer>& from, const std::string& node, std::uint64_t incarnation,
                              const std::string& address) {
  if (address == advertised_) return;
  {
    std::lock_guard lock(peers_lock_);
    const auto it = pending_peers_.find(node);
    if (it == pending_peers_.end() || it->second.p->incarnation != incarnation || !it->second.dialled.empty())
      return;  // connected meanwhile, gone, another life, or dialled on an earlier answer
    const auto& asked = it->second.asked;
    if (std::find(asked.begin(), asked.end(), from->node) == asked.end()) return;  // not asked: not trusted
    it->second.dialled = address;
  }
  if (link_to(address) != nullptr) return;  // dialled already (a member there, not greeted yet)
  log_.info("node {}, named by a ref, is dialled at {} (where node {} says it listens)", node, address, from->node);
  dial(address, false);
}

void node_runtime::close_unanswered_dial(const std::string& address) {
  if (address.empty()) return;
  for (const member& m : members(false))
    if (m.address == address && m.status != member_status::dead && m.status != member_status::left) return;
  close_links_where([&](const link& l) { return l.address == address && !l.to && !l.configured; }, 0);
}

actor_ref node_runtime::proxy_for(const std::shared_ptr<peer>& p, std::uint64_t remote_id,
                                  std::vector<proxy::signature> sigs) {
  actor_ref ref;
  std::vector<unreferenced_proxy> unreferenced;
  {
    std::lock_guard lock(proxies_lock_);
    if (const auto known = proxies_.find(p.get()); known != proxies_.end())
      if (auto it = known->second.find(remote_id); it != known->second.end()) {
        it->second.forwarder->add_checked(sigs);
        return it->second.ref;
      }
    if (!p->is_up()) return {};  // before the table's entry: a gone peer leaves none behind
    auto& of_node = proxies_[p.get()];
    auto forwarder = std::make_shared<proxy>(*this, p, remote_id, std::move(sigs));
    ref = spawn_forwarding_actor(*system_, forwarder);
    of_node.emplace(remote_id, local_proxy{ref, forwarder});
    proxy_identity_.emplace(ref.cell(), std::pair{ref.id(), remote_actor{p, remote_id}});
    if (++proxy_count_ >= look_at_proxies_at_) [[unlikely]] {
      try {
        take_unreferenced_proxies(unreferenced);
      } catch (const std::bad_alloc&) {
        // Out of memory for the list: what it holds is ended below; the rest waits for the next look.
      }
    }
  }
  // The remote node tells us when the actor ends; the proxy then ends with its reason.
  (void)p->enqueue([&](packer& pk) { pack_monitor(pk, remote_id); });
  if (!unreferenced.empty()) end_unreferenced_proxies(unreferenced);
  return ref;
}

std::unordered_map<std::uint64_t, std::string> node_runtime::relay_labels() const {
  std::lock_guard lock(relays_lock_);
  return relays_;
}

std::unordered_set<std::uint64_t> node_runtime::proxy_ids() const {
  std::lock_guard lock(proxies_lock_);
  std::unordered_set<std::uint64_t> ids;
  ids.reserve(proxy_identity_.size());
  for (const auto& [cell, identity] : proxy_identity_) ids.insert(identity.first);
  return ids;
}

void node_runtime::proxies_left(std::size_t n) noexcept {
  proxy_count_ -= n;
  if (proxy_count_ * 4 < look_at_proxies_at_) look_at_proxies_at_ = std::max(proxies_before_a_look, proxy_count_ * 2);
}

void node_runtime::take_unreferenced_proxies(std::vector<unreferenced_proxy>& out) {
  for (auto node = proxies_.begin(); node != proxies_.end();) {
    auto& of_node = node->second;
    for (auto it = of_node.begin(); it != of_node.end();) {
      // Nothing can copy the table's ref while proxies_lock_ is held, and every other holder
      // (a ref, a watch, a link, a timer, a message) counts, so a proxy found unreferenced stays
      // so: it is ended, and a ref to its actor that arrives later makes a new one.
      if (!only_reference(it->second.ref)) {
        ++it;
        continue;
      }
      const auto identity = proxy_identity_.find(it->second.ref.cell());
      if (identity == proxy_identity_.end()) {  // never: the two tables change together
        ++it;
        continue;
      }
      out.push_back(
          unreferenced_proxy{it->second.ref, identity->second.second.home, it->first});  // may throw: nothing moved yet
      proxy_identity_.erase(identity);
      it = of_node.erase(it);
      --proxy_count_;
    }
    node = of_node.empty() ? proxies_.erase(node) : std::next(node);
  }
  look_at_proxies_at_ = std::max(proxies_before_a_look, proxy_count_ * 2);
}

void node_runtime::end_unreferenced_proxies(std::vector<unreferenced_proxy>& taken) noexcept {
  // Nothing watches or links to them, so the reason reaches nobody.
  for (const auto& u : taken) system_->stop(u.ref, exit_reason::normal());
  // Their nodes drop one watch each (one per proxy); a few hundred items per take of a peer's lock.
  std::sort(taken.begin(), taken.end(), [](const auto& a, const auto& b) { return a.home < b.home; });
  constexpr std::size_t per_enqueue = 256;
  for (std::size_t i = 0; i < taken.size();) {
    std::size_t end = i;
    while (end < taken.size() && end - i < per_enqueue && taken[end].home == taken[i].home) ++end;
    try {
      (void)taken[i].home->enqueue([&](packer& pk) {
        for (std::size_t k = i; k < end; ++k) pack_demonitor(pk, taken[k].id);
      });
    } catch (const std::exception&) {
      // Out of memory: those nodes keep a watch each until the actor ends (they tell us, and the
      // down finds no proxy).
    }
    i = end;
  }
  taken.clear();
}

// -- whereis ---------------------------------------------------------------------------------------

result<actor_ref> node_runtime::whereis(std::string_view node, std::string_view name,
                                        const std::vector<node::signature>& sigs,
                                        std::optional<std::chrono::milliseconds> patience) {
  if (inside_actor())
    return error(errc::blocking_call_on_worker, "node::whereis blocks: call it outside actors");
  if (node == config_.node_id) {
    auto found = system_->whereis(name);
    if (!found) return error(errc::registry_lookup_failed, std::string(name));
    for (const auto& s : sigs)
      if (!handles(*found, s.message, s.reply))
        return error(errc::registry_lookup_failed, std::string(name) + " lacks " + std::string(s.message.name()));
    return std::move(*found);
  }
  std::shared_ptr<peer> p = find_peer(node);
  if (!p) return error(errc::peer_not_found, std::string(node));
  std::vector<wire_signature> wire;
  std::vector<proxy::signature> checked;
  for (const auto& s : sigs) {
    const wire_type* m = find_wire_type(s.message);
    const wire_type* r = s.reply ? find_wire_type(s.reply) : nullptr;
    if (m == nullptr || (s.reply && r == nullptr))
      return error(cluster_errc::type_not_registered,
                   std::string(m == nullptr ? s.message.name() : s.reply.name()) + " is not registered for the wire");
    wire.emplace_back(m->name, r != nullptr ? r->name : std::string());
    checked.push_back({s.message, s.reply});
  }
  std::future<result<std::uint64_t>> answer;
  std::uint64_t request;
  {
    std::lock_guard lock(lookups_lock_);
    request = ++next_lookup_;
    auto& w = lookups_[request];
    w.node = p->node;
    answer = w.answer.get_future();
  }
  const bool sent = p->enqueue([&](packer& pk) { pack_lookup(pk, request, name, wire); });
  if (!sent || answer.wait_for(patience.value_or(config_.lookup_timeout)) != std::future_status::ready) {
    std::lock_guard lock(lookups_lock_);
    if (lookups_.erase(request) == 1)
      return sent ? error(errc::timeout, "no answer from " + p->node + (patience ? " in time" : " within lookup_timeout"))
                  : error(errc::transport_error, "node " + p->node + " is gone");
  }
  const result<std::uint64_t> id = answer.get();
  if (!id) return id.error_value();
  actor_ref ref = proxy_for(p, id.value(), std::move(checked));
  if (!ref) return error(errc::transport_error, "node " + p->node + " is gone");
  return ref;
}

transport_stats node_runtime::stats() const {
  transport_stats s;
  s.frames_out = frames_out_.load(std::memory_order_relaxed);
  s.frames_in = frames_in_.load(std::memory_order_relaxed);
  s.bytes_out = bytes_out_.load(std::memory_order_relaxed);
  s.bytes_in = bytes_in_.load(std::memory_order_relaxed);
  std::vector<std::shared_ptr<peer>> peers;
  {
    std::lock_guard lock(peers_lock_);
    s.messages_out = messages_out_of_gone_peers_;
    for (const auto& [node, p] : peers_) {
      s.messages_out += p->messages_out();
      peers.push_back(p);
    }
  }
  // Outside peers_lock_: a sender holds its peer's lock while it encodes, and encoding may
  // take the node's tables.
  for (const auto& p : peers) s.calls_waiting += p->calls_waiting();
  s.messages_in = messages_in_.load(std::memory_order_relaxed);
  s.bad_frames = bad_frames_.load(std::memory_order_relaxed);
  s.auth_failures = auth_failures_.load(std::memory_order_relaxed);
  s.dial_failures = dial_failures_.load(std::memory_order_relaxed);
  s.handshake_timeouts = handshake_timeouts_.load(std::memory_order_relaxed);
  s.handshake_resets = handshake_resets_.load(std::memory_order_relaxed);
  s.contenders = contenders_waiting_.load(std::memory_order_relaxed);
  s.io_turns = io_turns_.load(std::memory_order_relaxed);
  s.dropped_casts = dropped_casts_.load(std::memory_order_relaxed);
  s.sender_waits = sender_waits_.load(std::memory_order_relaxed);
  s.frames_from_senders = frames_from_senders_.load(std::memory_order_relaxed);
  s.exported_watched = exported_watched_.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(exports_lock_);
    s.peer_watches = peer_watches_;
  }
  {
    std::lock_guard lock(proxies_lock_);
    s.proxies = proxy_count_;
  }
  {
    std::lock_guard lock(peers_lock_);  // both at once: a peer being taken is counted once
    s.peers_connected = peers_.size();
    s.peers_pending = pending_peers_.size();
  }
  s.migrated = migrations_.load(std::memory_order_relaxed);
  s.migration_failures = migrations_failed_.load(std::memory_order_relaxed);
  s.relayed = relayed_->load(std::memory_order_relaxed);
  return s;
}

void node_runtime::shutdown() {
  std::lock_guard guard(shutdown_lock_);
  const auto close_waits = [this] {
    {
      std::lock_guard lock(members_lock_);
      members_closed_ = true;
    }
    members_changed_.notify_all();
  };
  if (shut_down_) return;
  shut_down_ = true;
  {
    std::lock_guard lock(async_spawns_lock_);
    async_spawns_closed_ = true;
  }
  async_spawns_changed_.notify_all();
  if (async_spawner_.joinable()) async_spawner_.join();  // the one under way ends within its timeout
  if (control_) control_->close();                         // the same
  if (system_) {
    system_->shutdown();  // actors stop; what they send on the way out still leaves
    system_->set_name_extension(nullptr);
  }
  stopping_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  if (io_.joinable()) io_.join();  // flushes, tells every peer this node leaves, closes
  std::vector<std::shared_ptr<peer>> left;
  {
    std::lock_guard lock(peers_lock_);
    for (auto& [node, p] : peers_) left.push_back(p);
    for (auto& [node, pending] : pending_peers_) left.push_back(pending.p);  // none is made from now on
  }
  for (auto& p : left) p->go_down();
  {
    std::lock_guard lock(peers_lock_);
    for (auto& p : left) messages_out_of_gone_peers_ += p->messages_out();  // after go_down: all of it
    peers_.clear();
    pending_peers_.clear();
  }
  close_waits();
  std::lock_guard lock(lookups_lock_);
  for (auto& [id, w] : lookups_)
    w.answer.set_value(error(cluster_errc::node_stopped, "the node shut down"));
  lookups_.clear();
  {
    std::lock_guard ended(shutdown_ended_lock_);
    shutdown_ended_ = true;
  }
  shutdown_ended_changed_.notify_all();
}

void node_runtime::request_shutdown() {
  std::lock_guard guard(shutdown_requests_lock_);
  if (!stopper_.joinable()) stopper_ = std::thread([this] { shutdown(); });
}

bool node_runtime::wait_for_shutdown(std::optional<std::chrono::milliseconds> timeout) {
  std::unique_lock lock(shutdown_ended_lock_);
  if (!timeout) {
    shutdown_ended_changed_.wait(lock, [this] { return shutdown_ended_; });
    return true;
  }
  return shutdown_ended_changed_.wait_for(lock, *timeout, [this] { return shutdown_ended_; });
}

// -- membership (I/O thread) -----------------------------------------------------------------------

swim::time node_runtime::swim_now() const {
  return std::chrono::duration_cast<swim::time>(std::chrono::steady_clock::now() - origin_);
}

std::int64_t node_runtime::wall_clock_ms() { return epoch_ms(); }

void node_runtime::read_datagrams() {
  static thread_local std::vector<std::byte> buffer(max_datagram_bytes + 1);
  // Bounded, like read_router: the transport keeps its turn under a flood of datagrams.
  for (int n = 0; n < 256; ++n) {
    sockaddr_storage from{};
    socklen_t length = sizeof from;
    const ssize_t got = ::recvfrom(udp_fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &length);
    if (got < 0) return;
    swim_->on_datagram(to_host_port(from), std::span(buffer.data(), static_cast<std::size_t>(got)), swim_now());
  }
}

void node_runtime::send_datagram(const std::string& address, std::vector<std::byte>&& datagram) {
  auto it = udp_addresses_.find(address);
  if (it == udp_addresses_.end()) {
    if (udp_addresses_.size() >= 4096) udp_addresses_.clear();  // addresses of long-gone members
    const auto [host, port] = split_host_port(address);
    addrinfo hints{};
    hints.ai_family = udp_family_;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
      log_.warn("membership: cannot resolve {}", address);
      return;
    }
    const auto* raw = reinterpret_cast<const std::uint8_t*>(found->ai_addr);
    it = udp_addresses_.emplace(address, std::vector<std::uint8_t>(raw, raw + found->ai_addrlen)).first;
    ::freeaddrinfo(found);
  }
  // Non-blocking: a full socket buffer loses the datagram, which the protocol tolerates.
  (void)::sendto(udp_fd_, datagram.data(), datagram.size(), MSG_DONTWAIT,
                 reinterpret_cast<const sockaddr*>(it->second.data()), static_cast<socklen_t>(it->second.size()));
}

link* node_runtime::link_to(std::string_view address) {
  for (auto& l : links_)
    if (l->address == address && l->dealer != nullptr && !l->draining) return l.get();
  return nullptr;
}

void node_runtime::send_on_link(link& l, std::span<const std::byte> frame) {
  const auto gate = guard(l);
  zmq_msg_t m;
  zmq_msg_init_size(&m, frame.size());
  std::memcpy(zmq_msg_data(&m), frame.data(), frame.size());
  if (l.holding || !l.stalled.empty() || zmq_msg_send(&m, l.dealer, ZMQ_DONTWAIT) < 0) {
    l.stalled.push_back(m);  // after what waits already: order kept
    return;
  }
  frames_out_.fetch_add(1, std::memory_order_relaxed);
  bytes_out_.fetch_add(frame.size(), std::memory_order_relaxed);
  l.last_sent = std::chrono::steady_clock::now();
}

void node_runtime::send_state(const std::string& address, std::vector<std::byte>&& body) {
  if (body.size() + 2 > config_.max_frame_bytes) {
    log_.warn("membership: a state of {} bytes exceeds max_frame_bytes; not sent to {}", body.size(), address);
    return;
  }
  std::vector<std::byte> frame = control_frame(frame_kind::gossip_state);
  frame.insert(frame.end(), body.begin(), body.end());
  link* l = link_to(address);
  if (l == nullptr) l = &dial(address, false);
  send_on_link(*l, frame);  // queued by ZeroMQ behind our hello until the connection is up
}

void node_runtime::member_changed(const member_event& event) { membership_changes_.push_back(event); }

// -- distributed registry ---------------------------------------------------------------------------

void node_runtime::send_to_peer(const std::shared_ptr<peer>& p, std::span<const std::byte> frame) {
  for (auto& l : links_)
    if (l->to == p) return send_on_link(*l, frame);
}

void node_runtime::send_syncs(const std::shared_ptr<peer>& p) {
  // A new peer learns every name and group member this node has (it sends its own the same way),
  // in parts that each fit a frame (sync_parts.hpp), back to back on its link.
  const std::size_t max_body =
      config_.max_frame_bytes - std::min(config_.max_frame_bytes, control_frame(frame_kind::names).size());
  std::size_t names_left_out = 0, groups_left_out = 0;
  for (auto& [kind, bodies] : {std::pair{frame_kind::names, names_->own_sync(max_body, names_left_out)},
                               std::pair{frame_kind::groups, groups_->own_sync(max_body, groups_left_out)}})
    for (const std::vector<std::byte>& body : bodies) {
      std::vector<std::byte> frame = control_frame(kind);
      frame.insert(frame.end(), body.begin(), body.end());
      if (frame.size() <= config_.max_frame_bytes)  // only a limit of a few bytes leaves a part too large
        send_to_peer(p, frame);
      else
        log_.warn("a sync part of {} bytes exceeds max_frame_bytes; {} does not get it", frame.size(), p->node);
    }
  if (names_left_out + groups_left_out != 0)
    log_.warn("{} names and {} groups do not fit max_frame_bytes ({}) alone; {} does not learn them", names_left_out,
              groups_left_out, config_.max_frame_bytes, p->node);
}

void node_runtime::broadcast_names(std::vector<std::byte>&& body) { broadcast_control(frame_kind::names, std::move(body)); }

void node_runtime::broadcast_groups(std::vector<std::byte>&& body) {
  broadcast_control(frame_kind::groups, std::move(body));
}

bool node_runtime::export_if_local(const actor_ref& actor) {
  return system_->owns(actor) && encode(actor).node == config_.node_id;
}

void node_runtime::broadcast_control(frame_kind kind, std::vector<std::byte>&& body) {
  std::vector<std::byte> frame = control_frame(kind);
  frame.insert(frame.end(), body.begin(), body.end());
  if (frame.size() > config_.max_frame_bytes) {
    log_.warn("a registry or groups message of {} bytes exceeds max_frame_bytes; not sent", frame.size());
    return;
  }
  // On the I/O thread, which owns the links; in the order registrations happened here.
  post([this, frame = std::move(frame)] {
    std::unordered_set<const peer*> up;
    {
      std::lock_guard lock(peers_lock_);
      up.reserve(peers_.size());
      for (const auto& [node, p] : peers_) up.insert(p.get());
    }
    // Each peer's first link, as send_to_peer picks it, in one pass over the links: a search of
    // the links per peer cost peers x links comparisons a registration (about 100,000 among 340
    // peers, for every name or group change).
    for (auto& l : links_)
      if (l->to && up.erase(l->to.get()) != 0) send_on_link(*l, frame);
  });
}

actor_ref node_runtime::remote_ref(const std::string& node, std::uint64_t incarnation, std::uint64_t id,
                                     const std::vector<wire_signature>& signatures) {
  std::shared_ptr<peer> p = find_peer(node);
  if (!p || p->incarnation != incarnation) return {};
  std::vector<proxy::signature> known;
  for (const auto& [message, reply] : signatures) {
    const wire_type* m = find_wire_type(message);
    const wire_type* r = reply.empty() ? nullptr : find_wire_type(reply);
    if (m != nullptr && (reply.empty() || r != nullptr)) known.push_back({m->type, r != nullptr ? r->type : message_type_id{}});
  }
  return proxy_for(p, id, std::move(known));
}

std::vector<wire_signature> node_runtime::export_named(const actor_ref& actor) {
  (void)encode(actor);  // peers may address it from now on
  // What it handles among the types that can cross the wire (a signature with another type
  // cannot be used remotely anyway): every pair of registered types, and each as a cast. That
  // is a square of the registered types (900 questions at 30), asked once per actor type: a
  // remote spawn spent a tenth of the serving node's samples here.
  const std::vector<const wire_type*> types = all_wire_types();
  const void* type = handling_type(actor);
  if (type != nullptr) {
    std::lock_guard lock(exported_signatures_lock_);
    if (auto it = exported_signatures_.find(type); it != exported_signatures_.end() && it->second.first == types.size())
      return it->second.second;
  }
  std::vector<wire_signature> out;
  for (const wire_type* m : types) {
    if (handles(actor, m->type, message_type_id{})) out.emplace_back(m->name, std::string());
    for (const wire_type* r : types)
      if (handles(actor, m->type, r->type)) out.emplace_back(m->name, r->name);
  }
  // Kept only if the actor was alive throughout: an end met halfway answers "no" from there on.
  if (type != nullptr && handling_type(actor) == type) {
    std::lock_guard lock(exported_signatures_lock_);
    exported_signatures_[type] = {types.size(), out};
  }
  return out;
}

void node_runtime::names_changed() { system_->names_changed(); }

void node_runtime::name_lost(const std::string& name, const actor_ref& actor, const std::string& winner) {
  log_.info("registry: {} lost the name \"{}\" to node {}, which took it first", actor.id(), name, winner);
  if (const auto holder = system_->whereis(name); holder && *holder == actor) system_->unregister(name);
  system_->exit(actor, exit_reason::custom("name_conflict: \"" + name + "\" is held by node " + winner));
}

std::optional<std::string> node_runtime::name_owner(std::string_view name) const { return names_->owner_of(name); }

// -- placement and remote spawn -------------------------------------------------------------------

result<std::vector<std::string>> node_runtime::place(const spawn_config& config) const {
  std::vector<std::string> candidates;
  for (const member& m : members(false))
    if (config.role.empty() || m.has_role(config.role)) candidates.push_back(m.id);  // sorted by id
  if (candidates.empty()) return error(errc::no_role_match, "no member has the role \"" + config.role + "\"");
  if (config.placement == placement::local) {
    if (std::find(candidates.begin(), candidates.end(), config_.node_id) == candidates.end())
      return error(errc::no_role_match, "this node lacks the role \"" + config.role + "\"");
    return std::vector<std::string>{config_.node_id};
  }
  // The others follow in turn: a draining node refuses, and the next one is asked.
  const std::size_t first = round_robin_.fetch_add(1, std::memory_order_relaxed) % candidates.size();
  std::rotate(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(first), candidates.end());
  // A member whose connection is down (killed: membership declares it failed only seconds
  // later) or not up yet goes last, in turn among its like: asked only if the others drain.
  std::stable_partition(candidates.begin(), candidates.end(),
                        [&](const std::string& id) { return id == config_.node_id || find_peer(id) != nullptr; });
  if (draining()) std::erase(candidates, config_.node_id);
  if (candidates.empty()) return error(cluster_errc::node_draining, "this node drains and no other has the role");
  return candidates;
}

spawn_reply node_runtime::spawn_here(const spawn_request& request) {
  spawn_reply reply;
  const actor_type_entry* type = find_actor_type(request.type);
  if (type == nullptr) {
    reply.failure = error(errc::actor_class_not_registered, request.type + " on node " + config_.node_id);
    return reply;
  }
  if ((request.probe || request.restore) && !type->migration) {
    reply.failure = error(errc::actor_not_migratable, request.type + " does not restore its state on node " + config_.node_id);
    return reply;
  }
  if (draining()) {
    reply.failure = error(cluster_errc::node_draining, "node " + config_.node_id + " drains");
    return reply;
  }
  if (request.probe) return reply;
  const std::vector<char>& packed = request.restore ? request.state : request.args;
  try {
    msgpack::object_handle values;
    std::size_t offset = 0;
    // From another node: capped as a frame's items are (the request itself was).
    const std::size_t most = std::min<std::size_t>(packed.size(), 65536);
    msgpack::unpack(values, packed.data(), packed.size(), offset, nullptr, nullptr,
                    msgpack::unpack_limit(most, most, packed.size(), packed.size(), 0, 32));
    if (offset != packed.size()) throw msgpack::type_error();
    scoped_ref_resolver resolve(*this);  // refs among the arguments or in the state
    const detail::remote_factory& make = request.restore ? type->migration->restore : type->spawn;
    reply.actor = make(*system_, spawn_options{.name = request.name, .global = request.global}, values.get());
    reply.signatures = export_named(reply.actor);
  } catch (const eam::error& e) {
    reply.failure = e;
  } catch (const std::exception& e) {  // msgpack's type and unpack errors, a bad size
    reply.failure = error(cluster_errc::bad_spawn_arguments, request.type + ": " + e.what());
  }
  return reply;
}

void node_runtime::spawn_by_name_async(std::string type, spawn_config config, std::vector<char> args,
                                       std::function<void(result<actor_ref>)> done) {
  auto job = [this, type = std::move(type), config = std::move(config), args = std::move(args),
              done = std::move(done)](bool stopping) mutable {
    result<actor_ref> spawned = stopping ? result<actor_ref>(error(cluster_errc::node_stopped, "the node shut down"))
                                         : spawn_by_name(type, config, std::move(args));
    try {
      done(std::move(spawned));
    } catch (const std::exception& e) {
      log_.warn("a spawn_async callback threw: {}", e.what());
    }
  };
  {
    std::lock_guard lock(async_spawns_lock_);
    if (!async_spawns_closed_) {
      async_spawns_.push_back(std::move(job));
      if (!async_spawner_.joinable()) async_spawner_ = std::thread([this] { serve_async_spawns(); });
      async_spawns_changed_.notify_one();
      return;
    }
  }
  job(true);
}

void node_runtime::serve_async_spawns() {
  std::unique_lock lock(async_spawns_lock_);
  for (;;) {
    async_spawns_changed_.wait(lock, [this] { return async_spawns_closed_ || !async_spawns_.empty(); });
    std::vector<std::function<void(bool)>> jobs;
    jobs.swap(async_spawns_);
    const bool closed = async_spawns_closed_;
    lock.unlock();
    for (auto& job : jobs) job(closed);
    lock.lock();
    if (async_spawns_closed_ && async_spawns_.empty()) return;
  }
}

result<spawn_reply> node_runtime::call_spawner(const std::string& to, spawn_request request,
                                               std::chrono::milliseconds timeout) {
  actor_ref spawner;
  {
    std::lock_guard lock(spawners_lock_);
    if (const auto it = spawners_.find(to); it != spawners_.end() && it->second.is_alive())
      spawner = it->second;  // a proxy ends with its node: a dead one is looked up again
  }
  // The caller's timeout bounds the whole call, the look-up of the spawner included.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!spawner) {
    result<actor_ref> found = whereis(
        to, spawner_name, {{message_type_id::of<spawn_request>(), message_type_id::of<spawn_reply>()}}, timeout);
    if (!found) return found.error_value();
    spawner = std::move(found).value();
    std::lock_guard lock(spawners_lock_);
    spawners_.insert_or_assign(to, spawner);
  }
  // A request that makes an actor can be withdrawn: its caller rebuilds a migrating actor at
  // home after a timeout, or reports the spawn failed, so a late answer must leave no actor.
  const auto to_spawner = unchecked_typed_ref_cast<spawner_ref>(std::move(spawner));
  if (!request.probe) request.token = random_nonzero();
  const std::uint64_t token = request.token;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  result<spawn_reply> reply = to_spawner.call(std::move(request), std::max(left, std::chrono::milliseconds(1))).get();
  if (!reply && reply.code() == errc::timeout && token != 0) to_spawner.cast(spawn_withdrawn{token});
  return reply;
}

void recent_spawns::note(std::uint64_t token, actor_ref actor) {
  if (!by_token_.insert_or_assign(token, std::move(actor)).second) return;
  order_.push_back(token);
  if (order_.size() > kept) {
    by_token_.erase(order_.front());
    order_.pop_front();
  }
}

actor_ref recent_spawns::take(std::uint64_t token) {
  const auto it = by_token_.find(token);
  if (it == by_token_.end()) return {};
  actor_ref made = std::move(it->second);
  by_token_.erase(it);  // its place in order_ goes when it comes to the front
  return made;
}

result<actor_ref> node_runtime::spawn_by_name(std::string_view type, const spawn_config& config,
                                              std::vector<char> args) {
  result<std::vector<std::string>> targets = place(config);
  if (!targets) return targets.error_value();
  spawn_request request;  // a spawn: probe, restore and state keep their defaults
  request.type = std::string(type);
  request.name = config.name;
  request.global = config.global;
  request.args = std::move(args);
  error refused(cluster_errc::node_draining);
  for (const std::string& target : targets.value()) {
    if (target == config_.node_id) {
      spawn_reply reply = spawn_here(request);
      if (!reply.failure) return std::move(reply.actor);
      if (reply.failure->code() != cluster_errc::node_draining) return *reply.failure;
      refused = *reply.failure;
      continue;
    }
    if (inside_actor())
      return error(errc::blocking_call_on_worker, "a remote spawn blocks: call node::spawn outside actors");
    result<spawn_reply> reply = call_spawner(target, request, config.timeout);
    if (!reply) return reply.error_value();
    if (reply.value().failure) {
      if (reply.value().failure->code() != cluster_errc::node_draining) return *reply.value().failure;
      refused = *reply.value().failure;
      continue;
    }
    actor_ref spawned = reply.value().actor ? spawned_ref(reply.value()) : actor_ref{};
    if (!spawned) return error(errc::transport_error, "node " + target + " is gone");
    return spawned;
  }
  return refused;
}

actor_ref node_runtime::spawned_ref(const spawn_reply& reply) {
  // The proxy learns what the actor handles, so that typed_ref_cast checks it as a local one.
  const detail::wire_ref w = encode(reply.actor);
  return remote_ref(w.node, w.incarnation, w.actor, reply.signatures);
}

std::vector<std::pair<std::string, std::string>> node_runtime::registered_names() const { return names_->names(); }

void node_runtime::after_membership_change() {
  std::vector<member_event> changes;
  changes.swap(membership_changes_);
  {
    std::lock_guard lock(members_lock_);
    // A refutation raises this node's own incarnation, with no event: the snapshot follows.
    if (swim_->stats().refutations != gossip_stats_.refutations) snapshot_stale_ = true;
    gossip_stats_ = swim_->stats();
    if (!changes.empty() || snapshot_stale_) members_snapshot_ = swim_->members();
  }
  if (changes.empty() && !snapshot_stale_) return;
  snapshot_stale_ = false;
  members_changed_.notify_all();
  std::vector<std::function<void(const member_event&)>> callbacks;
  {
    std::lock_guard lock(callbacks_lock_);
    for (const auto& [id, cb] : callbacks_) callbacks.push_back(cb);
  }
  for (const member_event& e : changes) {
    const member& m = e.subject;
    switch (e.kind) {
      case member_event_kind::join:
      case member_event_kind::alive:
      case member_event_kind::update:
        if (!find_peer(m.id) && link_to(m.address) == nullptr) dial(m.address, false);
        break;
      case member_event_kind::leave: {
        // Part 1 follows membership: a member declared failed is a lost connection for its
        // actors' watchers, links and calls (a suspected one is not). A member that left says
        // so on its connection too, behind the last frames it sent: that leave frame (or the
        // connection's end) closes the peer, so the datagram that overtook them loses nothing.
        if (std::shared_ptr<peer> p = find_peer(m.id); p && p->address == m.address && e.reason != "left")
          peer_down(p, "declared failed by membership");
        {  // a node that left or failed before it connected: refs to it wait no longer
          std::shared_ptr<peer> pending;
          {
            std::lock_guard lock(peers_lock_);
            if (auto it = pending_peers_.find(m.id); it != pending_peers_.end()) {
              pending = std::move(it->second.p);
              pending_peers_.erase(it);
              note_gone_life(pending->node, pending->incarnation);
            }
          }
          if (pending) pending_peer_gone(pending, "it left the cluster before it connected");
        }
        for (std::size_t i = 0; i < links_.size(); ++i)
          if (links_[i]->address == m.address && !links_[i]->to && !links_[i]->configured) {
            close_link(*links_[i], 0);
            links_.erase(links_.begin() + static_cast<std::ptrdiff_t>(i));
            break;
          }
        break;
      }
      case member_event_kind::suspect: break;
    }
    if (e.kind == member_event_kind::join || e.kind == member_event_kind::leave)
      log_.info("member {} ({}) {}{}{}", m.id, m.address, e.kind == member_event_kind::join ? "joined" : "left",
                e.reason.empty() ? "" : ": ", e.reason);
    if (telemetry::any_handlers()) {
      try {
        telemetry::execute("libeam.cluster." + std::string(to_string(e.kind)), {},
                           {{"node_id", config_.node_id},
                            {"member", m.id},
                            {"address", m.address},
                            {"status", std::string(to_string(m.status))},
                            {"reason", e.reason}});
      } catch (...) {
      }
    }
    for (const auto& cb : callbacks) {
      try {
        cb(e);
      } catch (const std::exception& ex) {
        log_.warn("a member event callback threw: {}", ex.what());
      }
    }
  }
}

void node_runtime::post(std::function<void()> command) {
  held_casts::release_batches();  // what this thread cast before leaves before it
  {
    std::lock_guard lock(commands_lock_);
    // Release: a sender that sees the count sees it before anything it queues after the post.
    commands_pending_.fetch_add(1, std::memory_order_release);
    try {
      commands_.push_back(std::move(command));
    } catch (...) {
      commands_pending_.fetch_sub(1, std::memory_order_release);
      throw;
    }
  }
  const std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void node_runtime::run_commands() {
  std::vector<std::function<void()>> now;
  {
    std::lock_guard lock(commands_lock_);
    now.swap(commands_);
  }
  for (auto& c : now) c();
  // Release: what the commands sent is in ZeroMQ's queue before a sender sees the count fall.
  commands_pending_.fetch_sub(now.size(), std::memory_order_release);
}

std::vector<member> node_runtime::members(bool with_departed) const {
  std::lock_guard lock(members_lock_);
  std::vector<member> out;
  for (const member& m : members_snapshot_)
    if (with_departed || m.status == member_status::alive || m.status == member_status::suspect) out.push_back(m);
  return out;
}

result<void> node_runtime::wait_for_cluster(const cluster_condition& condition) {
  std::string missing;
  const auto holds = [&] {
    std::size_t live = 0;
    for (const member& m : members_snapshot_)
      if (m.status == member_status::alive || m.status == member_status::suspect) ++live;
    missing.clear();
    if (live < condition.min_members)
      missing = std::to_string(condition.min_members - live) + " of " + std::to_string(condition.min_members) +
                " members (" + std::to_string(live) + " here)";
    for (const std::string& id : condition.nodes) {
      const auto it = std::find_if(members_snapshot_.begin(), members_snapshot_.end(),
                                   [&](const member& m) { return m.id == id; });
      if (it == members_snapshot_.end() ||
          (it->status != member_status::alive && it->status != member_status::suspect))
        missing += (missing.empty() ? "" : ", ") + ("node " + id);
    }
    return missing.empty();
  };
  std::unique_lock lock(members_lock_);
  const bool done =
      members_changed_.wait_for(lock, condition.timeout, [&] { return members_closed_ || holds(); });
  if (holds()) return {};
  if (done) return error(cluster_errc::node_stopped, "the node shut down while waiting for the cluster");
  std::string what = "wait_for_cluster: timeout " + std::to_string(condition.timeout.count()) +
                     " ms passed; missing " + missing;
  if (std::string refused = refusal_text(); !refused.empty())
    return error(cluster_errc::node_id_in_use, what + ": " + refused);
  return error(errc::timeout, std::move(what));
}

void node_runtime::set_metadata(std::map<std::string, std::string> metadata) {
  post([this, metadata = std::move(metadata)]() mutable {
    swim_->set_metadata(std::move(metadata), swim_now());
    snapshot_stale_ = true;
  });
}

std::uint64_t node_runtime::on_member_event(std::function<void(const member_event&)> callback) {
  std::lock_guard lock(callbacks_lock_);
  callbacks_.emplace(++next_callback_, std::move(callback));
  return next_callback_;
}

void node_runtime::remove_member_callback(std::uint64_t id) {
  std::lock_guard lock(callbacks_lock_);
  callbacks_.erase(id);
}

membership_stats node_runtime::gossip_stats() const {
  std::lock_guard lock(members_lock_);
  return gossip_stats_;
}

// -- keyring ---------------------------------------------------------------------------------------

namespace {
result<cluster_keys> keys_of(bool secure, std::string_view cookie, const std::string& salt) {
  if (!secure) return error(cluster_errc::invalid_config, "open mode has no keyring: start the node with a cookie");
  if (cookie.size() < 16) return error(cluster_errc::invalid_config, "a cookie has at least 16 characters");
  return derive_cluster_keys(cookie, salt);
}
}  // namespace

result<void> node_runtime::install_key(std::string_view cookie) {
  result<cluster_keys> keys = keys_of(secure_, cookie, config_.salt);
  if (!keys) return keys.error_value();
  {
    std::lock_guard lock(keys_lock_);
    const std::string fp = keys.value().fingerprint();
    for (const auto& k : ring_)
      if (k.fingerprint() == fp) return {};
    ring_.push_back(keys.value());
  }
  post([this] { apply_keys(); });
  return {};
}

result<void> node_runtime::use_key(std::string_view cookie) {
  result<cluster_keys> keys = keys_of(secure_, cookie, config_.salt);
  if (!keys) return keys.error_value();
  {
    std::lock_guard lock(keys_lock_);
    const std::string fp = keys.value().fingerprint();
    const auto it = std::find_if(ring_.begin(), ring_.end(), [&](const cluster_keys& k) { return k.fingerprint() == fp; });
    if (it == ring_.end()) return error(cluster_errc::key_not_installed, "use_key: key " + fp + " is not installed");
    if (it == ring_.begin()) return {};
    std::rotate(ring_.begin(), it, it + 1);
  }
  // Returns once the listener has its new key (its peers confirmed, or rekey_wait passed), so
  // that removing the old key after use_key returned on every node loses no connection.
  auto rekeyed = std::make_shared<std::promise<void>>();  // shared: a command is copyable
  std::future<void> done = rekeyed->get_future();
  post([this, rekeyed] {
    apply_keys();
    rekey_.done.push_back(std::move(*rekeyed));
    start_rekey();
  });
  if (done.wait_for(3 * rekey_wait) != std::future_status::ready)
    return error(errc::timeout, "use_key: the listener was not re-keyed in time");
  return {};
}

result<void> node_runtime::remove_key(std::string_view cookie) {
  result<cluster_keys> keys = keys_of(secure_, cookie, config_.salt);
  if (!keys) return keys.error_value();
  {
    std::lock_guard lock(keys_lock_);
    const std::string fp = keys.value().fingerprint();
    const auto it = std::find_if(ring_.begin(), ring_.end(), [&](const cluster_keys& k) { return k.fingerprint() == fp; });
    if (it == ring_.end()) return error(cluster_errc::key_not_installed, "remove_key: key " + fp + " is not installed");
    if (it == ring_.begin()) return error(cluster_errc::key_is_primary, "remove_key: " + fp + " is the primary key");
    ring_.erase(it);
  }
  post([this] { apply_keys(); });
  return {};
}

std::vector<std::string> node_runtime::list_keys() const {
  std::lock_guard lock(keys_lock_);
  std::vector<std::string> out;
  for (const auto& k : ring_) out.push_back(k.fingerprint());
  return out;
}

void node_runtime::apply_keys() {
  std::vector<gossip_key> gossip;
  std::vector<zap_authenticator::curve_key> clients;
  {
    std::lock_guard lock(keys_lock_);
    for (const auto& k : ring_) {
      gossip.push_back(k.gossip_key);
      clients.push_back(k.curve_public);
    }
  }
  swim_->set_keys(std::move(gossip));
  if (zap_) zap_->set_allowed(std::move(clients));
}

// Re-keying the listener: a ZeroMQ listener has one Curve key pair, fixed when it is bound, so
// it is bound again, and the connections it accepted end with it. What they carried but was
// not read yet would be lost: so each peer, told the new key's fingerprint, sends a barrier
// behind its last frame on its old connection and dials a new one with the new key at once
// (its frames wait there, in order: the handshake fails until the listener is re-keyed, and
// ZeroMQ dials again). Once every barrier is in (or rekey_wait passed), everything sent on the
// old connections has been read, and the listener is bound again with the new key.
void node_runtime::start_rekey() {
  if (!secure_) return;
  std::string fp;
  {
    std::lock_guard lock(keys_lock_);
    fp = ring_.front().fingerprint();
  }
  std::vector<std::promise<void>> callers = std::move(rekey_.done);
  rekey_ = rekey_state{};
  rekey_.done = std::move(callers);
  rekey_.active = true;
  rekey_.deadline = std::chrono::steady_clock::now() + rekey_wait;
  listener_rekey_window_until_ = rekey_.deadline + 2 * rekey_wait;
  for (const auto& [routing_id, p] : by_routing_id_)
    if (p->is_up() && std::find(rekey_.waiting.begin(), rekey_.waiting.end(), p) == rekey_.waiting.end())
      rekey_.waiting.push_back(p);
  const std::vector<std::byte> request = control_frame(frame_kind::rekey_request, fp);
  for (auto& l : links_)
    if (l->to && l->dealer != nullptr) send_on_link(*l, request);
  log_.info("re-keying the listener to key {}: waiting for {} peer(s)", fp, rekey_.waiting.size());
  if (rekey_.waiting.empty()) finish_rekey();
}

void node_runtime::on_rekey_barrier(const std::shared_ptr<peer>& from) {
  if (!rekey_.active) return;
  std::erase(rekey_.waiting, from);
  if (rekey_.waiting.empty()) finish_rekey();
}

void node_runtime::finish_rekey() {
  rekey_.active = false;
  listener_rekey_window_until_ = std::chrono::steady_clock::now() + 2 * rekey_wait;
  rekey_.waiting.clear();
  struct answer_callers {  // whatever happens below, use_key returns
    std::vector<std::promise<void>>& done;
    ~answer_callers() {
      for (auto& p : done) p.set_value();
      done.clear();
    }
  } answer{rekey_.done};
  cluster_keys primary;
  {
    std::lock_guard lock(keys_lock_);
    primary = ring_.front();
  }
  zmq_unbind(router_, bound_endpoint_.c_str());
  zmq_setsockopt(router_, ZMQ_CURVE_SECRETKEY, primary.curve_secret.data(), primary.curve_secret.size());
  // The old listener closes asynchronously: its port may be busy for a moment.
  bool bound = false;
  for (int attempt = 0; attempt < 200 && !bound; ++attempt) {
    bound = zmq_bind(router_, bound_endpoint_.c_str()) == 0;
    if (!bound) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!bound) {
    log_.error("re-keying: cannot bind {} again: {}", bound_endpoint_, zmq_strerror(zmq_errno()));
    return;
  }
  curve_public_ = primary.curve_public;
  curve_secret_ = primary.curve_secret;
  log_.info("re-keyed the listener to key {}", primary.fingerprint());
}

void node_runtime::on_rekey_request(const std::shared_ptr<peer>& from, std::string_view fingerprint) {
  link* l = nullptr;
  for (auto& candidate : links_)
    if (candidate->to == from) l = candidate.get();
  if (l == nullptr) return;
  bool known = false;
  {
    std::lock_guard lock(keys_lock_);
    for (const auto& k : ring_) known = known || k.fingerprint() == fingerprint;
  }
  if (!known) {
    log_.warn("node {} re-keys to key {}, which this node lacks (install it): the connection will be lost",
              from->node, fingerprint);
    return;
  }
  close_gate(*l);  // draining from here on, and its successor holds: the I/O thread sends alone
  flush(*l);  // everything queued for it goes before the barrier
  send_on_link(*l, control_frame(frame_kind::rekey_barrier));
  // The old link drains what it still holds, the barrier last, on the old connection; what is
  // sent from now on waits on the new one until the listener has its new key.
  std::shared_ptr<peer> to = std::move(l->to);
  const bool configured = l->configured;
  l->configured = false;
  l->draining = true;
  link& fresh = dial(l->address, configured, std::string(fingerprint));
  fresh.to = std::move(to);
  // What the flush above could not take (ZeroMQ full, or given back for a command) waits in the
  // peer's buffer with its notice spent: the new link takes it once its hold lifts.
  fresh.flush_again = true;
  fresh.rekey_grace_until = std::chrono::steady_clock::now() + 2 * rekey_wait;
  fresh.holding = true;
  close_drained_links();
}

void node_runtime::close_drained_links() {
  // ZeroMQ still sends what it holds within the linger.
  close_links_where([](const link& l) { return l.draining && l.stalled.empty(); },
                    static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(rekey_wait).count()));
}

void node_runtime::close_links_where(const std::function<bool(const link&)>& which, int linger_ms) {
  for (std::size_t i = 0; i < links_.size();) {
    if (!which(*links_[i])) {
      ++i;
      continue;
    }
    close_link(*links_[i], linger_ms);
    links_.erase(links_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

link& node_runtime::replace_link(link& old, std::string server_key, int linger_ms) {
  const std::string address = old.address;
  const bool configured = old.configured;
  close_gate(old);
  std::shared_ptr<peer> to = old.to;
  stalled_frames stalled;
  stalled.swap(old.stalled);
  close_link(old, linger_ms);
  std::erase_if(links_, [&](const std::unique_ptr<link>& l) { return l.get() == &old; });
  link& fresh = dial(address, configured, std::move(server_key));
  fresh.to = std::move(to);
  fresh.flush_again = true;  // its peer's frames may wait for a link to take them
  fresh.stalled.swap(stalled);
  return fresh;
}

}  // namespace eam::cluster::internal
