#include "actor_ids.hpp"

#include <atomic>

namespace eam::internal {

namespace {
// Relaxed: the ids need only be unique, which the increment gives. Block 0 would hold id 0.
std::atomic<std::uint64_t> next_block{1};

// The calling thread's block: the ids [next, end).
struct id_block {
  std::uint64_t next = 0, end = 0;
};
constinit EAM_TLS id_block tls_id_block;
}  // namespace

std::uint64_t next_actor_id() noexcept {
  id_block& mine = tls_id_block;
  if (mine.next == mine.end) [[unlikely]] {
    mine.next = next_block.fetch_add(1, std::memory_order_relaxed) * actor_id_block;
    mine.end = mine.next + actor_id_block;
  }
  return mine.next++;
}

}  // namespace eam::internal
