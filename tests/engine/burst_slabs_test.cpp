// A burst's envelope blocks carved from slabs (engine/src/burst_slabs.hpp): address order, a
// slab freed once its blocks are freed and its carver stops carving, whichever comes last, and
// every slab of a fan-in spread over two workers given back when the system ends.
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"
#include "burst_slabs.hpp"
#include "envelope_cache.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

using eam::internal::burst_slabs;

namespace {
constexpr unsigned small = 1, medium = 2;   // the classes: 48 and 64 bytes
constexpr std::size_t small_per_slab = 84;  // (4096 - 64) / 48

struct tick {
  std::int64_t v;
};
struct go {};
}  // namespace

TEST_SUITE("engine.burst_slabs") {
  TEST_CASE("blocks of a class come in address order from one slab, each class from its own") {
    burst_slabs slabs;
    const std::int64_t before = burst_slabs::live_slabs();
    std::vector<char*> blocks;
    for (std::size_t i = 0; i < small_per_slab; ++i) blocks.push_back(static_cast<char*>(slabs.allocate(small)));
    for (std::size_t i = 1; i < blocks.size(); ++i) CHECK(blocks[i] - blocks[i - 1] == 48);
    auto* other = static_cast<char*>(slabs.allocate(medium));
    CHECK(burst_slabs::live_slabs() == before + 2);
    CHECK(reinterpret_cast<std::uintptr_t>(other) % 64 == 0);
    // The slab of the 48-byte class is full: the next block starts another.
    auto* next = static_cast<char*>(slabs.allocate(small));
    CHECK(burst_slabs::live_slabs() == before + 3);
    CHECK((reinterpret_cast<std::uintptr_t>(next) & ~std::uintptr_t{4095}) !=
          (reinterpret_cast<std::uintptr_t>(blocks.back()) & ~std::uintptr_t{4095}));
    for (char* b : blocks) slabs.free(b);
    slabs.flush();
    CHECK(burst_slabs::live_slabs() == before + 2);  // full, retired and every block back: freed
    burst_slabs::give_back_now(next);
    burst_slabs::give_back_now(other);
    CHECK(burst_slabs::live_slabs() == before + 2);  // still carved from
    slabs.retire();
    CHECK(burst_slabs::live_slabs() == before);
  }

  TEST_CASE("a slab whose carver stops first is freed by the last of its blocks, freed on another thread") {
    burst_slabs slabs;
    const std::int64_t before = burst_slabs::live_slabs();
    std::vector<void*> blocks;
    for (int i = 0; i < 10; ++i) blocks.push_back(slabs.allocate(small));
    slabs.retire();
    CHECK(burst_slabs::live_slabs() == before + 1);
    std::thread other([&] {
      for (void* b : blocks) burst_slabs::give_back_now(b);
    });
    other.join();
    CHECK(burst_slabs::live_slabs() == before);
  }

  TEST_CASE("a run of frees that spans two slabs gives each back its own count") {
    burst_slabs slabs;
    const std::int64_t before = burst_slabs::live_slabs();
    std::vector<void*> blocks;
    for (std::size_t i = 0; i < 2 * small_per_slab; ++i) blocks.push_back(slabs.allocate(small));
    slabs.retire();
    CHECK(burst_slabs::live_slabs() == before + 2);
    std::reverse(blocks.begin(), blocks.end());  // the second slab's run first
    for (std::size_t i = 0; i + 1 < blocks.size(); ++i) slabs.free(blocks[i]);
    slabs.flush();
    CHECK(burst_slabs::live_slabs() == before + 1);  // the first slab waits for its last block
    slabs.free(blocks.back());
    slabs.flush();
    CHECK(burst_slabs::live_slabs() == before);
  }

  TEST_CASE("a fan-in spread over two workers takes slabs for its bursts and gives every one back by the end") {
    const std::int64_t before = burst_slabs::live_slabs();
    constexpr int senders = 8;
    constexpr std::int64_t per_sender = 20000;
    auto sum = std::make_shared<std::atomic<std::int64_t>>(0);
    auto most_slabs = std::make_shared<std::atomic<std::int64_t>>(before);
    {
      eam::actor_system system({.workers = 2, .adaptive_workers = false});
      auto sink =
          system.spawn([sum](eam::actor_context&) { return eam::behavior{[sum](tick t) { sum->fetch_add(t.v); }}; });
      std::vector<eam::typed_ref<void(go)>> refs;
      for (int s = 0; s < senders; ++s) {
        refs.push_back(system.spawn(
            [most_slabs](eam::actor_context& ctx, eam::typed_ref<void(tick)> to) {
              auto& sent = ctx.make_state<std::int64_t>(0);
              auto self = eam::unchecked_typed_ref_cast<eam::typed_ref<void(go)>>(ctx.self());
              return eam::behavior{[&sent, to, self, most_slabs](go) {
                for (int i = 0; i < 1000; ++i, ++sent) to.cast(tick{1});  // a burst from the 17th
                std::int64_t seen = most_slabs->load();
                const std::int64_t now = burst_slabs::live_slabs();
                while (now > seen && !most_slabs->compare_exchange_weak(seen, now)) {
                }
                if (sent < per_sender) self.cast(go{});
              }};
            },
            eam::typed_ref<void(tick)>(sink)));
      }
      for (auto& r : refs) r.cast(go{});
      REQUIRE(eam::test::eventually([&] { return sum->load() == senders * per_sender; }, std::chrono::seconds(60)));
    }  // the workers end: each gives back its run of frees and the slabs it carves
    CHECK(sum->load() == senders * per_sender);
#if EAM_ENVELOPE_CACHE  // AddressSanitizer builds keep no blocks: every one comes from the allocator
    CHECK(most_slabs->load() > before);
#endif
    CHECK(burst_slabs::live_slabs() == before);
  }
}
