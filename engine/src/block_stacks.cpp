#include "block_stacks.hpp"

#include "allocator.hpp"
#include "envelope_cache.hpp"

#include <algorithm>

namespace eam::internal {

block_stacks::~block_stacks() {
  for (unsigned cls = 1; cls < envelope_block_classes; ++cls) {
    const unsigned i = cls - 1;
    const unsigned kept = pool_.give(cls, blocks_[i].data(), count_[i]);
    for (unsigned k = kept; k < count_[i]; ++k) internal::deallocate(blocks_[i][k]);
    count_[i] = 0;
  }
}

unsigned block_stacks::release() noexcept {
  unsigned released = 0;
  for (unsigned i = 0; i < count_.size(); ++i) {
    for (unsigned k = 0; k < count_[i]; ++k) internal::deallocate(blocks_[i][k]);
    released += count_[i];
    count_[i] = 0;
  }
  return released;
}

bool block_stacks::take_batch(unsigned cls) noexcept {
  const unsigned i = cls - 1;
  if (pool_.may_have(cls)) count_[i] = pool_.take(cls, blocks_[i].data(), batch);
  return count_[i] != 0;
}

bool block_stacks::pool_holds(unsigned cls, std::size_t n) const noexcept { return pool_.holds(cls, n); }

void block_stacks::spill(unsigned cls) noexcept {
  const unsigned i = cls - 1;
  auto& stack = blocks_[i];
  const unsigned kept = pool_.give(cls, stack.data(), batch);
  for (unsigned k = kept; k < batch; ++k) internal::deallocate(stack[k]);
  std::copy(stack.begin() + batch, stack.begin() + count_[i], stack.begin());
  count_[i] -= batch;
}

}  // namespace eam::internal
