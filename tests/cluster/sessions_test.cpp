// A session between two nodes that one of them ended while the other held on to it: the end
// never came (a leave refused by a full pipe, or sent while the other node was paused past its
// timeouts). The side that ended it dials again and says hello; the other took that hello for
// its session on another connection and went on sending on the old one, which the first drops
// unheard. Each heard half of the other, and they swapped halves every heartbeat_timeout: in a
// chaos trial, two nodes paused together for 15 s left global names and group members missing
// on some nodes for minutes. Now a hello names the session its sender ended at that address,
// and a node still holding it ends it too and greets anew. Raw peers over 127.0.0.1 against a
// real node, in open mode; and two real processes, one paused while the other ends their session.
#include "child_node.hpp"
#include "inbound.hpp"
#include "raw_peer.hpp"
#include "test_actors.hpp"

#include "../support/eventually.hpp"

#include <eam/cluster/node.hpp>
#include <eam/cluster/wire.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <thread>

using eam::test::eventually;
using eam::test::hello_frame;
namespace wire = eam::test::wire;
using namespace std::chrono_literals;

namespace {

struct nudge {  // a cast to no actor: counted in when read, so it says what came before it was read
  MSGPACK_DEFINE();
};

std::unique_ptr<eam::cluster::node> start_holder(std::vector<std::string> seeds = {}) {
  static const bool registered = [] {
    eam::cluster::register_message<nudge>("sessions_test.nudge");
    return true;
  }();
  (void)registered;
  ::unsetenv("LIBEAM_COOKIE");  // open mode, whatever the environment says: the raw sockets do no handshake
  eam::cluster::node_config config;
  config.node_id = "holder";
  config.cookie = std::nullopt;
  config.seeds = std::move(seeds);
  config.heartbeat_timeout = 120s;  // the raw peers send no heartbeats
  config.system.workers = 1;
  return eam::cluster::start_node(config).value();
}

std::string nudge_frame() {
  return eam::test::data_frame([](wire::packer& pk) {
    const nudge n;
    wire::pack_cast(pk, 1, *wire::find_wire_type("sessions_test.nudge"), &n);
  });
}

// The hello a frame holds, if it is one.
std::optional<wire::hello> hello_in(const std::string& frame) {
  wire::hello_only first;
  const auto out = wire::decode_frame(std::span(reinterpret_cast<const std::byte*>(frame.data()), frame.size()), first);
  if (out.bad) return std::nullopt;
  return first.got;
}

// Waits at `listener` for a hello of the holder that `wanted` says yes to, and returns it.
template <class Wanted>
std::optional<wire::hello> holder_hello(eam::test::raw_router& listener, Wanted wanted,
                                        std::chrono::milliseconds patience = 60s) {
  std::optional<wire::hello> found;
  listener.receive_until(
      [&](const std::string& frame) {
        std::optional<wire::hello> h = hello_in(frame);
        if (!h || h->node != "holder" || !wanted(*h)) return false;
        found = std::move(h);
        return true;
      },
      patience);
  return found;
}

}  // namespace

TEST_SUITE("cluster.sessions") {
  TEST_CASE("a node holding a session its peer ended ends it too and greets the peer anew") {
    auto holder = start_holder();
    eam::test::raw_router listener;  // where the holder greets the peer "f" back
    REQUIRE_FALSE(listener.address().empty());
    eam::test::raw_dealer first(holder->port());
    REQUIRE(first.send(hello_frame("f", 1, listener.address())));
    // The holder dials back, and names its session once it took the hello.
    const auto greeted = holder_hello(listener, [](const wire::hello& h) { return h.session != 0; });
    REQUIRE(greeted);
    // f names its own, as a node does once it takes the holder's hello; read before what follows.
    const auto in_before = holder->stats().messages_in;
    REQUIRE(first.send(hello_frame("f", 1, listener.address(), 7)));
    REQUIRE(first.send(nudge_frame()));
    REQUIRE(eventually([&] { return holder->stats().messages_in == in_before + 1; }, 60s));

    // f ends session 7 without a word reaching the holder, dials again and says so.
    eam::test::raw_dealer second(holder->port());
    REQUIRE(second.send(hello_frame("f", 1, listener.address(), 0, 7)));
    // The holder ends its side and greets f anew, under a new session.
    const auto anew = holder_hello(listener, [&](const wire::hello& h) { return h.session != 0 && h.session != greeted->session; });
    REQUIRE(anew);
    CHECK(anew->ended == 0);  // the session it ended was ended by f first: said on no hello
    CHECK(holder->stats().peers_connected == 1);

    // f takes that greeting and names its new session; a hello naming the old one, late, then
    // changes nothing.
    const auto in_now = holder->stats().messages_in;
    REQUIRE(second.send(hello_frame("f", 1, listener.address(), 8)));
    REQUIRE(second.send(hello_frame("f", 1, listener.address(), 0, 7)));
    REQUIRE(second.send(nudge_frame()));
    REQUIRE(eventually([&] { return holder->stats().messages_in == in_now + 1; }, 60s));
    CHECK_FALSE(holder_hello(listener, [](const wire::hello&) { return true; }, 1s));
    holder->shutdown();
  }

  TEST_CASE("a node that never heard its peer's number for their session ends it when the peer names one it ended") {
    // The peer's hello with its number went out on a connection that broke as it was sent (a
    // stale disconnect of a node restarting at the same address): the holder never heard it.
    auto holder = start_holder();
    eam::test::raw_router listener;
    REQUIRE_FALSE(listener.address().empty());
    eam::test::raw_dealer first(holder->port());
    REQUIRE(first.send(hello_frame("f", 1, listener.address())));
    const auto greeted = holder_hello(listener, [](const wire::hello& h) { return h.session != 0; });
    REQUIRE(greeted);
    eam::test::raw_dealer second(holder->port());
    REQUIRE(second.send(hello_frame("f", 1, listener.address(), 0, 3)));
    const auto anew = holder_hello(listener, [&](const wire::hello& h) { return h.session != 0 && h.session != greeted->session; });
    CHECK(anew);
    holder->shutdown();
  }

  TEST_CASE("a node dialling an address again after it ended the session there names that session") {
    eam::test::raw_router listener;  // a seed of the holder's, which the peer "f" listens at
    REQUIRE_FALSE(listener.address().empty());
    auto holder = start_holder({listener.address()});
    const auto dialled = holder_hello(listener, [](const wire::hello&) { return true; });
    REQUIRE(dialled);
    CHECK(dialled->session == 0);  // it does not know yet who listens there
    CHECK(dialled->ended == 0);
    eam::test::raw_dealer f(holder->port());
    REQUIRE(f.send(hello_frame("f", 1, listener.address())));
    const auto greeted = holder_hello(listener, [](const wire::hello& h) { return h.session != 0; });
    REQUIRE(greeted);

    // f leaves: the holder ends the session and dials its seed again, saying which one it ended
    // (had the leave been f's end unheard, f would end the session still held there).
    REQUIRE(f.send(std::string{static_cast<char>(wire::wire_version), static_cast<char>(wire::frame_kind::leave)}));
    const auto again = holder_hello(listener, [](const wire::hello& h) { return h.ended != 0; });
    REQUIRE(again);
    CHECK(again->ended == greeted->session);
    CHECK(again->session == 0);
    holder->shutdown();
  }

  TEST_CASE("two nodes, one paused while the other ended their session and its leave went nowhere, connect again both ways") {
    using namespace eam::test::remote;
    register_messages();
    const std::string cookie = "a-test-cookie-of-enough-length";
    // Heartbeats every 200 ms, silence ended after 2 s, and fast gossip: the pause need not be long.
    eam::test::child_node b({"--id", "b", "--cookie", cookie, "--fast", "1", "--heartbeat-interval", "200",
                             "--heartbeat-timeout", "2000"});
    eam::cluster::node_config config;
    config.node_id = "a";
    config.seeds = {b.address()};
    config.cookie = cookie;
    config.membership = fast_membership();
    config.heartbeat_interval = 200ms;
    config.heartbeat_timeout = 2s;
    config.system.workers = 2;
    auto a = eam::cluster::start_node(config).value();
    REQUIRE(a->wait_for_peer("b", 30s));
    auto here = eam::unchecked_typed_ref_cast<eam::typed_ref<std::string(echo)>>(a->system().spawn(
        [](eam::actor_context&) { return eam::behavior{[](const echo& e) { return "a: " + e.text; }}; }));
    // b calls back an actor of a: the answer needs the session both ways.
    const auto both_ways = [&] {
      const auto echo_b = a->whereis<echo_ref>("b", "echo");
      if (!echo_b) return false;
      const auto answer = echo_b.value().call(call_back{here, "ping"}, 5s).get();
      return answer.has_value() && answer.value() == "a: ping";
    };
    REQUIRE(both_ways());

    // b pauses under a stream of large casts, so that a's pipe to it is full when a gives it up
    // (silent past heartbeat_timeout, or declared failed): the leave a then says is refused.
    const auto sink_b = a->whereis<sink_ref>("b", "sink").value();
    b.pause();
    std::atomic<bool> gone{false};
    std::thread stream([&] {
      const std::string padding(64 << 10, 'x');
      for (std::uint64_t i = 0; i < 4000 && !gone.load(); ++i) sink_b.cast(seq{i, padding});  // waits for room
    });
    const bool given_up = eventually([&] {
      const auto peers = a->peers();
      return std::find(peers.begin(), peers.end(), "b") == peers.end();
    }, 60s);
    gone = true;
    stream.join();
    REQUIRE(given_up);
    b.resume();

    // a dials b again. Before, b took that hello for the session it held and went on sending on
    // the connection a had given up; a heard nothing and took b's next hello only after b gave
    // a up in turn, and so on, one side at a time: no call both ways ever came back.
    CHECK(eventually([&] { return both_ways(); }, 90s));
    a->shutdown();
  }
}
