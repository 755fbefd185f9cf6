// Distributed process groups' table, fed messages by hand: local joins and leaves, what peers
// announce, a sync replacing a node's members, a node gone, a member's end.
#include "group_registry.hpp"

#include <doctest/doctest.h>
#include <eam/cluster/errc.hpp>
#include <eam/eam.hpp>

#include <map>
#include <string>
#include <vector>

namespace internal = eam::cluster::internal;
using eam::cluster::cluster_errc;

namespace {

struct get {};

// Local actors are those of `system`; remote ones are stand-ins registered by id.
struct recording_host final : internal::group_registry_host {
  std::vector<std::vector<std::byte>> sent;
  std::map<std::uint64_t, eam::actor_ref> remote_actors;
  std::vector<eam::actor_ref> not_local;

  void broadcast_groups(std::vector<std::byte>&& body) override { sent.push_back(std::move(body)); }
  eam::actor_ref remote_ref(const std::string&, std::uint64_t, std::uint64_t id,
                            const std::vector<internal::wire_signature>&) override {
    const auto it = remote_actors.find(id);
    return it == remote_actors.end() ? eam::actor_ref{} : it->second;
  }
  bool export_if_local(const eam::actor_ref& actor) override {
    return std::find(not_local.begin(), not_local.end(), actor) == not_local.end();
  }
};

auto idle(eam::actor_context&) {
  return eam::behavior{[](get) { return 0; }};
}

const internal::group_key workers{"pg", "workers"};

// A node's sync in one part (every test but the parts' own fits one frame).
std::vector<std::byte> whole_sync(const internal::group_registry& node) {
  std::size_t left_out = 0;
  std::vector<std::vector<std::byte>> parts = node.own_sync(16u << 20, left_out);
  REQUIRE(parts.size() == 1);
  REQUIRE(left_out == 0);
  return std::move(parts.front());
}

}  // namespace

TEST_SUITE("cluster.group_registry") {
  TEST_CASE("local joins count, leaves undo one join each and only local actors with valid names join") {
    eam::actor_system system({.workers = 1});
    recording_host host;
    internal::group_registry groups(host);
    auto a = system.spawn(idle);
    REQUIRE(groups.join(workers, a));
    REQUIRE(groups.join(workers, a));
    CHECK(groups.members(workers) == std::vector<eam::actor_ref>{a, a});
    REQUIRE(groups.leave(workers, a));
    CHECK(groups.local_members(workers) == std::vector<eam::actor_ref>{a});
    CHECK(groups.groups("pg") == std::vector<std::string>{"workers"});
    CHECK(host.sent.size() == 3);

    auto remote = system.spawn(idle);
    host.not_local.push_back(remote);
    CHECK(groups.join(workers, remote).code() == cluster_errc::not_a_local_actor);
    CHECK(groups.join({"pg", ""}, a).code() == cluster_errc::invalid_group);
    CHECK(groups.join({"pg", "bad\x01name"}, a).code() == cluster_errc::invalid_group);
    CHECK(groups.leave({"pg", "others"}, a).code() == cluster_errc::not_joined);
    CHECK(host.sent.size() == 3);  // nothing announced for refusals
  }

  TEST_CASE("peers' joins, leaves and syncs are applied per node and a node gone takes its members") {
    eam::actor_system system({.workers = 1});
    recording_host host;
    internal::group_registry groups(host);
    auto x = system.spawn(idle), y = system.spawn(idle);
    host.remote_actors = {{10, x}, {20, y}};
    using internal::groups_op;
    CHECK_FALSE(groups.on_message("b", 1, internal::encode_group_change(groups_op::join, workers, 10, 1)).bad);
    CHECK_FALSE(groups.on_message("b", 1, internal::encode_group_change(groups_op::join, workers, 10, 2)).bad);
    CHECK_FALSE(groups.on_message("c", 1, internal::encode_group_change(groups_op::join, workers, 20, 1)).bad);
    CHECK(groups.members(workers).size() == 3);
    CHECK_FALSE(groups.on_message("b", 1, internal::encode_group_change(groups_op::leave, workers, 10, 3)).bad);
    CHECK(groups.members(workers).size() == 2);
    // A leave from another node of an actor it does not have changes nothing.
    CHECK_FALSE(groups.on_message("c", 1, internal::encode_group_change(groups_op::leave, workers, 10, 2)).bad);
    CHECK(groups.members(workers).size() == 2);

    // c's sync replaces what c had: now only in another group.
    const internal::group_key other{"pg", "other"};
    CHECK_FALSE(groups.on_message("c", 1, internal::encode_groups_sync(5, {{other, {20, 20}}})).bad);
    CHECK(groups.members(workers) == std::vector<eam::actor_ref>{x});
    CHECK(groups.members(other) == std::vector<eam::actor_ref>{y, y});
    groups.node_gone("c");
    CHECK(groups.members(other).empty());
    CHECK(groups.groups("pg") == std::vector<std::string>{"workers"});

    // What a node syncs is what a peer then holds.
    auto mine = system.spawn(idle);
    REQUIRE(groups.join(other, mine));
    recording_host peer_host;
    peer_host.remote_actors = {{mine.id(), mine}};
    internal::group_registry peer(peer_host);
    CHECK_FALSE(peer.on_message("self", 1, whole_sync(groups)).bad);
    CHECK(peer.members(other) == std::vector<eam::actor_ref>{mine});
    CHECK(peer.members(workers).empty());  // b's member is b's to announce
  }

  TEST_CASE("a join sent after the sync that already holds it is applied once and later changes still are") {
    // What a node does when a peer connects while one of its joins is queued: the sync taken
    // at the hello holds the join, and the queued join then follows it on the wire.
    eam::actor_system system({.workers = 1});
    recording_host host;
    internal::group_registry node(host);
    auto a = system.spawn(idle), b = system.spawn(idle);
    REQUIRE(node.join(workers, a));
    const std::vector<std::byte> queued_join = host.sent.back();
    const std::vector<std::byte> sync = whole_sync(node);
    REQUIRE(node.join(workers, b));
    const std::vector<std::byte> later_join = host.sent.back();

    recording_host peer_host;
    peer_host.remote_actors = {{a.id(), a}, {b.id(), b}};
    internal::group_registry peer(peer_host);
    for (const auto* body : {&sync, &queued_join, &later_join}) CHECK_FALSE(peer.on_message("node", 1, *body).bad);
    CHECK(peer.members(workers) == std::vector<eam::actor_ref>{a, b});
    // The node comes back as a new life: its versions start again.
    peer.node_gone("node");
    CHECK_FALSE(peer.on_message("node", 2, internal::encode_group_change(internal::groups_op::join, workers, b.id(), 1)).bad);
    CHECK(peer.members(workers) == std::vector<eam::actor_ref>{b});
  }

  TEST_CASE("a sync larger than a frame comes in parts that together replace what the node had") {
    // One frame holds max_frame_bytes and one list max_sync_entries: a sync that needed more
    // was sent as one frame anyway, or not at all, and the peer learnt none of it.
    eam::actor_system system({.workers = 1});
    recording_host host;
    internal::group_registry node(host);
    recording_host peer_host;
    const internal::group_key small{"pg", "small"};
    std::vector<eam::actor_ref> many;
    for (int i = 0; i < 3'000; ++i) {
      many.push_back(system.spawn(idle));
      REQUIRE(node.join(workers, many.back()));
      peer_host.remote_actors[many.back().id()] = many.back();
    }
    REQUIRE(node.join(small, many.front()));
    const internal::group_key too_long{"pg", std::string(internal::max_group_text, 'g')};
    REQUIRE(node.join(too_long, many.front()));

    constexpr std::size_t max_body = 1024;  // about 100 members a part
    std::size_t left_out = 0;
    const std::vector<std::vector<std::byte>> parts = node.own_sync(max_body, left_out);
    CHECK(parts.size() > 20);
    CHECK(left_out == 1);  // the group whose names alone nearly fill a part
    internal::group_registry peer(peer_host);
    auto stale = system.spawn(idle);
    peer_host.remote_actors[stale.id()] = stale;
    REQUIRE_FALSE(
        peer.on_message("node", 1, internal::encode_group_change(internal::groups_op::join, small, stale.id(), 1)).bad);
    for (const std::vector<std::byte>& body : parts) {
      CHECK(body.size() <= max_body);
      CHECK_FALSE(peer.on_message("node", 1, body).bad);
    }
    CHECK(peer.members(workers) == many);
    CHECK(peer.members(small) == std::vector<eam::actor_ref>{many.front()});  // the stale member is gone

    // Nothing to send is still one part: it clears what the peer held.
    internal::group_registry empty(host);
    const std::vector<std::vector<std::byte>> none = empty.own_sync(max_body, left_out);
    REQUIRE(none.size() == 1);
    CHECK_FALSE(peer.on_message("node", 1, none.front()).bad);
    CHECK(peer.members(workers).empty());
  }

  TEST_CASE("a local member that ends leaves every group it joined, each join announced as a leave") {
    eam::actor_system system({.workers = 1});
    recording_host host;
    internal::group_registry groups(host);
    auto a = system.spawn(idle);
    REQUIRE(groups.join(workers, a));
    REQUIRE(groups.join(workers, a));
    REQUIRE(groups.join({"pg", "other"}, a));
    host.sent.clear();
    groups.local_actor_ended(a.id());
    CHECK(groups.groups("pg").empty());
    CHECK(host.sent.size() == 3);

    // A peer that applies the joins and then these leaves has nothing left.
    recording_host peer_host;
    peer_host.remote_actors = {{a.id(), a}};
    internal::group_registry peer(peer_host);
    using internal::groups_op;
    for (std::uint64_t v = 1; v <= 2; ++v)
      CHECK_FALSE(peer.on_message("self", 1, internal::encode_group_change(groups_op::join, workers, a.id(), v)).bad);
    CHECK_FALSE(
        peer.on_message("self", 1, internal::encode_group_change(groups_op::join, {"pg", "other"}, a.id(), 3)).bad);
    for (const auto& body : host.sent) CHECK_FALSE(peer.on_message("self", 1, body).bad);
    CHECK(peer.groups("pg").empty());
  }

  TEST_CASE("many local members: each leave and each end takes out that member's joins alone, in order") {
    // Joins are found by the actor's id (group_registry.hpp), not by a scan of the groups: with
    // many members, twice-joined ones and two groups, every leave and end must reach exactly
    // its own joins, and an end of an actor that never joined announces nothing.
    constexpr int n = 50;
    eam::actor_system system({.workers = 1});
    recording_host host;
    internal::group_registry groups(host);
    const internal::group_key other{"pg", "other"};
    std::vector<eam::actor_ref> actors;
    for (int i = 0; i < n; ++i) {
      actors.push_back(system.spawn(idle));
      REQUIRE(groups.join(workers, actors.back()));
      if (i % 5 == 0) REQUIRE(groups.join(workers, actors.back()));  // twice
      if (i % 2 == 0) REQUIRE(groups.join(other, actors.back()));
    }
    for (int i = 0; i < n; i += 5) REQUIRE(groups.leave(workers, actors[static_cast<std::size_t>(i)]));  // one of two
    CHECK(groups.leave(other, actors[1]).code() == cluster_errc::not_joined);
    host.sent.clear();
    auto stranger = system.spawn(idle);
    groups.local_actor_ended(stranger.id());
    CHECK(host.sent.empty());
    std::size_t announced = 0;
    for (int i = 0; i < n; i += 3) {
      groups.local_actor_ended(actors[static_cast<std::size_t>(i)].id());
      announced += 1 + (i % 2 == 0 ? 1 : 0);  // its joins left: one in workers, one in other
    }
    CHECK(host.sent.size() == announced);
    // Each actor left once in workers (the twice-joined ones keep their second join), in join
    // order; the ended ones are gone from both groups.
    std::vector<eam::actor_ref> in_workers, in_other;
    for (int i = 0; i < n; ++i) {
      if (i % 3 == 0) continue;
      in_workers.push_back(actors[static_cast<std::size_t>(i)]);
      if (i % 2 == 0) in_other.push_back(actors[static_cast<std::size_t>(i)]);
    }
    CHECK(groups.local_members(workers) == in_workers);
    CHECK(groups.local_members(other) == in_other);
  }

  TEST_CASE("an actor in many groups: each leave takes out its oldest join of that group alone") {
    // Its joins are kept by group: a leave looked through all of them, and each join copied them.
    eam::actor_system system({.workers = 1});
    recording_host host;
    internal::group_registry groups(host);
    auto a = system.spawn(idle), b = system.spawn(idle);
    constexpr int n = 40;
    auto key = [](int i) { return internal::group_key{"pg", "g" + std::to_string(i)}; };
    for (int i = 0; i < n; ++i) REQUIRE(groups.join(key(i), a));
    REQUIRE(groups.join(key(7), b));
    REQUIRE(groups.join(key(7), a));  // twice in g7, after b
    for (const int i : {0, 39, 7, 20, 1, 7}) REQUIRE(groups.leave(key(i), a));
    CHECK(groups.leave(key(7), a).code() == cluster_errc::not_joined);  // both its joins of g7 are gone
    CHECK(groups.local_members(key(7)) == std::vector<eam::actor_ref>{b});
    for (const int i : {0, 39, 20, 1}) CHECK(groups.local_members(key(i)).empty());
    for (const int i : {2, 19, 21, 38}) CHECK(groups.local_members(key(i)) == std::vector<eam::actor_ref>{a});
    host.sent.clear();
    groups.local_actor_ended(a.id());
    CHECK(host.sent.size() == n - 5);  // one leave for each join left
    CHECK(groups.groups("pg") == std::vector<std::string>{"g7"});
  }

  TEST_CASE("a peer's many members: each leave takes out that actor's oldest join, in order") {
    // A peer's members are found by id (group_registry.hpp), not by a search of its list: with
    // many, some joined twice, each announced leave must take out exactly one join, the oldest.
    constexpr std::uint64_t n = 40;
    eam::actor_system system({.workers = 1});
    recording_host host;
    internal::group_registry groups(host);
    std::vector<eam::actor_ref> stand_ins;
    for (std::uint64_t id = 1; id <= n; ++id) {
      stand_ins.push_back(system.spawn(idle));
      host.remote_actors[id] = stand_ins.back();
    }
    using internal::groups_op;
    std::uint64_t version = 0;
    auto send = [&](groups_op op, std::uint64_t id) {
      CHECK_FALSE(groups.on_message("b", 1, internal::encode_group_change(op, workers, id, ++version)).bad);
    };
    for (std::uint64_t id = 1; id <= n; ++id) send(groups_op::join, id);
    for (std::uint64_t id = 1; id <= n; id += 4) send(groups_op::join, id);   // again, after all the others
    for (std::uint64_t id = 1; id <= n; id += 4) send(groups_op::leave, id);  // the first join goes
    for (std::uint64_t id = 2; id <= n; id += 4) send(groups_op::leave, id);
    send(groups_op::leave, n + 1);  // never joined: nothing changes
    std::vector<eam::actor_ref> expected;
    for (std::uint64_t id = 1; id <= n; ++id)
      if (id % 4 != 1 && id % 4 != 2) expected.push_back(stand_ins[id - 1]);
    for (std::uint64_t id = 1; id <= n; id += 4) expected.push_back(stand_ins[id - 1]);  // their second joins
    CHECK(groups.members(workers) == expected);
  }

  TEST_CASE("malformed groups messages are refused whole") {
    recording_host host;
    internal::group_registry groups(host);
    const std::vector<std::vector<std::byte>> bad = {
        {},
        {std::byte{0x91}, std::byte{0x09}},                   // [9]: unknown operation
        {std::byte{0x94}, std::byte{0x00}, std::byte{0xa1}},  // truncated
    };
    for (const auto& body : bad) CHECK(groups.on_message("b", 1, body).bad);
    CHECK(groups.on_message("b", 1, internal::encode_group_change(internal::groups_op::join, {"pg", "a\nb"}, 1, 1)).bad);
    CHECK(groups.groups("pg").empty());
  }
}
