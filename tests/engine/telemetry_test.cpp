#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/telemetry.hpp>

#include "../support/eventually.hpp"

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
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
