// The distributed registry's table and its conflict rule, fed messages by hand: every node
// converges on the same owner whatever order the claims arrive in.
#include "name_registry.hpp"

#include "../support/eventually.hpp"

#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace internal = eam::cluster::internal;

namespace {

struct get {};

// A host whose peers are the test: broadcasts are recorded, remote refs are local stand-ins.
struct recording_host final : internal::name_registry_host {
  eam::actor_system& system;
  std::int64_t clock_ms = 1'000;
  std::vector<std::vector<std::byte>> sent;
  std::vector<std::pair<std::string, std::string>> lost;  // name, winner
  std::map<std::uint64_t, eam::actor_ref> remote_actors;   // what remote_ref answers, by id

  std::mutex sent_lock;  // an actor's end broadcasts from a worker thread

  explicit recording_host(eam::actor_system& s) : system(s) {}
  void broadcast_names(std::vector<std::byte>&& body) override {
    std::lock_guard g(sent_lock);
    sent.push_back(std::move(body));
  }
  std::vector<std::vector<std::byte>> sent_so_far() {
    std::lock_guard g(sent_lock);
    return sent;
  }
  eam::actor_ref remote_ref(const std::string&, std::uint64_t, std::uint64_t id,
                            const std::vector<internal::wire_signature>&) override {
    const auto it = remote_actors.find(id);
    return it == remote_actors.end() ? eam::actor_ref{} : it->second;
  }
  std::vector<internal::wire_signature> export_named(const eam::actor_ref&) override { return {}; }
  void name_lost(const std::string& name, const eam::actor_ref&, const std::string& winner) override {
    lost.emplace_back(name, winner);
  }
  std::int64_t wall_clock_ms() override { return clock_ms; }
  void names_changed() override { system.names_changed(); }
};

internal::name_announcement claim(std::string name, std::uint64_t stamp, std::uint64_t actor = 1) {
  internal::name_announcement a;
  a.name = std::move(name);
  a.stamp = stamp;
  a.actor = actor;
  return a;
}

auto answering(eam::actor_context&) {
  return eam::behavior{[](get) { return 1; }};
}

}  // namespace

TEST_SUITE("cluster.name_registry") {
  TEST_CASE("concurrent claims converge on the earlier one whatever order they arrive in") {
    eam::actor_system system({.workers = 1});
    const std::vector<std::pair<std::string, internal::name_announcement>> claims = {
        {"a", claim("x", 500)}, {"b", claim("x", 300)}, {"c", claim("x", 300)}};
    std::vector<int> order = {0, 1, 2};
    std::vector<std::string> owners;
    do {
      recording_host host(system);
      internal::name_registry registry("observer", host);
      for (const int i : order)
        CHECK_FALSE(registry.on_message(claims[static_cast<std::size_t>(i)].first, 1,
                                        internal::encode_put(claims[static_cast<std::size_t>(i)].second))
                        .bad);
      owners.push_back(registry.owner_of("x").value_or("none"));
    } while (std::next_permutation(order.begin(), order.end()));
    // Stamps 300 tie between b and c: the smaller node id.
    CHECK(std::all_of(owners.begin(), owners.end(), [](const std::string& o) { return o == "b"; }));
  }

  TEST_CASE("a local claim beaten by an earlier remote one loses its name and is told") {
    eam::actor_system system({.workers = 1});
    recording_host host(system);
    auto registry = std::make_shared<internal::name_registry>("self", host);
    system.set_name_extension(registry);
    host.clock_ms = 2'000;
    auto mine = system.spawn({.name = "x", .global = true}, answering);
    REQUIRE(registry->owner_of("x") == "self");
    REQUIRE(host.sent.size() == 1);  // the put

    // A claim made earlier elsewhere (stamp of t = 1 s) arrives late.
    CHECK_FALSE(registry->on_message("other", 1, internal::encode_put(claim("x", std::uint64_t{1'000} << 16))).bad);
    CHECK(registry->owner_of("x") == "other");
    REQUIRE(host.lost.size() == 1);
    CHECK(host.lost[0] == std::pair<std::string, std::string>("x", "other"));
    // The beaten claim is withdrawn at the peers: a third node that heard both claims, then the
    // winner's withdrawal, holds no claim of x (it held this node's, a ghost, before).
    REQUIRE(host.sent.size() == 2);  // the put, then its del
    {
      recording_host third_host(system);
      internal::name_registry third("third", third_host);
      CHECK_FALSE(third.on_message("other", 1, internal::encode_put(claim("x", std::uint64_t{1'000} << 16))).bad);
      for (const auto& body : host.sent) CHECK_FALSE(third.on_message("self", 1, body).bad);
      CHECK(third.owner_of("x") == "other");
      CHECK_FALSE(third.on_message("other", 1, internal::encode_del("x", std::uint64_t{1'000} << 16)).bad);
      CHECK_FALSE(third.owner_of("x").has_value());
    }

    // An earlier claim that came in while a spawn was between may_register and registered:
    // the spawn's actor is the loser (the extension is called as the spawn would).
    CHECK_FALSE(registry->on_message("other", 1, internal::encode_put(claim("z", std::uint64_t{1'500} << 16))).bad);
    auto late = system.spawn(answering);
    registry->registered("z", late);
    CHECK(registry->owner_of("z") == "other");
    REQUIRE(host.lost.size() == 2);
    CHECK(host.lost[1] == std::pair<std::string, std::string>("z", "other"));

    // A later claim from elsewhere does not take a name this node holds.
    auto kept = system.spawn({.name = "y", .global = true}, answering);
    CHECK_FALSE(registry->on_message("other", 1, internal::encode_put(claim("y", std::uint64_t{9'000} << 16))).bad);
    CHECK(registry->owner_of("y") == "self");
    CHECK(host.lost.size() == 2);
    system.set_name_extension(nullptr);
  }

  TEST_CASE("a name held elsewhere is refused, resolves to its remote actor and goes with its owner") {
    eam::actor_system system({.workers = 1});
    recording_host host(system);
    auto registry = std::make_shared<internal::name_registry>("self", host);
    system.set_name_extension(registry);
    auto stand_in = system.spawn(answering);
    host.remote_actors[42] = stand_in;
    CHECK_FALSE(registry->on_message("other", 1, internal::encode_put(claim("remote", 7, 42))).bad);

    CHECK_THROWS_AS(system.spawn({.name = "remote", .global = true}, answering), eam::error);
    const auto found = system.whereis("remote");
    REQUIRE(found.has_value());
    CHECK(*found == stand_in);

    // A del with another stamp is an old one: ignored; the owner's own del removes it.
    CHECK_FALSE(registry->on_message("other", 1, internal::encode_del("remote", 6)).bad);
    CHECK(registry->owner_of("remote") == "other");
    CHECK_FALSE(registry->on_message("other", 1, internal::encode_del("remote", 7)).bad);
    CHECK_FALSE(registry->owner_of("remote").has_value());

    // A sync replaces everything its sender held; node_gone drops it all.
    CHECK_FALSE(registry->on_message("other", 1, internal::encode_put(claim("stale", 8, 42))).bad);
    CHECK_FALSE(
        registry->on_message("other", 1, internal::encode_sync({claim("p", 9, 42), claim("q", 10, 42)})).bad);
    CHECK_FALSE(registry->owner_of("stale").has_value());
    CHECK(registry->names() == std::vector<std::pair<std::string, std::string>>{{"p", "other"}, {"q", "other"}});
    registry->node_gone("other");
    CHECK(registry->names().empty());
    system.set_name_extension(nullptr);
  }

  TEST_CASE("every change to the claims moves the system's names_version") {
    // otp::named_ref keeps the actor a name resolved to until the version moves.
    eam::actor_system system({.workers = 1});
    recording_host host(system);
    internal::name_registry registry("self", host);
    auto local = system.spawn(answering);
    const auto moves = [&](auto&& change) {
      const auto before = system.names_version();
      change();
      return system.names_version() != before;
    };
    CHECK(moves([&] { CHECK_FALSE(registry.on_message("other", 1, internal::encode_put(claim("a", 7, 42))).bad); }));
    CHECK(moves([&] { CHECK_FALSE(registry.on_message("other", 1, internal::encode_del("a", 7)).bad); }));
    CHECK(moves([&] { CHECK_FALSE(registry.on_message("other", 1, internal::encode_sync({claim("b", 8, 42)})).bad); }));
    CHECK(moves([&] { registry.node_gone("other"); }));
    CHECK(moves([&] { registry.registered("mine", local); }));
    CHECK(moves([&] { registry.unregistered("mine", local.id()); }));
    CHECK_FALSE(moves([&] { (void)registry.whereis("a"); }));
  }

  TEST_CASE("an actor's end withdraws its name with the stamp it was announced with") {
    eam::actor_system system({.workers = 1});
    recording_host host(system);
    auto registry = std::make_shared<internal::name_registry>("self", host);
    system.set_name_extension(registry);
    auto named = system.spawn({.name = "short-lived", .global = true}, answering);
    system.stop(named);
    REQUIRE(eam::test::eventually([&] { return host.sent_so_far().size() == 2; }));
    CHECK_FALSE(registry->owner_of("short-lived").has_value());

    // What was sent is what a peer applies: the put then the del leave it with nothing.
    recording_host peer_host(system);
    internal::name_registry peer("peer", peer_host);
    for (const auto& body : host.sent_so_far()) CHECK_FALSE(peer.on_message("self", 1, body).bad);
    CHECK(peer.names().empty());
    system.set_name_extension(nullptr);
  }

  TEST_CASE("a sync larger than a frame comes in parts that together replace what the node had") {
    // One frame holds max_frame_bytes and one sync list max_sync_names: a node holding more sent
    // a sync its peers refused whole, or none at all, and they learnt none of its names.
    eam::actor_system system({.workers = 1});
    recording_host host(system);
    auto registry = std::make_shared<internal::name_registry>("self", host);
    system.set_name_extension(registry);
    std::vector<std::pair<std::string, std::string>> expected;
    for (int i = 0; i < 1'000; ++i) {
      const std::string name = "service-" + std::to_string(1'000 + i);
      system.spawn({.name = name, .global = true}, answering);
      expected.emplace_back(name, "self");
    }
    constexpr std::size_t max_body = 2048;  // about 60 names a part
    std::size_t left_out = 0;
    const std::vector<std::vector<std::byte>> parts = registry->own_sync(max_body, left_out);
    CHECK(parts.size() > 10);
    CHECK(left_out == 0);

    recording_host peer_host(system);
    internal::name_registry peer("peer", peer_host);
    REQUIRE_FALSE(peer.on_message("self", 1, internal::encode_put(claim("stale", 8, 42))).bad);
    for (const std::vector<std::byte>& body : parts) {
      CHECK(body.size() <= max_body);
      CHECK_FALSE(peer.on_message("self", 1, body).bad);
    }
    CHECK(peer.names() == expected);  // sorted by name, and the stale one is gone
    system.set_name_extension(nullptr);  // before `host` goes: the actors' ends announce nothing
  }

  TEST_CASE("more names than one sync list may hold go in a second part") {
    std::vector<internal::name_announcement> all;
    for (std::size_t i = 0; i <= internal::max_sync_names; ++i) all.push_back(claim("n" + std::to_string(i), i + 1));
    std::size_t left_out = 0;
    const auto parts = internal::encode_sync_parts(all, 64u << 20, left_out);
    REQUIRE(parts.size() == 2);
    struct counter final : internal::names_visitor {
      std::size_t synced = 0, more = 0;
      void on_put(internal::name_announcement&&) override {}
      void on_del(std::string&&, std::uint64_t) override {}
      void on_sync(std::vector<internal::name_announcement>&& a) override { synced += a.size(); }
      void on_sync_more(std::vector<internal::name_announcement>&& a) override { more += a.size(); }
    } seen;
    for (const auto& body : parts) CHECK_FALSE(internal::decode_names(body, seen).bad);
    CHECK(seen.synced == internal::max_sync_names);
    CHECK(seen.more == 1);
    // One name larger than a part alone is left out, counted; the others still go.
    all.resize(3);
    all[1].name = std::string(internal::max_name_bytes, 'x');
    const auto small = internal::encode_sync_parts(all, 512, left_out);
    CHECK(left_out == 1);
    REQUIRE(small.size() == 1);
  }

  TEST_CASE("a name passing to another node survives its new claim arriving before the old claim's del") {
    // A migrated actor: the old node frees the name (del) before the new node claims it (put),
    // but a third node may hear them the other way round.
    eam::actor_system system({.workers = 1});
    for (const bool del_first : {false, true}) {
      recording_host host(system);
      internal::name_registry registry("third", host);
      CHECK_FALSE(registry.on_message("old", 1, internal::encode_put(claim("moving", 100, 7))).bad);
      if (del_first) CHECK_FALSE(registry.on_message("old", 1, internal::encode_del("moving", 100)).bad);
      CHECK_FALSE(registry.on_message("new", 1, internal::encode_put(claim("moving", 200, 9))).bad);
      if (!del_first) {
        CHECK(registry.owner_of("moving") == std::optional<std::string>("old"));  // the earlier claim, still held
        CHECK_FALSE(registry.on_message("old", 1, internal::encode_del("moving", 100)).bad);
      }
      CHECK(registry.owner_of("moving") == std::optional<std::string>("new"));
      CHECK(host.lost.empty());
    }
  }

  TEST_CASE("malformed registry messages are refused whole") {
    eam::actor_system system({.workers = 1});
    recording_host host(system);
    internal::name_registry registry("self", host);
    const std::vector<std::vector<std::byte>> bad = {
        {},                                                    // empty
        {std::byte{0x91}, std::byte{0x07}},                    // [7]: unknown operation
        {std::byte{0x92}, std::byte{0x00}, std::byte{0xa1}},   // truncated
    };
    for (const auto& body : bad) CHECK(registry.on_message("other", 1, body).bad);
    std::vector<std::byte> control_char = internal::encode_put(claim("bad\nname", 1));
    CHECK(registry.on_message("other", 1, control_char).bad);
    CHECK(registry.names().empty());
  }
}
