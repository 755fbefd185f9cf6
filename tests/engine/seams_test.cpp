// The engine's public seams that the OTP and cluster layers build on (engine/README.md, 7).
#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/any_message.hpp>
#include <eam/engine/telemetry.hpp>

#include "../support/eventually.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {
using eam::test::eventually;
struct get {};
struct put {
  int v;
};
struct ask_inside {};
struct who_is_parent {};
struct spawn_kid {};
struct link_to {
  eam::actor_ref other;
};
struct watch_it {
  eam::actor_ref other;
};
struct hold {};
struct item {};

auto store(eam::actor_context&) {
  return eam::behavior{[](get) { return 1; }, [](put) {}};
}
}  // namespace

TEST_SUITE("engine.seams") {
  TEST_CASE(
      "on_child_init tells the parent of a child's init before the child's continue runs, and not of a failed init") {
    struct spawn_two {};
    eam::actor_system system({.workers = 2, .adaptive_workers = false});
    std::atomic<bool> released{false}, continue_done{false};
    std::atomic<std::uint64_t> reported{0};
    std::atomic<int> reports{0};
    auto parent = system.spawn([&](eam::actor_context& ctx) {
      ctx.on_child_init([&](const eam::actor_ref& child) {
        reported = child.id();
        ++reports;
      });
      return eam::behavior{[&](spawn_two) {
        ctx.spawn(
            [](eam::actor_context&, bool fail) {
              if (fail) throw std::runtime_error("init fails");
              return eam::behavior{[](int) {}};
            },
            true);
        auto held = ctx.spawn([&](eam::actor_context& c) {
          c.continue_with([&] {
            eventually([&] { return released.load(); }, 3s);
            continue_done = true;
          });
          return eam::behavior{[](int) {}};
        });
        return eam::actor_ref(held).id();
      }};
    });
    const std::uint64_t held = parent.call(spawn_two{}).get().value();
    CHECK(eventually([&] { return reported.load() == held; }));
    CHECK_FALSE(continue_done.load());  // heard while the child's continue still ran
    released = true;
    CHECK(eventually([&] { return continue_done.load(); }));
    CHECK(reports.load() == 1);  // the child whose init threw reported nothing
  }

  TEST_CASE("typed_ref_cast checks the actor's real signatures and the unchecked cast trusts the caller") {
    eam::actor_system system({.workers = 2});
    eam::actor_ref untyped = system.spawn(store);
    auto ok = eam::typed_ref_cast<eam::typed_ref<int(get)>>(untyped);
    REQUIRE(ok.has_value());
    CHECK(ok->call(get{}).get().value() == 1);
    CHECK(eam::typed_ref_cast<eam::typed_ref<long(get)>>(untyped).code() == eam::errc::unhandled_message);
    CHECK(eam::typed_ref_cast<eam::typed_ref<void(get)>>(untyped).code() == eam::errc::unhandled_message);
    CHECK(eam::typed_ref_cast<eam::typed_ref<int(get)>>(eam::actor_ref{}).code() == eam::errc::actor_not_found);
    auto trusted = eam::unchecked_typed_ref_cast<eam::typed_ref<void(put)>>(untyped);
    trusted.cast(put{1});
    system.stop(untyped);
    REQUIRE(eventually([&] { return !untyped.is_alive(); }));
    CHECK(eam::typed_ref_cast<eam::typed_ref<int(get)>>(untyped).code() == eam::errc::actor_not_found);
  }

  TEST_CASE(
      "handling_type names what an actor handles: one for a factory's actors, another for another's, none once dead") {
    eam::actor_system system({.workers = 2});
    const eam::actor_ref a = system.spawn(store), b = system.spawn(store);
    const eam::actor_ref other = system.spawn([](eam::actor_context&) { return eam::behavior{[](put) {}}; });
    REQUIRE(eam::handling_type(a) != nullptr);
    CHECK(eam::handling_type(a) == eam::handling_type(b));
    CHECK(eam::handling_type(other) != eam::handling_type(a));
    CHECK(eam::handling_type(eam::actor_ref{}) == nullptr);
    system.stop(b);
    REQUIRE(eventually([&] { return !b.is_alive(); }));
    CHECK(eam::handling_type(b) == nullptr);
  }

  TEST_CASE("a blocking call inside a handler fails at once with blocking_call_on_worker") {
    eam::actor_system system({.workers = 2});
    auto target = system.spawn(store);
    auto asker = system.spawn([target](eam::actor_context&) {
      return eam::behavior{[target](ask_inside) { return target.call(get{}).get().code().value(); }};
    });
    CHECK(asker.call(ask_inside{}).get().value() == static_cast<int>(eam::errc::blocking_call_on_worker));
  }

  TEST_CASE("on_terminate runs with the reason and parent() names the spawning actor") {
    eam::actor_system system({.workers = 2});
    std::atomic<bool> cleaned{false};
    std::string reason;
    auto parent = system.spawn([&](eam::actor_context& ctx) {
      return eam::behavior{[&ctx, &cleaned, &reason](spawn_kid) {
        auto kid = ctx.spawn([&cleaned, &reason](eam::actor_context& kctx) {
          kctx.on_terminate([&cleaned, &reason](const eam::exit_reason& why) {
            reason = why.to_string();
            cleaned = true;
          });
          return eam::behavior{[&kctx](who_is_parent) { return kctx.parent().id(); }};
        });
        return eam::actor_ref(kid);
      }};
    });
    auto kid = eam::typed_ref_cast<eam::typed_ref<std::uint64_t(who_is_parent)>>(parent.call(spawn_kid{}).get().value());
    REQUIRE(kid.has_value());
    CHECK(kid->call(who_is_parent{}).get().value() == parent.id());
    system.stop(parent);
    REQUIRE(eventually([&] { return cleaned.load(); }));
    CHECK(reason == "shutdown");  // stopped from above, by its parent's end
  }

  TEST_CASE("a link_ref comes back in the exit_signal, a watch_ref names both actors and getters report") {
    eam::actor_system system({.workers = 2});
    std::atomic<int> step{0};
    eam::link_ref made{}, carried{};
    eam::watch_ref watched{}, downed{};
    bool traps = false;
    std::chrono::milliseconds idle{};
    auto other = system.spawn(store);
    auto trapper = system.spawn([&](eam::actor_context& ctx) {
      ctx.set_trap_exit(true);
      ctx.set_idle_timeout(60s);
      traps = ctx.traps_exits();
      idle = ctx.idle_timeout();
      return eam::behavior{
          [&](link_to l) {
            made = ctx.link(l.other);
            return 0;
          },
          [&](watch_it w) {
            watched = ctx.watch(w.other);
            return 0;
          },
          [&](eam::exit_signal x) {
            carried = x.link;
            ++step;
          },
          [&](eam::down d) {
            downed = d.ref;
            ++step;
          },
      };
    });
    (void)trapper.call(link_to{other}).get();
    (void)trapper.call(watch_it{other}).get();
    system.exit(other, eam::exit_reason::custom("bye"));
    REQUIRE(eventually([&] { return step.load() == 2; }));
    CHECK(made == eam::link_ref::between(trapper.id(), other.id()));
    CHECK(carried == made);
    CHECK(downed == watched);
    CHECK(watched.watcher == trapper.id());
    CHECK(watched.watched == other.id());
    CHECK(traps);
    CHECK(idle == 60s);
  }

  TEST_CASE("node identity, lookup by id and short type labels") {
    eam::actor_system named({.workers = 1, .node_id = "node-a"});
    CHECK(named.node_id() == "node-a");
    eam::telemetry::reset();
    std::string spawned_on;
    eam::telemetry::attach("node", {eam::telemetry::events::actor_spawn},
                           [&](std::string_view, const auto&, const eam::telemetry::metadata& md) {
                             for (const auto& [k, v] : md)
                               if (k == "node_id") spawned_on = v;
                           });
    (void)named.spawn(store);  // spawn's event is emitted on this thread
    eam::telemetry::reset();
    CHECK(spawned_on == "node-a");
    eam::actor_system local({.workers = 1});
    CHECK(local.node_id().rfind("local-", 0) == 0);
    CHECK(local.node_id().size() == 14);
    auto s = local.spawn(store);
    auto found = local.find(s.id());
    REQUIRE(found.has_value());
    CHECK(*found == s);
    CHECK_FALSE(local.find(s.id() + 1000).has_value());
    auto infos = local.actors();
    REQUIRE(infos.size() == 1);
    CHECK(infos[0].type == "function");  // a function factory: its type names no function
    auto lambda = local.spawn([](eam::actor_context&) { return eam::behavior{[](get) { return 2; }}; });
    for (const auto& i : local.actors())
      if (i.id == lambda.id()) CHECK(i.type.rfind("lambda ", 0) == 0);
  }

  TEST_CASE("list_handlers names every attached handler with its events") {
    eam::telemetry::reset();
    eam::telemetry::attach("a", {"x.one", "x.two"}, [](std::string_view, const auto&, const auto&) {});
    eam::telemetry::attach("b", {"x.two"}, [](std::string_view, const auto&, const auto&) {});
    auto list = eam::telemetry::list_handlers();
    REQUIRE(list.size() == 2);
    CHECK(list[0].id == "a");
    CHECK(list[0].events == std::vector<std::string>{"x.one", "x.two"});
    CHECK(list[1].id == "b");
    eam::telemetry::reset();
    CHECK(eam::telemetry::list_handlers().empty());
  }

  TEST_CASE("error codes carry their layer's domain and compare with that layer's enum only") {
    eam::error e(eam::errc::timeout, "late");
    CHECK(e.code() == eam::errc::timeout);
    CHECK(e.code().domain().name == "eam");
    CHECK(e.code().name() == "timeout");
    CHECK(e.code().value() == 3);
    CHECK(std::string(e.what()) == "timeout: late");
  }

  TEST_CASE("health samples unbounded backlogs and combines registered components") {
    eam::actor_system system({.workers = 2, .health_backlog_threshold = 1000});
    std::atomic<bool> holding{false}, released{false};
    std::atomic<int> handled{0};
    auto busy = system.spawn([&](eam::actor_context&) {
      return eam::behavior{[&](hold) {
                             holding = true;
                             (void)eventually([&] { return released.load(); });
                           },
                           [&](item) { ++handled; }};
    });
    CHECK(system.health().status == eam::health_status::healthy);  // starts the census
    busy.cast(hold{});
    REQUIRE(eventually([&] { return holding.load(); }));
    for (int i = 0; i < 5000; ++i) busy.cast(item{});
    released = true;  // the actor now works through 5000 messages, a turn of 100 at a time
    // Its first turn ends with 4900 queued: the census sees that, and the next health() says so.
    eam::health_report h;
    REQUIRE(eventually([&] {
      h = system.health();
      return h.largest_queue > 1000;
    }));
    CHECK(h.status == eam::health_status::degraded);
    CHECK(h.uptime_seconds > 0);
    // Once the backlog is gone, the last sample still holds for up to a second (so reports in a
    // row agree), then none is taken. (No sample is not no backlog: waiting for "healthy" alone
    // could pass between two samples; here the backlog is known gone first.)
    REQUIRE(eventually([&] { return handled.load() == 5000; }));
    CHECK(eventually([&] { return system.health().status == eam::health_status::healthy; }));

    system.add_health_check("cluster", [] { return eam::component_health{eam::health_status::unhealthy, "no peers"}; });
    CHECK_THROWS_AS(system.add_health_check("cluster", [] { return eam::component_health{}; }), eam::error);
    h = system.health();
    CHECK(h.status == eam::health_status::unhealthy);
    CHECK(h.message == "cluster: no peers");
    REQUIRE(h.components.size() == 1);
    CHECK(h.components[0].name == "cluster");
    CHECK(system.remove_health_check("cluster"));
    CHECK(system.health().status == eam::health_status::healthy);
  }

  TEST_CASE("a watch with its own handler runs it and never reaches the behavior, and system_of and inside_actor work") {
    struct watch_with_handler {
      eam::actor_ref target;
    };
    struct counts {};
    eam::actor_system system({.workers = 2});
    auto target = system.spawn(store);
    auto watcher = system.spawn([](eam::actor_context& ctx) {
      struct seen {
        int by_handler = 0;
        int by_behavior = 0;
        std::string reason;
        bool inside = false;
      };
      auto& st = ctx.make_state<seen>();
      return eam::behavior{
          [&st, &ctx](watch_with_handler w) {
            st.inside = eam::inside_actor();
            ctx.watch(w.target, [&st](const eam::down& d) {
              ++st.by_handler;
              st.reason = d.reason.to_string();
            });
            ctx.watch(eam::actor_ref{}, [&st](const eam::down&) { ++st.by_handler; });  // noproc, at once
          },
          [&st](eam::down) { ++st.by_behavior; },
          [&st](counts) { return std::to_string(st.by_handler) + "/" + std::to_string(st.by_behavior) + " " + st.reason +
                                 (st.inside ? " inside" : ""); },
      };
    });
    watcher.cast(watch_with_handler{target});
    REQUIRE(eventually([&] { return watcher.call(counts{}).get().value().starts_with("1/0"); }));
    CHECK(&eam::system_of(target) == &system);
    CHECK_FALSE(eam::inside_actor());
    system.stop(target);
    REQUIRE(eventually([&] { return watcher.call(counts{}).get().value() == "2/0 normal inside"; }));
  }

  TEST_CASE("try_cast hands a message back when a bounded mailbox is full and never throws") {
    struct load {
      std::string payload;
    };
    struct park {};
    for (const auto strategy : {eam::overflow_strategy::error, eam::overflow_strategy::drop_newest}) {
      eam::actor_system system({.workers = 2});
      auto parked = std::make_shared<std::atomic<bool>>(false);
      auto release = std::make_shared<std::atomic<bool>>(false);
      auto got = std::make_shared<std::atomic<int>>(0);
      struct let_go {  // the parked handler ends even when a check below fails
        std::shared_ptr<std::atomic<bool>> flag;
        ~let_go() { *flag = true; }
      } guard{release};
      auto target = system.spawn({.mailbox_bound = 1, .overflow = strategy}, [=](eam::actor_context&) {
        return eam::behavior{[=](park) {
                               *parked = true;
                               while (!release->load()) std::this_thread::yield();  // bounded by the test below
                             },
                             [=](load) { ++*got; }};
      });
      target.cast(park{});
      REQUIRE(eventually([&] { return parked->load(); }));
      load first{"first"};
      CHECK(target.try_cast(first) == eam::cast_result::sent);  // takes the one slot
      load second{"second"};
      CHECK(target.try_cast(second) == eam::cast_result::full);
      CHECK(second.payload == "second");  // handed back whole
      *release = true;
      REQUIRE(eventually([&] { return got->load() == 1; }));
      CHECK(target.try_cast(second) == eam::cast_result::sent);
      REQUIRE(eventually([&] { return got->load() == 2; }));
      system.stop(target);
      REQUIRE(eventually([&] { return !target.is_alive(); }));
      load late{"late"};
      CHECK(target.try_cast(late) == eam::cast_result::gone);
    }
  }
}
