#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include "../support/eventually.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace {
struct job {
  int n;
};
struct ping {};
auto member(eam::actor_context&, std::shared_ptr<std::atomic<int>> sum) {
  return eam::behavior{[sum](job j) { sum->fetch_add(j.n); }, [](ping) { return 1; }};
}
}  // namespace

TEST_SUITE("otp.process_groups") {
  TEST_CASE("join is idempotent and members lists each member once, oldest first") {
    eam::actor_system system({.workers = 2});
    eam::otp::process_groups groups(system);
    auto sum = std::make_shared<std::atomic<int>>(0);
    auto a = system.spawn(member, sum);
    auto b = system.spawn(member, sum);
    groups.join("g", a);
    groups.join("g", b);
    groups.join("g", a);
    auto m = groups.members("g").value();
    REQUIRE(m.size() == 2);
    CHECK(m[0] == a);
    CHECK(m[1] == b);
    CHECK(groups.members("unknown").value().empty());
  }

  TEST_CASE("an actor in many groups leaves them in any order, each leave taking it out of that group alone") {
    // Each membership knows its place in the actor's list of groups; a leave moves the last
    // one into the leaving one's place, which must then be found there by its own leave.
    eam::actor_system system({.workers = 2});
    eam::otp::process_groups groups(system);
    auto sum = std::make_shared<std::atomic<int>>(0);
    auto a = system.spawn(member, sum), b = system.spawn(member, sum);
    constexpr int n = 40;
    for (int i = 0; i < n; ++i) groups.join("g" + std::to_string(i), a);
    groups.join("g7", b);
    std::vector<bool> left(n, false);
    for (const int i : {0, 39, 7, 20, 1, 38, 21, 19}) {  // first, last, middle, neighbours
      groups.leave("g" + std::to_string(i), a);
      left[static_cast<std::size_t>(i)] = true;
    }
    for (int i = 0; i < n; ++i) {
      const auto m = groups.members("g" + std::to_string(i)).value();
      const bool has_a = std::find(m.begin(), m.end(), a) != m.end();
      CHECK_MESSAGE(has_a == !left[static_cast<std::size_t>(i)], "group g" << i);
    }
    CHECK(groups.members("g7").value() == std::vector<eam::actor_ref>{b});
    // Its end takes it out of the groups it is still in, and out of nothing else.
    system.stop(a);
    CHECK(eam::test::eventually([&] { return groups.groups().value() == std::vector<std::string>{"g7"}; }));
    CHECK(groups.members("g7").value() == std::vector<eam::actor_ref>{b});
  }

  TEST_CASE("leave removes a member and an empty group disappears") {
    eam::actor_system system({.workers = 2});
    eam::otp::process_groups groups(system);
    auto sum = std::make_shared<std::atomic<int>>(0);
    auto a = system.spawn(member, sum);
    groups.join("g", a);
    groups.join("h", a);
    groups.leave("g", a);
    CHECK(groups.members("g").value().empty());
    CHECK(groups.groups().value() == std::vector<std::string>{"h"});
  }

  TEST_CASE("broadcast casts to every member") {
    eam::actor_system system({.workers = 2});
    eam::otp::process_groups groups(system);
    auto sum = std::make_shared<std::atomic<int>>(0);
    for (int i = 0; i < 3; ++i) groups.join("g", system.spawn(member, sum));
    groups.broadcast("g", job{5});
    REQUIRE(eam::test::eventually([&] { return sum->load() == 15; }));
  }

  TEST_CASE("a member that stops leaves every group") {
    eam::actor_system system({.workers = 2});
    eam::otp::process_groups groups(system);
    auto sum = std::make_shared<std::atomic<int>>(0);
    auto a = system.spawn(member, sum);
    auto b = system.spawn(member, sum);
    groups.join("g", a);
    groups.join("h", a);
    groups.join("g", b);
    (void)groups.members("g").value();  // the joins (and a's watch) are in place
    system.stop(a);
    REQUIRE(eam::test::eventually([&] { return groups.members("g").value().size() == 1; }));
    CHECK(groups.members("g").value()[0] == b);
    CHECK(groups.members("h").value().empty());
  }

  TEST_CASE("many members: joins, leaves and ends keep each group's members, oldest first") {
    // Members are found by id, not by a scan (process_groups.cpp): with many in several groups,
    // each leave and each end must take out exactly that member, and only where it was.
    constexpr int n = 60;
    eam::actor_system system({.workers = 2});
    eam::otp::process_groups groups(system);
    auto sum = std::make_shared<std::atomic<int>>(0);
    std::vector<eam::actor_ref> all;
    for (int i = 0; i < n; ++i) {
      all.push_back(system.spawn(member, sum));
      groups.join("all", all.back());
      if (i % 2 == 0) groups.join("even", all.back());
      groups.join("all", all.back());  // again: still once
    }
    for (int i = 0; i < n; i += 4) groups.leave("all", all[static_cast<std::size_t>(i)]);   // stays in "even"
    for (int i = 1; i < n; i += 4) groups.leave("even", all[static_cast<std::size_t>(i)]);  // was never in it
    (void)groups.members("all").value();                                           // the joins and leaves are in place
    for (int i = 0; i < n; i += 3) system.stop(all[static_cast<std::size_t>(i)]);  // ends leave every group
    auto expected = [&](auto in_group) {
      std::vector<eam::actor_ref> out;
      for (int i = 0; i < n; ++i)
        if (i % 3 != 0 && in_group(i)) out.push_back(all[static_cast<std::size_t>(i)]);
      return out;
    };
    const auto all_left = expected([](int i) { return i % 4 != 0; });
    const auto even_left = expected([](int i) { return i % 2 == 0; });
    REQUIRE(eam::test::eventually(
        [&] { return groups.members("all").value() == all_left && groups.members("even").value() == even_left; }));
    groups.broadcast("all", job{1});
    REQUIRE(eam::test::eventually([&] { return sum->load() == static_cast<int>(all_left.size()); }));
    for (const auto& m : even_left) groups.leave("even", m);
    CHECK(groups.groups().value() == std::vector<std::string>{"all"});
  }
}
