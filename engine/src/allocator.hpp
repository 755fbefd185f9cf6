#pragma once
// Raw memory for envelopes and actor cells: mimalloc when EAM_USE_MIMALLOC (its thread-local
// free lists make the allocate-on-send / free-on-receive pattern across threads cheap), the C
// allocator otherwise (sanitizer builds).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#ifdef EAM_USE_MIMALLOC
#include <mimalloc.h>
#endif

namespace eam::internal {

inline void* allocate(std::size_t bytes, std::size_t align) {
#ifdef EAM_USE_MIMALLOC
  void* p = align <= alignof(std::max_align_t) ? mi_malloc(bytes) : mi_malloc_aligned(bytes, align);
#else
  void* p = align <= alignof(std::max_align_t) ? std::malloc(bytes)
                                                : std::aligned_alloc(align, (bytes + align - 1) / align * align);
#endif
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

/// `allocate` for whole cache lines: `bytes` a multiple of 64, the block aligned to 64 (an actor
/// cell). mimalloc's size classes that are multiples of 64 start their blocks on a line, so the
/// plain path gives one; its aligned path, which spawn used first, cost skynet 8 % on 1 worker,
/// and a block that comes back off a line (another allocator layout) is taken again through it.
inline void* allocate_lines(std::size_t bytes) {
#ifdef EAM_USE_MIMALLOC
  void* p = mi_malloc(bytes);
  if (p != nullptr && (reinterpret_cast<std::uintptr_t>(p) & 63) != 0) [[unlikely]] {
    mi_free(p);
    p = mi_malloc_aligned(bytes, 64);
  }
#else
  void* p = std::aligned_alloc(64, bytes);
#endif
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

/// `allocate` for a few dozen bytes at the default alignment (an envelope block): mimalloc's
/// small-object path, which skips the size-class lookup of the general one.
inline void* allocate_small(std::size_t bytes) {
#ifdef EAM_USE_MIMALLOC
  void* p = mi_malloc_small(bytes);
#else
  void* p = std::malloc(bytes);
#endif
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

/// system_config::large_pages: asks the allocator for 2 MiB pages from now on, unless the
/// environment already says what it wants. mimalloc commits a thread's first segment (32 MiB)
/// lazily, a megabyte at a time in 4 KiB pages, whatever the page size asked for
/// (eager_commit_delay, 1 by default), and a worker's first segment is where a short program's
/// actors and messages live: fork-join-create's 40,000 actors took 3,200 page faults, about
/// two thirds of its time on the project's VM. Without that delay the first segment is
/// committed at once and takes 2 MiB pages too (260 faults, 3.8x the rate).
inline void prefer_large_pages() noexcept {
#ifdef EAM_USE_MIMALLOC
  if (std::getenv("MIMALLOC_LARGE_OS_PAGES") != nullptr) return;
  mi_option_enable(mi_option_large_os_pages);
  if (std::getenv("MIMALLOC_EAGER_COMMIT_DELAY") == nullptr) mi_option_set(mi_option_eager_commit_delay, 0);
#endif
}

inline void deallocate(void* p) noexcept {
#ifdef EAM_USE_MIMALLOC
  mi_free(p);
#else
  std::free(p);
#endif
}

/// Has the allocator collect what was freed into the calling thread's pages: the blocks other
/// threads freed there are taken in, and pages left empty are free for any size again (and
/// for the system, as the allocator's policy decides). mimalloc does this for a thread only on
/// that thread, as it allocates; a worker asleep allocates nothing, so the blocks another worker
/// freed for it would hold their pages until it ran again.
inline void collect_freed_memory() noexcept {
#ifdef EAM_USE_MIMALLOC
  mi_collect(true);
#endif
}

}  // namespace eam::internal
