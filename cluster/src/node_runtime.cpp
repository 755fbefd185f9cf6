#include "node_runtime.hpp"

#include "inbound.hpp"
#include "key_derivation.hpp"
#include "zap_authenticator.hpp"

#include <eam/cluster/errc.hpp>
#include <eam/engine/behavior.hpp>
#include <eam/engine/context.hpp>
#include <eam/engine/forwarding.hpp>
#include <eam/engine/telemetry.hpp>

#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cstdlib>
#include <random>

namespace eam::cluster::internal {

namespace {

constexpr std::size_t frame_target_bytes = 256u << 10;
constexpr int send_high_water_frames = 64;
constexpr int leave_linger_ms = 1000;
constexpr auto log_interval = std::chrono::minutes(1);
constexpr int monitored_events = ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

std::string default_node_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "node");
  return std::string(host) + "-" + std::to_string(::getpid());
}

std::uint64_t random_incarnation() {
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
  bool configured = false;  // from node_config::peers: dialled again after a loss
  void* dealer = nullptr;
  void* monitor = nullptr;
  std::shared_ptr<peer> to;  // set once the node's hello has come
  std::deque<zmq_msg_t> stalled;
  std::chrono::steady_clock::time_point last_sent;
};

node_runtime::node_runtime(node_config config) : config_(std::move(config)), log_("cluster") {
  if (config_.node_id.empty()) config_.node_id = default_node_id();
  if (config_.node_id.size() > 200) fail_config("a node id has at most 200 characters");
  if (config_.heartbeat_interval.count() <= 0 || config_.heartbeat_timeout <= config_.heartbeat_interval)
    fail_config("heartbeat_timeout must exceed a positive heartbeat_interval");
  std::optional<std::string> cookie = config_.cookie;
  if (!cookie)
    if (const char* env = std::getenv("LIBEAM_COOKIE"); env != nullptr && *env != '\0') cookie = env;
  if (cookie) {
    if (cookie->size() < 16) fail_config("a cookie has at least 16 characters");
    const cluster_keys keys = derive_cluster_keys(*cookie, config_.salt);
    curve_public_ = keys.curve_public;
    curve_secret_ = keys.curve_secret;
    secure_ = true;
  } else {
    static std::once_flag warned;
    std::call_once(warned, [&] {
      log_.warn("no cookie (node_config::cookie or LIBEAM_COOKIE): open mode, traffic is neither encrypted nor "
                "authenticated");
    });
  }
  incarnation_ = random_incarnation();
  log_ = log_.with("node", config_.node_id);

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
  watcher_ = system_->spawn([this](actor_context& ctx) {
    return behavior{[this, &ctx](watch_exported& w) {
      const std::uint64_t id = w.actor.id();
      ctx.watch(w.actor, [this, id](const down& d) { local_actor_ended(id, d.reason); });
      exported_watched_.fetch_add(1, std::memory_order_relaxed);
    }};
  });
  for (const std::string& address : config_.peers) dial(address, true);
  system_->add_health_check("cluster", [this] {
    const auto connected = connected_peers().size();
    if (!config_.peers.empty() && connected == 0)
      return component_health{health_status::degraded, "no peer connected"};
    return component_health{};
  });
  io_ = std::thread([this] { run_io(); });
}

node_runtime::~node_runtime() {
  shutdown();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::string node_runtime::address() const { return advertised_; }

// -- sockets (I/O thread, and the constructor before it starts) ------------------------------------

void node_runtime::open_sockets() {
  zmq_ = zmq_ctx_new();
  if (zmq_ == nullptr) fail_config("zmq_ctx_new failed");
  zmq_ctx_set(zmq_, ZMQ_IO_THREADS, 1);
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
  check_zmq(zmq_socket_monitor(router_, monitor_endpoint.c_str(),
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_AUTH),
            "monitoring the listening socket");
  router_monitor_ = zmq_socket(zmq_, ZMQ_PAIR);
  set_int(router_monitor_, ZMQ_LINGER, 0);
  check_zmq(zmq_connect(router_monitor_, monitor_endpoint.c_str()), "monitoring the listening socket");

  const std::string endpoint =
      "tcp://" + config_.bind_address + ":" + (config_.port == 0 ? std::string("*") : std::to_string(config_.port));
  check_zmq(zmq_bind(router_, endpoint.c_str()), "binding " + endpoint);
  char bound[256] = {};
  std::size_t len = sizeof bound;
  zmq_getsockopt(router_, ZMQ_LAST_ENDPOINT, bound, &len);
  const std::string_view b(bound);
  port_ = static_cast<std::uint16_t>(std::stoi(std::string(b.substr(b.rfind(':') + 1))));
}

link& node_runtime::dial(const std::string& address, bool configured) {
  auto owned = std::make_unique<link>();
  link& l = *owned;
  l.address = address;
  l.configured = configured;
  l.dealer = zmq_socket(zmq_, ZMQ_DEALER);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(incarnation_));
  const std::string routing_id = "n" + std::string(hex) + config_.node_id;  // never starts with a zero byte
  zmq_setsockopt(l.dealer, ZMQ_ROUTING_ID, routing_id.data(), routing_id.size());
  set_int(l.dealer, ZMQ_LINGER, 0);
  set_int(l.dealer, ZMQ_SNDHWM, send_high_water_frames);
  set_int(l.dealer, ZMQ_RECONNECT_IVL, 100);
  set_int(l.dealer, ZMQ_RECONNECT_IVL_MAX, 1000);
  if (secure_) {
    zmq_setsockopt(l.dealer, ZMQ_CURVE_SERVERKEY, curve_public_.data(), curve_public_.size());
    zmq_setsockopt(l.dealer, ZMQ_CURVE_PUBLICKEY, curve_public_.data(), curve_public_.size());
    zmq_setsockopt(l.dealer, ZMQ_CURVE_SECRETKEY, curve_secret_.data(), curve_secret_.size());
  }
  const std::string monitor_endpoint = "inproc://eam-link-" + std::to_string(next_monitor_++);
  zmq_socket_monitor(l.dealer, monitor_endpoint.c_str(), monitored_events);
  l.monitor = zmq_socket(zmq_, ZMQ_PAIR);
  set_int(l.monitor, ZMQ_LINGER, 0);
  zmq_connect(l.monitor, monitor_endpoint.c_str());
  if (zmq_connect(l.dealer, ("tcp://" + address).c_str()) != 0)
    log_.warn("cannot dial {}: {}", address, zmq_strerror(zmq_errno()));
  frame_buffer hello_frame;
  pack_hello(hello_frame, hello{config_.node_id, incarnation_, advertised_});
  zmq_send(l.dealer, hello_frame.data(), hello_frame.size(), ZMQ_DONTWAIT);  // queued until connected
  l.last_sent = std::chrono::steady_clock::now();
  links_.push_back(std::move(owned));
  return l;
}

void node_runtime::close_link(link& l, int linger_ms) {
  for (auto& m : l.stalled) zmq_msg_close(&m);
  l.stalled.clear();
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
    if (announce_leave && l->to && l->dealer != nullptr) {
      const char leave[2] = {static_cast<char>(wire_version), static_cast<char>(frame_kind::leave)};
      zmq_send(l->dealer, leave, sizeof leave, ZMQ_DONTWAIT);
    }
    close_link(*l, announce_leave ? leave_linger_ms : 0);
  }
  links_.clear();
  if (router_monitor_ != nullptr) zmq_close(router_monitor_);
  if (router_ != nullptr) {
    zmq_socket_monitor(router_, nullptr, 0);
    zmq_close(router_);
  }
  router_ = router_monitor_ = nullptr;
  zap_.reset();
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
    if (zap_) items.push_back({zap_->socket(), 0, ZMQ_POLLIN, 0});
    for (auto& l : links_)
      if (!l->stalled.empty()) items.push_back({l->dealer, 0, ZMQ_POLLOUT, 0});
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - std::chrono::steady_clock::now());
    zmq_poll(items.data(), static_cast<int>(items.size()), std::max<long>(0, wait.count()));

    if (items[1].revents & ZMQ_POLLIN) {
      std::uint64_t count;
      (void)!::read(wake_fd_, &count, sizeof count);
    }
    if (zap_ && (items[2].revents & ZMQ_POLLIN)) zap_->handle_pending();
    if (items[0].revents & ZMQ_POLLIN) read_router();
    flush_all();
    if (std::chrono::steady_clock::now() >= next_tick) {
      read_router_monitor();
      read_link_events();
      heartbeat_and_expire();
      next_tick = std::chrono::steady_clock::now() + tick;
    }
  }
  flush_all();  // what actors sent while the system stopped still leaves, then the leave frames
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
    if (out.bad || !first.got)
      note_bad_frame(routing_id, out.bad ? out.why : "a frame before the hello");
    else
      on_hello(routing_id, std::move(*first.got));
    return;
  }
  std::shared_ptr<peer> from = it->second;
  from->last_heard = std::chrono::steady_clock::now();
  inbound visitor(*this, from, routing_id);
  const decode_outcome out = decode_frame(frame, visitor);
  messages_in_.fetch_add(out.items, std::memory_order_relaxed);
  if (out.bad) note_bad_frame(from->node, out.why);
}

void node_runtime::on_hello(const std::string& routing_id, hello&& h) {
  if (h.node == config_.node_id) {
    note_bad_frame(routing_id, "a hello with this node's own id");
    return;
  }
  if (std::shared_ptr<peer> known = find_peer(h.node)) {
    if (known->incarnation == h.incarnation) {  // the same node on another connection
      by_routing_id_[routing_id] = known;
      known->last_heard = std::chrono::steady_clock::now();
      return;
    }
    peer_down(known, "restarted");  // a new incarnation: the old one's refs stay dead
  }
  auto p = std::make_shared<peer>(h.node, h.incarnation, h.address,
                                  peer_limits{config_.send_buffer_bytes, frame_target_bytes, config_.max_frame_bytes},
                                  wake_fd_, sender_waits_);
  by_routing_id_[routing_id] = p;
  link* out = nullptr;
  for (auto& l : links_)
    if (l->address == h.address && !l->to) out = l.get();
  if (out == nullptr) out = &dial(h.address, false);
  out->to = p;
  {
    std::lock_guard lock(peers_lock_);
    peers_[p->node] = p;
  }
  peers_changed_.notify_all();
  log_.info("node {} ({}) connected", p->node, p->address);
  emit_peer_event("libeam.cluster.peer_connected", config_.node_id, *p, "hello");
}

// `p` by value: it may be a link's own pointer, and this closes that link.
void node_runtime::peer_down(std::shared_ptr<peer> p, std::string_view why) {
  if (!p->is_up()) return;
  p->go_down();  // fails the calls in flight with transport_error
  {
    std::lock_guard lock(peers_lock_);
    if (auto it = peers_.find(p->node); it != peers_.end() && it->second == p) peers_.erase(it);
  }
  peers_changed_.notify_all();
  std::erase_if(by_routing_id_, [&](const auto& kv) { return kv.second == p; });
  std::unordered_map<std::uint64_t, local_proxy> gone;
  {
    std::lock_guard lock(proxies_lock_);
    if (auto it = proxies_.find(p.get()); it != proxies_.end()) {
      gone.swap(it->second);
      proxies_.erase(it);
    }
    for (auto& [id, proxy] : gone) proxy_identity_.erase(proxy.ref.cell());
  }
  for (auto& [id, proxy] : gone) system_->stop(proxy.ref, exit_reason::noconnection());
  {
    std::lock_guard lock(exports_lock_);
    for (auto& [id, peers] : watched_by_) std::erase(peers, p);
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
  for (std::size_t i = 0; i < links_.size(); ++i) {
    if (links_[i]->to != p) continue;
    const std::string address = links_[i]->address;
    const bool configured = links_[i]->configured;
    // The end is mutual, as a broken connection is: a peer we give up on (silent, restarted)
    // hears it, so that it does not go on taking us for connected.
    const bool tell = why != "left" && why != "connection lost";
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
}

void node_runtime::read_link_events() {
  // read_monitor may close a link (and dial it again): walk by index, never past a closed one.
  for (std::size_t i = 0; i < links_.size();) {
    link* l = links_[i].get();
    if (read_monitor(*l)) ++i;  // else links_[i] is another link now (or none): look at it next
  }
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
    if (zmq_msg_size(&event) >= 2) std::memcpy(&id, zmq_msg_data(&event), 2);
    zmq_msg_close(&event);
    zmq_msg_init(&endpoint);
    zmq_msg_recv(&endpoint, l.monitor, 0);
    zmq_msg_close(&endpoint);
    if (id == ZMQ_EVENT_DISCONNECTED && l.to) {
      peer_down(l.to, "connection lost");  // closes this link: stop reading it
      return false;
    }
    if (id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL || id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
        id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
      auth_failures_.fetch_add(1, std::memory_order_relaxed);
      note_bad_frame(l.address, "the handshake failed: another cookie, or open mode against a secure node");
      bad_frames_.fetch_sub(1, std::memory_order_relaxed);  // counted as an auth failure, not a bad frame
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
    auth_failures_.fetch_add(1, std::memory_order_relaxed);  // only handshake failures are monitored here
    note_bad_frame(from, "refused a connection: its handshake failed (another cookie, or open mode)");
    bad_frames_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void node_runtime::flush(link& l) {
  const auto sent = [&](std::size_t size) {
    frames_out_.fetch_add(1, std::memory_order_relaxed);
    bytes_out_.fetch_add(size, std::memory_order_relaxed);
    l.last_sent = std::chrono::steady_clock::now();
  };
  while (!l.stalled.empty()) {
    const std::size_t size = zmq_msg_size(&l.stalled.front());
    if (zmq_msg_send(&l.stalled.front(), l.dealer, ZMQ_DONTWAIT) < 0) return;  // still full
    l.stalled.pop_front();
    sent(size);
  }
  if (!l.to) return;
  std::vector<frame_buffer> frames;
  l.to->take_frames(frames);
  for (auto& f : frames) {
    zmq_msg_t m;
    const std::size_t size = f.size();
    zmq_msg_init_data(&m, f.release(), size, [](void* data, void*) { std::free(data); }, nullptr);
    if (!l.stalled.empty() || zmq_msg_send(&m, l.dealer, ZMQ_DONTWAIT) < 0)
      l.stalled.push_back(m);  // kept in order; sent when the socket has room (POLLOUT)
    else
      sent(size);
  }
}

void node_runtime::flush_all() {
  for (auto& l : links_)
    if (l->dealer != nullptr) flush(*l);
}

void node_runtime::heartbeat_and_expire() {
  const auto now = std::chrono::steady_clock::now();
  // A node that was not running (stopped, swapped out, starved) has heard nothing because it
  // listened to nothing: its peers' silence over that gap is not theirs, so it is forgiven.
  const auto gap = now - last_expiry_check_;
  last_expiry_check_ = now;
  if (gap > config_.heartbeat_timeout / 2) {
    for (auto& [id, p] : by_routing_id_) p->last_heard = now;
    log_.warn("this node's I/O loop did not run for {} ms: its peers' silence over that time is not counted",
              std::chrono::duration_cast<std::chrono::milliseconds>(gap).count());
  }
  for (auto& l : links_) {
    if (!l->to || !l->stalled.empty() || now - l->last_sent < config_.heartbeat_interval) continue;
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
  for (auto it = bad_frame_logged_.begin(); it != bad_frame_logged_.end();)
    it = now - it->second > log_interval ? bad_frame_logged_.erase(it) : std::next(it);
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

void node_runtime::cast_dropped(std::string_view why) {
  dropped_casts_.fetch_add(1, std::memory_order_relaxed);
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
  if (fresh) watcher_.cast(watch_exported{ref});  // its end is then told to the peers that watch it
}

void node_runtime::local_actor_ended(std::uint64_t id, const exit_reason& reason) {
  std::vector<std::shared_ptr<peer>> watchers;
  {
    std::lock_guard lock(exports_lock_);
    exported_.erase(id);
    if (auto it = watched_by_.find(id); it != watched_by_.end()) {
      watchers = std::move(it->second);
      watched_by_.erase(it);
    }
  }
  scoped_ref_resolver resolve(*this);
  for (auto& p : watchers) {
    try {
      (void)p->enqueue([&](packer& pk) { pack_down(pk, id, reason); });
    } catch (const std::exception&) {
    }
  }
}

detail::wire_ref node_runtime::encode(const actor_ref& ref) {
  {
    std::lock_guard lock(proxies_lock_);
    if (auto it = proxy_identity_.find(ref.cell()); it != proxy_identity_.end() && it->second.first == ref.id())
      return {it->second.second.home->node, it->second.second.home->incarnation, it->second.second.id};
  }
  export_actor(ref);
  return {config_.node_id, incarnation_, ref.id()};
}

actor_ref node_runtime::decode(const detail::wire_ref& ref) {
  if (ref.node == config_.node_id) return ref.incarnation == incarnation_ ? exported(ref.actor) : actor_ref{};
  std::shared_ptr<peer> p = find_peer(ref.node);
  if (!p || p->incarnation != ref.incarnation) return {};  // an unknown node, or an old life of it: a dead ref
  return proxy_for(p, ref.actor, {});
}

actor_ref node_runtime::proxy_for(const std::shared_ptr<peer>& p, std::uint64_t remote_id,
                                  std::vector<proxy::signature> sigs) {
  actor_ref ref;
  {
    std::lock_guard lock(proxies_lock_);
    auto& of_node = proxies_[p.get()];
    if (auto it = of_node.find(remote_id); it != of_node.end()) {
      it->second.forwarder->add_checked(sigs);
      return it->second.ref;
    }
    if (!p->is_up()) return {};
    auto forwarder = std::make_shared<proxy>(*this, p, remote_id, std::move(sigs));
    ref = spawn_forwarding_actor(*system_, forwarder);
    of_node.emplace(remote_id, local_proxy{ref, forwarder});
    proxy_identity_.emplace(ref.cell(), std::pair{ref.id(), remote_actor{p, remote_id}});
  }
  // The remote node tells us when the actor ends; the proxy then ends with its reason.
  (void)p->enqueue([&](packer& pk) { pack_monitor(pk, remote_id); });
  return ref;
}

// -- whereis ---------------------------------------------------------------------------------------

result<actor_ref> node_runtime::whereis(std::string_view node, std::string_view name,
                                        const std::vector<node::signature>& sigs) {
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
  if (!sent || answer.wait_for(config_.lookup_timeout) != std::future_status::ready) {
    std::lock_guard lock(lookups_lock_);
    if (lookups_.erase(request) == 1)
      return sent ? error(errc::timeout, "no answer from " + p->node + " within lookup_timeout")
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
  s.messages_out = messages_out_.load(std::memory_order_relaxed);
  s.messages_in = messages_in_.load(std::memory_order_relaxed);
  s.bad_frames = bad_frames_.load(std::memory_order_relaxed);
  s.auth_failures = auth_failures_.load(std::memory_order_relaxed);
  s.dropped_casts = dropped_casts_.load(std::memory_order_relaxed);
  s.sender_waits = sender_waits_.load(std::memory_order_relaxed);
  s.exported_watched = exported_watched_.load(std::memory_order_relaxed);
  s.peers_connected = connected_peers().size();
  return s;
}

void node_runtime::shutdown() {
  std::lock_guard guard(shutdown_lock_);
  if (shut_down_) return;
  shut_down_ = true;
  if (system_) system_->shutdown();  // actors stop; what they send on the way out still leaves
  stopping_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  if (io_.joinable()) io_.join();  // flushes, tells every peer this node leaves, closes
  std::vector<std::shared_ptr<peer>> left;
  {
    std::lock_guard lock(peers_lock_);
    for (auto& [node, p] : peers_) left.push_back(p);
    peers_.clear();
  }
  for (auto& p : left) p->go_down();
  std::lock_guard lock(lookups_lock_);
  for (auto& [id, w] : lookups_)
    w.answer.set_value(error(cluster_errc::node_stopped, "the node shut down"));
  lookups_.clear();
}

}  // namespace eam::cluster::internal
