#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include "../support/eventually.hpp"

#include <stdexcept>

namespace {
using eam::test::eventually;
namespace otp = eam::otp;
struct crash {};
struct get {};
auto server(eam::actor_context&) {
  return eam::behavior{[](crash) -> int { throw std::runtime_error("crash"); }, [](get) { return 7; }};
}
}  // namespace

TEST_SUITE("otp.named_ref") {
  TEST_CASE("a client of a named supervised server keeps working across its restarts") {
    eam::actor_system system({.workers = 2});
    auto sup = otp::start_supervisor(system, {}, {otp::child("srv", {.name = "srv"}, server)});
    otp::named_ref<int(crash), int(get)> client(system, "srv");
    REQUIRE(eventually([&] { return client.call(get{}).has_value(); }));
    for (int i = 0; i < 3; ++i) {
      CHECK(client.call(crash{}).code() == eam::errc::actor_crashed);
      REQUIRE(eventually([&] { return client.call(get{}).has_value(); }));
      CHECK(client.call(get{}).value() == 7);
    }
  }

  TEST_CASE("a name nobody holds fails with registry_lookup_failed") {
    eam::actor_system system({.workers = 1});
    otp::named_ref<int(get)> client(system, "nobody");
    CHECK(client.call(get{}).code() == eam::errc::registry_lookup_failed);
  }
}
