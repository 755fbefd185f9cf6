#pragma once
// burst_slabs: the envelope blocks of a burst (envelope_cache.hpp: a turn's messages from the
// 17th to the 4,096th, on a worker that shares blocks), carved in address order from 4 KiB
// slabs, and given back a run at a time.
//
// Why: a burst's blocks came from the allocator one at a time, in address order, so that a
// receiver on another core meets a sender's chain in the order its prefetcher follows. Each was
// then freed on the receiver's core: mimalloc pushes a block freed by another thread onto its
// page's cross-thread list with a compare-and-swap, and the owner walks that list block by block
// when it collects. In fan-in spread over two workers that always run, mimalloc took about 40 %
// of the samples (`perf record`). A slab keeps the address order and pays one atomic
// subtraction per run of its blocks freed together (a sender's chain comes from one slab, so a
// receiver frees up to 84 in a row), and one allocation and one free per slab.
//
// Lifetime: a slab's `live` starts at `unretired`, far above any block count. Each run of frees
// subtracts its length; the worker that carves the slab subtracts (unretired - carved) when it
// stops carving it (full, or the worker parks, rests or ends). Whoever brings `live` to zero
// frees the slab: every block carved from it has been freed and nobody carves it any more. The
// subtractions are acq_rel, so every thread's last use of a block happens before the free.
//
// A worker counts its frees of one slab in a run (free_run_) and subtracts the run when a free
// of another slab comes, and before it parks, rests or ends, so a busy worker holds back at
// most one slab; any other thread subtracts at once (give_back_now). A slab is never carved
// again, so it lives while any of its blocks does: a message held for long (stashed, set aside,
// kept by a relay) keeps its slab's 4 KiB, up to 84 times its own size, where the allocator
// would have reused the rest of its page.
//
// Memory: a slab is the allocator's 4 KiB block when that lies on a 4 KiB boundary (mimalloc's
// do), else an aligned one (mimalloc over-allocates those to 8 KiB of address space).
#include <eam/engine/detail/tls.hpp>

#include <eam/engine/detail/envelope.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace eam::internal {

class burst_slabs {
 public:
  static constexpr std::size_t slab_bytes = 4096;

  /// A block of class `cls` (1 or 2: 48 or 64 bytes). Both sizes and the header are multiples
  /// of 16, the most a block class's message may ask for.
  void* allocate(unsigned cls) {
    const std::size_t bytes = detail::envelope_block_bytes(static_cast<std::uint8_t>(cls));
    carving& c = carving_[cls - 1];
    if (c.end - c.next < static_cast<std::ptrdiff_t>(bytes)) [[unlikely]]
      start_slab(c);
    void* b = c.next;
    c.next += bytes;
    ++c.carved;
    return b;
  }
  /// A block this worker's thread frees: joins the run under way, or flushes it and starts one.
  void free(void* block) noexcept {
    slab* s = slab_of(block);
    if (s == free_run_) [[likely]] {
      ++free_count_;
      return;
    }
    flush();
    free_run_ = s;
    free_count_ = 1;
  }
  /// Gives the run of frees under way back to its slab.
  void flush() noexcept {
    if (free_run_ != nullptr) drop(free_run_, free_count_);
    free_run_ = nullptr;
    free_count_ = 0;
  }
  /// flush, and stops carving the slabs under way (the worker parks, rests or ends).
  void retire() noexcept {
    if (free_run_ != nullptr || carving_[0].end != nullptr || carving_[1].end != nullptr) [[unlikely]]
      retire_slabs();
  }
  /// A block freed on a thread that is not a worker: given back at once.
  static void give_back_now(void* block) noexcept { drop(slab_of(block), 1); }
  /// Slabs allocated and not yet freed, in the whole process (relaxed: a count for tests and
  /// introspection).
  [[nodiscard]] static std::int64_t live_slabs() noexcept { return live_slabs_.load(std::memory_order_relaxed); }

 private:
  struct slab {
    std::atomic<std::int64_t> live;
  };
  static constexpr std::size_t header_bytes = 64;  // the slab's own line: blocks start on the next
  static constexpr std::int64_t unretired = std::int64_t{1} << 40;
  struct carving {
    char* next = nullptr;
    char* end = nullptr;
    std::int64_t carved = 0;
  };

  static slab* slab_of(void* block) noexcept {
    return reinterpret_cast<slab*>(reinterpret_cast<std::uintptr_t>(block) & ~(slab_bytes - 1));
  }
  static void drop(slab* s, std::int64_t n) noexcept;
  void start_slab(carving& c);
  static void stop_carving(carving& c) noexcept;
  void retire_slabs() noexcept;

  carving carving_[2]{};  // [cls - 1]
  slab* free_run_ = nullptr;
  std::int64_t free_count_ = 0;
  static std::atomic<std::int64_t> live_slabs_;
};

/// The calling thread's (trivially destructible: a worker retires it before its thread ends).
extern constinit EAM_TLS burst_slabs tls_burst_slabs;

}  // namespace eam::internal
