#pragma once
// Asymmetric fences: a store->load (Dekker) handshake between a side that runs all the time
// and a side that runs rarely, where only the rare side pays. The frequent side issues a
// compiler barrier (light_fence); the rare side asks the kernel to run a full memory barrier
// on every thread of the process (heavy_fence: Linux membarrier, private expedited), which
// stands in for the frequent side's missing hardware fence. Userspace RCU and Folly use the
// same pairing.
//
// The guarantee: frequent side [W1; light_fence; R1] against rare side [W2; heavy_fence; R2]:
// R1 sees W2, or R2 sees W1 (or both), exactly as if both had full fences.
#include <atomic>

namespace eam::internal {

/// Registers the process for heavy fences; false when the kernel (or a sandbox, valgrind)
/// refuses, and then the caller must use real fences or RMWs on the frequent side instead.
bool enable_asymmetric_fences() noexcept;

/// The frequent side: keeps the compiler from moving accesses across; costs nothing at run time.
inline void light_fence() noexcept { std::atomic_signal_fence(std::memory_order_seq_cst); }

/// The rare side: a full memory barrier on every running thread of the process (a few µs).
/// Only after enable_asymmetric_fences() returned true.
void heavy_fence() noexcept;

}  // namespace eam::internal
