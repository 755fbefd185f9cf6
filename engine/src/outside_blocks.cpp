#include "outside_blocks.hpp"

#include "allocator.hpp"

namespace eam::internal {

constinit EAM_TLS outside_blocks* tls_outside_blocks = nullptr;

envelope_pool& outside_pool() noexcept {
  static envelope_pool* const pool = new envelope_pool(envelope_pool::outside_bound);
  return *pool;
}

namespace {
constinit EAM_TLS bool tls_outside_blocks_ended = false;

// The thread's own: at the thread's end, nothing more is handed out or kept here.
struct thread_outside_blocks {
  outside_blocks blocks{outside_pool()};
  ~thread_outside_blocks() {
    tls_outside_blocks = nullptr;
    tls_outside_blocks_ended = true;
  }
};
}  // namespace

outside_blocks* this_thread_outside_blocks() {
  if (tls_outside_blocks_ended) return nullptr;
  thread_local thread_outside_blocks mine;
  tls_outside_blocks = &mine.blocks;
  return &mine.blocks;
}

bool give_back_outside_block(detail::envelope* e) noexcept {
  outside_blocks* mine = tls_outside_blocks;
  if (mine == nullptr) return false;
  mine->give_back(e, e->block);
  return true;
}

detail::envelope_memory outside_blocks::allocate(unsigned cls) {
  if (!stacks_.empty(cls) || stacks_.take_batch(cls)) return {stacks_.pop(cls), envelope_cache::from_outside_thread};
  return {internal::allocate_small(detail::envelope_block_bytes(static_cast<std::uint8_t>(cls))),
          envelope_cache::from_outside_thread};
}

}  // namespace eam::internal
