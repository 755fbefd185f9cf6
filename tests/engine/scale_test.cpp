#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"

#include <atomic>
#include <vector>

namespace {
struct hit {};
std::atomic<long> live_states{0};
struct tracked {
  tracked() { live_states.fetch_add(1, std::memory_order_relaxed); }
  ~tracked() { live_states.fetch_sub(1, std::memory_order_relaxed); }
  tracked(const tracked&) = delete;
  long hits = 0;
};
}  // namespace

TEST_SUITE("engine.scale") {
  TEST_CASE("one million actors are spawned and messaged and stopped and their state is freed") {
    // Under ASan the leak checker also proves every cell and envelope was freed.
    constexpr int actors = 1'000'000;
    std::atomic<long> handled{0};
    eam::actor_system system({.workers = 2});
    {
      std::vector<eam::typed_ref<void(hit)>> refs;
      refs.reserve(actors);
      for (int i = 0; i < actors; ++i) {
        refs.push_back(system.spawn([&handled](eam::actor_context& ctx) {
          auto& t = ctx.make_state<tracked>();
          return eam::behavior{[&t, &handled](hit) {
            ++t.hits;
            handled.fetch_add(1, std::memory_order_relaxed);
          }};
        }));
      }
      CHECK(system.actor_count() == actors);
      for (auto& r : refs) r.cast(hit{});
      REQUIRE(eam::test::eventually([&] { return handled.load() == actors; }, std::chrono::seconds(120)));
      for (auto& r : refs) system.stop(r);
      REQUIRE(eam::test::eventually([&] { return system.actor_count() == 0; }, std::chrono::seconds(120)));
    }
    CHECK(live_states.load() == 0);
  }
}
