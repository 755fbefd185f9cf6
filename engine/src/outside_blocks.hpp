#pragma once
// outside_blocks: the small envelope blocks of messages that threads outside the pool send,
// brought back to such threads in batches instead of each freed across threads.
//
// Why: a blocking call from the program's own thread allocates its request on that thread and
// a worker frees it. mimalloc then pushes the block onto its page's cross-thread list with a CAS
// on a line the calling thread's own allocations write, and the calling thread later walks that
// list block by block, one cache miss each; every call paid for both, on the critical path of
// the round trip. With those frees left out (the blocks leaked, as an experiment) a call took
// 0.46x to 0.74x the time on this project's VM (six interleaved pairs of runs). envelope_cache
// recycles blocks between workers; this is the same for the blocks of threads outside the pool.
//
// How: a thread outside the pool marks the blocks it hands out `made outside the pool`
// (envelope_cache::from_outside_thread). A worker that frees one keeps it on its own stack
// here; a full stack gives its older half to one pool for the whole process (threads outside
// the pool send to any system); a thread outside the pool takes its blocks from its own stack,
// then a batch from that pool, then the allocator. Each side pays the pool's lock once per
// batch, and a block's line moves only because its next message is written into it.
//
// The roles: every worker has one, which only takes what it frees (its own messages come from
// envelope_cache or the allocator: allocate_envelope looks here only on a thread outside the
// pool), and every other thread that sends gets one at its first message, which hands out and
// takes back. A block a worker made is never marked this way, so none of this touches the
// messages between actors.
//
// Bounds: a stack holds at most stack_capacity blocks per class (about 28 KiB for both classes;
// a thread's first message takes a whole batch when the pool has one), the pool
// envelope_pool::outside_bound; what does not fit goes back to the allocator, and a thread's
// blocks go to the pool when it ends. Builds with AddressSanitizer keep no blocks
// (envelope_cache.hpp).
#include "envelope_cache.hpp"

namespace eam::internal {

class outside_blocks {
 public:
  static constexpr unsigned stack_capacity = block_stacks::capacity;
  static constexpr unsigned batch = block_stacks::batch;

  explicit outside_blocks(envelope_pool& pool) noexcept : stacks_(pool) {}

  /// A block of class `cls` (1 or 2), marked as made outside the pool: this thread's last freed
  /// one, else one of a batch from the pool, else a fresh one from the allocator.
  detail::envelope_memory allocate(unsigned cls);
  /// Keeps a block made outside the pool that this thread frees.
  void give_back(void* block, unsigned cls) noexcept { stacks_.push(block, cls); }

 private:
  block_stacks stacks_;
};

/// The pool the whole process's outside blocks go round through. Never destroyed: a system
/// that is itself a static object may give blocks back during static destruction.
envelope_pool& outside_pool() noexcept;

/// The calling thread's: its worker's, or, on a thread outside the pool, the one it got at its
/// first message; null before that, and again once the thread's own is destroyed at its end.
extern constinit EAM_TLS outside_blocks* tls_outside_blocks;

/// The calling thread's, created at its first message (a thread outside the pool), or null
/// when it was destroyed already (a message sent by another thread_local's destructor).
outside_blocks* this_thread_outside_blocks();

}  // namespace eam::internal
