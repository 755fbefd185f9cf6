// Two processes under one node id (a misconfiguration, or a restart while the old life still
// answers): the node they both reach keeps the one connected first, as Erlang refuses a second
// node of a name, and takes the other once the first is gone, without that one saying hello
// again. Before, each hello took the other's place: the node dropped and retook them hundreds of
// times a second, and every ref to either died. The refused one is told why: its health and its
// wait_for_cluster name the node id in use and where; before, it ran alone and healthy without
// a word. Three nodes in this process over 127.0.0.1, two of them named alike.
#include "child_node.hpp"
#include "test_actors.hpp"

#include "../support/eventually.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

using eam::test::eventually;
using namespace std::chrono_literals;

namespace {

struct which {  // answered with the answering node's own label
  MSGPACK_DEFINE();
};
using which_ref = eam::typed_ref<std::string(which)>;

std::unique_ptr<eam::cluster::node> start(const std::string& id, std::vector<std::string> seeds) {
  static const bool registered = [] {
    eam::cluster::register_message<which>("duplicate_node_test.which");
    return true;
  }();
  (void)registered;
  eam::cluster::node_config config;
  config.node_id = id;
  config.seeds = std::move(seeds);
  config.cookie = "a-test-cookie-of-enough-length";
  config.system.workers = 1;
  return eam::cluster::start_node(config).value();
}

void spawn_labelled(eam::cluster::node& n, std::string label) {
  n.system().spawn({.name = "labelled"},
                   [label](eam::actor_context&) { return eam::behavior{[label](which) { return label; }}; });
}

// What the node's "cluster" health component says now (empty when healthy).
eam::component_health cluster_health(eam::cluster::node& n) {
  const auto report = n.system().health();
  const auto it = std::find_if(report.components.begin(), report.components.end(),
                               [](const auto& c) { return c.name == "cluster"; });
  REQUIRE(it != report.components.end());
  return it->health;
}

}  // namespace

TEST_SUITE("cluster.duplicate_node") {
  TEST_CASE("a second node under a connected node's id is refused, and taken once the first is gone") {
    auto a = start("dup-a", {});
    auto first = start("dup-b", {a->address()});
    spawn_labelled(*first, "first");
    REQUIRE(a->wait_for_peer("dup-b", 30s));
    const which_ref first_ref = a->whereis<which_ref>("dup-b", "labelled").value();
    REQUIRE(first_ref.call(which{}, 30s).get().value() == "first");
    std::atomic<int> first_downs{0};
    a->system().watch(first_ref, [&](const eam::down&) { first_downs.fetch_add(1); });

    // The second says hello to a: refused (counted as a bad frame), the first stays.
    const auto bad_before = a->stats().bad_frames;
    auto second = start("dup-b", {a->address()});
    spawn_labelled(*second, "second");
    REQUIRE(eventually([&] { return a->stats().bad_frames > bad_before || first_downs.load() > 0; }, 60s));
    CHECK(first_downs.load() == 0);
    CHECK(first_ref.call(which{}, 30s).get().value() == "first");
    CHECK(a->stats().peers_connected == 1);

    // The second hears why: a refusal comes back on its connection to a.
    const std::string in_use = "node id dup-b is in use: node dup-a refused this node, being connected to another node "
                               "dup-b at " + first->address();
    REQUIRE(eventually([&] { return cluster_health(*second).status == eam::health_status::unhealthy; }, 60s));
    CHECK(cluster_health(*second).message == in_use);
    const auto waited = second->wait_for_cluster({.min_members = 2, .timeout = 10ms});
    REQUIRE(!waited);
    CHECK(waited.error_value().code() == eam::cluster::cluster_errc::node_id_in_use);
    CHECK(waited.error_value().context().find(in_use) != std::string::npos);
    CHECK(cluster_health(*first).status == eam::health_status::healthy);

    // The first leaves: a takes the second, whose hello waited.
    first->shutdown();
    CHECK(eventually([&] { return first_downs.load() == 1; }, 60s));
    CHECK(eventually(
        [&] {
          auto r = a->whereis<which_ref>("dup-b", "labelled");
          if (!r) return false;
          const auto answer = r->call(which{}, 30s).get();
          return answer && answer.value() == "second";
        },
        60s));
    // Taken, it is refused no more.
    CHECK(eventually([&] { return cluster_health(*second).status == eam::health_status::healthy; }, 60s));
    CHECK(second->wait_for_cluster({.min_members = 2, .timeout = 60s}));
    second->shutdown();
    a->shutdown();
  }

  TEST_CASE("a refused life that leaves is not taken when the first goes") {
    // Its hello waited on the node that refused it; the leave it said on that connection was
    // dropped with everything else there, so the node took that hello once the first life
    // left: a peer connected to a process that was no more, until its heartbeat timeout.
    auto a = start("dup-a", {});
    auto first = start("dup-b", {a->address()});
    REQUIRE(a->wait_for_peer("dup-b", 30s));
    auto second = start("dup-b", {a->address()});
    REQUIRE(eventually([&] { return a->stats().contenders == 1; }, 60s));
    second->shutdown();
    CHECK(eventually([&] { return a->stats().contenders == 0; }, 60s));
    CHECK(a->stats().peers_connected == 1);  // the first
    first->shutdown();
    CHECK(eventually([&] { return a->stats().peers_connected == 0; }, 60s));
    a->shutdown();
  }

  TEST_CASE("a refused life keeps its place while it runs, and a killed one is dropped") {
    // A refused node heartbeats on the connection it was refused on; one silent past the
    // refusing node's heartbeat_timeout is gone (a kill says no leave). Before, a killed one
    // waited for ever, and was taken once the first life left.
    eam::cluster::node_config config;
    config.node_id = "dup-a";
    config.cookie = "a-test-cookie-of-enough-length";
    // Every node here heartbeats every second (the default, which is also what a takes for
    // "heard from lately" when it refuses); a gives up on silence after three.
    config.heartbeat_timeout = 3s;
    config.system.workers = 1;
    auto a = eam::cluster::start_node(config).value();
    auto first = start("dup-b", {a->address()});
    REQUIRE(a->wait_for_peer("dup-b", 30s));
    eam::test::child_node second({"--id", "dup-b", "--cookie", config.cookie.value(), "--seed", a->address()});
    REQUIRE(eventually([&] { return a->stats().contenders == 1; }, 60s));
    // Past the timeout twice over, it is still waiting: it heartbeats there (and asks its
    // seed again every second, knowing no other member).
    std::this_thread::sleep_for(2 * config.heartbeat_timeout);
    CHECK(a->stats().contenders == 1);
    second.kill_hard();
    CHECK(eventually([&] { return a->stats().contenders == 0; }, 60s));
    first->shutdown();
    CHECK(eventually([&] { return a->stats().peers_connected == 0; }, 60s));
    a->shutdown();
  }
}
