#pragma once
// actor_ids: actor ids, handed out by each thread from a block of actor_id_block ids it took
// at once.
//
// Why blocks: with one counter increment a spawn, threads spawning at once (actor-creation and
// skynet on 2 workers) all wrote that counter's line, and ids in spawn order interleaved the
// threads, so the registry's shards (actor_registry.hpp) and the outbox's slots (outbox.hpp)
// went round the ids of every thread. A block is aligned (its first id a multiple of its size)
// and a thread hands its ids out in a row, block after block, so the last actor_id_block ids a
// thread handed out have distinct remainders modulo the block size whatever other threads
// spawned meanwhile: a pool one actor spawns within one turn (on one thread) gets distinct
// outbox slots, and 64 ids in a row share a registry shard, so a worker that spawns what
// another ends writes one shard's lines for 64 spawns and the other its exits into another's.
//
// Per thread, not per worker: a thread outside the pool, a caller running an actor's turn and
// an actor spawning into another system all spawn. The blocks come from one counter for the
// whole process, so ids are unique in the process, not only in a system: a ref kept past its
// system's end (a node restarted in the same process) names no actor of the systems made after
// it, and a thread's block serves whichever system it spawns into. Ids are never 0, and not in
// spawn order across threads.
#include <eam/engine/detail/tls.hpp>

#include <cstdint>

namespace eam::internal {

/// A thread hands out this many ids in a row.
inline constexpr std::uint64_t actor_id_block = 64;

/// A new actor id, from the calling thread's block.
std::uint64_t next_actor_id() noexcept;

}  // namespace eam::internal
