// One supervisor never has two children with the same id (OTP's duplicate_child_name): a child
// list that repeats an id is refused with otp_errc::duplicate_child_id before any child starts,
// and so is a start_child with an id a child has.
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

struct start_a {};  // answers 1 when started, 2 when refused as a duplicate
struct stop_a {};
using host_ref = eam::typed_ref<int(start_a), bool(stop_a)>;
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

  TEST_CASE("start_child refuses an id a child has, and takes it again once that child is gone for good") {
    eam::actor_system system({.workers = 2});
    auto starts = std::make_shared<std::atomic<int>>(0);
    auto host = system.spawn([starts](eam::actor_context& ctx) {
      auto& kids = otp::supervise_children(ctx);
      auto& a = ctx.make_state<eam::actor_ref>();
      return eam::behavior{[&kids, &a, starts](start_a) {
                             otp::child_spec spec = otp::child("a", {}, counted_worker, starts);
                             spec.restart = otp::restart_policy::temporary;  // gone for good once it ends
                             try {
                               a = kids.start_child(std::move(spec));
                               return 1;
                             } catch (const eam::error& e) {
                               return e.code() == otp::otp_errc::duplicate_child_id ? 2 : 3;
                             }
                           },
                           [&ctx, &a](stop_a) {
                             ctx.stop(a);
                             return true;
                           }};
    });
    const auto h = eam::unchecked_typed_ref_cast<host_ref>(host);
    CHECK(h.call(start_a{}).get().value() == 1);
    CHECK(h.call(start_a{}).get().value() == 2);
    CHECK(eam::test::eventually([&] { return starts->load() == 1; }));  // its init runs after start_child returns
    REQUIRE(h.call(stop_a{}).get().value());
    CHECK(eam::test::eventually([&] { return h.call(start_a{}).get().value() == 1; }));
    CHECK(eam::test::eventually([&] { return starts->load() == 2; }));
  }
}
