// The control service (eam/cluster/control.hpp), called from another node as eamctl calls it:
// what a node says of itself and its actors, drain, migrations by name, and a stop.
#include "test_nodes.hpp"

#include "../support/eventually.hpp"

#include <doctest/doctest.h>
#include <eam/cluster/control.hpp>

#include <unistd.h>

#include <future>

using namespace eam::test::remote;
using eam::test::eventually;
using namespace std::chrono_literals;
namespace ctl = eam::cluster::control;

namespace {

struct hold {  // its handler waits for the test's release
  MSGPACK_DEFINE();
};

std::unique_ptr<eam::cluster::node> start_fixed(const std::string& id, std::vector<std::string> seeds) {
  register_messages();
  register_actor_types();
  eam::cluster::node_config config;
  config.node_id = id;
  config.seeds = std::move(seeds);
  config.cookie = test_cookie;
  // Two workers that always run: an actor held in its handler keeps one, the control service
  // answers on the other.
  config.system.workers = 2;
  config.system.adaptive_workers = false;
  return eam::cluster::start_node(config).value();
}

}  // namespace

TEST_SUITE("cluster.control") {
  TEST_CASE("a node's control service describes it and lists its actors busiest first") {
    auto a = start_fixed("a", {});
    auto b = start_fixed("b", {a->address()});
    REQUIRE(a->wait_for_peer("b", 30s));
    const auto control = a->whereis<ctl::control_ref>("b", ctl::service_name).value();

    const auto info = control.call(ctl::info_request{}).get().value();
    CHECK(info.node_id == "b");
    CHECK(info.address == b->address());
    CHECK(info.pid == ::getpid());
    CHECK(info.peers == std::vector<std::string>{"a"});
    CHECK(info.health == "healthy");
    CHECK_FALSE(info.draining);
    CHECK(info.workers == 2);
    CHECK(info.actor_count == b->system().actor_count());

    // An actor held in its first message, three more queued in its counted mailbox.
    auto released = std::make_shared<std::promise<void>>();
    std::shared_future<void> release = released->get_future().share();
    auto entered = std::make_shared<std::promise<void>>();
    auto first = std::make_shared<std::atomic<bool>>(true);
    auto held = b->system().spawn({.name = "held", .mailbox_bound = 16}, [release, entered, first](eam::actor_context&) {
      return eam::behavior{[release, entered, first](hold) {
        if (first->exchange(false)) entered->set_value();
        release.wait();
      }};
    });
    auto entered_future = entered->get_future();
    held.cast(hold{});
    REQUIRE(entered_future.wait_for(30s) == std::future_status::ready);
    for (int i = 0; i < 3; ++i) held.cast(hold{});
    // b holds a ref to an actor of a: its proxy there is counted apart, not listed.
    const auto a_control = b->whereis<ctl::control_ref>("a", ctl::service_name).value();

    const auto all = control.call(ctl::actors_request{}).get().value();
    CHECK(all.proxies == 1);
    CHECK(all.total + all.proxies == b->system().actor_count());
    CHECK(std::none_of(all.actors.begin(), all.actors.end(),
                       [&](const ctl::actor_row& r) { return r.id == a_control.id(); }));
    CHECK(all.actors.size() == all.total);
    REQUIRE_FALSE(all.actors.empty());
    CHECK(all.actors[0].name == "held");
    CHECK(all.actors[0].queued == std::optional<std::uint64_t>(3));
    CHECK_FALSE(all.actors[0].idle);
    const auto named = [&](const std::string& name) {
      return std::count_if(all.actors.begin(), all.actors.end(), [&](const ctl::actor_row& r) { return r.name == name; });
    };
    CHECK(named(std::string(ctl::service_name)) == 1);
    CHECK(named("eam.spawner") == 1);
    const auto two = control.call(ctl::actors_request{2}).get().value();
    CHECK(two.total == all.total);
    REQUIRE(two.actors.size() == 2);
    CHECK(two.actors[0].name == "held");
    released->set_value();
  }

  TEST_CASE("drain, migrations by name and a stop, through another node's calls") {
    auto a = start_fixed("a", {});
    auto b = start_fixed("b", {a->address()});
    REQUIRE(a->wait_for_peer("b", 30s));
    const auto control = a->whereis<ctl::control_ref>("b", ctl::service_name).value();

    CHECK(control.call(ctl::drain_request{true}).get().value().draining);
    CHECK(b->draining());
    CHECK_FALSE(control.call(ctl::drain_request{false}).get().value().draining);
    CHECK_FALSE(b->draining());

    for (int i = 1; i <= 3; ++i)
      REQUIRE(b->spawn<placed_counter_ref>("test.tally", {.name = "t" + std::to_string(i)}, i * 10).has_value());
    const auto moved = control.call(ctl::migrate_request{"t1", "a", 10000}, 30s).get();
    REQUIRE(moved.has_value());
    CHECK(a->system().whereis("t1").has_value());
    CHECK(a->whereis<placed_counter_ref>("a", "t1").value().call(get{}).get().value() == 10);

    const auto unknown = control.call(ctl::migrate_request{"nobody", "a", 10000}, 30s).get();
    CHECK(unknown.code() == eam::errc::registry_lookup_failed);
    const auto nowhere = control.call(ctl::migrate_request{"t2", "b", 10000}, 30s).get();
    CHECK(nowhere.code() == eam::cluster::cluster_errc::same_node);

    // Refused by a draining target: each failure names its actor, and both stay on b.
    a->drain();
    const auto refused = control.call(ctl::migrate_all_request{"a", true, 10000}, 60s).get().value();
    CHECK(refused.migrated == 0);
    CHECK(refused.failed == 2);
    REQUIRE(refused.errors.size() == 2);
    for (const char* name : {"\"t2\"", "\"t3\""})
      CHECK(std::count_if(refused.errors.begin(), refused.errors.end(), [&](const std::string& why) {
              return why.find(name) != std::string::npos && why.find("node_draining") != std::string::npos;
            }) == 1);
    a->undrain();

    const auto all = control.call(ctl::migrate_all_request{"a", true, 10000}, 60s).get().value();
    CHECK(all.migrated == 2);
    CHECK(all.failed == 0);
    CHECK(all.errors.empty());
    CHECK(b->draining());  // asked to drain first
    for (int i = 2; i <= 3; ++i)
      CHECK(a->whereis<placed_counter_ref>("a", "t" + std::to_string(i)).value().call(get{}).get().value() == i * 10);

    CHECK(control.call(ctl::stop_request{}).get().value().node_id == "b");
    CHECK(b->wait_for_shutdown(30s));
    CHECK(eventually([&] { return a->peers().empty(); }, 30s));
    // A stopped node's control service is gone with it.
    CHECK_FALSE(a->whereis<ctl::control_ref>("b", ctl::service_name).has_value());
    // a's own lists b as departed, not dropped, with its address.
    const auto seen = a->whereis<ctl::control_ref>("a", ctl::service_name).value().call(ctl::members_request{}).get().value();
    REQUIRE(seen.members.size() == 2);
    CHECK(seen.members[0].id == "a");
    CHECK(seen.members[0].status == "alive");
    CHECK(seen.members[1].id == "b");
    CHECK(seen.members[1].status == "left");
    CHECK(seen.members[1].address == b->address());
  }
}
