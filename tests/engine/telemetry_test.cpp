#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/telemetry.hpp>

#include "../support/eventually.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace tel = eam::telemetry;

namespace {
// Records every event it is attached to; detaches everything when it goes.
struct recorder {
  std::mutex m;
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> seen;
  explicit recorder(std::vector<std::string_view> events) {
    tel::attach("recorder", events, [this](std::string_view event, const tel::measurements& ms, const tel::metadata& md) {
      std::map<std::string, std::string> fields(md.begin(), md.end());
      for (const auto& [k, v] : ms) fields[k] = "measured";
      std::lock_guard l(m);
      seen.emplace_back(std::string(event), std::move(fields));
    });
  }
  ~recorder() { tel::reset(); }
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> snapshot() {
    std::lock_guard l(m);
    return seen;
  }
  std::size_t count(std::string_view event) {
    std::size_t n = 0;
    for (const auto& s : snapshot()) n += s.first == event;
    return n;
  }
};
struct get {};
struct note {};
struct boom {};
auto subject(eam::actor_context&) {
  return eam::behavior{[](get) { return 1; }, [](note) {}, [](boom) -> int { throw std::runtime_error("bad"); }};
}
}  // namespace

TEST_SUITE("engine.telemetry") {
  TEST_CASE("attach, execute, has_handlers, detach and reset") {
    int calls = 0;
    CHECK_FALSE(tel::any_handlers());
    tel::attach("h", {"my.event"}, [&](std::string_view, const tel::measurements& m, const tel::metadata& md) {
      ++calls;
      CHECK(m[0].second == 2.0);
      CHECK(md[0].second == "v");
    });
    CHECK(tel::has_handlers("my.event"));
    CHECK_FALSE(tel::has_handlers("other.event"));
    tel::execute("my.event", {{"n", 2.0}}, {{"k", "v"}});
    tel::execute("other.event", {}, {});
    CHECK(calls == 1);
    CHECK(tel::detach("h"));
    CHECK_FALSE(tel::detach("h"));
    tel::execute("my.event", {{"n", 2.0}}, {{"k", "v"}});
    CHECK(calls == 1);
    tel::attach("h2", {"my.event"}, [](std::string_view, const tel::measurements&, const tel::metadata&) {});
    tel::reset();
    CHECK_FALSE(tel::any_handlers());
  }

  TEST_CASE("an event_gate tells whether a handler listens to one of its events") {
    tel::reset();
    auto nothing = [](std::string_view, const tel::measurements&, const tel::metadata&) {};
    const tel::event_gate gate{"gate.a", "gate.b"};
    CHECK_FALSE(gate.listened());
    tel::attach("other", {"gate.c"}, nothing);
    CHECK_FALSE(gate.listened());
    tel::attach("on_b", {"gate.c", "gate.b"}, nothing);
    CHECK(gate.listened());
    const tel::event_gate later{"gate.b"};  // made while listened: starts so
    CHECK(later.listened());
    tel::attach("on_a", {"gate.a"}, nothing);
    CHECK(tel::detach("on_b"));
    CHECK(gate.listened());  // gate.a still has one
    CHECK_FALSE(later.listened());
    CHECK(tel::has_handlers("gate.c"));
    CHECK_FALSE(tel::has_handlers("gate.b"));
    tel::reset();
    CHECK_FALSE(gate.listened());
    CHECK_FALSE(tel::has_handlers("gate.c"));
  }

  TEST_CASE("a handler detached on one thread is not called by a later emit on another") {
    tel::reset();
    tel::attach("stays", {"x.other"}, [](std::string_view, const tel::measurements&, const tel::metadata&) {});
    std::atomic<int> calls{0};
    tel::attach("counted", {"x.tick"},
                [&](std::string_view, const tel::measurements&, const tel::metadata&) { calls.fetch_add(1); });
    std::mutex m;
    std::condition_variable cv;
    int step = 0;  // 1: the emitter emitted once; 2: main detached; 3: the emitter emitted again
    std::thread emitter([&] {
      tel::execute("x.tick", {}, {});  // the emitter's thread now holds the table with the handler
      std::unique_lock l(m);
      step = 1;
      cv.notify_all();
      cv.wait(l, [&] { return step == 2; });
      tel::execute("x.tick", {}, {});
      step = 3;
      cv.notify_all();
    });
    {
      std::unique_lock l(m);
      cv.wait(l, [&] { return step == 1; });
      CHECK(tel::detach("counted"));
      step = 2;
      cv.notify_all();
      cv.wait(l, [&] { return step == 3; });
    }
    emitter.join();
    CHECK(calls.load() == 1);
    tel::reset();
  }

  TEST_CASE("a detached handler's captures are let go at the thread's next execute") {
    tel::reset();
    auto token = std::make_shared<int>(1);
    tel::attach("holder", {"x.held"}, [token](std::string_view, const tel::measurements&, const tel::metadata&) {});
    tel::execute("x.held", {}, {});  // this thread now holds the table with the handler's copy
    CHECK(tel::detach("holder"));
    tel::execute("x.held", {}, {});  // nothing attached now: the thread lets its old table go
    CHECK(token.use_count() == 1);
  }

  TEST_CASE("a handler may detach itself and others, attach and emit while its event is emitted") {
    tel::reset();
    std::vector<std::string> order;
    tel::attach("first", {"x.nested"}, [&](std::string_view, const tel::measurements& m, const tel::metadata&) {
      order.push_back("first" + std::to_string(static_cast<int>(m[0].second)));
      if (m[0].second != 1.0) return;
      CHECK(tel::detach("first"));
      CHECK(tel::detach("third"));
      tel::attach("fourth", {"x.nested"}, [&](std::string_view, const tel::measurements& n, const tel::metadata&) {
        order.push_back("fourth" + std::to_string(static_cast<int>(n[0].second)));
      });
      tel::execute("x.nested", {{"n", 2.0}}, {});  // sees the new table: second and fourth
    });
    tel::attach("second", {"x.nested"}, [&](std::string_view, const tel::measurements& m, const tel::metadata&) {
      order.push_back("second" + std::to_string(static_cast<int>(m[0].second)));
    });
    tel::attach("third", {"x.nested"}, [&](std::string_view, const tel::measurements& m, const tel::metadata&) {
      order.push_back("third" + std::to_string(static_cast<int>(m[0].second)));
    });
    tel::execute("x.nested", {{"n", 1.0}}, {});  // walks the table it began with to its end
    tel::execute("x.nested", {{"n", 3.0}}, {});
    CHECK(order == std::vector<std::string>{"first1", "second2", "fourth2", "second1", "third1", "second3", "fourth3"});
    tel::reset();
  }

  TEST_CASE("span emits start and stop, or exception and rethrows") {
    recorder r({"app.q.start", "app.q.stop", "app.q.exception"});
    CHECK(tel::span("app.q", {{"table", "users"}}, [] { return 7; }) == 7);
    CHECK_THROWS_AS(tel::span("app.q", {}, []() -> int { throw std::runtime_error("db down"); }), std::runtime_error);
    auto seen = r.snapshot();
    REQUIRE(seen.size() == 4);
    CHECK(seen[0].first == "app.q.start");
    CHECK(seen[1].first == "app.q.stop");
    CHECK(seen[1].second.at("table") == "users");
    CHECK(seen[1].second.at("duration_ms") == "measured");
    CHECK(seen[3].first == "app.q.exception");
    CHECK(seen[3].second.at("error") == "db down");
  }

  TEST_CASE("the engine emits spawn, init, handle_call, handle_cast and stop events") {
    namespace ev = tel::events;
    recorder r({ev::actor_spawn, ev::actor_init_stop, ev::handle_call_start, ev::handle_call_stop, ev::handle_cast_stop,
                ev::actor_stop_stop});
    {
      eam::actor_system system({.workers = 2});
      auto a = system.spawn({.name = "watched"}, subject);
      a.cast(note{});
      CHECK(a.call(get{}).get().value() == 1);
      system.stop(a);
      REQUIRE(eam::test::eventually([&] { return r.count(ev::actor_stop_stop) == 1; }));
    }
    CHECK(r.count(ev::actor_spawn) == 1);
    CHECK(r.count(ev::actor_init_stop) == 1);
    CHECK(r.count(ev::handle_cast_stop) == 1);
    CHECK(r.count(ev::handle_call_start) == 1);
    CHECK(r.count(ev::handle_call_stop) == 1);
    for (const auto& [event, fields] : r.snapshot())
      if (event == ev::actor_spawn) CHECK(fields.at("name") == "watched");
  }

  TEST_CASE("a task handler's stop or exception event comes when it completes, with its whole duration") {
    // It came when the handler first suspended (a 200 ms await read 0.07 ms), and a throw after
    // the await gave no exception event.
    namespace ev = tel::events;
    struct slow {};
    struct wait_then {
      bool fail;
    };
    std::mutex m;
    std::vector<std::tuple<std::string, std::string, double>> seen;  // event, actor id, duration_ms
    tel::attach("task", {ev::handle_call_stop, ev::handle_call_exception},
                [&](std::string_view event, const tel::measurements& ms, const tel::metadata& md) {
                  std::string actor;
                  for (const auto& [k, v] : md)
                    if (k == "actor_id") actor = v;
                  double took = -1;
                  for (const auto& [k, v] : ms)
                    if (k == "duration_ms") took = v;
                  std::lock_guard l(m);
                  seen.emplace_back(std::string(event), actor, took);
                });
    struct detach_at_end {
      ~detach_at_end() { tel::reset(); }
    } detach;
    eam::actor_system system({.workers = 2});
    auto slowpoke = eam::unchecked_typed_ref_cast<eam::typed_ref<int(slow)>>(system.spawn([](eam::actor_context&) {
      return eam::behavior{[](slow) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        return 1;
      }};
    }));
    auto waiter = eam::unchecked_typed_ref_cast<eam::typed_ref<int(wait_then)>>(
        system.spawn([slowpoke](eam::actor_context&) {
          return eam::behavior{[slowpoke](wait_then w) -> eam::task<int> {
            auto r = co_await slowpoke.call(slow{}, std::chrono::seconds(30));
            if (w.fail) throw std::runtime_error("after the await");
            co_return r.value();
          }};
        }));
    const std::string id = std::to_string(waiter.id());
    const auto of_waiter = [&] {
      std::lock_guard l(m);
      std::vector<std::tuple<std::string, std::string, double>> mine;
      for (const auto& s : seen)
        if (std::get<1>(s) == id) mine.push_back(s);
      return mine;
    };
    CHECK(waiter.call(wait_then{false}, std::chrono::seconds(30)).get().value() == 1);
    REQUIRE(eam::test::eventually([&] { return of_waiter().size() == 1; }));
    CHECK(std::get<0>(of_waiter()[0]) == ev::handle_call_stop);
    CHECK(std::get<2>(of_waiter()[0]) >= 150.0);  // a lower bound: a slow machine only adds to it
    CHECK(waiter.call(wait_then{true}, std::chrono::seconds(30)).get().code() == eam::errc::actor_crashed);
    REQUIRE(eam::test::eventually([&] { return of_waiter().size() == 2; }));
    CHECK(std::get<0>(of_waiter()[1]) == ev::handle_call_exception);
  }

  TEST_CASE("a handler on some of a message's events hears those and no others") {
    namespace ev = tel::events;
    recorder r({ev::handle_cast_start, ev::handle_call_exception});
    eam::actor_system system({.workers = 1});
    auto a = system.spawn(subject);
    a.cast(note{});
    CHECK(a.call(get{}).get().value() == 1);
    CHECK(a.call(boom{}).get().code() == eam::errc::actor_crashed);
    REQUIRE(eam::test::eventually([&] { return r.count(ev::handle_call_exception) == 1; }));
    const auto seen = r.snapshot();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].first == ev::handle_cast_start);
    CHECK(seen[0].second.at("system_time") == "measured");
    CHECK(seen[1].first == ev::handle_call_exception);
    CHECK(seen[1].second.at("error") == "bad");
  }

  TEST_CASE("a crash in a handler is a handle_call.exception event with the error") {
    namespace ev = tel::events;
    recorder r({ev::handle_call_exception});
    eam::actor_system system({.workers = 1});
    auto a = system.spawn(subject);
    CHECK(a.call(boom{}).get().code() == eam::errc::actor_crashed);
    REQUIRE(eam::test::eventually([&] { return r.count(ev::handle_call_exception) == 1; }));
    CHECK(r.snapshot()[0].second.at("error") == "bad");
  }

  TEST_CASE("shutdown emits its start and stop events") {
    namespace ev = tel::events;
    recorder r({ev::system_shutdown_start, ev::system_shutdown_stop});
    eam::actor_system system({.workers = 1});
    (void)system.spawn(subject);
    system.shutdown();
    CHECK(r.count(ev::system_shutdown_start) == 1);
    CHECK(r.count(ev::system_shutdown_stop) == 1);
  }
}
