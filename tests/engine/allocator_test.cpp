// The allocator the engine takes envelopes and cells from (engine/src/allocator.hpp).
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "allocator.hpp"

#include <sys/mman.h>
#include <sys/resource.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <string>

namespace {
#ifdef EAM_USE_MIMALLOC
long minor_faults_of_this_thread() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_minflt;
}

// Whether the kernel gives this process 2 MiB pages when asked now: 8 MiB touched a page at a
// time fault in a few times, not 2,048. Not where transparent huge pages are off, nor where
// memory is too fragmented for the kernel to find them.
bool huge_pages_granted() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(f, mode);
  if (mode.find("[always]") == std::string::npos && mode.find("[madvise]") == std::string::npos) return false;
  constexpr std::size_t bytes = 8u << 20;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  madvise(p, bytes, MADV_HUGEPAGE);
  const long before = minor_faults_of_this_thread();
  for (std::size_t at = 0; at < bytes; at += 4096) static_cast<volatile char*>(p)[at] = 1;
  const long faults = minor_faults_of_this_thread() - before;
  munmap(p, bytes);
  return faults < 100;
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
    if (!huge_pages_granted()) return;  // the kernel gives 4 KiB pages whatever is asked
    // The segments that threads ended earlier in this process left behind were made before
    // large pages were on (4 KiB pages where the kernel gives huge ones only when asked), and a
    // new thread fills them before it maps any of its own: this thread takes them back first
    // (a forced collect on the main thread does). Without it, the test run after one that
    // started and ended a few hundred threads counted 2,357 faults.
    mi_collect(true);
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
