// A supervised child counts as started once its init has returned, as in OTP (start_child
// returns {ok, Pid} then): not after the continue it asked for (OTP's handle_continue) and the
// messages queued for it. A crash in that continue is an ordinary crash, which is restarted,
// not a failed start.
#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/log.hpp>
#include <eam/otp.hpp>

#include "../support/quiet_log.hpp"
#include "../support/eventually.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>

namespace {
using eam::test::eventually;
namespace otp = eam::otp;

struct ping {};

using eam::test::quiet_log;

// What a continue that waits to be released shares with the test.
struct held_continue {
  std::atomic<bool> released{false};
  std::atomic<bool> done{false};
};

// Its continue holds its worker until the test releases it (bounded, so a start that waits for
// it ends the test instead of hanging it; far beyond a start's time on a loaded machine, which
// must not reach it).
auto held_setup(eam::actor_context& ctx, std::shared_ptr<held_continue> held) {
  ctx.continue_with([held] {
    eventually([&] { return held->released.load(); }, std::chrono::seconds(60));
    held->done = true;
  });
  return eam::behavior{[](ping) { return 1; }};
}

// Its continue throws the first time only: the first instance crashes after its init.
auto flaky_setup(eam::actor_context& ctx, std::shared_ptr<std::atomic<int>> attempts) {
  ctx.continue_with([attempts] {
    if ((*attempts)++ == 0) throw std::runtime_error("not ready yet");
  });
  return eam::behavior{[](ping) { return 1; }};
}

// Two workers always: a continue holds one while the supervisor runs on the other.
eam::system_config two_workers() { return {.workers = 2, .adaptive_workers = false}; }
}  // namespace

TEST_SUITE("otp.supervisor_continue") {
  TEST_CASE("start_supervisor returns once the child's init has returned, before its continue has run") {
    eam::actor_system system(two_workers());
    auto held = std::make_shared<held_continue>();
    auto sup = otp::start_supervisor(system, {}, {otp::child("held", {}, held_setup, held)});
    CHECK(sup.has_value());
    CHECK_FALSE(held->done.load());
    held->released = true;
    CHECK(eventually([&] { return held->done.load(); }));
    if (sup) CHECK(sup->stop());
  }

  TEST_CASE("a continue that throws after a successful init is a crash the supervisor restarts, not a failed start") {
    quiet_log quiet;
    eam::actor_system system(two_workers());
    auto attempts = std::make_shared<std::atomic<int>>(0);
    auto sup = otp::start_supervisor(system, {}, {otp::child("flaky", {}, flaky_setup, attempts)});
    REQUIRE(sup.has_value());
    CHECK(eventually([&] { return attempts->load() == 2 && sup->count_children().value().active == 1; }));
    CHECK(sup->stop());
  }

  TEST_CASE("dynamic_supervisor start_child answers before the child's continue has run") {
    eam::actor_system system(two_workers());
    otp::dynamic_supervisor sup(system);
    auto held = std::make_shared<held_continue>();
    auto child = sup.start_child(otp::child("held", {}, held_setup, held));
    CHECK(child.has_value());
    CHECK_FALSE(held->done.load());
    held->released = true;
    CHECK(eventually([&] { return held->done.load(); }));
    CHECK(sup.stop());
  }

  TEST_CASE("dynamic_supervisor start_child succeeds for a child whose continue throws once, and restarts it") {
    quiet_log quiet;
    eam::actor_system system(two_workers());
    otp::dynamic_supervisor sup(system);
    auto attempts = std::make_shared<std::atomic<int>>(0);
    auto child = sup.start_child(otp::child("flaky", {}, flaky_setup, attempts));
    CHECK(child.has_value());
    CHECK(eventually([&] {
      const auto counts = sup.count_children().value();
      return attempts->load() == 2 && counts.specs == 1 && counts.active == 1;
    }));
    CHECK(sup.stop());
  }

  TEST_CASE("supervise succeeds for a child whose continue throws once, and the root restarts it") {
    quiet_log quiet;
    eam::actor_system system(two_workers());
    auto attempts = std::make_shared<std::atomic<int>>(0);
    auto child = otp::supervise(system, otp::child("flaky", {}, flaky_setup, attempts));
    CHECK(child.has_value());
    CHECK(eventually([&] { return attempts->load() == 2; }));
    auto root = otp::root_supervisor(system);
    REQUIRE(root.has_value());
    CHECK(eventually([&] { return root->count_children().value().active == 1; }));
  }
}
