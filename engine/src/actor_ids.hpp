#pragma once
// actor_ids: a system's actor ids, handed out by each thread from a block of `block` ids it
// took from the system at once.
//
// Why blocks: with one counter increment a spawn, threads spawning at once (actor-creation and
// skynet on 2 workers) all wrote that counter's line, and ids in spawn order interleaved the
// threads, so the registry's shards (actor_registry.hpp) and the outbox's slots (outbox.hpp)
// went round the ids of every thread. A block is aligned (its first id a multiple of `block`)
// and a thread hands its ids out in a row, block after block, so the last `block` ids a thread
// handed out have distinct remainders modulo `block` whatever other threads spawned meanwhile:
// a pool one actor spawns within one turn (on one thread, into one system) gets distinct outbox
// slots, and 64 ids in a row share a registry
// shard, so a worker that spawns what another ends writes one shard's lines for 64 spawns and
// the other its exits into another's.
//
// Per thread, not per worker: a thread outside the pool, a caller running an actor's turn and
// an actor spawning into another system all spawn. A thread's block carries the serial of the
// system it came from (serials are never reused, so a system made where a destroyed one lived
// is told apart); spawning into another system takes a block there, and the rest of the old
// one is never handed out. Ids are unique in a system, never 0, and not in spawn order across
// threads.
#include <eam/engine/detail/tls.hpp>

#include <atomic>
#include <cstdint>

namespace eam::internal {

class actor_ids {
 public:
  static constexpr std::uint64_t block = 64;

  actor_ids() noexcept;
  actor_ids(const actor_ids&) = delete;
  actor_ids& operator=(const actor_ids&) = delete;

  /// A new id, from the calling thread's block of this system's ids.
  std::uint64_t next() noexcept;

 private:
  const std::uint64_t serial_;          // this system's, among every system of the process
  std::atomic<std::uint64_t> blocks_{1};  // the next block's index (block 0 would hold id 0)
};

}  // namespace eam::internal
