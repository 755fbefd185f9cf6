#pragma once
// envelope_cache: small envelope blocks that one worker allocated and another freed, recycled
// between the workers in batches instead of given back to the allocator one at a time.
//
// Why: a message sent on one worker and handled on another is freed on a thread that did not
// allocate it. mimalloc then pushes the block onto its page's cross-thread list with a CAS on
// a line that the owner's own frees and collections also write, and the owner later walks that
// list block by block, one cache miss each. In fork-join-throughput on 2 workers (a driver
// sending to 60 actors another worker runs), those two were a third of the samples, and the
// row ran slower on 2 workers than on 1.
//
// Which blocks: a turn's first burst_start messages and a long sending turn's (long_turn_sends
// messages or more, a driver casting from one handler) take the blocks kept here; the messages
// between, a burst, take theirs from slabs, marked `slab` (see "Bursts" below). An
// envelope records the worker that took its block from the allocator for the cache
// (envelope::maker). Freed on that worker, the block goes back to the allocator, whose
// same-thread path is as fast as any cache (a fan-in on one worker ran 25% slower when every
// block went through these stacks: they hold fewer blocks than a burst of messages, so most went
// through both). Blocks marked `outside` (taken by a worker while it ran alone:
// the cache is then off, worker.cpp) are never kept here: they go back to the allocator, or onto
// the freeing worker's alone_blocks while it runs alone (alone_blocks.hpp); those a thread
// outside the pool made are marked `from_outside_thread` and go round between the workers and
// such threads apart (outside_blocks.hpp). Freed on another worker, or recycled before, a block
// is pushed on that worker's stack here (block_stacks.hpp): the block is not touched. A message
// that takes a kept block takes it from its worker's stack first; the block's line is then only
// written (the new envelope's header), which the store buffer absorbs, not read to follow a free
// list. A stack that fills gives its older half to the system's pool under one lock; an empty
// one takes a batch back when the pool holds as many blocks as the turn has sent (below). The
// mutex orders the hand-over: what one worker wrote into a block happens before another worker
// reuses it.
//
// Bursts take blocks in address order. Recycled blocks come back in the order their receivers
// freed them, and each chain boundary and each batch between the workers mixes that order again;
// nothing puts neighbours back together. In a fan-in spread over two workers that always run (20
// senders, 1,000 messages a turn), the receiver met its messages in runs of 2.4 adjacent blocks,
// one in ten on the other worker's heap, each read with a miss of its own (perf: most of the
// receiver's turn on its pop), and the row ran at a tenth of its rate on one worker. The
// allocator gives a page's blocks out again page by page, what another thread freed into it
// included, so a sender's chain lies in address order (runs of 68 blocks) and the receiver's
// core prefetches it: BM_fan_in_across_workers ran about 2x as fast (109-141 ms against 216-237,
// 3 interleaved runs; engine/README.md, "Back-pressure"). A turn's first 16 messages keep
// recycled blocks: a leaf's one reply or a parent's few children (skynet's ten, fibonacci's two)
// gain nothing from order, and the allocator's frees across threads cost them. With every
// message of a short turn on the allocator's blocks skynet ran 0.96-0.97x on 2 workers, and with
// the burst from the second message fibonacci ran 0.89-0.91x on 16. A long turn keeps what
// recycling is for: fork-join-throughput's driver, the bottleneck of its row, ran 0.33x when it
// too took the allocator's blocks.
//
// A burst's blocks came from the allocator one at a time, and the receiver's core freed them
// across threads, which then took about 40 % of the spread fan-in's samples (the allocator's
// cross-thread frees and its collections). They now come from 4 KiB slabs, carved in address
// order and given back a run at a time (burst_slabs.hpp): BM_fan_in_across_workers took 0.85x
// the time [0.79-0.86] (11 interleaved runs), with the allocator out of its profile.
//
// Two classes, 48 and 64 bytes (detail::envelope_block_class): the 40-byte header with up to
// 8 or 24 bytes of message, the common sizes. Larger envelopes go to the allocator as before.
// Every block of a class but a slab's is an allocator block of the class's size, wherever it
// was made, so one freed outside a worker (or after its system is gone) simply goes back to the
// allocator; a slab's goes back to its slab, from any thread (burst_slabs.hpp).
//
// A long sending turn (long_turn_sends messages or more, a driver casting from one handler)
// takes fresh blocks from the allocator, not the pool's, while the pool holds fewer blocks than
// the turn has sent. The pool's blocks are those the receivers freed on another core, in the
// order they handled them: reused, each envelope the driver writes is a line that core holds,
// at a scattered address, and the receivers then read their messages at scattered addresses
// too, one miss after another down each mailbox. The allocator's fresh blocks lie in address
// order, one receiver's every 60th (in fork-join-throughput), a stride the hardware prefetches
// on both cores. On 2 workers that row ran 1.9x as fast this way (11 interleaved pairs at 2.4 M
// messages: 1.3x its 1-worker rate, against 0.7x before). The memory this takes is what the
// same turn takes on one worker, where every message it sends is queued before the first is
// handled: after a turn of N messages the pool holds about N blocks, and a later long turn
// takes from the pool while it holds more blocks than that turn has sent so far, so bursts of
// N messages one after another keep at most about 2N (each burst reuses half of what the pool
// holds, and adds N).
//
// Bounds: a worker holds at most stack_capacity blocks per class; a system's pool at most
// envelope_pool::system_bound, reached only by a turn that sends as many; the pool of threads
// outside the pool envelope_pool::outside_bound. What does not fit goes back to the allocator.
// Once the system idles (every active worker asleep, seen by a sleeping worker's watch,
// worker.cpp), the pool's blocks and the workers' go back to the allocator, and each worker has
// the allocator collect what was freed into its pages: the memory a burst of millions of
// messages took serves whatever the process allocates next, and goes back to the system as the
// allocator's policy decides (Debian 12's mimalloc 2.0.9 decommits a thread's empty pages at its
// next page allocation after 25 ms). All of them, not all but a few thousand: the blocks kept
// would lie scattered over as many pages, and keep each one. Ten bursts of 600,000 messages of
// the 48-byte class, then ten of the 64-byte class, one process on 2 workers, then 1.5 s idle:
// 110-162 MiB resident when the pool kept both classes' blocks, 64-96 MiB this way (five runs
// each). A worker's blocks go to the pool when it is destroyed, and the pool's to the allocator
// when the system is.
//
// Builds with AddressSanitizer keep no cache: a recycled block would hide a use after free.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include <eam/engine/detail/tls.hpp>
#include "address_sanitizer.hpp"
#include "allocator.hpp"
#include "alone_blocks.hpp"
#include "block_stacks.hpp"
#include "burst_slabs.hpp"

#include <eam/engine/detail/envelope.hpp>

#define EAM_ENVELOPE_CACHE (!EAM_ADDRESS_SANITIZER)

namespace eam::internal {

/// One worker's blocks, used only by its thread.
class envelope_cache {
 public:
  static constexpr unsigned stack_capacity = block_stacks::capacity;
  static constexpr unsigned batch = block_stacks::batch;
  /// A turn that has sent this many messages is a long sending turn (see above).
  static constexpr unsigned long_turn_sends = 4096;
  /// A turn's messages from this one on, up to a long turn, are a burst (see above).
  static constexpr unsigned burst_start = 16;

  /// `worker_index`: the owning worker's, recorded in the blocks it takes from the allocator.
  envelope_cache(envelope_pool& pool, unsigned worker_index) noexcept
      : maker_(worker_index + 1 < slab ? static_cast<std::uint8_t>(worker_index + 1) : outside), stacks_(pool) {}
  envelope_cache(const envelope_cache&) = delete;
  envelope_cache& operator=(const envelope_cache&) = delete;

  /// envelope::maker values besides worker_index + 1: from the allocator on a worker alone (or
  /// past the 252nd), which this cache never keeps (the allocator or alone_blocks.hpp takes it
  /// back); a burst's, from a slab (burst_slabs.hpp); handed out by a thread outside the pool
  /// (outside_blocks.hpp); recycled.
  static constexpr std::uint8_t outside = 0, slab = 253, from_outside_thread = 254, recycled = 255;

  /// Whether a turn that has sent `sent_this_turn` messages takes the blocks kept here: for its
  /// first burst_start messages, and from long_turn_sends messages on (see above).
  [[nodiscard]] static bool recycles_for(unsigned sent_this_turn) noexcept {
    return sent_this_turn < burst_start || sent_this_turn >= long_turn_sends;
  }
  /// A block of class `cls` (1 or 2) for a turn that has sent `sent_this_turn` messages, and
  /// the maker to record in its envelope: where recycles_for says no, one from this thread's
  /// slab, marked slab (burst_slabs.hpp); else a recycled block from this worker's stack, else
  /// one of a batch from the pool, else one from the allocator. It looks in the pool at once after a look that found
  /// blocks, else every pool_look_interval allocations, and only when the pool holds as many
  /// blocks as the turn has sent (see above). allocate_envelope calls it on a worker that shares
  /// blocks (envelope.cpp).
  detail::envelope_memory allocate(unsigned cls, unsigned sent_this_turn);
  [[nodiscard]] std::uint8_t maker() const noexcept { return maker_; }
  /// Whether a block this worker frees, whose envelope's maker is `maker`, is kept here: one
  /// that another worker took from the allocator, or a recycled one.
  [[nodiscard]] bool keeps(std::uint8_t maker) const noexcept {
    return maker != outside && maker != slab && maker != from_outside_thread && maker != maker_;
  }
  /// Takes a block of class `cls` (1 or 2) that keeps() accepted. Out of line: the path of
  /// a block freed where it was made stays a few instructions.
  void recycle(void* block, unsigned cls) noexcept;
  /// Gives every block this worker holds to the allocator (the system idles); returns how many.
  unsigned release() noexcept { return stacks_.release(); }

 private:
  static constexpr unsigned pool_look_interval = 64;
  /// allocate's block for a turn that recycles, when its stack is empty: from the pool or the
  /// allocator.
  detail::envelope_memory allocate_unstacked(unsigned cls, unsigned sent_this_turn);
  void* look_in_pool(unsigned cls, unsigned sent_this_turn) noexcept;

  // What every message reads first, together (the stacks' counts lead stacks_).
  unsigned until_pool_look_ = 1;
  const std::uint8_t maker_;  // worker_index + 1, or outside
  block_stacks stacks_;
};

/// The blocks a system's workers handed over, per class. Shared; one lock.
class envelope_pool {
 public:
  /// Per class. A system's workers' pool holds what a long sending turn's receivers freed
  /// (see above): 192 MiB of 48-byte blocks, reached only by turns of millions of messages.
  static constexpr std::size_t system_bound = std::size_t{1} << 22;
  /// Per class: 256 KiB of 64-byte blocks. Threads outside the pool send no long turns.
  static constexpr std::size_t outside_bound = 32 * block_stacks::batch;

  /// `bound`: the most blocks it keeps per class.
  explicit envelope_pool(std::size_t bound);
  ~envelope_pool();
  envelope_pool(const envelope_pool&) = delete;
  envelope_pool& operator=(const envelope_pool&) = delete;

  /// Moves up to `n` blocks of class `cls` to `out`; returns how many.
  unsigned take(unsigned cls, void** out, unsigned n) noexcept;
  /// A hint (relaxed, no lock): whether take could find blocks of class `cls`. A stale
  /// answer costs one allocation from the allocator, or one lock that finds nothing; without
  /// it, every allocation while the pool is empty (one worker, sending faster than it frees)
  /// took the lock, and a third of fan-in's time went to it.
  [[nodiscard]] bool may_have(unsigned cls) const noexcept { return pooled_[cls].load(std::memory_order_relaxed) != 0; }
  /// A hint as may_have: whether the pool holds `n` blocks of class `cls` or more. A stale
  /// answer costs a long turn a look at the pool where a fresh block would have done, or the
  /// reverse, for a few allocations.
  [[nodiscard]] bool holds(unsigned cls, std::size_t n) const noexcept { return pooled_[cls].load(std::memory_order_relaxed) >= n; }
  /// Keeps as many of the `n` blocks at `in` as there is room for (up to the bound, and within
  /// the array's capacity when no larger array can be had); returns how many it kept (the
  /// caller gives the rest to the allocator).
  unsigned give(unsigned cls, void* const* in, unsigned n) noexcept;
  /// As take, for a pool given back to the allocator (the system idles): once no block of the
  /// class is left, the array a long turn grew (32 MiB at the bound) shrinks back too.
  unsigned drain(unsigned cls, void** out, unsigned n) noexcept;

 private:
  /// The array's capacity at first, and again after drain.
  [[nodiscard]] std::size_t first_capacity() const noexcept { return std::min(bound_, outside_bound); }
  /// take's work, under the lock.
  unsigned move_out(unsigned cls, void** out, unsigned n) noexcept;

  const std::size_t bound_;
  std::mutex mutex_;
  std::array<std::vector<void*>, envelope_block_classes> blocks_;  // grows under the lock, up to bound_
  std::array<std::atomic<std::size_t>, envelope_block_classes> pooled_{};  // blocks_[cls].size(), written under the lock
};

/// Keeps a block a thread outside the pool made (outside_blocks.hpp) on the calling thread's
/// stack; false on a thread that has none (it then goes to the allocator). Out of line.
bool give_back_outside_block(detail::envelope* e) noexcept;
/// Gives a burst's block back to its slab (burst_slabs.hpp): in the worker's run of frees, or
/// at once on any other thread. Out of line, so that the other paths of a free keep no frame.
[[gnu::noinline]] void give_back_slab_block(void* block) noexcept;

/// The calling worker's cache while it shares blocks (worker.cpp); worker_alone() on a worker
/// that shares none; null on a thread outside the pool. One load tells the three apart, so a
/// worker alone pays no second thread-local load for the blocks of threads outside the pool.
/// (constinit: no dynamic initialisation, so no check for one on each access.)
extern constinit EAM_TLS envelope_cache* tls_envelope_cache;
/// tls_envelope_cache on a worker that shares no blocks: a marker, not a cache.
inline envelope_cache* worker_alone() noexcept { return reinterpret_cast<envelope_cache*>(std::uintptr_t{1}); }
/// Whether a tls_envelope_cache value is a cache (not null, not worker_alone()).
inline bool shares_blocks(const envelope_cache* c) noexcept { return reinterpret_cast<std::uintptr_t>(c) > 1; }

/// Points tls_envelope_cache at the calling worker's cache if more than one worker is active
/// now, else at worker_alone(); nothing on a thread outside the pool (worker.cpp). For a long
/// turn: a worker looks at the count between turns, and a driver that sends from one handler for the
/// whole run would otherwise hand every block it makes to the allocator after a second worker
/// started, and the receivers would free them across threads (outbox.hpp calls it per chain;
/// worker::requeue, every 64th actor a turn makes runnable, does the same).
void share_envelope_blocks_if_others_run() noexcept;

}  // namespace eam::internal

namespace eam::detail {
/// Gives an envelope's memory back (its contents already destroyed): to the calling thread's
/// outside blocks when a thread outside the pool made it, to its slab when a burst took it from
/// one, to the calling worker's cache when that keeps it, to its alone_blocks when it runs
/// alone and the block is of a class, else to the allocator. Inline: a block marked `outside`
/// (everything a worker alone sends, and every large one) takes one compare, then the
/// block-class and thread-local tests of the alone list; any other maker is a block of a class.
inline void free_envelope_memory(envelope* e) noexcept {
#if EAM_ENVELOPE_CACHE
  using internal::envelope_cache;
  if (const std::uint8_t maker = e->maker; maker != envelope_cache::outside) {
    if (maker == envelope_cache::from_outside_thread) {
      if (internal::give_back_outside_block(e)) return;
    } else if (maker == envelope_cache::slab) {
      internal::give_back_slab_block(e);
      return;
    } else if (envelope_cache* cache = internal::tls_envelope_cache;
               internal::shares_blocks(cache) && cache->keeps(maker)) {
      cache->recycle(e, e->block);
      return;
    }
  } else if (e->block != 0 && internal::tls_envelope_cache == internal::worker_alone()) {
    if (internal::tls_alone_blocks.push(e, e->block)) return;
  }
#endif
  internal::deallocate(e);
}
}  // namespace eam::detail
