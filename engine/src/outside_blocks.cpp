#include "outside_blocks.hpp"

#include "allocator.hpp"

#include <algorithm>

namespace eam::internal {

constinit EAM_TLS outside_blocks* tls_outside_blocks = nullptr;

namespace {
constinit EAM_TLS bool tls_outside_blocks_ended = false;
}

envelope_pool& outside_pool() noexcept {
  static envelope_pool* const pool = new envelope_pool;
  return *pool;
}

outside_blocks* this_thread_outside_blocks() {
  if (tls_outside_blocks_ended) return nullptr;
  thread_local outside_blocks mine(outside_pool());
  tls_outside_blocks = &mine;
  return &mine;
}

outside_blocks::~outside_blocks() {
  if (tls_outside_blocks == this) {  // the thread's own, at its end (a worker's is destroyed by another)
    tls_outside_blocks = nullptr;
    tls_outside_blocks_ended = true;
  }
  for (unsigned cls = 1; cls < envelope_block_classes; ++cls) {
    const unsigned i = cls - 1;
    const unsigned kept = pool_.give(cls, blocks_[i].data(), count_[i]);
    for (unsigned k = kept; k < count_[i]; ++k) internal::deallocate(blocks_[i][k]);
    count_[i] = 0;
  }
}

detail::envelope_memory outside_blocks::allocate(unsigned cls) {
  const unsigned i = cls - 1;
  if (count_[i] == 0 && pool_.may_have(cls)) count_[i] = pool_.take(cls, blocks_[i].data(), batch);
  if (count_[i] != 0) return {blocks_[i][--count_[i]], envelope_cache::from_outside_thread};
  return {internal::allocate_small(detail::envelope_block_bytes(static_cast<std::uint8_t>(cls))),
          envelope_cache::from_outside_thread};
}

bool give_back_outside_block(void* block_of_envelope) noexcept {
  outside_blocks* mine = tls_outside_blocks;
  if (mine == nullptr) return false;
  mine->give_back(block_of_envelope, static_cast<detail::envelope*>(block_of_envelope)->block);
  return true;
}

void outside_blocks::give_back(void* block, unsigned cls) noexcept {
  const unsigned i = cls - 1;
  if (count_[i] == stack_capacity) [[unlikely]]
    spill(cls);
  blocks_[i][count_[i]++] = block;
}

void outside_blocks::spill(unsigned cls) noexcept {
  // The older half goes, as in envelope_cache::spill: the blocks freed last are still in this
  // core's cache.
  const unsigned i = cls - 1;
  auto& stack = blocks_[i];
  const unsigned kept = pool_.give(cls, stack.data(), batch);
  for (unsigned k = kept; k < batch; ++k) internal::deallocate(stack[k]);
  std::copy(stack.begin() + batch, stack.begin() + count_[i], stack.begin());
  count_[i] -= batch;
}

}  // namespace eam::internal
