// Keys derived from the cookie (HKDF-SHA256, Curve key pair) and the ZAP handler that admits
// only those keys, end to end over CurveZMQ on 127.0.0.1.
#include <doctest/doctest.h>
#include <eam/engine/log.hpp>

// Internal headers of the cluster layer (eam_cluster_internal).
#include "key_derivation.hpp"
#include "zap_authenticator.hpp"

#include <sodium.h>
#include <zmq.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using eam::cluster::internal::cluster_keys;
using eam::cluster::internal::derive_cluster_keys;
using eam::cluster::internal::zap_authenticator;

namespace {

using bytes = std::vector<std::uint8_t>;

bytes from_hex(std::string_view hex) {
  bytes out(hex.size() / 2);
  std::size_t written = 0;
  REQUIRE(sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &written, nullptr) == 0);
  REQUIRE(written == out.size());
  return out;
}

bytes counting(unsigned from, unsigned to) {  // the RFC's 0x00..0x4f style inputs, inclusive
  bytes out;
  for (unsigned b = from; b <= to; ++b) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

void check_rfc5869(const bytes& ikm, const bytes& salt, const bytes& info, std::string_view prk_hex,
                   std::string_view okm_hex) {
  const auto prk = eam::cluster::internal::hkdf_sha256_extract(salt, ikm);
  CHECK(bytes(prk.begin(), prk.end()) == from_hex(prk_hex));
  const bytes expected = from_hex(okm_hex);
  bytes okm(expected.size());
  eam::cluster::internal::hkdf_sha256_expand(prk, info, okm);
  CHECK(okm == expected);
}

constexpr std::string_view cookie = "a cluster cookie of some length";
constexpr std::string_view other_cookie = "another cookie, another cluster";

// One ZeroMQ socket, closed at once (LINGER 0) even when an assertion throws, so that the
// context's termination never waits for it.
class zsock {
 public:
  zsock(void* context, int type) : s_(zmq_socket(context, type)) {
    REQUIRE(s_ != nullptr);
    set(ZMQ_LINGER, 0);
  }
  zsock(const zsock&) = delete;
  zsock& operator=(const zsock&) = delete;
  ~zsock() { zmq_close(s_); }
  [[nodiscard]] void* get() const noexcept { return s_; }

  void set(int option, int value) { REQUIRE(zmq_setsockopt(s_, option, &value, sizeof value) == 0); }
  void set(int option, std::span<const std::uint8_t> value) {
    REQUIRE(zmq_setsockopt(s_, option, value.data(), value.size()) == 0);
  }
  void set(int option, std::string_view value) {
    REQUIRE(zmq_setsockopt(s_, option, value.data(), value.size()) == 0);
  }
  void send(const std::vector<std::string>& frames) { REQUIRE(try_send(frames)); }
  // False when the socket had no pipe to queue on (EAGAIN): a DEALER whose only connection
  // ended with a protocol error has none.
  bool try_send(const std::vector<std::string>& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const int flags = ZMQ_DONTWAIT | (i + 1 < frames.size() ? ZMQ_SNDMORE : 0);
      if (zmq_send(s_, frames[i].data(), frames[i].size(), flags) < 0) return false;
    }
    return true;
  }
  // One whole multipart message if one is waiting, else empty.
  std::vector<std::string> try_receive() {
    std::vector<std::string> frames;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int more = 1;
    while (more != 0 && zmq_msg_recv(&msg, s_, ZMQ_DONTWAIT) >= 0) {
      frames.emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
      more = zmq_msg_more(&msg);
    }
    zmq_msg_close(&msg);
    return frames;
  }

 private:
  void* s_;
};

class zcontext {
 public:
  zcontext() : c_(zmq_ctx_new()) { REQUIRE(c_ != nullptr); }
  zcontext(const zcontext&) = delete;
  zcontext& operator=(const zcontext&) = delete;
  ~zcontext() { zmq_ctx_term(c_); }
  [[nodiscard]] void* get() const noexcept { return c_; }

 private:
  void* c_;
};

std::string as_string(std::span<const std::uint8_t> b) { return std::string(b.begin(), b.end()); }

// A CURVE ROUTER server keyed from `cookie`, its ZAP handler admitting that cookie's key, a
// monitor on the server, and clients. Members are declared so that they go in the right
// order: clients and server sockets first, then the handler, then the context.
struct zap_fixture {
  zcontext context;
  cluster_keys keys = derive_cluster_keys(cookie);
  zap_authenticator auth{context.get(), {keys.curve_public}};
  zsock monitor{context.get(), ZMQ_PAIR};
  zsock router{context.get(), ZMQ_ROUTER};
  std::deque<zsock> clients;
  std::string endpoint;
  std::vector<std::pair<std::string, std::string>> received;  // routing id, payload
  int handshake_failures = 0;                                 // seen by the monitor

  zap_fixture() {
    REQUIRE(zmq_socket_monitor(router.get(), "inproc://keys-test-monitor",
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) == 0);
    REQUIRE(zmq_connect(monitor.get(), "inproc://keys-test-monitor") == 0);
    router.set(ZMQ_CURVE_SERVER, 1);
    router.set(ZMQ_CURVE_SECRETKEY, keys.curve_secret);
    REQUIRE(zmq_bind(router.get(), "tcp://127.0.0.1:*") == 0);
    char last[256];
    std::size_t size = sizeof last;
    REQUIRE(zmq_getsockopt(router.get(), ZMQ_LAST_ENDPOINT, last, &size) == 0);
    endpoint = last;
  }

  // A DEALER named `id` that sends `id` as its message. With `own` it speaks CURVE with those
  // keys (and the server's right public key, so the handshake reaches ZAP); without, NULL.
  void start_client(const std::string& id, const cluster_keys* own) {
    zsock& c = clients.emplace_back(context.get(), ZMQ_DEALER);
    c.set(ZMQ_ROUTING_ID, id);
    if (own != nullptr) {
      c.set(ZMQ_CURVE_SERVERKEY, keys.curve_public);
      c.set(ZMQ_CURVE_PUBLICKEY, own->curve_public);
      c.set(ZMQ_CURVE_SECRETKEY, own->curve_secret);
    }
    REQUIRE(zmq_connect(c.get(), endpoint.c_str()) == 0);
    if (own != nullptr) {
      c.send({id});  // queued in the DEALER until a connection is admitted
      return;
    }
    // A NULL client's handshake fails on the I/O thread without waiting for ZAP, and that ends
    // its only connection for good. When the send's own command processing already sees the
    // end, the DEALER has no pipe left and refuses the message; either way nothing may arrive.
    (void)c.try_send({id});
  }

  // Drives the handler, the server and the monitor until `done()` holds; false after 10 s.
  // `done()` is called once per round (it may consume what it looks for).
  template <class Pred>
  bool pump_until(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (int round = 0; round < 100000; ++round) {
      if (done()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      zmq_pollitem_t items[] = {{auth.socket(), 0, ZMQ_POLLIN, 0},
                                {router.get(), 0, ZMQ_POLLIN, 0},
                                {monitor.get(), 0, ZMQ_POLLIN, 0}};
      REQUIRE(zmq_poll(items, 3, 10) >= 0);
      if ((items[0].revents & ZMQ_POLLIN) != 0) auth.handle_pending();
      for (auto m = router.try_receive(); !m.empty(); m = router.try_receive()) {
        REQUIRE(m.size() == 2);
        received.emplace_back(m[0], m[1]);
      }
      while (!monitor.try_receive().empty()) ++handshake_failures;
    }
    return false;
  }

  [[nodiscard]] bool got_from(std::string_view id) const {
    for (const auto& [from, payload] : received)
      if (from == id && payload == id) return true;
    return false;
  }
};

// Collects the records of one component while it lives; restores the default sink and level.
class log_capture {
 public:
  explicit log_capture(std::string component) : component_(std::move(component)) {
    eam::log::set_level(eam::log::level::debug);
    eam::log::set_sink([this](const eam::log::record& r) {
      if (r.component != component_) return;
      std::lock_guard lock(mutex_);
      lines_.emplace_back(r.severity, std::string(r.message));
    });
  }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;
  ~log_capture() {
    eam::log::set_sink({});
    eam::log::set_level(saved_);
  }
  std::vector<std::pair<eam::log::level, std::string>> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  std::string component_;
  eam::log::level saved_ = eam::log::current_level();
  std::mutex mutex_;
  std::vector<std::pair<eam::log::level, std::string>> lines_;
};

}  // namespace

TEST_SUITE("cluster.keys") {
  TEST_CASE("HKDF-SHA256 gives the RFC 5869 output of test case 1") {
    check_rfc5869(bytes(22, 0x0b), counting(0x00, 0x0c), counting(0xf0, 0xf9),
                  "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
                  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  }

  TEST_CASE("HKDF-SHA256 gives the RFC 5869 output of test case 2 with long inputs") {
    check_rfc5869(counting(0x00, 0x4f), counting(0x60, 0xaf), counting(0xb0, 0xff),
                  "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
                  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
                  "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
                  "cc30c58179ec3e87c14c01d5c1f3434f1d87");
  }

  TEST_CASE("HKDF-SHA256 gives the RFC 5869 output of test case 3 with empty salt and info") {
    check_rfc5869(bytes(22, 0x0b), {}, {}, "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
                  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  }

  TEST_CASE("HKDF-Expand gives at most 255 blocks and refuses more") {
    const std::array<std::uint8_t, 32> prk{};
    bytes most(255 * 32);
    eam::cluster::internal::hkdf_sha256_expand(prk, {}, most);
    bytes too_many(255 * 32 + 1);
    CHECK_THROWS_AS(eam::cluster::internal::hkdf_sha256_expand(prk, {}, too_many), std::invalid_argument);
  }

  TEST_CASE("derive_cluster_keys is deterministic and depends on the cookie and the salt") {
    const cluster_keys a = derive_cluster_keys(cookie);
    const cluster_keys again = derive_cluster_keys(cookie);
    CHECK(a.gossip_key == again.gossip_key);
    CHECK(a.curve_public == again.curve_public);
    CHECK(a.curve_secret == again.curve_secret);
    const cluster_keys other = derive_cluster_keys(other_cookie);
    CHECK(other.gossip_key != a.gossip_key);
    CHECK(other.curve_public != a.curve_public);
    const cluster_keys salted = derive_cluster_keys(cookie, "another-salt");
    CHECK(salted.gossip_key != a.gossip_key);
    CHECK(salted.curve_public != a.curve_public);
    // Distinct info strings: the gossip key is not the Curve seed or key.
    CHECK(a.gossip_key != a.curve_secret);
    CHECK(a.gossip_key != a.curve_public);
  }

  TEST_CASE("the derived Curve secret key belongs to the derived public key") {
    const cluster_keys keys = derive_cluster_keys(cookie);
    std::array<std::uint8_t, 32> recomputed{};
    REQUIRE(crypto_scalarmult_base(recomputed.data(), keys.curve_secret.data()) == 0);
    CHECK(recomputed == keys.curve_public);
  }

  TEST_CASE("the fingerprint is 16 hex characters and tells cookies apart") {
    const std::string fp = derive_cluster_keys(cookie).fingerprint();
    CHECK(fp.size() == 16);
    CHECK(fp.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(fp == derive_cluster_keys(cookie).fingerprint());
    CHECK(fp != derive_cluster_keys(other_cookie).fingerprint());
  }

  TEST_CASE("z85_encode gives the 40 character form that ZeroMQ decodes back") {
    const cluster_keys keys = derive_cluster_keys(cookie);
    const std::string text = eam::cluster::internal::z85_encode(keys.curve_public);
    REQUIRE(text.size() == 40);
    std::array<std::uint8_t, 32> decoded{};
    REQUIRE(zmq_z85_decode(decoded.data(), text.c_str()) != nullptr);
    CHECK(decoded == keys.curve_public);
  }

  TEST_CASE("a client with the cluster's keys is admitted and its message arrives") {
    zap_fixture f;
    f.start_client("good", &f.keys);
    REQUIRE(f.pump_until([&] { return f.got_from("good"); }));
    CHECK(f.auth.admitted() >= 1);
    CHECK(f.auth.refused() == 0);
  }

  TEST_CASE("a client with another cookie's keys is refused by ZAP and gets nothing through") {
    zap_fixture f;
    const cluster_keys stranger = derive_cluster_keys(other_cookie);
    f.start_client("stranger", &stranger);
    REQUIRE(f.pump_until([&] { return f.auth.refused() >= 1; }));
    // Positive control: an admitted client's message still flows through the same server.
    f.start_client("good", &f.keys);
    REQUIRE(f.pump_until([&] { return f.got_from("good"); }));
    CHECK_FALSE(f.got_from("stranger"));
  }

  TEST_CASE("a client without CURVE gets nothing through") {
    zap_fixture f;
    f.start_client("plain", nullptr);
    // The server refuses the NULL mechanism in the greeting, before ZAP: the monitor sees it.
    REQUIRE(f.pump_until([&] { return f.handshake_failures >= 1; }));
    f.start_client("good", &f.keys);
    REQUIRE(f.pump_until([&] { return f.got_from("good"); }));
    CHECK_FALSE(f.got_from("plain"));
  }

  TEST_CASE("set_allowed admits a key that was refused before") {
    zap_fixture f;
    const cluster_keys next = derive_cluster_keys(other_cookie);
    f.start_client("early", &next);
    REQUIRE(f.pump_until([&] { return f.auth.refused() >= 1; }));
    f.auth.set_allowed({f.keys.curve_public, next.curve_public});
    f.start_client("rotated", &next);
    REQUIRE(f.pump_until([&] { return f.got_from("rotated"); }));
    f.auth.set_allowed({f.keys.curve_public});
    const std::uint64_t refused_before = f.auth.refused();
    f.start_client("removed", &next);
    REQUIRE(f.pump_until([&] { return f.auth.refused() > refused_before; }));
    f.start_client("good", &f.keys);
    REQUIRE(f.pump_until([&] { return f.got_from("good"); }));
    CHECK_FALSE(f.got_from("removed"));
  }

  TEST_CASE("refusals from one address are logged once per minute") {
    log_capture log("cluster.auth");
    zap_fixture f;
    const cluster_keys stranger = derive_cluster_keys(other_cookie);
    for (const char* id : {"s1", "s2", "s3"}) f.start_client(id, &stranger);
    REQUIRE(f.pump_until([&] { return f.auth.refused() >= 3; }));
    const auto lines = log.lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].first == eam::log::level::warn);
    CHECK(lines[0].second.find("127.0.0.1") != std::string::npos);
    CHECK(lines[0].second.find("unknown client key") != std::string::npos);
    CHECK(lines[0].second.find(stranger.fingerprint()) != std::string::npos);
  }

  TEST_CASE("ZAP requests that are not CURVE or are malformed get 400 or 500 and no crash") {
    zap_fixture f;
    zsock req(f.context.get(), ZMQ_REQ);
    REQUIRE(zmq_connect(req.get(), "inproc://zeromq.zap.01") == 0);
    auto ask = [&](const std::vector<std::string>& request) {
      req.send(request);
      std::vector<std::string> reply;
      REQUIRE(f.pump_until([&] {
        reply = req.try_receive();
        return !reply.empty();
      }));
      REQUIRE(reply.size() == 6);
      CHECK(reply[0] == "1.0");
      CHECK(reply[5].empty());  // no metadata
      return reply;
    };
    const std::string good_key = as_string(f.keys.curve_public);

    auto r = ask({"1.0", "1", "", "10.0.0.1", "", "CURVE", good_key});
    CHECK(r[1] == "1");
    CHECK(r[2] == "200");
    CHECK(r[4] == f.keys.fingerprint());  // the user id names the key
    r = ask({"1.0", "2", "", "10.0.0.1", "", "NULL"});
    CHECK(r[1] == "2");
    CHECK(r[2] == "400");
    r = ask({"1.0", "3", "", "10.0.0.1", "", "PLAIN", "user", "password"});
    CHECK(r[2] == "400");
    r = ask({"1.0", "4", "", "10.0.0.1", "", "CURVE", "short key"});
    CHECK(r[2] == "500");
    r = ask({"1.0", "5", "", "10.0.0.1", "", "CURVE", good_key, "extra"});
    CHECK(r[2] == "500");
    r = ask({"9.9", "6", "", "10.0.0.1", "", "CURVE", good_key});
    CHECK(r[1] == "6");
    CHECK(r[2] == "500");
    r = ask({"1.0"});
    CHECK(r[2] == "500");
    CHECK(f.auth.admitted() == 1);
    CHECK(f.auth.refused() == 6);

    // Still serving real handshakes afterwards.
    f.start_client("good", &f.keys);
    REQUIRE(f.pump_until([&] { return f.got_from("good"); }));
  }

  TEST_CASE("a second ZAP handler in the same context is refused") {
    zcontext context;
    zap_authenticator first(context.get(), {});
    CHECK_THROWS_AS(zap_authenticator(context.get(), {}), std::runtime_error);
  }
}
