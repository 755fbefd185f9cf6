#include "operator_node.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <thread>

namespace eamctl {
namespace {

std::string host_of(const std::string& address) {
  std::string host = address.substr(0, address.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host;
}

// The local address of a UDP socket connected to `host`: no datagram is sent, the kernel
// only picks the route.
std::string route_address_to(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), "9", &hints, &found) != 0 || found == nullptr)
    throw command_error{"cannot resolve the seed's host " + host};
  std::string local;
  const int fd = ::socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0) {
    sockaddr_storage self{};
    socklen_t length = sizeof self;
    char text[INET6_ADDRSTRLEN] = {};
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&self), &length) == 0) {
      const void* raw = self.ss_family == AF_INET6 ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&self)->sin6_addr)
                                                   : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&self)->sin_addr);
      if (::inet_ntop(self.ss_family, raw, text, sizeof text) != nullptr) local = text;
    }
  }
  if (fd >= 0) ::close(fd);
  ::freeaddrinfo(found);
  if (local.empty()) throw command_error{"no route to the seed's host " + host};
  return local;
}

std::string own_node_id() {
  std::random_device entropy;
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", entropy());
  return "eamctl-" + std::to_string(::getpid()) + "-" + suffix;
}

}  // namespace

std::string listen_address_for(const options& o) {
  if (!o.bind_address.empty()) return o.bind_address;
  const std::string host = host_of(o.seeds.front());
  if (host == "localhost" || host.rfind("127.", 0) == 0) return "127.0.0.1";
  if (host == "::1") return "::1";
  return route_address_to(host);
}

operator_node::operator_node(const options& o) : timeout_(o.timeout), seeds_(o.seeds) {
  eam::cluster::node_config config;
  config.node_id = own_node_id();
  config.bind_address = listen_address_for(o);
  config.seeds = o.seeds;
  config.roles = {std::string(session_role)};
  // A visitor, no member: nobody lists it, places actors on it or sees it come and go.
  config.membership.hidden = true;
  config.salt = o.salt;
  config.raise_file_limit = false;
  config.system.workers = 1;
  if (o.cookie_file) {
    std::ifstream in(*o.cookie_file);
    std::string cookie;
    if (!in || !std::getline(in, cookie)) throw command_error{"cannot read the cookie file " + *o.cookie_file};
    if (!cookie.empty() && cookie.back() == '\r') cookie.pop_back();
    config.cookie = cookie;
  }
  auto started = eam::cluster::start_node(std::move(config));
  if (!started) throw command_error{std::string("cannot start eamctl's node: ") + started.error_value().what()};
  node_ = std::move(started).value();
  // Wait for the seed's answer: its whole view, itself included, comes in one state exchange
  // (a hidden node hears no gossip). A seed that advertises another address than the one
  // dialled (a name, a NAT) is never matched: a second after any node answered, that does.
  const auto now = std::chrono::steady_clock::now();
  const auto deadline = now + timeout_;
  std::optional<std::chrono::steady_clock::time_point> heard_at;
  for (;;) {
    const std::vector<eam::cluster::member> known = members();
    const bool seed_answered = std::any_of(known.begin(), known.end(), [&](const auto& m) { return at_seed(m); });
    const auto t = std::chrono::steady_clock::now();
    if (!known.empty() && !heard_at) heard_at = t;
    if (seed_answered || (heard_at && t - *heard_at >= std::chrono::seconds(1))) break;
    if (t >= deadline) {
      if (heard_at) break;
      throw command_error{"no member answered through the seeds within " + std::to_string(timeout_.count()) +
                          " ms (is the seed running, and is the cookie the cluster's?)"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

operator_node::~operator_node() {
  if (node_) node_->shutdown();
}

std::vector<eam::cluster::member> operator_node::members() const {
  std::vector<eam::cluster::member> out;
  for (auto& m : node_->members())
    if (!m.has_role(session_role)) out.push_back(std::move(m));
  return out;
}

eam::cluster::member operator_node::seed_member() const {
  std::vector<eam::cluster::member> known = members();
  if (known.empty()) throw command_error{"no member of the cluster is left to ask"};
  const auto seed = std::find_if(known.begin(), known.end(), [&](const auto& m) { return at_seed(m); });
  return std::move(seed != known.end() ? *seed : known.front());
}

bool operator_node::at_seed(const eam::cluster::member& m) const {
  return std::find(seeds_.begin(), seeds_.end(), m.address) != seeds_.end();
}

std::optional<eam::cluster::member> operator_node::member_named(const std::string& id) const {
  for (auto& m : node_->members())
    if (m.id == id) return m;
  return std::nullopt;
}

std::string operator_node::not_a_member(const std::string& id) {
  // eamctl nodes lists the dead and the departed too, as the seed sees them: say which this one
  // is (this session's own view holds only the live members).
  try {
    const std::string seed = seed_member().id;
    auto listed = control_of(seed).call(eam::cluster::control::members_request{}, timeout_).get();
    if (listed)
      for (const auto& m : listed.value().members)
        if (m.id == id && (m.status == "left" || m.status == "dead"))
          return id + (m.status == "left" ? " has left the cluster" : " is dead") + " (eamctl nodes lists it as " +
                 m.status + ")";
  } catch (const command_error&) {
  }
  return id + " is not a member of the cluster (eamctl nodes lists them)";
}

eam::cluster::control::control_ref operator_node::control_of(const std::string& id) {
  const auto target = member_named(id);
  if (!target) throw command_error{not_a_member(id)};
  if (target->has_role(session_role)) throw command_error{id + " is an eamctl session, not a node of the cluster"};
  if (!node_->wait_for_peer(id, timeout_)) throw command_error{"cannot connect to " + id};
  auto found = node_->whereis<eam::cluster::control::control_ref>(id, eam::cluster::control::service_name);
  if (!found) throw command_error{"no control service on " + id + ": " + found.error_value().what()};
  return std::move(found).value();
}

}  // namespace eamctl
