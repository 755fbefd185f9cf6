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
    auto sup = otp::start_supervisor(system, {.max_restarts = 1000}, {otp::child("srv", {.name = "srv"}, server)}).value();
    otp::named_ref<int(crash), int(get)> client(system, "srv");
    for (int i = 0; i < 50; ++i) {
      // The call right after the crash may find the name free for a moment: it waits for the
      // restarted instance instead of failing (no retry loop in the client).
      CHECK(client.call(crash{}).code() == eam::errc::actor_crashed);
      REQUIRE(client.call(get{}).value() == 7);
    }
  }

  TEST_CASE("a name nobody holds fails with registry_lookup_failed") {
    eam::actor_system system({.workers = 1});
    otp::named_ref<int(get)> client(system, "nobody");
    CHECK(client.call(get{}, std::chrono::milliseconds(20)).code() == eam::errc::registry_lookup_failed);
  }
}
