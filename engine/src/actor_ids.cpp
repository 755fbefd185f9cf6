#include "actor_ids.hpp"

namespace eam::internal {

namespace {
std::atomic<std::uint64_t> last_serial{0};

// The calling thread's block: the ids [next, end) of the system with this serial.
struct id_block {
  std::uint64_t serial = 0;  // 0: none yet
  std::uint64_t next = 0, end = 0;
};
constinit EAM_TLS id_block tls_id_block;
}  // namespace

// Relaxed: the serial and the ids need only be unique, which the atomic increments give.
actor_ids::actor_ids() noexcept : serial_(last_serial.fetch_add(1, std::memory_order_relaxed) + 1) {}

std::uint64_t actor_ids::next() noexcept {
  id_block& mine = tls_id_block;
  if (mine.serial != serial_ || mine.next == mine.end) [[unlikely]] {
    mine.serial = serial_;
    mine.next = blocks_.fetch_add(1, std::memory_order_relaxed) * block;
    mine.end = mine.next + block;
  }
  return mine.next++;
}

}  // namespace eam::internal
