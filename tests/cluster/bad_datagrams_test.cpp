// Bad membership datagrams from a raw UDP socket leave a node's gossip healthy: each one is
// counted under its reason (node::gossip_stats()) and dropped, and a valid ping sent afterwards
// is still answered with a signed ack. One process: the node, and a UDP socket speaking the
// envelope by hand (cluster/src/gossip_envelope.hpp). The node listens for gossip on its
// transport's port number, on 127.0.0.1. Every wait is bounded.
#include "../support/eventually.hpp"
#include "gossip_envelope.hpp"
#include "gossip_wire.hpp"
#include "key_derivation.hpp"

#include <eam/cluster/node.hpp>

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

using eam::test::eventually;
namespace gossip = eam::cluster::internal;

namespace {

const std::string cookie = "a-cookie-for-bad-datagrams";
const std::string other_cookie = "another-cookie-of-enough-length";

/// A UDP socket on 127.0.0.1 that sends whatever it is given to one port, and reads what comes
/// back without waiting.
class raw_udp {
 public:
  explicit raw_udp(std::uint16_t to_port) : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) == 0;
    to_.sin_family = AF_INET;
    to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to_.sin_port = htons(to_port);
  }
  ~raw_udp() {
    if (fd_ >= 0) ::close(fd_);
  }
  raw_udp(const raw_udp&) = delete;
  raw_udp& operator=(const raw_udp&) = delete;

  [[nodiscard]] bool bound() const noexcept { return bound_; }
  bool send(const std::vector<std::byte>& datagram) {
    return ::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_) ==
           static_cast<ssize_t>(datagram.size());
  }
  /// One datagram that has arrived, if any.
  std::optional<std::vector<std::byte>> try_receive() {
    std::vector<std::byte> buffer(gossip::max_datagram_bytes + 1);
    const ssize_t got = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (got < 0) return std::nullopt;
    buffer.resize(static_cast<std::size_t>(got));
    return buffer;
  }

 private:
  int fd_;
  bool bound_ = false;
  sockaddr_in to_{};
};

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A nonce no datagram of this process used before.
gossip::nonce_t fresh_nonce() {
  static std::mt19937_64 random(std::random_device{}());
  gossip::nonce_t n;
  for (auto& b : n) b = static_cast<std::uint8_t>(random());
  return n;
}

std::vector<std::byte> ping_body(std::uint64_t seq, const std::string& target) {
  const gossip::encoded_message ping = gossip::encode_ping(seq, target);
  const gossip::encoded_message* parts[] = {&ping};
  return gossip::make_body(parts);
}

/// A datagram as a node would send it: signed with `key` (none: unsigned), stamped `at`.
std::vector<std::byte> sealed(const std::vector<std::byte>& body, const gossip::gossip_key* key,
                              std::int64_t at = wall_clock_ms()) {
  return gossip::seal_datagram(body, key, at, fresh_nonce());
}

/// Collects the acks of a decoded body; anything else is ignored.
class ack_reader final : public gossip::gossip_visitor {
 public:
  std::vector<std::uint64_t> acks;
  void on_ping(std::uint64_t, std::string_view) override {}
  void on_indirect_ping(std::uint64_t, std::string_view, std::string_view) override {}
  void on_ack(std::uint64_t seq) override { acks.push_back(seq); }
  void on_nack(std::uint64_t) override {}
  void on_alive(eam::cluster::member&&) override {}
  void on_suspect(std::string_view, std::uint64_t, std::string_view) override {}
  void on_dead(std::string_view, std::uint64_t, std::string_view) override {}
  void on_state(bool, bool, std::vector<eam::cluster::member>&&) override {}
};

/// Whether an ack of `seq` arrives on `socket` that opens with `keys` (none: unsigned); what
/// else arrives is read and passed over.
bool acked(raw_udp& socket, std::uint64_t seq, const std::vector<gossip::gossip_key>& keys) {
  gossip::replay_guard guard(std::chrono::seconds(30));
  return eventually([&] {
    const auto datagram = socket.try_receive();
    if (!datagram) return false;
    std::span<const std::byte> body;
    if (gossip::open_datagram(*datagram, keys, wall_clock_ms(), guard, body) != gossip::open_outcome::ok) return false;
    ack_reader reader;
    if (gossip::decode_gossip(body, reader).bad) return false;
    return std::find(reader.acks.begin(), reader.acks.end(), seq) != reader.acks.end();
  });
}

/// The drop counters and datagrams received, as a test expects them.
struct counts {
  std::uint64_t in = 0, malformed = 0, unsigned_refused = 0, forged = 0, stale = 0, replayed = 0;
};

std::unique_ptr<eam::cluster::node> start(std::string id, std::optional<std::string> with_cookie) {
  eam::cluster::node_config config;
  config.node_id = std::move(id);
  config.cookie = std::move(with_cookie);
  config.system.workers = 1;
  return eam::cluster::start_node(config).value();
}

/// Sends `datagram` and waits (bounded) until the node has counted it, then checks that every
/// counter is as `expected` says: the one that rose, and no other.
void counted(eam::cluster::node& node, raw_udp& socket, const char* what, const std::vector<std::byte>& datagram,
             const counts& expected) {
  INFO(what);
  REQUIRE(socket.send(datagram));
  CHECK(eventually([&] { return node.gossip_stats().datagrams_in >= expected.in; }));
  const eam::cluster::membership_stats s = node.gossip_stats();
  CHECK(s.datagrams_in == expected.in);
  CHECK(s.malformed_dropped == expected.malformed);
  CHECK(s.unsigned_dropped == expected.unsigned_refused);
  CHECK(s.forged_dropped == expected.forged);
  CHECK(s.stale_dropped == expected.stale);
  CHECK(s.replayed_dropped == expected.replayed);
}

}  // namespace

TEST_SUITE("cluster.bad_datagrams") {
  TEST_CASE("bad datagrams are counted by reason and dropped and a valid ping is still answered, signed") {
    auto node = start("target", cookie);
    REQUIRE(node->secure());
    const gossip::gossip_key key = gossip::derive_cluster_keys(cookie).gossip_key;
    const gossip::gossip_key other_key = gossip::derive_cluster_keys(other_cookie).gossip_key;
    raw_udp socket(node->port());
    REQUIRE(socket.bound());
    // Nobody else talks to this node: whatever it counted before, it counted on its own.
    counts expected;
    expected.in = node->gossip_stats().datagrams_in;

    {
      std::mt19937 random(20240612);
      std::vector<std::byte> noise(64);
      for (auto& b : noise) b = static_cast<std::byte>(random());
      noise[0] = std::byte{gossip::gossip_version + 7};  // not even the version of an envelope
      ++expected.in, ++expected.malformed;
      counted(*node, socket, "garbage", noise, expected);
    }
    {
      std::vector<std::byte> datagram = sealed(ping_body(1, node->id()), &key);
      datagram[0] = std::byte{gossip::gossip_version + 1};
      ++expected.in, ++expected.malformed;
      counted(*node, socket, "an unknown version", datagram, expected);
    }
    {
      std::vector<std::byte> datagram(gossip::max_datagram_bytes + 1);
      const std::vector<std::byte> valid = sealed(ping_body(2, node->id()), &key);
      std::copy(valid.begin(), valid.end(), datagram.begin());
      ++expected.in, ++expected.malformed;
      counted(*node, socket, "65,001 bytes (over max_datagram_bytes)", datagram, expected);
    }
    ++expected.in, ++expected.unsigned_refused;
    counted(*node, socket, "an unsigned datagram", sealed(ping_body(3, node->id()), nullptr), expected);
    ++expected.in, ++expected.forged;
    counted(*node, socket, "signed with another cookie's key", sealed(ping_body(4, node->id()), &other_key), expected);
    {
      std::vector<std::byte> datagram = sealed(ping_body(5, node->id()), &key);
      datagram.pop_back();
      ++expected.in, ++expected.forged;
      counted(*node, socket, "a valid datagram truncated by one byte", datagram, expected);
    }
    ++expected.in, ++expected.stale;
    counted(*node, socket, "stamped 10 minutes ago",
            sealed(ping_body(6, node->id()), &key, wall_clock_ms() - 10 * 60 * 1000), expected);
    {
      const std::vector<std::byte> garbage_body{std::byte{0xc1}, std::byte{0xc1}, std::byte{0xc1}};
      ++expected.in, ++expected.malformed;
      counted(*node, socket, "a valid envelope around a garbage body", sealed(garbage_body, &key), expected);
    }

    // After all that, a valid ping is answered with an ack signed with the cookie's key; the same
    // datagram again is a replay, and not answered.
    const std::uint64_t seq = 0x5eed;
    const std::vector<std::byte> valid = sealed(ping_body(seq, node->id()), &key);
    ++expected.in;
    counted(*node, socket, "a valid ping", valid, expected);
    CHECK(acked(socket, seq, {key}));
    ++expected.in, ++expected.replayed;
    counted(*node, socket, "the valid ping again", valid, expected);
  }

  TEST_CASE("a node in open mode refuses signed datagrams and answers an unsigned ping") {
    ::unsetenv("LIBEAM_COOKIE");  // open mode, whatever the environment says
    auto node = start("open-target", std::nullopt);
    REQUIRE_FALSE(node->secure());
    const gossip::gossip_key key = gossip::derive_cluster_keys(cookie).gossip_key;
    raw_udp socket(node->port());
    REQUIRE(socket.bound());
    counts expected;
    expected.in = node->gossip_stats().datagrams_in;

    // Two open clusters must not merge with a signed one by accident: signed is refused here.
    ++expected.in, ++expected.unsigned_refused;
    counted(*node, socket, "a signed datagram", sealed(ping_body(1, node->id()), &key), expected);

    const std::uint64_t seq = 0x0be7;
    ++expected.in;
    counted(*node, socket, "an unsigned ping", sealed(ping_body(seq, node->id()), nullptr), expected);
    CHECK(acked(socket, seq, {}));
  }
}
