// One supervisor never has two children with the same id (OTP's duplicate_child_name): a child
// list that repeats an id is refused with otp_errc::duplicate_child_id before any child starts.
#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include "../support/eventually.hpp"

#include <atomic>
#include <memory>

namespace {
namespace otp = eam::otp;

auto counted_worker(eam::actor_context&, std::shared_ptr<std::atomic<int>> starts) {
  ++*starts;
  return eam::behavior{[](int) {}};
}
}  // namespace

TEST_SUITE("otp.supervisor_child_ids") {
  TEST_CASE("start_supervisor refuses two specs with the same id and starts none of them") {
    eam::actor_system system({.workers = 2});
    auto starts = std::make_shared<std::atomic<int>>(0);
    auto sup =
        otp::start_supervisor(system, {},
                              {otp::child("a", {}, counted_worker, starts), otp::child("b", {}, counted_worker, starts),
                               otp::child("a", {}, counted_worker, starts)});
    REQUIRE_FALSE(sup.has_value());
    CHECK(sup.code() == otp::otp_errc::duplicate_child_id);
    CHECK(sup.error_value().context().find("'a'") != std::string::npos);
    CHECK(starts->load() == 0);
    CHECK(eam::test::eventually([&] { return system.actor_count() == 0; }));
  }

  TEST_CASE("a nested supervisor with a repeated id fails its parent's start") {
    eam::actor_system system({.workers = 2});
    auto starts = std::make_shared<std::atomic<int>>(0);
    auto sup = otp::start_supervisor(
        system, {},
        {otp::supervisor_child(
            "inner", {}, {otp::child("x", {}, counted_worker, starts), otp::child("x", {}, counted_worker, starts)})});
    REQUIRE_FALSE(sup.has_value());
    CHECK(sup.error_value().context().find("a child with id 'x'") != std::string::npos);
  }
}
