// The distributed registry between node processes on 127.0.0.1: a global name taken on one
// node resolves on every other (typed, through the system's own whereis), leaves with its
// actor or its node, reaches a node that joins later, and three nodes claiming one name at once
// agree on one winner while the others are told. This test process runs one node; node
// programs (child_node) run the others, each stopped by its pid.
#include "proxy.hpp"
#include "test_nodes.hpp"

#include "../support/eventually.hpp"

#include <eam/otp/named_ref.hpp>
#include <eam/otp/supervisor.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <future>
#include <set>

using namespace eam::test::remote;
using eam::test::child_node;
using eam::test::eventually;
using namespace std::chrono_literals;

namespace {
/// Registered for the wire only inside the test that uses it, after an actor handling it exists.
struct late_note {
  int n = 0;
  MSGPACK_DEFINE(n);
};

#ifdef EAM_TEST_SANITIZED
constexpr int contests = 10;
#else
constexpr int contests = 50;
#endif

// `id`'s view of who holds `name` ("" for nobody).
std::string owner_seen_by(eam::cluster::node& here, const std::string& id, const std::string& name) {
  if (id == here.id()) return here.name_owner(name).value_or("");
  auto r = registrar_of(here, id).call(name_query{name}).get();
  return r ? r.value() : "?";
}

bool all_see(eam::cluster::node& here, const std::vector<std::string>& ids, const std::string& name,
             const std::string& owner) {
  return std::all_of(ids.begin(), ids.end(), [&](const std::string& id) { return owner_seen_by(here, id, name) == owner; });
}

}  // namespace

TEST_SUITE("cluster.registry") {
  TEST_CASE("a proxy resolved again and again keeps each checked signature once") {
    // whereis resolves a global name at each call; each resolve of a name held on
    // another node hands its proxy the name's signatures, which were appended whole each time.
    using signature = eam::cluster::internal::proxy::signature;
    const auto a = eam::message_type_id::of<add>(), g = eam::message_type_id::of<get>(),
               i = eam::message_type_id::of<int>();
    std::vector<signature> checked;
    const std::vector<signature> announced{{a, {}}, {g, i}};
    for (int resolve = 0; resolve < 1000; ++resolve) eam::cluster::internal::proxy::merge(checked, announced);
    CHECK(checked.size() == 2);
    eam::cluster::internal::proxy::merge(checked, {{g, i}, {g, {}}});  // a cast of get is another signature
    CHECK(checked.size() == 3);
  }

  TEST_CASE("what a global name's actor handles is announced afresh once a wire type is registered after it") {
    // A node keeps the signatures it announces per actor type. One list made before a type was
    // registered for the wire lacks that type, and must not serve an actor named after it.
    auto here = start_test_node("here");
    auto second = start_test_node("second", {here->address()});
    REQUIRE(second->wait_for_peer("here", 30s));
    REQUIRE(here->wait_for_peer("second", 30s));
    const auto noter = [](eam::actor_context&) {
      return eam::behavior{[](late_note) {}, [](whoami) { return std::string("noter"); }};
    };
    here->system().spawn({.name = "noter.before", .global = true}, noter);
    REQUIRE(eventually([&] { return second->system().whereis("noter.before").has_value(); }));
    eam::cluster::register_message<late_note>("test.late_note");
    here->system().spawn({.name = "noter.after", .global = true}, noter);
    REQUIRE(eventually([&] { return second->system().whereis("noter.after").has_value(); }));
    using note_ref = eam::typed_ref<void(late_note)>;
    CHECK(second->system().whereis<note_ref>("noter.after").has_value());
    CHECK(second->system().whereis<holder_ref>("noter.after").has_value());
    CHECK(second->system().whereis<holder_ref>("noter.before").has_value());
    CHECK_FALSE(second->system().whereis<note_ref>("noter.before").has_value());  // announced before
  }

  TEST_CASE("a supervised actor keeps its global name across restarts on every node") {
    auto here = start_test_node("here");
    auto second = start_test_node("second", {here->address()});
    REQUIRE(second->wait_for_peer("here", 30s));
    REQUIRE(here->wait_for_peer("second", 30s));
    // Each start answers whoami with its own instance number.
    auto starts = std::make_shared<std::atomic<int>>(0);
    auto sup = eam::otp::start_supervisor(
                   here->system(), {},
                   {eam::otp::child("svc", {.name = "supervised", .global = true},
                                    [starts](eam::actor_context& ctx) {
                                      const int instance = ++*starts;
                                      return eam::behavior{[instance](whoami) { return std::to_string(instance); },
                                                           [&ctx](const end_with& e) { ctx.exit(ctx.self(), e.reason); }};
                                    })})
                   .value();
    const auto answer_from_second = [&] {
      auto found = second->system().whereis("supervised");
      if (!found) return std::string();
      auto r = eam::unchecked_typed_ref_cast<holder_ref>(*found).call(whoami{}).get();
      return r ? r.value() : std::string();
    };
    REQUIRE(eventually([&] { return answer_from_second() == "1"; }));
    // It crashes; its supervisor starts it again under the same name, and the other node
    // resolves the name to the new instance.
    auto first = here->system().whereis<eam::typed_ref<void(end_with)>>("supervised").value();
    first.cast(end_with{eam::exit_reason::crashed("on purpose")});
    CHECK(eventually([&] { return answer_from_second() == "2"; }));
    CHECK(second->name_owner("supervised") == "here");
    sup.stop();
  }


  TEST_CASE("a global name resolves on every node, typed, leaves with its actor and reaches a node that joins later") {
    auto here = start_test_node("here");
    child_node b = start_member("b", *here), c = start_member("c", *here);
    REQUIRE(here->wait_for_cluster({.min_members = 3, .nodes = {"b", "c"}, .timeout = 30s}));
    REQUIRE(here->wait_for_peer("b", 30s));
    REQUIRE(here->wait_for_peer("c", 30s));

    REQUIRE(registrar_of(*here, "b").call(claim_name{"service"}).get().value());
    CHECK(eventually([&] { return all_see(*here, {"here", "b", "c"}, "service", "b"); }));

    // Through the system's own typed whereis, as if it were local: the signatures came along.
    auto service = here->system().whereis<holder_ref>("service");
    REQUIRE(service.has_value());
    CHECK(service.value().call(whoami{}).get().value() == "b");
    const eam::otp::named_ref<std::string(whoami)> by_name(here->system(), "service");
    CHECK(by_name.resolve().value().call(whoami{}).get().value() == "b");
    // Held on b: refused on c.
    CHECK_FALSE(registrar_of(*here, "c").call(claim_name{"service"}).get().value());

    // A node that joins now learns every name.
    child_node d = start_member("d", *here);
    REQUIRE(here->wait_for_peer("d", 30s));
    CHECK(eventually([&] { return owner_seen_by(*here, "d", "service") == "b"; }));

    // Its actor ends: gone everywhere, and the name is free again.
    REQUIRE(registrar_of(*here, "b").call(release_name{"service"}).get().value());
    CHECK(eventually([&] { return all_see(*here, {"here", "b", "c", "d"}, "service", ""); }));
    CHECK_FALSE(here->system().whereis("service").has_value());
    CHECK(registrar_of(*here, "c").call(claim_name{"service"}).get().value());
    CHECK(eventually([&] { return all_see(*here, {"here", "b", "d"}, "service", "c"); }));
    // The named_ref kept b's actor while the names stood still; the registry's changes since
    // must have it find c's.
    CHECK(by_name.resolve().value().call(whoami{}).get().value() == "c");
  }

  TEST_CASE("a global name taken here is known to a peer before a call sent after it arrives") {
    // The name's announcement is sent by the I/O thread; a call on an idle link leaves from the
    // calling thread itself (send_gate.hpp), which must not let it overtake the announcement.
    auto here = start_test_node("here");
    child_node b = start_member("b", *here);
    REQUIRE(here->wait_for_peer("b", 30s));
    const registrar_ref registrar_b = registrar_of(*here, "b");
    std::vector<eam::actor_ref> holders;
    int unknown = 0;
    for (int i = 0; i < 1000; ++i) {
      const std::string name = "ordered-" + std::to_string(i);
      holders.push_back(here->system().spawn({.name = name, .global = true}, [](eam::actor_context&) {
        return eam::behavior{[](whoami) { return std::string("here"); }};
      }));
      if (registrar_b.call(name_query{name}).get().value() != "here") ++unknown;
    }
    CHECK(unknown == 0);
    for (auto& h : holders) here->system().stop(h);
  }

  TEST_CASE("the names of a killed node vanish everywhere") {
    auto here = start_test_node("here");
    child_node b = start_member("b", *here), c = start_member("c", *here);
    REQUIRE(here->wait_for_cluster({.min_members = 3, .nodes = {"b", "c"}, .timeout = 30s}));
    REQUIRE(here->wait_for_peer("b", 30s));
    REQUIRE(here->wait_for_peer("c", 30s));
    REQUIRE(registrar_of(*here, "b").call(claim_name{"doomed"}).get().value());
    REQUIRE(eventually([&] { return all_see(*here, {"here", "c"}, "doomed", "b"); }));
    b.kill_hard();
    CHECK(eventually([&] { return all_see(*here, {"here", "c"}, "doomed", ""); }, 60s));
  }

  TEST_CASE("three nodes claiming one name at once agree on one winner every time and the others are told") {
    auto here = start_test_node("here");
    const std::vector<std::string> claimants = {"b", "c", "d"};
    std::deque<child_node> children;
    for (const auto& id : claimants) children.emplace_back(member_args(id, *here));
    REQUIRE(here->wait_for_cluster({.min_members = 4, .nodes = claimants, .timeout = 30s}));
    std::vector<registrar_ref> registrars;
    for (const auto& id : claimants) {
      REQUIRE(here->wait_for_peer(id, 30s));
      registrars.push_back(registrar_of(*here, id));
    }

    std::map<std::string, int> wins;
    int contested = 0;  // rounds where more than one claim was accepted before the others heard
    for (int round = 0; round < contests; ++round) {
      const std::string name = "contested-" + std::to_string(round);
      const std::int64_t start = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count() +
                                 50;
      // A call is sent when it is waited for: one thread each, so that all three are on their way.
      std::vector<std::future<bool>> claims;
      for (auto& r : registrars)
        claims.push_back(std::async(std::launch::async, [&r, &name, start] {
          return r.call(claim_name{name, start}).get().value();
        }));
      std::vector<bool> accepted;
      for (auto& f : claims) accepted.push_back(f.get());
      INFO("round " << round << ": accepted " << accepted[0] << accepted[1] << accepted[2]);
      REQUIRE(std::count(accepted.begin(), accepted.end(), true) >= 1);
      if (std::count(accepted.begin(), accepted.end(), true) > 1) ++contested;

      // One winner, the same on all four nodes, among those whose claim was accepted.
      std::string winner;
      REQUIRE(eventually([&] {
        winner = owner_seen_by(*here, "here", name);
        return !winner.empty() && all_see(*here, {"here", "b", "c", "d"}, name, winner);
      }));
      const auto at = static_cast<std::size_t>(std::find(claimants.begin(), claimants.end(), winner) - claimants.begin());
      REQUIRE(at < claimants.size());
      CHECK(accepted[at]);
      ++wins[winner];
      CHECK(here->system().whereis<holder_ref>(name).value().call(whoami{}).get().value() == winner);

      // Every other accepted claim lost, and its holder was told with name_conflict.
      for (std::size_t i = 0; i < claimants.size(); ++i) {
        if (i == at || !accepted[i]) continue;
        CHECK(eventually([&] {
          const auto ends = registrars[i].call(holder_ends{}).get().value();
          return std::any_of(ends.begin(), ends.end(), [&](const std::string& e) {
            return e.rfind(name + ": ", 0) == 0 && e.find("name_conflict") != std::string::npos;
          });
        }));
      }
    }
    MESSAGE("winners over " << contests << " rounds: b " << wins["b"] << ", c " << wins["c"] << ", d " << wins["d"]
                            << "; " << contested << " rounds with concurrent accepted claims");
  }
}
