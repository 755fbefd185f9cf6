// Migration between node processes on 127.0.0.1 (node::migrate, migrate_all, drain): the state
// and the queued messages move in order, the name follows, watchers and links hear `moved`
// once, the old ref relays, and each refusal leaves the actor running where it was. This test
// process runs one node; a node program (child_node) runs the other, stopped by its pid.
#include "child_node.hpp"
#include "test_nodes.hpp"

#include "../support/eventually.hpp"
#include "../support/move_observer.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <eam/engine/any_message.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

using namespace eam::test::remote;
using eam::test::child_node;
using eam::test::eventually;
using namespace std::chrono_literals;

namespace {

// Types only this test process registers: the node program cannot restore them.
struct gate_open {
  std::shared_ptr<std::promise<void>> entered;
  std::shared_future<void> open;
};
struct blocker : eam::actor<void(gate_open), int(get)> {
  int n = 0;
  void handle_cast(const gate_open& g) {
    g.entered->set_value();
    g.open.wait();
  }
  int handle_call(get) { return ++n; }
  int save_state() const { return n; }
  void restore_state(int saved) { n = saved; }
};
struct parent_ledger : eam::actor<int(get)> {
  void init() {
    context().spawn([](eam::actor_context&) { return eam::behavior{[](get) { return 0; }}; });
  }
  int handle_call(get) { return 1; }
  int save_state() const { return 0; }
  void restore_state(int) {}
};

std::unique_ptr<eam::cluster::node> start_here() {
  static const bool local_types = [] {
    eam::cluster::register_actor<blocker>("test.blocker");
    eam::cluster::register_actor<parent_ledger>("test.parent_ledger");
    return true;
  }();
  (void)local_types;
  return start_test_node("here", {}, 2);
}

struct connected {
  std::unique_ptr<eam::cluster::node> here = start_here();
  child_node b{member_args("b", *here)};
  connected() {
    REQUIRE(here->wait_for_cluster({.min_members = 2, .nodes = {"b"}, .timeout = 30s}));
    REQUIRE(here->wait_for_peer("b", 30s));
  }
};

// Timeouts no busy machine reaches: a migration that fails here is a bug, not a slow run.
constexpr eam::cluster::migrate_config patient{.save_timeout = 60s, .timeout = 60s, .forward_for = 120s};
constexpr eam::cluster::migrate_config patient_short_relay{.save_timeout = 60s, .timeout = 60s, .forward_for = 1ms};

ledger_report report_of(const ledger_ref& ref) { return ref.call(ledger_query{}).get().value(); }

}  // namespace

TEST_SUITE("cluster.migration") {
  TEST_CASE("migration under a steady stream of casts loses none and keeps their order and the name follows") {
    connected c;
    auto& here = *c.here;
    auto old = here.spawn<ledger_ref>("test.ledger", {.name = "ledger", .global = true}, std::string(1024, 'x'))
                   .value();
    REQUIRE(eventually([&] { return c.here->name_owner("ledger") == std::optional<std::string>("here"); }));
    constexpr std::uint64_t total = 20000;
    std::atomic<std::uint64_t> sent{0};
    std::thread sender([&] {
      for (std::uint64_t n = 1; n <= total; ++n) {
        old.cast(seq{n, {}});
        sent.store(n);
      }
    });
    // A call sent while the actor moves is answered, by one self or the other.
    REQUIRE(eventually([&] { return sent.load() >= total / 4; }));
    auto during = std::async(std::launch::async, [&] { return old.call(ledger_query{}).get(); });
    auto moved_to = here.migrate(old, "b", patient);
    if (!moved_to) FAIL(std::string(moved_to.error_value().what()));
    sender.join();
    CHECK(during.get().has_value());

    auto successor = eam::typed_ref_cast<ledger_ref>(moved_to.value()).value();
    CHECK(successor.call(whoami{}).get().value() == "b");
    // Every cast went through the old ref: relayed in order after the ones that moved with it.
    ledger_report r;
    REQUIRE(eventually([&] { return (r = report_of(successor)).count == total; }));
    CHECK(r.last == total);
    CHECK(r.in_order);
    CHECK(r.restored == 1);
    CHECK(r.node == "b");
    // Through the old ref too (relayed), and its name now resolves to the moved actor.
    CHECK(report_of(old).count == total);
    REQUIRE(eventually([&] { return here.name_owner("ledger") == std::optional<std::string>("b"); }));
    auto by_name = here.system().whereis<ledger_ref>("ledger");
    REQUIRE(by_name.has_value());
    CHECK(by_name.value().call(whoami{}).get().value() == "b");
    CHECK(here.stats().migrated == 1);
    CHECK(here.stats().relayed > 0);
  }

  TEST_CASE("a watched and linked actor delivers exactly one moved to each and no down or exit after") {
    connected c;
    auto& here = *c.here;
    auto old = here.spawn<ledger_ref>("test.ledger", {}, std::string()).value();
    auto watch_log = std::make_shared<eam::test::observed>();
    auto link_log = std::make_shared<eam::test::observed>();
    auto watcher = eam::test::observe(here.system(), watch_log, old, false);
    auto linked = eam::test::observe(here.system(), link_log, old, true);
    (void)watcher.call(eam::test::observer_sync{}).get().value();  // their watch and link are in place before the pause
    (void)linked.call(eam::test::observer_sync{}).get().value();
    auto moved_to = here.migrate(old, "b", patient_short_relay);
    REQUIRE(moved_to.has_value());
    REQUIRE(eventually([&] { return !old.is_alive(); }));  // the relay ended
    // What its end could cause was sent before it ended: handled once these return.
    eam::test::settle(watcher);
    eam::test::settle(linked);
    for (auto* log : {watch_log.get(), link_log.get()}) {
      std::lock_guard g(log->lock);
      REQUIRE(log->moves.size() == 1);
      CHECK(log->moves[0].from == old);
      CHECK(log->moves[0].to == moved_to.value());
      CHECK(log->moves[0].node == "b");
      CHECK(log->downs == 0);
      CHECK(log->exits == 0);
    }
    CHECK(eam::typed_ref_cast<ledger_ref>(moved_to.value()).value().call(whoami{}).get().value() == "b");
  }

  TEST_CASE("an actor linked from another node: that node's link hears moved and no exit signal after") {
    connected c;
    auto& here = *c.here;
    auto old = here.spawn<ledger_ref>("test.ledger", {}, std::string()).value();
    auto linker = here.whereis<linker_ref>("b", "linker").value();
    REQUIRE(linker.call(link_to{old}).get().value());
    auto moved_to = here.migrate(old, "b", patient_short_relay);
    REQUIRE(moved_to.has_value());
    REQUIRE(eventually([&] { return !old.is_alive(); }));
    // The relay's end reached b (its proxy of the old actor ends) before this answer.
    REQUIRE(eventually([&] { return linker.call(exits_seen{}).get().value().size() >= 1; }));
    const auto seen = linker.call(exits_seen{}).get().value();
    INFO(fmt::format("{}", fmt::join(seen, " | ")));
    CHECK(seen == std::vector<std::string>{"moved to b"});
    CHECK(here.stats().exported_watched >= 1);
  }

  TEST_CASE("a migration its target answers too late leaves one live actor: the late copy there is withdrawn") {
    connected c;
    auto& here = *c.here;
    const auto control = here.whereis<control_ref>("b", "control").value();
    // A first migration to b, patient: it leaves an actor there, and this node knows b's spawner.
    auto first = here.spawn<placed_counter_ref>("test.tally", {}, 1).value();
    REQUIRE(here.migrate(first, "b", patient).has_value());
    const std::uint64_t on_b = control.call(count_actors{}).get().value();

    // b paused: the rebuild there outlasts the migration's timeout, and the actor runs on here.
    auto moving = here.spawn<placed_counter_ref>("test.tally", {}, 40).value();
    c.b.pause();
    const auto late = here.migrate(moving, "b", {.save_timeout = 60s, .timeout = 1s, .forward_for = 1ms});
    c.b.resume();
    CHECK(late.code() == eam::errc::timeout);
    CHECK(moving.call(get{}).get().value() == 40);

    // b rebuilds it once it runs again, then handles the withdraw that followed the request;
    // a further migration there, patient, comes after both.
    auto third = here.spawn<placed_counter_ref>("test.tally", {}, 3).value();
    REQUIRE(here.migrate(third, "b", patient).has_value());
    // One more actor on b (the third), not two: the late copy was stopped (it lived on before).
    CHECK(eventually([&] { return control.call(count_actors{}).get().value() == on_b + 1; }, 20s));
  }

  TEST_CASE("a migration's timeout bounds the look-up of the target's spawner too") {
    connected c;
    auto& here = *c.here;
    auto moving = here.spawn<placed_counter_ref>("test.tally", {}, 5).value();
    c.b.pause();  // its spawner has not been looked up yet: the look-up itself waits
    const auto r = here.migrate(moving, "b", {.save_timeout = 60s, .timeout = 1s, .forward_for = 1ms});
    c.b.resume();
    // Not lookup_timeout (5 s), by when membership could declare b failed (transport_error).
    CHECK(r.code() == eam::errc::timeout);
    CHECK(moving.call(get{}).get().value() == 5);
  }

  TEST_CASE("refusals leave the actor running here: same node or no saved state or unknown type there or children or too slow") {
    connected c;
    auto& here = *c.here;
    auto ledger_here = here.spawn<ledger_ref>("test.ledger", {.name = "stays"}, std::string()).value();
    CHECK(here.migrate(ledger_here, "here", patient).code() == eam::cluster::cluster_errc::same_node);
    CHECK(here.migrate(ledger_here, "nobody", patient).code() == eam::errc::peer_not_found);

    auto counter = here.spawn<placed_counter_ref>("test.counter", {}, 5).value();  // saves no state
    CHECK(here.migrate(counter, "b", patient).code() == eam::errc::actor_not_migratable);
    CHECK(counter.call(get{}).get().value() == 5);

    auto unknown_there = here.spawn<eam::typed_ref<int(get)>>("test.blocker", {}).value();
    CHECK(here.migrate(unknown_there, "b", patient).code() == eam::errc::actor_class_not_registered);
    CHECK(unknown_there.call(get{}).get().value() == 1);

    auto with_child = here.spawn<eam::typed_ref<int(get)>>("test.parent_ledger", {}).value();
    CHECK(here.migrate(with_child, "b", patient).code() == eam::errc::actor_has_children);
    CHECK(with_child.call(get{}).get().value() == 1);

    // Busy in a handler until the gate opens, it cannot save its state in time.
    std::promise<void> gate;
    auto busy = here.spawn<eam::typed_ref<void(gate_open), int(get)>>("test.blocker", {}).value();
    auto entered = std::make_shared<std::promise<void>>();
    busy.cast(gate_open{entered, gate.get_future().share()});
    entered->get_future().wait();
    CHECK(here.migrate(busy, "b", {.save_timeout = 100ms, .timeout = 60s}).code() == eam::errc::timeout);
    gate.set_value();
    CHECK(busy.call(get{}).get().value() == 1);  // resumed where it was

    // A named actor refused keeps its name.
    CHECK(here.migrate("missing-name", "b", patient).code() == eam::errc::registry_lookup_failed);
    CHECK(here.system().whereis("stays").has_value());
    CHECK(here.stats().migrated == 0);
  }

  TEST_CASE("drain then migrate_all for a rolling deploy then undrain and a functional actor moves with its state") {
    connected c;
    auto& here = *c.here;
    std::vector<ledger_ref> ledgers;
    for (int i = 0; i < 3; ++i) {
      ledgers.push_back(here.spawn<ledger_ref>("test.ledger", {}, std::string()).value());
      ledgers.back().cast(seq{1, {}});
    }
    auto tally = here.spawn<placed_counter_ref>("test.tally", {}, 40).value();
    tally.cast(add{2});
    auto counter = here.spawn<placed_counter_ref>("test.counter", {}, 1).value();  // does not move

    // A target that cannot take them moves and counts nothing, and says why once (every
    // actor was counted as failed, the counter that saves no state too).
    for (const std::string to : {"here", "nobody"}) {
      const auto nowhere = here.migrate_all(to, patient);
      CHECK(nowhere.migrated == 0);
      CHECK(nowhere.failed == 0);
      REQUIRE(nowhere.errors.size() == 1);
      CHECK(nowhere.errors[0].code() ==
            (to == "here" ? eam::error_code(eam::cluster::cluster_errc::same_node) : eam::error_code(eam::errc::peer_not_found)));
    }

    here.drain();
    CHECK(here.draining());
    const auto health = here.system().health();
    CHECK(health.status == eam::health_status::degraded);
    CHECK(health.message.find("draining") != std::string::npos);
    CHECK(here.spawn<placed_counter_ref>("test.counter", {}, 1).code() == eam::cluster::cluster_errc::node_draining);

    auto result = here.migrate_all("b", patient);
    CHECK(result.migrated == 4);
    CHECK(result.failed == 0);
    for (auto& l : ledgers) {
      l.cast(seq{2, {}});  // through the old ref: relayed
      const ledger_report r = report_of(l);
      CHECK(r.node == "b");
      CHECK(r.count == 2);
      CHECK(r.in_order);
    }
    CHECK(tally.call(whoami{}).get().value() == "b");
    CHECK(tally.call(get{}).get().value() == 42);
    CHECK(counter.call(whoami{}).get().value() == "here");

    here.undrain();
    CHECK_FALSE(here.draining());
    CHECK(here.spawn<placed_counter_ref>("test.counter", {}, 1).has_value());
  }
}
