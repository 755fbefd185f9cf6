#pragma once
// cpu_relax: the pause a spin-wait makes between two looks at a shared word. On x86 it tells
// the core that this is a spin loop (less power, and the sibling hyperthread runs), and it
// spares the memory-order mis-speculation when the word finally changes; elsewhere it only
// keeps the compiler from merging the loads.
#include <atomic>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace eam::internal {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::atomic_signal_fence(std::memory_order_seq_cst);
#endif
}

}  // namespace eam::internal
