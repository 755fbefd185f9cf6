// A ref that names an actor of a node this node is not connected to yet (it came through a third
// node) works: what is sent to it, its watch and a call wait for the connection, in order, and
// a node that does not connect within connect_wait is gone for them (noconnection,
// transport_error). Nodes in this process, each on its own loopback address in a network
// namespace made for the test (network_namespace.hpp), where iptables keeps two of them apart
// for as long as the test says: the "not connected yet" is then certain, not a race with gossip.
#include "network_namespace.hpp"
#include "raw_peer.hpp"
#include "test_actors.hpp"

#include "../support/eventually.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <future>
#include <memory>
#include <mutex>
#include <optional>

using namespace eam::test::remote;
using eam::test::eventually;
using eam::test::inside_network_namespace;
using eam::test::shell;
using namespace std::chrono_literals;

namespace {

const std::string cookie = "a-test-cookie-of-enough-length";

/// To the relay: watch `target`, cast it `count` numbered seqs, then call it for its tally.
struct relay_to {
  sink_ref target;
  std::uint64_t count = 0;
  MSGPACK_DEFINE(target, count);
};
using relay_ref = eam::typed_ref<void(relay_to)>;

/// What the relay saw of its target (any thread).
struct relay_log {
  std::mutex lock;
  std::optional<eam::exit_reason> down;
  std::optional<eam::result<sink_state>> answer;
  bool got_ref = false, ref_was_alive = false;
};

void register_pending_test_messages() {
  static const bool done = [] {
    register_messages();
    eam::cluster::register_message<relay_to>("pending_peers_test.relay_to");
    return true;
  }();
  (void)done;
}

std::unique_ptr<eam::cluster::node> start_on(std::string id, std::string bind, std::vector<std::string> seeds,
                                             std::chrono::milliseconds connect_wait) {
  register_pending_test_messages();
  eam::cluster::node_config config;
  config.node_id = std::move(id);
  config.bind_address = std::move(bind);
  config.seeds = std::move(seeds);
  config.cookie = cookie;
  config.membership = fast_membership();
  config.connect_wait = connect_wait;
  config.system.workers = 1;
  return eam::cluster::start_node(config).value();
}

void spawn_sink(eam::cluster::node& n) {
  n.system().spawn({.name = "sink"}, [](eam::actor_context& ctx) {
    auto& state = ctx.make_state<sink_state>();
    return eam::behavior{[&state](const seq& s) {
                           if (s.n != state.count) state.in_order = false;
                           ++state.count;
                           state.sum += s.n;
                         },
                         [&state](get_sink) { return state; }};
  });
}

std::shared_ptr<relay_log> spawn_relay(eam::cluster::node& n) {
  auto log = std::make_shared<relay_log>();
  n.system().spawn({.name = "relay"}, [log](eam::actor_context& ctx) {
    return eam::behavior{[log, &ctx](const relay_to& r) -> eam::task<void> {
                           {
                             std::lock_guard guard(log->lock);
                             log->got_ref = true;
                             log->ref_was_alive = r.target.is_alive();
                           }
                           ctx.watch(r.target);
                           for (std::uint64_t i = 0; i < r.count; ++i) r.target.cast(seq{i, "pending"});
                           auto answer = co_await r.target.call(get_sink{}, 120s);
                           std::lock_guard guard(log->lock);
                           log->answer = std::move(answer);
                         },
                         [log](const eam::down& d) {
                           std::lock_guard guard(log->lock);
                           log->down = d.reason;
                         }};
  });
  return log;
}

// Refuses (rather than drops: a refused connect is retried at once, not after TCP's backoff)
// everything between the two loopback addresses, both ways.
// A cast item to actor 1 of the receiving node (there is none: it is dropped) whose payload, a
// test.link_to, holds a ref to actor `actor` of node `node`'s life `incarnation`, packed by hand:
// no node of this process handed that ref out.
void pack_cast_holding_ref(eam::test::wire::packer& pk, const std::string& node, std::uint64_t incarnation,
                           std::uint64_t actor) {
  pk.pack_array(4);
  pk.pack(static_cast<std::uint8_t>(eam::test::wire::item_kind::cast));
  pk.pack(std::uint64_t{1});
  pk.pack(std::string_view("test.link_to"));
  pk.pack_array(1);  // link_to{target}
  pk.pack_array(3);  // the ref: node, incarnation, actor
  pk.pack(node);
  pk.pack(incarnation);
  pk.pack(actor);
}

// Whether `frame` is a data frame holding the item `pack` packs (its bytes, anywhere in it).
template <class Pack>
bool data_frame_holds(const std::string& frame, Pack pack) {
  const std::string item = eam::test::data_frame(pack).substr(eam::test::wire::frame_header_bytes);
  return frame.size() > 2 && frame[1] == static_cast<char>(eam::test::wire::frame_kind::data) &&
         frame.find(item) != std::string::npos;
}

bool is_hello_of(const std::string& frame, const std::string& node) {
  return frame.size() > 2 && frame[1] == static_cast<char>(eam::test::wire::frame_kind::hello) &&
         frame.find(node) != std::string::npos;
}

std::vector<std::string> ids_of(const std::vector<eam::cluster::member>& members) {
  std::vector<std::string> ids;
  for (const auto& m : members) ids.push_back(m.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool keep_apart(const std::string& x, const std::string& y) {
  return shell("iptables -A INPUT -s " + x + " -d " + y + " -j REJECT") &&
         shell("iptables -A INPUT -s " + y + " -d " + x + " -j REJECT");
}

}  // namespace

TEST_SUITE("cluster.pending_peers") {
  TEST_CASE("a ref to a node not connected yet waits for the connection, and a node that never connects is gone") {
    if (!inside_network_namespace("a ref to a node not connected yet*")) return;
    // a and e never reach c until told; b reaches everyone, and is how refs to c's actors get
    // to them. e gives up on c after a second; a waits far longer than this test can take.
    REQUIRE(keep_apart("127.0.0.20", "127.0.0.22"));
    REQUIRE(keep_apart("127.0.0.24", "127.0.0.22"));
    auto a = start_on("a", "127.0.0.20", {}, 600s);
    auto b = start_on("b", "127.0.0.21", {a->address()}, 600s);
    auto e = start_on("e", "127.0.0.24", {a->address()}, 1s);
    REQUIRE(a->wait_for_peer("b", 60s));
    REQUIRE(e->wait_for_peer("b", 60s));
    auto c = start_on("c", "127.0.0.22", {b->address()}, 600s);
    spawn_sink(*c);
    REQUIRE(b->wait_for_peer("c", 60s));
    const auto relay_a = spawn_relay(*a);
    const auto relay_e = spawn_relay(*e);

    // b hands a and e a ref to c's sink: neither is connected to c.
    const sink_ref sink = b->whereis<sink_ref>("c", "sink").value();
    b->whereis<relay_ref>("a", "relay").value().cast(relay_to{sink, 500});
    b->whereis<relay_ref>("e", "relay").value().cast(relay_to{sink, 7});
    REQUIRE(eventually(
        [&] {
          std::lock_guard ga(relay_a->lock), ge(relay_e->lock);
          return relay_a->got_ref && relay_e->got_ref;
        },
        60s));
    {
      std::lock_guard guard(relay_a->lock);
      CHECK(relay_a->ref_was_alive);  // a proxy waiting for c, not a dead ref
    }
    CHECK(a->stats().peers_pending == 1);
    CHECK_FALSE(a->wait_for_peer("c", 0ms));  // kept apart

    // e gives up on c after its connect_wait: its watch hears noconnection, its call fails.
    CHECK(eventually(
        [&] {
          std::lock_guard guard(relay_e->lock);
          return relay_e->down.has_value() && relay_e->answer.has_value();
        },
        60s));
    {
      std::lock_guard guard(relay_e->lock);
      CHECK(relay_e->down == eam::exit_reason::noconnection());
      REQUIRE(relay_e->answer.has_value());
      REQUIRE_FALSE(relay_e->answer->has_value());
      CHECK(relay_e->answer->error_value().code() == eam::errc::transport_error);
    }
    CHECK(e->stats().peers_pending == 0);
    CHECK(e->stats().dropped_casts == 7);  // its casts never left: counted as dropped

    // Nothing of a's has reached c while they are apart; then they may meet.
    const sink_ref sink_at_home = c->whereis<sink_ref>("c", "sink").value();
    CHECK(sink_at_home.call(get_sink{}).get().value().count == 0);
    {
      std::lock_guard guard(relay_a->lock);
      CHECK_FALSE(relay_a->answer.has_value());
      CHECK_FALSE(relay_a->down.has_value());
    }
    REQUIRE(shell("iptables -D INPUT -s 127.0.0.20 -d 127.0.0.22 -j REJECT"));
    REQUIRE(shell("iptables -D INPUT -s 127.0.0.22 -d 127.0.0.20 -j REJECT"));
    REQUIRE(a->wait_for_peer("c", 60s));

    // a's 500 casts arrived in order, before its call, which saw them all.
    CHECK(eventually(
        [&] {
          std::lock_guard guard(relay_a->lock);
          return relay_a->answer.has_value();
        },
        60s));
    {
      std::lock_guard guard(relay_a->lock);
      REQUIRE(relay_a->answer.has_value());
      REQUIRE(relay_a->answer->has_value());
      CHECK(relay_a->answer->value().count == 500);
      CHECK(relay_a->answer->value().in_order);
      CHECK_FALSE(relay_a->down.has_value());
    }
    CHECK(a->stats().peers_pending == 0);

    // The watch made while c was not connected reached c: the sink's own end is what a hears.
    c->system().stop(sink_at_home, eam::exit_reason::custom("retired"));
    CHECK(eventually(
        [&] {
          std::lock_guard guard(relay_a->lock);
          return relay_a->down.has_value();
        },
        60s));
    {
      std::lock_guard guard(relay_a->lock);
      CHECK(relay_a->down == eam::exit_reason::custom("retired"));
    }
    REQUIRE(shell("iptables -F INPUT"));
  }

  TEST_CASE("refs to a life that is gone, to names no node has, and beyond 64 nodes arrive dead, and the rest wait") {
    ::unsetenv("LIBEAM_COOKIE");  // open mode, whatever the environment says: the raw sockets do no handshake
    register_pending_test_messages();
    eam::cluster::node_config config;
    config.node_id = "holder";
    config.cookie = std::nullopt;
    config.connect_wait = 15s;        // far beyond the counts' checks below, however slow the machine
    config.heartbeat_timeout = 120s;  // the raw peers send no heartbeats
    config.system.workers = 1;
    auto holder = eam::cluster::start_node(config).value();
    const auto stats = [&] { return holder->stats(); };

    // A node that connected and went: its life is gone for good.
    {
      eam::test::raw_dealer gone(holder->port());
      REQUIRE(gone.send(eam::test::hello_frame("gone", 7)));
      REQUIRE(eventually([&] { return stats().peers_connected == 1; }, 60s));
      REQUIRE(gone.send(eam::test::bytes(
          {eam::test::wire::wire_version, static_cast<std::uint8_t>(eam::test::wire::frame_kind::leave)})));
      REQUIRE(eventually([&] { return stats().peers_connected == 0; }, 60s));
    }
    eam::test::raw_dealer sender(holder->port());
    REQUIRE(sender.send(eam::test::hello_frame("sender", 1)));
    REQUIRE(eventually([&] { return stats().peers_connected == 1; }, 60s));

    // In one frame, decoded in order: the gone life, a name no hello would accept, an unknown
    // node. Only the last waits.
    const auto in_before = stats().messages_in;
    REQUIRE(sender.send(eam::test::data_frame([](auto& pk) {
      pack_cast_holding_ref(pk, "gone", 7, 3);
      pack_cast_holding_ref(pk, "bad name", 1, 1);
      pack_cast_holding_ref(pk, "ghost", 5, 9);
    })));
    REQUIRE(eventually([&] { return stats().messages_in == in_before + 3; }, 60s));
    CHECK(stats().peers_pending == 1);

    // Another life of the gone node may still come: it waits. Then 70 more nodes: 64 at most.
    REQUIRE(sender.send(eam::test::data_frame([](auto& pk) {
      pack_cast_holding_ref(pk, "gone", 8, 3);
      for (int i = 0; i < 70; ++i) pack_cast_holding_ref(pk, "n" + std::to_string(i), 1, 1);
    })));
    REQUIRE(eventually([&] { return stats().messages_in == in_before + 3 + 71; }, 60s));
    CHECK(stats().peers_pending == 64);

    // None of them connects: each is gone after connect_wait.
    CHECK(eventually([&] { return stats().peers_pending == 0; }, 60s));
    holder->shutdown();
  }

  TEST_CASE("the peer whose ref named a node not connected yet is asked where it listens, the answer is dialled, and who asked the node meanwhile is told once it connects") {
    ::unsetenv("LIBEAM_COOKIE");  // open mode, whatever the environment says: the raw sockets do no handshake
    register_pending_test_messages();
    eam::cluster::node_config config;
    config.node_id = "holder";
    config.cookie = std::nullopt;
    config.connect_wait = 600s;       // only an answer connects the node named
    config.heartbeat_timeout = 120s;  // the raw peers send no heartbeats
    config.system.workers = 1;
    auto holder = eam::cluster::start_node(config).value();
    namespace wire = eam::test::wire;

    // The sender's listener (where the holder greets it back), the named node's, another, and
    // a stranger's.
    eam::test::raw_router sender_side, ghost_side, elsewhere, stranger_side;
    REQUIRE_FALSE(sender_side.address().empty());
    REQUIRE_FALSE(ghost_side.address().empty());
    REQUIRE_FALSE(elsewhere.address().empty());
    REQUIRE_FALSE(stranger_side.address().empty());
    eam::test::raw_dealer sender(holder->port());
    REQUIRE(sender.send(eam::test::hello_frame("sender", 1, sender_side.address())));
    REQUIRE(sender_side.receive_until([](const std::string& f) { return is_hello_of(f, "holder"); }, 60s));

    REQUIRE(sender.send(eam::test::data_frame([](auto& pk) { pack_cast_holding_ref(pk, "ghost", 5, 9); })));
    REQUIRE(sender_side.receive_until(
        [](const std::string& f) { return data_frame_holds(f, [](auto& pk) { wire::pack_where(pk, "ghost", 5); }); },
        60s));
    CHECK(holder->stats().peers_pending == 1);

    // An answer from a peer that was not asked is not taken (the cast behind it says when it
    // has been read), nor one about another life, nor any after the first. The stranger also
    // asks where the ghost listens, as a node the holder handed a ref to the ghost would: the
    // holder cannot say yet.
    eam::test::raw_dealer stranger(holder->port());
    REQUIRE(stranger.send(eam::test::hello_frame("stranger", 1, stranger_side.address())));
    REQUIRE(stranger_side.receive_until([](const std::string& f) { return is_hello_of(f, "holder"); }, 60s));
    const auto in_before = holder->stats().messages_in;
    REQUIRE(stranger.send(eam::test::data_frame([&](auto& pk) {
      wire::pack_node_at(pk, "ghost", 5, elsewhere.address());
      wire::pack_where(pk, "ghost", 5);
      pack_cast_holding_ref(pk, "holder", 1, 1);  // a ref to this node's own (gone) actor: nobody is asked
    })));
    REQUIRE(eventually([&] { return holder->stats().messages_in == in_before + 1; }, 60s));
    REQUIRE(sender.send(eam::test::data_frame([&](auto& pk) {
      wire::pack_node_at(pk, "ghost", 6, elsewhere.address());
      wire::pack_node_at(pk, "ghost", 5, ghost_side.address());
      wire::pack_node_at(pk, "ghost", 5, elsewhere.address());
    })));
    REQUIRE(ghost_side.receive_until([](const std::string& f) { return is_hello_of(f, "holder"); }, 60s));

    // The node answers there: the refs that waited for it have their peer.
    eam::test::raw_dealer ghost(holder->port());
    REQUIRE(ghost.send(eam::test::hello_frame("ghost", 5, ghost_side.address())));
    REQUIRE(eventually([&] { return holder->stats().peers_connected == 3; }, 60s));
    CHECK(holder->stats().peers_pending == 0);
    // The stranger, which asked while the ghost was pending, is told now, with the address the
    // ghost's own hello gave.
    CHECK(stranger_side.receive_until(
        [&](const std::string& f) {
          return data_frame_holds(f, [&](auto& pk) { wire::pack_node_at(pk, "ghost", 5, ghost_side.address()); });
        },
        60s));

    // And the holder answers such a question itself for a node it is connected to (in order:
    // a question about a node it does not know has no answer).
    REQUIRE(sender.send(eam::test::data_frame([](auto& pk) {
      wire::pack_where(pk, "nobody", 1);
      wire::pack_where(pk, "ghost", 5);
    })));
    bool named_nobody = false;
    REQUIRE(sender_side.receive_until(
        [&](const std::string& f) {
          named_nobody = named_nobody || f.find("nobody") != std::string::npos;
          return data_frame_holds(f, [&](auto& pk) { wire::pack_node_at(pk, "ghost", 5, ghost_side.address()); });
        },
        60s));
    CHECK_FALSE(named_nobody);
    // Nothing dialled the other address (those answers came before everything since).
    CHECK_FALSE(elsewhere.receive_until([](const std::string&) { return true; }, 1s));
    holder->shutdown();
  }

  TEST_CASE("a ref to a hidden node's actor, handed on by a member it dialled, reaches it from a member it never heard of") {
    // A hidden node dials the members it hears of, and no member dials it: b, which joined after
    // the hidden node's one look at the members, is not connected to it, and learns where it
    // listens from a, whose ref named it.
    register_pending_test_messages();
    auto a = start_on("a", "127.0.0.1", {}, 600s);
    eam::cluster::node_config config;
    config.node_id = "visitor";
    config.seeds = {a->address()};
    config.cookie = cookie;
    config.membership = fast_membership();
    config.membership.hidden = true;
    config.membership.probe_interval = std::chrono::hours(1);  // it asks a once, at its start
    config.system.workers = 1;
    auto visitor = eam::cluster::start_node(config).value();
    REQUIRE(visitor->wait_for_cluster({.min_members = 2}));  // a's answer: a, and itself
    spawn_sink(*visitor);

    auto b = start_on("b", "127.0.0.1", {a->address()}, 600s);
    REQUIRE(a->wait_for_cluster({.min_members = 2}));
    REQUIRE(b->wait_for_cluster({.min_members = 2}));
    const auto relay_b = spawn_relay(*b);
    CHECK_FALSE(b->wait_for_peer("visitor", 0ms));
    CHECK(ids_of(visitor->members()) == std::vector<std::string>{"a", "visitor"});

    const sink_ref sink = a->whereis<sink_ref>("visitor", "sink").value();
    a->whereis<relay_ref>("b", "relay").value().cast(relay_to{sink, 50});
    REQUIRE(b->wait_for_peer("visitor", 60s));
    CHECK(eventually(
        [&] {
          std::lock_guard guard(relay_b->lock);
          return relay_b->answer.has_value();
        },
        60s));
    {
      std::lock_guard guard(relay_b->lock);
      REQUIRE(relay_b->answer.has_value());
      REQUIRE(relay_b->answer->has_value());
      CHECK(relay_b->answer->value().count == 50);
      CHECK(relay_b->answer->value().in_order);
    }
    CHECK(b->stats().peers_pending == 0);
    // Connected, and still no member: nobody lists it.
    CHECK(ids_of(b->members()) == std::vector<std::string>{"a", "b"});
    CHECK(ids_of(a->members()) == std::vector<std::string>{"a", "b"});
  }
}
