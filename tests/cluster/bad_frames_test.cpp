// Bad frames from a raw ZeroMQ socket leave a node healthy: each one is counted
// (stats().bad_frames) and dropped, the sender stays connected, and a node that connects
// afterwards is served. One process: the node, a raw DEALER speaking the wire format by hand
// (cluster/src/frame.hpp), and a second node. Every wait is bounded.
#include "test_actors.hpp"

#include "../support/eventually.hpp"
#include "frame.hpp"

#include <doctest/doctest.h>
#include <zmq.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <random>
#include <string>

using namespace eam::test::remote;
using eam::test::eventually;
using namespace std::chrono_literals;
namespace wire = eam::cluster::internal;

namespace {

constexpr std::size_t max_frame_bytes = 4096;

/// A ZeroMQ DEALER connected to a node's port, as another node's would be, but sending whatever
/// it is given. Closed with LINGER 0.
class raw_dealer {
 public:
  explicit raw_dealer(std::uint16_t port) : context_(zmq_ctx_new()), socket_(zmq_socket(context_, ZMQ_DEALER)) {
    const int linger = 0, send_timeout_ms = 10000;
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(socket_, ZMQ_SNDTIMEO, &send_timeout_ms, sizeof send_timeout_ms);
    connected_ = zmq_connect(socket_, ("tcp://127.0.0.1:" + std::to_string(port)).c_str()) == 0;
  }
  ~raw_dealer() {
    zmq_close(socket_);
    zmq_ctx_term(context_);
  }
  raw_dealer(const raw_dealer&) = delete;
  raw_dealer& operator=(const raw_dealer&) = delete;

  [[nodiscard]] bool connected() const noexcept { return connected_; }
  /// One message of one part; false when it could not be queued within the send timeout.
  bool send(const std::string& frame) {
    return zmq_send(socket_, frame.data(), frame.size(), 0) == static_cast<int>(frame.size());
  }

 private:
  void* context_;
  void* socket_;
  bool connected_ = false;
};

std::string bytes(std::initializer_list<std::uint8_t> b) { return std::string(b.begin(), b.end()); }

std::string hello_frame(const std::string& node) {
  wire::frame_buffer f;
  wire::pack_hello(f, wire::hello{node, 1, "127.0.0.1:1"});  // nobody listens there: our answers go nowhere
  return std::string(f.data(), f.size());
}

/// A data frame: the header, then whatever `items` packs.
template <class F>
std::string data_frame(F items) {
  wire::frame_buffer f;
  wire::write_header(f, wire::frame_kind::data);
  wire::packer pk(f);
  items(pk);
  return std::string(f.data(), f.size());
}

/// A well-formed cast item of a registered type (test.add to actor 1).
std::string a_valid_cast() {
  return data_frame([](wire::packer& pk) {
    const add payload{5};
    wire::pack_cast(pk, 1, *wire::find_wire_type("test.add"), &payload);
  });
}

std::unique_ptr<eam::cluster::node> start_open_node(std::string id, std::vector<std::string> peers = {}) {
  register_messages();
  eam::cluster::node_config config;
  config.node_id = std::move(id);
  config.seeds = std::move(peers);
  config.cookie = std::nullopt;  // open mode: a raw socket needs no CurveZMQ handshake
  config.max_frame_bytes = max_frame_bytes;
  config.heartbeat_timeout = 120s;  // the raw peer sends no heartbeats: it must not be dropped for silence
  config.system.workers = 2;
  return eam::cluster::start_node(config).value();
}

}  // namespace

TEST_SUITE("cluster.bad_frames") {
  TEST_CASE("bad frames from a raw socket are counted and dropped and the node still serves") {
    ::unsetenv("LIBEAM_COOKIE");  // open mode, whatever the environment says
    auto target = start_open_node("target");
    REQUIRE_FALSE(target->secure());
    std::atomic<bool> quit_requested{false};
    spawn_test_actors(target->system(), quit_requested);

    raw_dealer raw(target->port());
    REQUIRE(raw.connected());
    std::uint64_t expected = 0;
    // Sends one frame that must be counted as bad, and waits (bounded) until it is.
    const auto rejected = [&](const char* what, const std::string& frame) {
      INFO(what);
      REQUIRE(raw.send(frame));
      ++expected;
      CHECK(eventually([&] { return target->stats().bad_frames >= expected; }));
      CHECK(target->stats().bad_frames == expected);
    };

    // Before any hello: only a hello is accepted from a connection.
    rejected("a truncated frame (1 byte)", bytes({wire::wire_version}));
    {
      std::mt19937 random(20240611);
      std::string noise(256, '\0');
      for (char& c : noise) c = static_cast<char>(random() & 0xff);
      rejected("random bytes", noise);
    }
    {
      std::string frame = hello_frame("raw");
      frame[0] = static_cast<char>(wire::wire_version + 1);
      rejected("a hello with a wrong version", frame);
    }
    rejected("an unknown frame kind", bytes({wire::wire_version, 9}));
    {
      std::string frame(max_frame_bytes + 1, '\0');
      frame[0] = static_cast<char>(wire::wire_version);
      frame[1] = static_cast<char>(wire::frame_kind::data);
      rejected("a frame of max_frame_bytes + 1", frame);
    }
    rejected("a well-formed data frame before the hello", a_valid_cast());
    CHECK(target->peers().empty());

    // A real hello: the raw socket is now the peer "raw".
    REQUIRE(raw.send(hello_frame("raw")));
    REQUIRE(target->wait_for_peer("raw", 20s));
    CHECK(target->stats().bad_frames == expected);

    // Data frames from a known peer.
    rejected("garbage (a byte msgpack never uses)", bytes({wire::wire_version, 2, 0xc1, 0xc1, 0xc1}));
    {
      std::string frame = a_valid_cast();
      frame.pop_back();
      rejected("truncated msgpack (a cast cut short)", frame);
    }
    rejected("an item of an unknown kind", data_frame([](wire::packer& pk) {
               pk.pack_array(2);
               pk.pack(std::uint8_t{200});
               pk.pack(std::uint64_t{1});
             }));
    rejected("a cast naming an unregistered wire type", data_frame([](wire::packer& pk) {
               pk.pack_array(4);
               pk.pack(static_cast<std::uint8_t>(wire::item_kind::cast));
               pk.pack(std::uint64_t{1});
               pk.pack(std::string("test.never_registered"));
               pk.pack_nil();
             }));
    rejected("a huge declared array", bytes({wire::wire_version, 2, 0xdd, 0xff, 0xff, 0xff, 0xff}));
    rejected("a huge declared string", bytes({wire::wire_version, 2, 0xdb, 0xff, 0xff, 0xff, 0xff}));
    rejected("arrays nested deeper than the limit", [] {
      std::string frame = bytes({wire::wire_version, 2});
      frame.append(64, static_cast<char>(0x91));  // [[[[...]]]]: one element each
      frame.push_back('\0');
      return frame;
    }());
    // None of this cost the sender its connection.
    CHECK(target->peers() == std::vector<std::string>{"raw"});

    // A graceful leave is still understood, and is not a bad frame.
    REQUIRE(raw.send(bytes({wire::wire_version, static_cast<std::uint8_t>(wire::frame_kind::leave)})));
    CHECK(eventually([&] { return target->peers().empty(); }));

    // The node still serves: another node connects, finds an actor by a typed lookup and calls it.
    auto client = start_open_node("client", {target->address()});
    REQUIRE(client->wait_for_peer("target", 30s));
    auto counter = client->whereis<counter_ref>("target", "counter").value();
    counter.cast(add{2});
    counter.cast(add{40});
    CHECK(counter.call(get{}).get().value() == 42);
    auto echo_target = client->whereis<echo_ref>("target", "echo").value();
    CHECK(echo_target.call(echo{"still here"}).get().value() == "still here");

    const auto s = target->stats();
    CHECK(s.bad_frames == expected);
    CHECK(s.auth_failures == 0);
    CHECK(client->stats().bad_frames == 0);
    client->shutdown();
    target->shutdown();
  }
}
