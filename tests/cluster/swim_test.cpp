// The membership protocol's state machine fed single messages by hand: corner cases that a whole
// simulated cluster reaches only by chance.
#include "swim.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

using eam::cluster::member;
using eam::cluster::member_event;
using eam::cluster::member_event_kind;
using eam::cluster::member_status;
using eam::cluster::membership_config;
namespace internal = eam::cluster::internal;
using ms = std::chrono::milliseconds;

namespace {

// Records what the protocol does; sends go nowhere.
struct recording_environment final : internal::swim_environment {
  std::vector<member_event> events;
  std::vector<std::string> states_sent_to;
  void send_datagram(const std::string&, std::vector<std::byte>&&) override {}
  void send_state(const std::string& to, std::vector<std::byte>&&) override { states_sent_to.push_back(to); }
  void member_changed(const member_event& event) override { events.push_back(event); }
  std::int64_t wall_clock_ms() override { return 1'700'000'000'000; }
};

member member_named(const std::string& id, std::uint64_t incarnation = 1) {
  member m;
  m.id = id;
  m.address = id + "-address:1";
  m.incarnation = incarnation;
  return m;
}

// One node, "self", in open mode (unsigned datagrams), that already knows `others` as alive.
struct lone_node {
  recording_environment env;
  internal::swim protocol;
  std::uint64_t next_nonce = 1;

  explicit lone_node(const std::vector<std::string>& others)
      : protocol(membership_config{}, member_named("self"), env, 7, ms(0)) {
    std::vector<internal::encoded_message> alive;
    for (const std::string& id : others) alive.push_back(internal::encode_alive(member_named(id)));
    datagram("seed-address:1", alive, ms(0));
  }

  void datagram(const std::string& from, const std::vector<internal::encoded_message>& messages, ms now) {
    std::vector<const internal::encoded_message*> pointers;
    for (const auto& m : messages) pointers.push_back(&m);
    const std::vector<std::byte> body = internal::make_body(pointers);
    internal::nonce_t nonce{};
    std::uint64_t n = next_nonce++;
    std::copy_n(reinterpret_cast<const std::uint8_t*>(&n), sizeof n, nonce.begin());
    protocol.on_datagram(from, internal::seal_datagram(body, nullptr, env.wall_clock_ms(), nonce), now);
  }

  [[nodiscard]] std::optional<member_status> status_of(const std::string& id) const {
    const member* m = protocol.find(id);
    return m == nullptr ? std::nullopt : std::optional(m->status);
  }
};

}  // namespace

TEST_SUITE("cluster.swim") {
  TEST_CASE("a live member at a higher incarnation with the same address and metadata is an update") {
    // A node restarted under its id at its address before it was declared failed (or a
    // refutation heard late): its record changed, yet nothing was said, and members() kept the
    // old incarnation.
    lone_node node({"b"});
    node.env.events.clear();
    node.datagram("b-address:1", {internal::encode_alive(member_named("b", 7))}, ms(10));
    REQUIRE(node.env.events.size() == 1);
    CHECK(node.env.events[0].kind == member_event_kind::update);
    CHECK(node.env.events[0].subject.incarnation == 7);
    CHECK(node.protocol.find("b")->incarnation == 7);
    node.datagram("b-address:1", {internal::encode_alive(member_named("b", 7))}, ms(20));  // old news
    CHECK(node.env.events.size() == 1);
  }
  TEST_CASE("a failed member at this node's own address is not dialled for reconnects") {
    // This node was started where a failed one had run (its port again): a state exchange
    // with that member reached this node itself every reconnect interval.
    lone_node node({});
    member old_life = member_named("b");
    old_life.address = node.protocol.self().address;
    member other = member_named("c");
    node.datagram("seed-address:1", {internal::encode_alive(old_life), internal::encode_alive(other)}, ms(0));
    node.datagram("seed-address:1", {internal::encode_dead("b", 1, "seed"), internal::encode_dead("c", 1, "seed")},
                  ms(1));
    REQUIRE(node.status_of("b") == member_status::dead);
    REQUIRE(node.status_of("c") == member_status::dead);
    const ms interval = membership_config{}.reconnect_interval;
    for (int i = 1; i <= 20; ++i) node.protocol.tick(ms(1) + interval * i);
    CHECK(std::count(node.env.states_sent_to.begin(), node.env.states_sent_to.end(), old_life.address) == 0);
    CHECK(std::count(node.env.states_sent_to.begin(), node.env.states_sent_to.end(), other.address) >= 20);
  }

  TEST_CASE("a suspicion at the highest incarnation is refuted without wrapping to zero") {
    lone_node node({"b"});
    const std::uint64_t top = std::numeric_limits<std::uint64_t>::max();
    node.datagram("b-address:1", {internal::encode_suspect("self", top, "b")}, ms(10));
    CHECK(node.protocol.self().incarnation == top);
    CHECK(node.protocol.self().status == member_status::alive);
    CHECK(node.protocol.stats().refutations == 1);
  }

  TEST_CASE("a node that leaves no longer counts itself among the live members") {
    lone_node node({"b", "c"});
    REQUIRE(node.protocol.live_count() == 3);
    node.protocol.leave(ms(10));
    CHECK(node.protocol.live_count() == 2);
    node.protocol.leave(ms(20));  // idempotent
    CHECK(node.protocol.live_count() == 2);
  }

  TEST_CASE("a push-pull from the accuser itself is no independent confirmation of its suspicion") {
    // Four live members: one confirmation from another node brings the suspicion timeout from
    // its maximum down to its minimum. The accuser's own state exchange, which names it by its
    // address, must not count as that second node.
    lone_node node({"b", "c", "d"});
    const auto [min, max] = node.protocol.suspicion_bounds();
    REQUIRE(min < max);
    node.datagram("c-address:1", {internal::encode_suspect("b", 1, "c")}, ms(10));
    REQUIRE(node.status_of("b") == member_status::suspect);

    member b = member_named("b");
    b.status = member_status::suspect;
    const std::vector<std::byte> state = internal::encode_state(false, false, {member_named("c"), b});
    node.protocol.on_state_body("c-address:1", state, ms(20));

    node.protocol.tick(ms(10) + min + ms(1));
    CHECK(node.status_of("b") == member_status::suspect);
    node.protocol.tick(ms(10) + max + ms(1));
    CHECK(node.status_of("b") == member_status::dead);

    // Another node's accusation does shorten it.
    lone_node confirmed({"b", "c", "d"});
    confirmed.datagram("c-address:1", {internal::encode_suspect("b", 1, "c")}, ms(10));
    confirmed.datagram("d-address:1", {internal::encode_suspect("b", 1, "d")}, ms(20));
    confirmed.protocol.tick(ms(10) + min + ms(1));
    CHECK(confirmed.status_of("b") == member_status::dead);
  }
}
