#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include "../support/eventually.hpp"

#include <atomic>
#include <memory>

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
}
