// Regression tests for the OTP hardening issue: each failed before its fix (supervision,
// dynamic supervisors, process groups, agents) or is the API the issue asked for.
#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/log.hpp>
#include <eam/engine/telemetry.hpp>
#include <eam/otp.hpp>

#include "../support/quiet_log.hpp"
#include "../support/eventually.hpp"
#include "../support/journal.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {
using eam::test::eventually;
namespace otp = eam::otp;

struct crash {};
struct ping {};
using worker_ref = eam::typed_ref<int(crash), int(ping)>;

using eam::test::journal;

// A gate a test opens once it has seen what it waited for.
struct gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  void release() {
    std::lock_guard l(m);
    open = true;
    cv.notify_all();
  }
  void wait() {
    std::unique_lock l(m);
    cv.wait_for(l, 20s, [&] { return open; });  // bounded: a failing test must not hang
  }
};

// A worker that journals its start and its end, and crashes when asked.
auto journaled(eam::actor_context& ctx, std::string id, std::shared_ptr<journal> j) {
  j->add("start " + id);
  ctx.on_terminate([id, j](const eam::exit_reason&) { j->add("end " + id); });
  return eam::behavior{[](crash) -> int { throw std::runtime_error("crash"); }, [](ping) { return 1; }};
}
otp::child_spec journaled_child(const std::string& id, std::shared_ptr<journal> j,
                                otp::restart_policy restart = otp::restart_policy::permanent) {
  auto spec = otp::child(id, {}, journaled, id, j);
  spec.restart = restart;
  return spec;
}

worker_ref child_named(const otp::supervisor& sup, const std::string& id) {
  const auto children = sup.which_children().value();
  for (const auto& c : children)
    if (c.id == id && c.ref) return eam::typed_ref_cast<worker_ref>(c.ref).value();
  return {};
}
bool active(const otp::supervisor& sup, std::size_t n) {
  return eventually([&] { return sup.count_children().value().active == n; });
}

// An init that throws, as a functional actor's factory.
auto failing_init(const std::string& why) {
  if (!why.empty()) throw std::runtime_error(why);
  return eam::behavior{[](ping) { return 1; }};
}

using eam::test::quiet_log;

}  // namespace

TEST_SUITE("otp.hardening") {
  // -- 1: dynamic_supervisor::start_child with a taken name --------------------------------------
  TEST_CASE("start_child with a name another actor holds returns name_taken and the supervisor keeps its children") {
    eam::actor_system system({.workers = 2});
    auto j = std::make_shared<journal>();
    otp::dynamic_supervisor sup(system);
    auto first = sup.start_child(otp::child("a", {.name = "taken"}, journaled, std::string("a"), j)).value();
    auto clash = sup.start_child(otp::child("b", {.name = "taken"}, journaled, std::string("b"), j));
    CHECK(clash.code() == eam::errc::name_taken);
    CHECK(sup.ref().is_alive());
    CHECK(first.is_alive());
    CHECK(sup.count_children().value().active == 1);
    CHECK(sup.start_child(otp::child("c", {}, journaled, std::string("c"), j)).has_value());
  }

  TEST_CASE("start_child returns after the child's init and an init that throws is the caller's error") {
    quiet_log quiet;
    eam::actor_system system({.workers = 2});
    auto j = std::make_shared<journal>();
    otp::dynamic_supervisor sup(system);
    auto slow_init = [j](eam::actor_context&) {
      std::this_thread::sleep_for(50ms);  // an init that takes a while: start_child must wait for it
      j->add("init done");
      return eam::behavior{[](ping) { return 1; }};
    };
    REQUIRE(sup.start_child(otp::child("slow", {}, slow_init)).has_value());
    CHECK(j->has("init done"));
    auto bad_init = [](eam::actor_context&) { return failing_init("no database"); };
    auto failed = sup.start_child(otp::child("bad", {}, bad_init));
    CHECK(failed.code() == eam::errc::actor_crashed);
    CHECK(failed.error_value().context().find("no database") != std::string::npos);
    CHECK(sup.count_children().value().active == 1);  // the failed child is not kept
  }

  // -- 2: process_groups::broadcast to a full bounded mailbox -------------------------------------
  TEST_CASE("a broadcast to a member whose bounded mailbox refuses it skips that member and the groups live on") {
    struct hold {};
    struct job {
      int n;
    };
    eam::actor_system system({.workers = 2});
    auto release = std::make_shared<gate>();
    auto entered = std::make_shared<std::atomic<bool>>(false);
    auto stuck = system.spawn({.mailbox_bound = 1, .overflow = eam::overflow_strategy::error},
                              [release, entered](eam::actor_context&) {
                                return eam::behavior{[release, entered](hold) {
                                                       *entered = true;
                                                       release->wait();
                                                     },
                                                     [](job) {}};
                              });
    auto received = std::make_shared<std::atomic<int>>(0);
    auto healthy = system.spawn([received](eam::actor_context&) { return eam::behavior{[received](job) { ++*received; }}; });
    otp::process_groups groups(system);
    groups.join("g", stuck);
    groups.join("g", healthy);
    stuck.cast(hold{});
    REQUIRE(eventually([&] { return entered->load(); }));
    stuck.cast(job{0});  // fills its one slot while it is held
    for (int i = 1; i <= 3; ++i) groups.broadcast("g", job{i});
    REQUIRE(eventually([&] { return received->load() == 3; }));
    CHECK(groups.members("g").value().size() == 2);  // the server is alive and kept the membership
    CHECK(groups.stats().value().undelivered == 3);
    release->release();
  }

  // -- 3: a child that crashes while its supervisor waits for a sibling to stop -------------------
  TEST_CASE("a crash while the supervisor waits for a sibling to stop is acted on after the restart under way") {
    quiet_log quiet;
    eam::actor_system system({.workers = 3});
    auto j = std::make_shared<journal>();
    auto slow_stop = std::make_shared<gate>();
    auto stopping = std::make_shared<std::atomic<bool>>(false);
    // c's first instance takes its time to stop, until the test lets it go.
    auto c_factory = [j, slow_stop, stopping](eam::actor_context& ctx) {
      const bool first = !j->has("start c");
      j->add("start c");
      ctx.on_terminate([j, slow_stop, stopping, first](const eam::exit_reason&) {
        if (first) {
          *stopping = true;
          slow_stop->wait();
        }
        j->add("end c");
      });
      return eam::behavior{[](crash) -> int { throw std::runtime_error("crash"); }, [](ping) { return 1; }};
    };
    auto sup = otp::start_supervisor(system, {.strategy = otp::strategy::rest_for_one, .max_restarts = 10},
                                     {journaled_child("a", j), journaled_child("b", j), otp::child("c", {}, c_factory)})
                   .value();
    auto a = child_named(sup, "a");
    CHECK(child_named(sup, "b").call(crash{}).get().code() == eam::errc::actor_crashed);
    REQUIRE(eventually([&] { return stopping->load(); }));  // the supervisor waits for c to stop
    CHECK(a.call(crash{}).get().code() == eam::errc::actor_crashed);
    REQUIRE(eventually([&] { return !a.is_alive(); }));  // a's down is queued at the supervisor
    slow_stop->release();
    // b's restart (c, then b and c again), then a's: rest_for_one from a restarts all three.
    REQUIRE(eventually([&] { return j->snapshot().size() >= 13; }));
    REQUIRE(active(sup, 3));
    CHECK(j->snapshot() == std::vector<std::string>{"start a", "start b", "start c", "end b", "end a", "end c",
                                                    "start b", "start c", "end c", "end b", "start a", "start b",
                                                    "start c"});
  }

  TEST_CASE("a crash while the supervisor waits for a sibling to stop counts against the restart limit") {
    quiet_log quiet;
    eam::actor_system system({.workers = 3});
    auto j = std::make_shared<journal>();
    auto slow_stop = std::make_shared<gate>();
    auto stopping = std::make_shared<std::atomic<bool>>(false);
    auto c_factory = [slow_stop, stopping](eam::actor_context& ctx) {
      ctx.on_terminate([slow_stop, stopping](const eam::exit_reason&) {
        *stopping = true;
        slow_stop->wait();
      });
      return eam::behavior{[](ping) { return 1; }};
    };
    auto sup = otp::start_supervisor(system, {.strategy = otp::strategy::rest_for_one, .max_restarts = 1},
                                     {journaled_child("a", j), journaled_child("b", j), otp::child("c", {}, c_factory)})
                   .value();
    auto a = child_named(sup, "a");
    CHECK(child_named(sup, "b").call(crash{}).get().code() == eam::errc::actor_crashed);
    REQUIRE(eventually([&] { return stopping->load(); }));
    CHECK(a.call(crash{}).get().code() == eam::errc::actor_crashed);  // the second restart: one too many
    REQUIRE(eventually([&] { return !a.is_alive(); }));
    slow_stop->release();
    REQUIRE(eventually([&] { return !sup.ref().is_alive(); }));
  }

  // -- 6: one_for_all never restarts a temporary child --------------------------------------------
  TEST_CASE("one_for_all stops a temporary sibling and does not restart it") {
    quiet_log quiet;
    eam::actor_system system({.workers = 2});
    auto j = std::make_shared<journal>();
    auto sup = otp::start_supervisor(system, {.strategy = otp::strategy::one_for_all},
                                     {journaled_child("t", j, otp::restart_policy::temporary), journaled_child("a", j)})
                   .value();
    CHECK(child_named(sup, "a").call(crash{}).get().code() == eam::errc::actor_crashed);
    REQUIRE(eventually([&] { return j->has("end t") && j->snapshot().size() >= 5; }));
    REQUIRE(active(sup, 1));
    CHECK(j->snapshot() == std::vector<std::string>{"start t", "start a", "end a", "end t", "start a"});
    const auto children = sup.which_children().value();
    REQUIRE(children.size() == 1);
    CHECK(children[0].id == "a");
  }

  // -- 7: children start one at a time -----------------------------------------------------------
  TEST_CASE("a supervisor starts its children one at a time and returns once every init has run") {
    eam::actor_system system({.workers = 3});
    auto j = std::make_shared<journal>();
    auto overlapping = [j](eam::actor_context&, std::string id, std::string next) {
      j->add("init " + id);
      // If the next child's init ran now, beside this one, this would see it.
      if (!next.empty() && j->wait_for("init " + next, 100ms)) j->add("overlap " + id);
      j->add("ready " + id);
      return eam::behavior{[](ping) { return 1; }};
    };
    auto sup = otp::start_supervisor(system, {},
                                     {otp::child("a", {}, overlapping, std::string("a"), std::string("b")),
                                      otp::child("b", {}, overlapping, std::string("b"), std::string("c")),
                                      otp::child("c", {}, overlapping, std::string("c"), std::string())})
                   .value();
    // No waiting here: start_supervisor returned after the last init.
    CHECK(j->snapshot() ==
          std::vector<std::string>{"init a", "ready a", "init b", "ready b", "init c", "ready c"});
    CHECK(sup.count_children().value() == otp::child_counts{3, 3, 0, 3});
  }

  TEST_CASE("a child that fails its first start fails start_supervisor after the ones started are stopped") {
    quiet_log quiet;
    eam::actor_system system({.workers = 2});
    auto j = std::make_shared<journal>();
    auto bad = [](eam::actor_context&) { return failing_init("no config"); };
    auto r = otp::start_supervisor(system, {},
                                   {journaled_child("a", j), otp::child("bad", {}, bad), journaled_child("c", j)});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.code() == eam::errc::actor_crashed);
    CHECK(r.error_value().context().find("bad") != std::string::npos);
    CHECK(r.error_value().context().find("no config") != std::string::npos);
    CHECK(j->snapshot() == std::vector<std::string>{"start a", "end a"});  // a stopped, c never started
    REQUIRE(eventually([&] { return system.actor_count() == 0; }));
    // A taken name fails the same way, with the spawn's own error.
    auto holder = system.spawn({.name = "db"}, [](eam::actor_context&) { return eam::behavior{[](ping) { return 1; }}; });
    auto clash = otp::start_supervisor(system, {}, {otp::child("db", {.name = "db"}, journaled, std::string("db"), j)});
    CHECK(clash.code() == eam::errc::name_taken);
  }

  TEST_CASE("a nested supervisor's failed start fails its parent's start") {
    quiet_log quiet;
    eam::actor_system system({.workers = 2});
    auto bad = [](eam::actor_context&) { return failing_init("leaf broken"); };
    auto r = otp::start_supervisor(system, {}, {otp::supervisor_child("inner", {}, {otp::child("leaf", {}, bad)})});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error_value().context().find("leaf broken") != std::string::npos);
    REQUIRE(eventually([&] { return system.actor_count() == 0; }));
  }

  // -- 8: siblings stop one at a time, youngest first ---------------------------------------------
  TEST_CASE("one_for_all stops the siblings one at a time youngest first and each terminate is done before the next stop") {
    quiet_log quiet;
    eam::actor_system system({.workers = 3});
    auto j = std::make_shared<journal>();
    auto stopper = [j](eam::actor_context& ctx, std::string id, std::string older) {
      ctx.on_terminate([j, id, older](const eam::exit_reason&) {
        j->add("terminate " + id);
        if (!older.empty() && j->wait_for("terminate " + older, 100ms)) j->add("overlap " + id);
      });
      return eam::behavior{[](crash) -> int { throw std::runtime_error("crash"); }, [](ping) { return 1; }};
    };
    auto sup = otp::start_supervisor(system, {.strategy = otp::strategy::one_for_all},
                                     {otp::child("a", {}, stopper, std::string("a"), std::string()),
                                      otp::child("b", {}, stopper, std::string("b"), std::string()),  // a ended first
                                      otp::child("c", {}, stopper, std::string("c"), std::string("b")),
                                      otp::child("d", {}, stopper, std::string("d"), std::string("c"))})
                   .value();
    CHECK(child_named(sup, "a").call(crash{}).get().code() == eam::errc::actor_crashed);
    REQUIRE(eventually([&] { return j->has("terminate b"); }));
    REQUIRE(active(sup, 4));
    std::string all;
    for (const auto& line : j->snapshot()) all += line + "; ";
    INFO(all);
    CHECK(j->snapshot() == std::vector<std::string>{"terminate a", "terminate d", "terminate c", "terminate b"});
  }

  // -- 9: terminate_child returns once the child has ended ----------------------------------------
  TEST_CASE("dynamic terminate_child returns once the child's terminate has run") {
    eam::actor_system system({.workers = 2});
    auto j = std::make_shared<journal>();
    auto slow_end = [j](eam::actor_context& ctx) {
      ctx.on_terminate([j](const eam::exit_reason&) {
        std::this_thread::sleep_for(50ms);  // a cleanup that takes a while
        j->add("terminated");
      });
      return eam::behavior{[](ping) { return 1; }};
    };
    otp::dynamic_supervisor sup(system);
    auto kid = sup.start_child(otp::child("k", {}, slow_end)).value();
    CHECK(sup.terminate_child(kid));
    CHECK(j->has("terminated"));
    CHECK_FALSE(kid.is_alive());
    CHECK_FALSE(sup.terminate_child(kid));  // no longer one of its children
    CHECK(sup.count_children().value().active == 0);
  }

  // -- 10: restart telemetry names the crashed child ----------------------------------------------
  TEST_CASE("crash and restart telemetry carry the crashed child's id and the supervisor's") {
    quiet_log quiet;
    std::mutex m;
    std::vector<std::pair<std::string, eam::telemetry::metadata>> seen;
    eam::telemetry::attach("otp-hardening-telemetry", {"libeam.supervisor.crash", "libeam.supervisor.restart"},
                           [&](std::string_view e, const eam::telemetry::measurements&, const eam::telemetry::metadata& md) {
                             std::lock_guard l(m);
                             seen.emplace_back(std::string(e), md);
                           });
    std::uint64_t crashed_id = 0;
    std::uint64_t sup_id = 0;
    {
      eam::actor_system system({.workers = 2});
      auto j = std::make_shared<journal>();
      auto sup = otp::start_supervisor(system, {}, {journaled_child("a", j)}).value();
      sup_id = sup.ref().id();
      auto a = child_named(sup, "a");
      crashed_id = a.id();
      CHECK(a.call(crash{}).get().code() == eam::errc::actor_crashed);
      REQUIRE(active(sup, 1));
      REQUIRE(eventually([&] {
        std::lock_guard l(m);
        return seen.size() == 2;
      }));
    }
    eam::telemetry::detach("otp-hardening-telemetry");
    auto get = [](const eam::telemetry::metadata& md, std::string_view key) {
      for (const auto& [k, v] : md)
        if (k == key) return v;
      return std::string();
    };
    std::lock_guard l(m);
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].first == "libeam.supervisor.crash");
    CHECK(seen[1].first == "libeam.supervisor.restart");
    for (const auto& [event, md] : seen) {
      CHECK(get(md, "actor_id") == std::to_string(crashed_id));
      CHECK(get(md, "parent_id") == std::to_string(sup_id));
      CHECK(get(md, "child_id") == "a");
    }
  }

  // -- the API -------------------------------------------------------------------------------------
  TEST_CASE("which_children and count_children report ids and type labels and Erlang's counts") {
    struct cache : eam::actor<int(ping)> {
      int handle_call(ping) { return 1; }
    };
    eam::actor_system system({.workers = 2});
    auto j = std::make_shared<journal>();
    auto sup = otp::start_supervisor(system, {},
                                     {otp::child<cache>("cache", {}), otp::child("svc", {.name = "svc"}, journaled, std::string("svc"), j),
                                      journaled_child("anon", j), otp::supervisor_child("inner", {}, {journaled_child("leaf", j)})})
                   .value();
    const auto kids = sup.which_children().value();
    REQUIRE(kids.size() == 4);
    CHECK(kids[0].type == "cache");
    CHECK(kids[1].type == "svc");
    CHECK(kids[2].type == "worker");
    CHECK(kids[3].type == "supervisor");
    CHECK(kids[3].kind == otp::child_type::supervisor);
    CHECK(sup.count_children().value() == otp::child_counts{4, 4, 1, 3});
    otp::dynamic_supervisor dyn(system);
    (void)dyn.start_child(otp::child<cache>("c1", {})).value();
    (void)dyn.start_child(otp::supervisor_child("s1", {}, {})).value();
    CHECK(dyn.count_children().value() == otp::child_counts{2, 2, 1, 1});
  }

  TEST_CASE("every OTP handle stops without a system argument and returns once stopped") {
    eam::actor_system system({.workers = 2});
    auto j = std::make_shared<journal>();
    auto sup = otp::start_supervisor(system, {}, {journaled_child("a", j)}).value();
    CHECK(sup.stop());
    CHECK(j->has("end a"));
    CHECK_FALSE(sup.ref().is_alive());
    otp::dynamic_supervisor dyn(system);
    auto kid = dyn.start_child(journaled_child("k", j)).value();
    CHECK(dyn.stop());
    CHECK(j->has("end k"));
    auto counter = otp::agent<int>::start(system, 1);
    CHECK(counter.stop());
    CHECK_FALSE(counter.ref().is_alive());
    otp::process_groups groups(system);
    CHECK(groups.stop());
    CHECK(system.actor_count() == 0);
  }

  TEST_CASE("a class actor declares child_supervision and its children restart by it") {
    struct kids {};
    struct pipeline : otp::supervising_actor<std::vector<otp::child_info>(kids)> {
      otp::supervisor_options child_supervision() const override { return {.strategy = otp::strategy::rest_for_one}; }
      void init(std::shared_ptr<journal> j) {
        start_child(journaled_child("db", j));
        start_child(journaled_child("api", j));
      }
      std::vector<otp::child_info> handle_call(kids) { return which_children(); }  // no down to forward
    };
    quiet_log quiet;
    eam::actor_system system({.workers = 2});
    auto j = std::make_shared<journal>();
    auto p = system.spawn<pipeline>(j);
    auto db = eam::typed_ref_cast<worker_ref>(p.call(kids{}).get().value().at(0).ref).value();
    // Both children are spawned, but api's init may not have run yet: crashing db before it
    // would journal api's start after db's end.
    REQUIRE(eventually([&] { return j->snapshot().size() == 2; }));
    CHECK(db.call(crash{}).get().code() == eam::errc::actor_crashed);
    REQUIRE(eventually([&] { return j->snapshot().size() == 6; }));
    // start_child spawns at once, so the two first inits may run in either order; the restart
    // is a supervisor's sequence: api stopped, then db and api started one after the other.
    const auto lines = j->snapshot();
    CHECK(std::vector<std::string>(lines.begin() + 2, lines.end()) ==
          std::vector<std::string>{"end db", "end api", "start db", "start api"});
  }

  TEST_CASE("root supervision is a system setting: later calls with other options fail clearly") {
    quiet_log quiet;
    eam::actor_system system({.workers = 2});
    REQUIRE(otp::configure_root_supervision(system, {.max_restarts = 1, .period = 60s}).has_value());
    CHECK(otp::configure_root_supervision(system, {.max_restarts = 1, .period = 60s}).has_value());  // the same: fine
    CHECK(otp::configure_root_supervision(system, {.max_restarts = 5}).code() == otp::otp_errc::root_supervision_conflict);
    auto j = std::make_shared<journal>();
    auto first = otp::supervise(system, journaled_child("svc", j)).value();
    CHECK(eam::typed_ref_cast<worker_ref>(first).value().call(crash{}).get().code() == eam::errc::actor_crashed);
    auto root = otp::root_supervisor(system).value();
    REQUIRE(eventually([&] { return j->snapshot().size() == 3; }));  // start, end, start again
    const auto second = root.which_children().value().at(0).ref;
    CHECK(eam::typed_ref_cast<worker_ref>(second).value().call(crash{}).get().code() == eam::errc::actor_crashed);
    // The configured limit (one restart a minute) is spent: the actor stops for good.
    REQUIRE(eventually([&] { return root.count_children().value().active == 0; }));
  }

  TEST_CASE("an agent survives a function that throws and the caller gets function_threw") {
    eam::actor_system system({.workers = 2});
    auto counter = otp::agent<int>::start(system, 1);
    auto r = counter.update([](int& n) {
      if (n == 1) throw std::runtime_error("bad update");
    });
    CHECK(r.code() == otp::otp_errc::function_threw);
    CHECK(counter.get().value() == 1);
    CHECK(counter.update([](int& n) { ++n; }).value() == 2);
  }
}
