// Bad frames from a raw ZeroMQ socket leave a node healthy: each one is counted
// (stats().bad_frames) and dropped, the sender stays connected, and a node that connects
// afterwards is served. One process: the node, a raw DEALER speaking the wire format by hand
// (cluster/src/frame.hpp), and a second node. Every wait is bounded.
#include "test_actors.hpp"

#include "../support/eventually.hpp"
#include "frame.hpp"
#include "raw_peer.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

using namespace eam::test::remote;
using eam::test::eventually;
using namespace std::chrono_literals;
namespace wire = eam::cluster::internal;
using eam::test::bytes;
using eam::test::data_frame;
using eam::test::hello_frame;
using eam::test::raw_dealer;

namespace {

constexpr std::size_t max_frame_bytes = 4096;

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
