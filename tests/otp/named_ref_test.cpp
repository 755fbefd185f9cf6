#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include "../support/eventually.hpp"

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {
using eam::test::eventually;
namespace otp = eam::otp;
struct crash {};
struct get {};
struct note {};
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

  TEST_CASE("a named cast reaches whichever actor holds the name now") {
    // A named_ref keeps the actor it found until the system's names change: each change here
    // (unregister, an end, a new holder) must send the next cast to the holder of that moment.
    eam::actor_system system({.workers = 2});
    std::atomic<int> to_first{0}, to_second{0};
    auto counting = [](eam::actor_context&, std::atomic<int>* count) {
      return eam::behavior{[count](note) { count->fetch_add(1); }, [](get) { return 0; }};
    };
    auto first = system.spawn({.name = "holder"}, counting, &to_first);
    const otp::named_ref<void(note), int(get)> client(system, "holder");
    const auto before = system.names_version();
    CHECK(client.cast(note{}));
    CHECK(client.cast(note{}));
    REQUIRE(eventually([&] { return to_first.load() == 2; }));

    CHECK(system.unregister("holder"));  // the first runs on without the name
    CHECK(system.names_version() != before);
    CHECK_FALSE(client.cast(note{}));
    CHECK(client.resolve().code() == eam::errc::registry_lookup_failed);

    auto second = system.spawn({.name = "holder"}, counting, &to_second);
    CHECK(client.cast(note{}));
    const otp::named_ref<void(note), int(get)> copy = client;  // its own cache
    CHECK(copy.cast(note{}));
    REQUIRE(eventually([&] { return to_second.load() == 2; }));
    CHECK(client.resolve().value() == second);

    system.stop(second);  // its end frees the name
    REQUIRE(eventually([&] { return !system.whereis("holder").has_value(); }));
    CHECK_FALSE(client.cast(note{}));
    CHECK_FALSE(copy.cast(note{}));
    CHECK(first.call(get{}).get().value() == 0);  // still alive, never reached again
    CHECK(to_first.load() == 2);
    CHECK(to_second.load() == 2);
  }

  TEST_CASE("one named_ref cast to from several threads at once delivers every cast") {
    // A thread that finds the cache in use looks the name up itself.
    eam::actor_system system({.workers = 2});
    std::atomic<int> seen{0};
    system.spawn(
        {.name = "sink"},
        [](eam::actor_context&, std::atomic<int>* n) { return eam::behavior{[n](note) { n->fetch_add(1); }}; }, &seen);
    const otp::named_ref<void(note)> shared(system, "sink");
    constexpr int threads = 4, per_thread = 5000;
    std::vector<std::thread> senders;
    std::atomic<int> refused{0};
    for (int t = 0; t < threads; ++t)
      senders.emplace_back([&] {
        for (int i = 0; i < per_thread; ++i)
          if (!shared.cast(note{})) refused.fetch_add(1);
      });
    for (auto& t : senders) t.join();
    CHECK(refused.load() == 0);
    CHECK(eventually([&] { return seen.load() == threads * per_thread; }));
  }

  TEST_CASE("a name nobody holds fails with registry_lookup_failed") {
    eam::actor_system system({.workers = 1});
    otp::named_ref<int(get)> client(system, "nobody");
    CHECK(client.call(get{}, std::chrono::milliseconds(20)).code() == eam::errc::registry_lookup_failed);
  }
}
