// Distributed process groups between node processes on 127.0.0.1: members joined on several
// nodes are seen and reached from every node, a broadcast reaches each once, a member that ends
// and a node that dies leave everywhere, and a node that joins later learns every member. This
// test process runs one node; node programs (child_node) run the others, each stopped by its pid.
#include "test_nodes.hpp"

#include "../support/eventually.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace eam::test::remote;
using eam::test::child_node;
using eam::test::eventually;
using namespace std::chrono_literals;

namespace {

std::uint64_t size_seen_by(eam::cluster::node& here, const std::string& id, const std::string& group) {
  auto r = registrar_of(here, id).call(group_size{group}).get();
  return r ? r.value() : ~std::uint64_t{0};
}

// Who the members are, by their nodes' ids, sorted.
std::vector<std::string> member_nodes(eam::cluster::node& here, const std::string& group) {
  std::vector<std::string> out;
  for (const auto& m : here.group_members(group)) {
    auto r = eam::unchecked_typed_ref_cast<group_member_ref>(m).call(whoami{}).get();
    out.push_back(r ? r.value() : "?");
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_SUITE("cluster.groups") {
  TEST_CASE("members from several nodes are seen and reached everywhere and a broadcast reaches each once") {
    auto here = start_test_node("here");
    child_node b = start_member("b", *here), c = start_member("c", *here);
    REQUIRE(here->wait_for_cluster({.min_members = 3, .nodes = {"b", "c"}, .timeout = 30s}));
    REQUIRE(here->wait_for_peer("b", 30s));
    REQUIRE(here->wait_for_peer("c", 30s));

    REQUIRE(registrar_of(*here, "b").call(join_with{"workers"}).get().value());
    REQUIRE(registrar_of(*here, "b").call(join_with{"workers"}).get().value());
    REQUIRE(registrar_of(*here, "c").call(join_with{"workers"}).get().value());
    auto local = here->system().spawn([](eam::actor_context& self) {
      auto& adds = self.make_state<int>(0);
      return eam::behavior{[](whoami) { return std::string("here"); }, [&adds](add a) { adds += a.n; },
                           [&adds](get) { return adds; }};
    });
    REQUIRE(here->join_group("workers", local));

    const std::vector<std::string> everyone = {"b", "b", "c", "here"};
    CHECK(eventually([&] { return member_nodes(*here, "workers") == everyone; }));
    CHECK(eventually([&] { return size_seen_by(*here, "b", "workers") == 4 && size_seen_by(*here, "c", "workers") == 4; }));
    CHECK(here->which_groups() == std::vector<std::string>{"workers"});
    CHECK(here->which_groups("another-scope").empty());
    CHECK(here->local_group_members("workers") == std::vector<eam::actor_ref>{local});

    CHECK(here->broadcast("workers", add{1}) == 4);
    CHECK(eventually([&] {
      const auto members = here->group_members("workers");
      return members.size() == 4 && std::all_of(members.begin(), members.end(), [](const eam::actor_ref& m) {
               auto r = eam::unchecked_typed_ref_cast<group_member_ref>(m).call(get{}).get();
               return r && r.value() == 1;
             });
    }));

    // Errors: a remote actor cannot join here, a bad name is refused, a non-member cannot leave.
    const auto remote_member = here->group_members("workers").front();
    const bool remote_first = remote_member != local;
    if (remote_first) CHECK(here->join_group("workers", remote_member).code() == eam::cluster::cluster_errc::not_a_local_actor);
    CHECK(here->join_group("", local).code() == eam::cluster::cluster_errc::invalid_group);
    CHECK(here->leave_group("others", local).code() == eam::cluster::cluster_errc::not_joined);
    REQUIRE(here->leave_group("workers", local));
    CHECK(eventually([&] { return size_seen_by(*here, "c", "workers") == 3; }));

    // An actor that has ended joins nothing, here or at the peers (a live one joined after it
    // is the barrier: the peers apply joins in order).
    const auto member_here = [](eam::actor_context&) {
      return eam::behavior{[](whoami) { return std::string("here"); }};
    };
    auto ended = here->system().spawn(member_here);
    here->system().stop(ended);
    REQUIRE(eventually([&] { return !ended.is_alive(); }));
    CHECK(here->join_group("workers", ended));
    auto later = here->system().spawn(member_here);
    REQUIRE(here->join_group("workers", later));
    CHECK(here->local_group_members("workers") == std::vector<eam::actor_ref>{later});
    CHECK(eventually([&] { return size_seen_by(*here, "c", "workers") == 4; }));
    CHECK(member_nodes(*here, "workers") == everyone);
  }

  TEST_CASE("members that end or whose node dies leave everywhere and a node that joins later learns every member") {
    auto here = start_test_node("here");
    child_node b = start_member("b", *here), c = start_member("c", *here);
    REQUIRE(here->wait_for_cluster({.min_members = 3, .nodes = {"b", "c"}, .timeout = 30s}));
    REQUIRE(here->wait_for_peer("b", 30s));
    REQUIRE(here->wait_for_peer("c", 30s));
    REQUIRE(registrar_of(*here, "b").call(join_with{"g"}).get().value());
    REQUIRE(registrar_of(*here, "b").call(join_with{"g"}).get().value());
    REQUIRE(registrar_of(*here, "c").call(join_with{"g"}).get().value());
    REQUIRE(eventually([&] { return here->group_members("g").size() == 3; }));

    child_node d = start_member("d", *here);
    REQUIRE(here->wait_for_peer("d", 30s));
    CHECK(eventually([&] { return size_seen_by(*here, "d", "g") == 3; }));

    CHECK(registrar_of(*here, "b").call(stop_members{"g"}).get().value() == 2);
    CHECK(eventually([&] { return member_nodes(*here, "g") == std::vector<std::string>{"c"}; }));
    CHECK(eventually([&] { return size_seen_by(*here, "d", "g") == 1; }));

    c.kill_hard();
    CHECK(eventually([&] { return here->group_members("g").empty() && size_seen_by(*here, "d", "g") == 0; }, 60s));
    CHECK(here->which_groups().empty());
  }
}
