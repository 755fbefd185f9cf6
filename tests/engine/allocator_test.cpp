// The allocator the engine takes envelopes and cells from (engine/src/allocator.hpp).
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "allocator.hpp"

#include <sys/resource.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <string>

namespace {
#ifdef EAM_USE_MIMALLOC
// Whether the kernel backs memory with 2 MiB pages when asked (madvise) or always.
bool transparent_huge_pages_offered() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(f, line);
  return line.find("[always]") != std::string::npos || line.find("[madvise]") != std::string::npos;
}

long minor_faults_of_this_thread() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_minflt;
}
#endif
}  // namespace

TEST_SUITE("engine.allocator") {
#ifdef EAM_USE_MIMALLOC
  TEST_CASE("a system with large_pages turns on the allocator's 2 MiB pages, unless the environment chose") {
    if (std::getenv("MIMALLOC_LARGE_OS_PAGES") != nullptr) return;  // the environment's choice wins
    { eam::actor_system sys({.workers = 1, .large_pages = true}); }
    CHECK(mi_option_is_enabled(mi_option_large_os_pages));
  }

  TEST_CASE("with large_pages a worker's first messages come from 2 MiB pages: a burst faults in a few pages, not thousands") {
    if (std::getenv("MIMALLOC_LARGE_OS_PAGES") != nullptr || std::getenv("MIMALLOC_EAGER_COMMIT_DELAY") != nullptr)
      return;  // the environment's choice wins
    if (!transparent_huge_pages_offered()) return;  // the kernel gives 4 KiB pages whatever is asked
    struct burst {
      int n;
    };
    struct item {};
    eam::actor_system sys({.workers = 1, .large_pages = true});
    auto sink = sys.spawn([](eam::actor_context&) { return eam::behavior{[](item) {}}; });
    std::promise<long> faults;
    auto sender = sys.spawn([sink, &faults](eam::actor_context&) {
      return eam::behavior{[sink, &faults](burst b) {
        // The sink runs on this worker only after this turn: every envelope stays allocated.
        const long before = minor_faults_of_this_thread();
        for (int i = 0; i < b.n; ++i) sink.cast(item{});
        faults.set_value(minor_faults_of_this_thread() - before);
      }};
    });
    constexpr int messages = 200'000;  // about 12 MB of envelopes: 3,000 pages of 4 KiB
    sender.cast(burst{messages});
    const long took = faults.get_future().get();
    CHECK(took < 300);
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
