#pragma once
// alone_blocks: the small envelope blocks a worker frees while it runs alone (one worker
// active), kept on a list of its own for its next messages instead of given back to the
// allocator.
//
// Why: alone, a worker shares no blocks (envelope_cache.hpp): every message's block came from
// mimalloc and went back to it, about 50 of the 490 instructions of a ping-pong message
// (callgrind: mi_malloc_small, mi_free and their calls). A pop and a push here are a few
// loads and stores, and the block reused is the one freed last, still in this core's cache.
//
// The list of a class is linked through its blocks' first word (the envelope's queue link,
// dead once freed). It holds at most `capacity` blocks a class: a fan-in keeps about 40,000
// messages queued on one worker, and with a bound below its burst most blocks went through
// both the list and the allocator, which cost more than the allocator alone (the gate's cast,
// 20,000 queued: 6% more instructions with a bound of 4,096). Every block goes back to the
// allocator when the worker parks, rests or ends: a worker that idles keeps none, and the
// cost of giving them back is one free each, what the allocator path paid anyway. A worker runs
// alone only after it saw one worker active, so the process rarely holds more than one list
// (at most about 7 MiB).
//
// Which blocks: those of classes 1 and 2 marked `outside` (from the allocator on a worker
// alone, or on a thread without outside blocks) that a worker frees while alone; any such
// block is an allocator block of its class's size, so the list's blocks are interchangeable
// and each can go back to the allocator from this thread. Used by its thread only. Not built
// under AddressSanitizer (envelope_cache.hpp: a reused block hides a use after free).
#include <eam/engine/detail/tls.hpp>
#include "allocator.hpp"
#include "block_stacks.hpp"

#include <array>

namespace eam::internal {

struct alone_blocks {
  static constexpr unsigned capacity = 1u << 16;

  std::array<void*, envelope_block_classes - 1> head{};     // [cls - 1]
  std::array<unsigned, envelope_block_classes - 1> count{};  // [cls - 1]

  /// The block freed last of class `cls` (1 or 2), or null.
  void* pop(unsigned cls) noexcept {
    void* b = head[cls - 1];
    if (b != nullptr) {
      head[cls - 1] = *static_cast<void**>(b);
      --count[cls - 1];
    }
    return b;
  }
  /// Keeps `block` of class `cls`; false when the list is full (the caller frees it).
  bool push(void* block, unsigned cls) noexcept {
    if (count[cls - 1] == capacity) [[unlikely]]
      return false;
    *static_cast<void**>(block) = head[cls - 1];
    head[cls - 1] = block;
    ++count[cls - 1];
    return true;
  }
  /// Every block to the allocator.
  void release() noexcept {
    for (unsigned i = 0; i < head.size(); ++i) {
      while (void* b = head[i]) {
        head[i] = *static_cast<void**>(b);
        deallocate(b);
      }
      count[i] = 0;
    }
  }
};

/// The calling thread's (trivially destructible: a worker releases it before its thread ends).
extern constinit EAM_TLS alone_blocks tls_alone_blocks;

}  // namespace eam::internal
