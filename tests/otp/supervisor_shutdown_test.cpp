// Supervisors stop their children with `shutdown`, as OTP's do: an abnormal reason, so an actor
// linked to a child (a helper it spawned outside the tree, as an Erlang worker's spawn_link)
// ends with it, a watcher sees shutdown, and a transient child is not restarted for it.
#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/log.hpp>
#include <eam/otp.hpp>

#include "../support/quiet_log.hpp"
#include "../support/eventually.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

namespace {
using eam::test::eventually;
namespace otp = eam::otp;
using namespace std::chrono_literals;

// Long enough for any restart on a loaded machine; a wait that fails only ends the test sooner.
constexpr std::chrono::milliseconds settle_limit{20000};

struct crash {};
using crash_ref = eam::typed_ref<void(crash)>;

using eam::test::quiet_log;

// A child that links itself to a helper spawned outside the supervision tree; `alive` counts the
// helpers that have not ended.
auto linked_worker(eam::actor_context& ctx, std::shared_ptr<std::atomic<int>> alive) {
  auto helper = ctx.system().spawn([alive](eam::actor_context& h) {
    ++*alive;
    h.on_terminate([alive](const eam::exit_reason&) { --*alive; });
    return eam::behavior{[](int) {}};
  });
  ctx.link(helper);
  return eam::behavior{[](crash) { throw std::runtime_error("crash"); }};
}

auto plain_worker(eam::actor_context&) {
  return eam::behavior{[](crash) { throw std::runtime_error("crash"); }};
}

// The end reason of `ref`, once it has ended, seen by a watcher.
struct end_seen {
  std::mutex m;
  std::optional<eam::exit_reason> reason;
  void watch(eam::actor_system& system, const eam::actor_ref& ref) {
    system.watch(ref, [this](const eam::down& d) {
      std::lock_guard l(m);
      reason = d.reason;
    });
  }
  std::optional<eam::exit_reason> get() {
    std::lock_guard l(m);
    return reason;
  }
};

std::vector<eam::actor_ref> refs_of(const std::vector<otp::child_info>& children) {
  std::vector<eam::actor_ref> out;
  for (const auto& c : children) out.push_back(c.ref);
  return out;
}

otp::child_spec with_policy(otp::child_spec spec, otp::restart_policy policy) {
  spec.restart = policy;
  return spec;
}
}  // namespace

TEST_SUITE("otp.supervisor_shutdown") {
  TEST_CASE("a one_for_all restart and the supervisor's stop leave no actor linked to a child") {
    quiet_log quiet;
    eam::actor_system system({.workers = 2});
    auto alive = std::make_shared<std::atomic<int>>(0);
    auto sup =
        otp::start_supervisor(system, {.strategy = otp::strategy::one_for_all, .max_restarts = 10},
                              {otp::child("a", {}, linked_worker, alive), otp::child("b", {}, linked_worker, alive)})
            .value();
    REQUIRE(eventually([&] { return alive->load() == 2; }, settle_limit));
    const auto before = refs_of(sup.which_children().value());
    eam::unchecked_typed_ref_cast<crash_ref>(before[1]).cast(crash{});
    REQUIRE(eventually(
        [&] {
          const auto now = refs_of(sup.which_children().value());
          return now[0] && now[1] && now[0] != before[0] && now[1] != before[1];
        },
        settle_limit));
    // The sibling stopped for the restart took its helper along, as the crashed child did.
    CHECK(eventually([&] { return alive->load() == 2; }, settle_limit));
    CHECK(sup.stop());
    CHECK(eventually([&] { return alive->load() == 0; }, settle_limit));
  }

  TEST_CASE("a supervisor that gives up leaves no actor linked to a child") {
    quiet_log quiet;
    eam::actor_system system({.workers = 2});
    auto alive = std::make_shared<std::atomic<int>>(0);
    auto sup =
        otp::start_supervisor(system, {.max_restarts = 0},
                              {otp::child("a", {}, linked_worker, alive), otp::child("b", {}, linked_worker, alive)})
            .value();
    REQUIRE(eventually([&] { return alive->load() == 2; }, settle_limit));
    eam::unchecked_typed_ref_cast<crash_ref>(sup.which_children().value()[0].ref).cast(crash{});
    REQUIRE(eventually([&] { return !sup.ref().is_alive(); }, settle_limit));
    // The engine stopped the other child (its parent ended) with shutdown: its helper ended too.
    CHECK(eventually([&] { return alive->load() == 0; }, settle_limit));
  }

  TEST_CASE("a watcher sees shutdown for a child stopped by a restart and by its supervisor's stop") {
    quiet_log quiet;
    eam::actor_system system({.workers = 2});
    auto sup = otp::start_supervisor(system, {.strategy = otp::strategy::one_for_all, .max_restarts = 10},
                                     {otp::child("a", {}, plain_worker), otp::child("b", {}, plain_worker)})
                   .value();
    const auto before = refs_of(sup.which_children().value());
    end_seen sibling, crashed;
    sibling.watch(system, before[0]);
    crashed.watch(system, before[1]);
    eam::unchecked_typed_ref_cast<crash_ref>(before[1]).cast(crash{});
    REQUIRE(eventually([&] { return sibling.get().has_value() && crashed.get().has_value(); }, settle_limit));
    CHECK(*sibling.get() == eam::exit_reason::shutdown());
    CHECK(crashed.get()->type() == eam::exit_reason::kind::error);

    REQUIRE(eventually([&] { return sup.which_children().value()[0].ref; }, settle_limit));
    end_seen last;
    last.watch(system, sup.which_children().value()[0].ref);
    CHECK(sup.stop());
    REQUIRE(eventually([&] { return last.get().has_value(); }, settle_limit));
    CHECK(*last.get() == eam::exit_reason::shutdown());
  }

  TEST_CASE("a transient child that ends with shutdown is not restarted, a permanent one is") {
    eam::actor_system system({.workers = 2});
    auto sup = otp::start_supervisor(system, {},
                                     {with_policy(otp::child("t", {}, plain_worker), otp::restart_policy::transient),
                                      otp::child("p", {}, plain_worker)})
                   .value();
    const auto before = refs_of(sup.which_children().value());
    system.stop(before[0], eam::exit_reason::shutdown());
    // Once it is dead its down waits in the supervisor's mailbox, ahead of the permanent one's.
    REQUIRE(eventually([&] { return !before[0].is_alive(); }, settle_limit));
    system.stop(before[1], eam::exit_reason::shutdown());
    REQUIRE(eventually(
        [&] {
          const auto now = refs_of(sup.which_children().value());
          return now[1] && now[1] != before[1];
        },
        settle_limit));
    CHECK_FALSE(sup.which_children().value()[0].ref);
    CHECK(sup.count_children().value().active == 1);
  }

  TEST_CASE("a dynamic supervisor terminates a child with shutdown: its linked actor ends, a watcher sees shutdown") {
    eam::actor_system system({.workers = 2});
    otp::dynamic_supervisor sup(system);
    auto alive = std::make_shared<std::atomic<int>>(0);
    const eam::actor_ref child = sup.start_child(otp::child("w", {}, linked_worker, alive)).value();
    REQUIRE(eventually([&] { return alive->load() == 1; }, settle_limit));
    end_seen end;
    end.watch(system, child);
    CHECK(sup.terminate_child(child));
    REQUIRE(eventually([&] { return end.get().has_value(); }, settle_limit));
    CHECK(*end.get() == eam::exit_reason::shutdown());
    CHECK(eventually([&] { return alive->load() == 0; }, settle_limit));
    CHECK(sup.stop());
  }

  TEST_CASE("a dynamic supervisor's transient child that ends with shutdown is not restarted, a permanent one is") {
    eam::actor_system system({.workers = 2});
    otp::dynamic_supervisor sup(system);
    const eam::actor_ref transient =
        sup.start_child(with_policy(otp::child("t", {}, plain_worker), otp::restart_policy::transient)).value();
    const eam::actor_ref permanent = sup.start_child(otp::child("p", {}, plain_worker)).value();
    system.stop(transient, eam::exit_reason::shutdown());
    REQUIRE(eventually([&] { return !transient.is_alive(); }, settle_limit));
    system.stop(permanent, eam::exit_reason::shutdown());
    REQUIRE(eventually(
        [&] {
          for (const auto& c : sup.which_children().value())
            if (c.id == "p" && c.ref && c.ref != permanent) return true;
          return false;
        },
        settle_limit));
    const auto now = sup.which_children().value();
    REQUIRE(now.size() == 1);
    CHECK(now[0].id == "p");
    CHECK(now[0].ref != permanent);
    CHECK(sup.stop());
  }
}
