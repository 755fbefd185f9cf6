// The allocator the engine takes envelopes and cells from (engine/src/allocator.hpp).
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "allocator.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>

TEST_SUITE("engine.allocator") {
#ifdef EAM_USE_MIMALLOC
  TEST_CASE("a system with large_pages turns on the allocator's 2 MiB pages, unless the environment chose") {
    if (std::getenv("MIMALLOC_LARGE_OS_PAGES") != nullptr) return;  // the environment's choice wins
    { eam::actor_system sys({.workers = 1, .large_pages = true}); }
    CHECK(mi_option_is_enabled(mi_option_large_os_pages));
  }
#endif

  TEST_CASE("memory from the engine's allocator is aligned as asked and can be written whole") {
    for (const std::size_t align : {alignof(std::max_align_t), std::size_t{64}, std::size_t{128}}) {
      void* p = eam::internal::allocate(200, align);
      REQUIRE(p != nullptr);
      CHECK(reinterpret_cast<std::uintptr_t>(p) % align == 0);
      std::memset(p, 0xab, 200);
      eam::internal::deallocate(p);
    }
  }
}
