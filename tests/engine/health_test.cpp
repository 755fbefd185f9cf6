#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace {
using eam::test::eventually;
struct get {};
struct hold {};
struct item {};
}  // namespace

TEST_SUITE("engine.health") {
  TEST_CASE("a running system is healthy, alive and ready") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn([](eam::actor_context&) { return eam::behavior{[](get) { return 1; }}; });
    auto h = system.health();
    CHECK(h.status == eam::health_status::healthy);
    CHECK(h.alive);
    CHECK(h.ready);
    CHECK(h.actor_count == 1);
    CHECK(h.workers == 2);
  }

  TEST_CASE("a backlog above the threshold makes the system degraded") {
    auto released = std::make_shared<std::atomic<bool>>(false);
    auto holding = std::make_shared<std::atomic<bool>>(false);
    eam::actor_system system({.workers = 2, .health_backlog_threshold = 2});
    auto busy = system.spawn({.mailbox_bound = 100}, [released, holding](eam::actor_context&) {
      return eam::behavior{[released, holding](hold) {
                             *holding = true;
                             (void)eventually([&] { return released->load(); });
                           },
                           [](item) {}};
    });
    busy.cast(hold{});
    REQUIRE(eventually([&] { return holding->load(); }));
    for (int i = 0; i < 3; ++i) busy.cast(item{});
    auto h = system.health();
    CHECK(h.status == eam::health_status::degraded);
    CHECK(h.mailbox_backlog == 3);
    CHECK(h.message.find("backlog") != std::string::npos);
    *released = true;
  }

  TEST_CASE("during shutdown the system is degraded and after it unhealthy and not alive") {
    auto seen = std::make_shared<std::atomic<int>>(-1);
    eam::actor_system system({.workers = 2});
    struct reporter : eam::actor<int(get)> {
      std::shared_ptr<std::atomic<int>> seen;
      void init(std::shared_ptr<std::atomic<int>> s) { seen = std::move(s); }
      int handle_call(get) { return 1; }
      void terminate(const eam::exit_reason&) { *seen = static_cast<int>(context().system().health().status); }
    };
    auto r = system.spawn<reporter>(seen);
    (void)r.call(get{}).get();
    system.shutdown();
    CHECK(seen->load() == static_cast<int>(eam::health_status::degraded));
    auto h = system.health();
    CHECK(h.status == eam::health_status::unhealthy);
    CHECK_FALSE(h.alive);
    CHECK_FALSE(h.ready);
    CHECK(h.active_workers == 0);  // it read the workers' last count
  }

  TEST_CASE("two health reports in a row agree on an unbounded backlog") {
    // Each report asks for a new census; the next one, a moment later, found none taken yet and
    // read 0: a liveness and a readiness probe in a row disagreed.
    eam::actor_system system({.workers = 2, .health_backlog_threshold = 10});
    auto sink = system.spawn([](eam::actor_context&) { return eam::behavior{[](item) {}}; });
    auto seen = std::make_shared<std::atomic<bool>>(false);
    std::atomic<bool> stop{false};
    std::thread flood([&] {
      for (int i = 0; i < 20'000'000 && !stop.load(std::memory_order_relaxed); ++i) sink.cast(item{});
    });
    struct join_at_end {
      std::atomic<bool>& stop;
      std::thread& t;
      ~join_at_end() {
        stop = true;
        t.join();
      }
    } joined{stop, flood};
    REQUIRE(eventually([&] { return system.health().largest_queue > 10; }, std::chrono::seconds(60)));
    const auto second = system.health();
    CHECK(second.largest_queue > 10);
    CHECK(second.status == eam::health_status::degraded);
  }
}
