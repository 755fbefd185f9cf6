// Placement and remote spawn between node processes on 127.0.0.1: types registered by name on
// every node, spawned where a placement puts them (round robin over the members with a role,
// this node by default), arguments carried by the wire's codecs, typed refs that reach the new
// actor, and the typed refusals. This test process runs one node; node programs (child_node)
// run the others, each stopped by its pid.
#include "child_node.hpp"
#include "test_nodes.hpp"

#include "../support/eventually.hpp"

#include <doctest/doctest.h>
#include <eam/distributed/remote_child.hpp>
#include <eam/otp/supervisor.hpp>

#include <deque>
#include <map>

using namespace eam::test::remote;
using eam::test::child_node;
using eam::test::eventually;
using namespace std::chrono_literals;
using eam::cluster::placement;

namespace {

std::unique_ptr<eam::cluster::node> start_here() {
  static const bool only_here = [] {  // a type the node programs lack
    eam::cluster::register_actor<int>("test.only_here", [](eam::actor_context&, int) {
      return eam::behavior{[](get) { return 0; }};
    });
    return true;
  }();
  (void)only_here;
  return start_test_node("here");
}

std::vector<std::string> worker_args(const std::string& id, const std::string& role, const eam::cluster::node& seed,
                                     std::vector<std::string> extra = {}) {
  extra.insert(extra.begin(), {"--role", role});
  return member_args(id, seed, std::move(extra));
}

}  // namespace

TEST_SUITE("cluster.placement") {
  TEST_CASE("round robin over the members with a role spreads spawns evenly and each ref reaches its actor") {
    auto here = start_here();
    std::deque<child_node> children;
    children.emplace_back(worker_args("b", "worker", *here));
    children.emplace_back(worker_args("c", "worker", *here));
    children.emplace_back(worker_args("d", "store", *here));
    REQUIRE(here->wait_for_cluster({.min_members = 4, .nodes = {"b", "c", "d"}, .timeout = 30s}));
    for (const char* id : {"b", "c", "d"}) REQUIRE(here->wait_for_peer(id, 30s));

    std::map<std::string, int> placed;
    std::vector<placed_counter_ref> refs;
    for (int i = 0; i < 100; ++i) {
      auto ref = here->spawn<placed_counter_ref>("test.counter", {.placement = placement::round_robin, .role = "worker"}, i);
      REQUIRE(ref.has_value());
      ++placed[ref.value().call(whoami{}).get().value()];
      refs.push_back(std::move(ref).value());
    }
    CHECK(placed == std::map<std::string, int>{{"b", 50}, {"c", 50}});
    // Each ref reaches its own actor, started from its own argument.
    for (int i = 0; i < 100; i += 7) {
      refs[static_cast<std::size_t>(i)].cast(add{1000});
      CHECK(refs[static_cast<std::size_t>(i)].call(get{}).get().value() == i + 1000);
    }

    // Without a role, round robin takes every member, this node among them, in id order.
    std::map<std::string, int> everywhere;
    for (int i = 0; i < 8; ++i) {
      auto ref = here->spawn<placed_counter_ref>("test.counter", {.placement = placement::round_robin}, i);
      REQUIRE(ref.has_value());
      ++everywhere[ref.value().call(whoami{}).get().value()];
    }
    CHECK(everywhere == std::map<std::string, int>{{"b", 2}, {"c", 2}, {"d", 2}, {"here", 2}});

    // A class actor from its argument, on the store.
    auto greeter = here->spawn<greeter_ref>("test.greeter", {.placement = placement::round_robin, .role = "store"},
                                            std::string("hello, "));
    REQUIRE(greeter.has_value());
    CHECK(greeter.value().call(echo{"store"}).get().value() == "hello, store");
  }

  TEST_CASE("round robin passes over a killed member that membership has not declared failed yet") {
    // Membership takes a minute to declare the killed node failed here (suspicion 60 probe
    // intervals, on every node), while its connection ends at once. A spawn that picked it in
    // turn failed with transport_error until then.
    eam::cluster::node_config config;
    config.node_id = "here";
    config.cookie = test_cookie;
    config.system.workers = 1;
    config.membership.suspicion_mult = 60;
    register_messages();
    register_actor_types();
    auto here = eam::cluster::start_node(config).value();
    child_node b(worker_args("b", "worker", *here, {"--suspicion-mult", "60"}));
    child_node c(worker_args("c", "worker", *here, {"--suspicion-mult", "60"}));
    REQUIRE(here->wait_for_cluster({.min_members = 3, .nodes = {"b", "c"}, .timeout = 30s}));
    for (const char* id : {"b", "c"}) REQUIRE(here->wait_for_peer(id, 30s));

    c.kill_hard();
    REQUIRE(eventually([&] {
      const auto peers = here->peers();
      return std::find(peers.begin(), peers.end(), "c") == peers.end();
    }, 60s));
    std::map<std::string, int> placed;
    for (int i = 0; i < 6; ++i) {
      auto ref = here->spawn<placed_counter_ref>("test.counter", {.placement = placement::round_robin, .role = "worker"}, i);
      REQUIRE(ref.has_value());
      ++placed[ref.value().call(whoami{}).get().value()];
    }
    CHECK(placed == std::map<std::string, int>{{"b", 6}});
    // c was still a member throughout: the spawns were placed while it was one.
    const auto members = here->members();
    CHECK(std::any_of(members.begin(), members.end(), [](const eam::cluster::member& m) { return m.id == "c"; }));
  }

  TEST_CASE("local placement by default and typed refusals: no role, no type there, bad arguments, wrong ref type") {
    auto here = start_here();
    child_node b(worker_args("b", "worker", *here));
    REQUIRE(here->wait_for_cluster({.min_members = 2, .nodes = {"b"}, .timeout = 30s}));
    REQUIRE(here->wait_for_peer("b", 30s));

    auto local = here->spawn<placed_counter_ref>("test.counter", {}, 3);
    REQUIRE(local.has_value());
    CHECK(local.value().call(whoami{}).get().value() == "here");
    CHECK(local.value().call(get{}).get().value() == 3);

    // A global name given at spawn follows the actor to its node.
    auto named = here->spawn<placed_counter_ref>("test.counter",
                                                 {.placement = placement::round_robin, .role = "worker",
                                                  .name = "placed", .global = true},
                                                 1);
    REQUIRE(named.has_value());
    CHECK(eventually([&] { return here->name_owner("placed") == std::optional<std::string>("b"); }));

    CHECK(here->spawn<placed_counter_ref>("test.counter", {.role = "nobody"}, 1).code() == eam::errc::no_role_match);
    CHECK(here->spawn<placed_counter_ref>("test.counter", {.role = "worker"}, 1).code() == eam::errc::no_role_match);
    CHECK(here->spawn<placed_counter_ref>("test.only_here", {.placement = placement::round_robin, .role = "worker"}, 1)
              .code() == eam::errc::actor_class_not_registered);
    CHECK(here->spawn<placed_counter_ref>("test.missing", {}, 1).code() == eam::errc::actor_class_not_registered);
    CHECK(here->spawn<placed_counter_ref>("test.counter", {.placement = placement::round_robin, .role = "worker"},
                                          std::string("not an int"))
              .code() == eam::cluster::cluster_errc::bad_spawn_arguments);
    const std::size_t actors_before = here->system().actor_count();
    CHECK(here->spawn<greeter_ref>("test.counter", {}, 1).code() == eam::errc::unhandled_message);
    CHECK(eventually([&] { return here->system().actor_count() == actors_before; }));  // the mismatched one is gone
  }

  TEST_CASE("a supervisor's child on another node is restarted when it ends there and ends with the supervisor") {
    auto here = start_here();
    child_node b(worker_args("b", "worker", *here));
    REQUIRE(here->wait_for_cluster({.min_members = 2, .nodes = {"b"}, .timeout = 30s}));
    REQUIRE(here->wait_for_peer("b", 30s));

    auto sup = eam::otp::start_supervisor(
                   here->system(), {},
                   {eam::distributed::remote_child(*here, "counter", "test.counter",
                                                   {.placement = placement::round_robin, .role = "worker",
                                                    .name = "supervised", .global = true},
                                                   5)})
                   .value();
    auto live_child = [&]() -> std::optional<placed_counter_ref> {
      auto found = here->system().whereis<placed_counter_ref>("supervised");
      if (!found) return std::nullopt;
      return found.value();
    };
    std::optional<placed_counter_ref> first;
    REQUIRE(eventually([&] { return (first = live_child()).has_value(); }));
    CHECK(first->call(whoami{}).get().value() == "b");
    first->cast(add{1});
    CHECK(first->call(get{}).get().value() == 6);

    // It dies on its node: the stand-in ends with its reason and the supervisor starts a new one.
    here->system().exit(*first, eam::exit_reason::kill());
    REQUIRE(eventually([&] {
      auto now = live_child();
      if (!now || now->id() == first->id()) return false;
      auto total = now->call(get{}).get();
      return total && total.value() == 5;  // a fresh one, from the spec's arguments
    }));
    const auto children = sup.which_children().value();
    REQUIRE(children.size() == 1);
    CHECK(children[0].id == "counter");

    // The supervisor stops: so does the child on the other node, and its name goes.
    sup.stop();
    CHECK(eventually([&] { return !here->name_owner("supervised").has_value(); }));
  }
}
