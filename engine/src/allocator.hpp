#pragma once
// Raw memory for envelopes and actor cells: mimalloc when EAM_USE_MIMALLOC (its thread-local
// free lists make the allocate-on-send / free-on-receive pattern across threads cheap), the C
// allocator otherwise (sanitizer builds).
#include <cstddef>
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
/// environment already says what it wants.
inline void prefer_large_pages() noexcept {
#ifdef EAM_USE_MIMALLOC
  if (std::getenv("MIMALLOC_LARGE_OS_PAGES") == nullptr) mi_option_enable(mi_option_large_os_pages);
#endif
}

inline void deallocate(void* p) noexcept {
#ifdef EAM_USE_MIMALLOC
  mi_free(p);
#else
  std::free(p);
#endif
}

}  // namespace eam::internal
