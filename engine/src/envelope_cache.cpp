#include "envelope_cache.hpp"

#include "allocator.hpp"

#include <algorithm>

namespace eam::internal {

envelope_cache::~envelope_cache() {
  for (unsigned cls = 1; cls < envelope_block_classes; ++cls) {
    const unsigned i = cls - 1;
    const unsigned kept = pool_.give(cls, blocks_[i].data(), count_[i]);
    for (unsigned k = kept; k < count_[i]; ++k) internal::deallocate(blocks_[i][k]);
    count_[i] = 0;
  }
}

detail::envelope_memory envelope_cache::allocate(unsigned cls) {
  const unsigned i = cls - 1;
  if (count_[i] != 0) return {blocks_[i][--count_[i]], recycled};
  if (--until_pool_look_ == 0)
    if (void* block = look_in_pool(cls)) return {block, recycled};
  return {internal::allocate_small(detail::envelope_block_bytes(static_cast<std::uint8_t>(cls))), maker_};
}

void* envelope_cache::look_in_pool(unsigned cls) noexcept {
  const unsigned i = cls - 1;
  if (pool_.may_have(cls)) count_[i] = pool_.take(cls, blocks_[i].data(), batch);
  if (count_[i] == 0) {
    until_pool_look_ = pool_look_interval;
    return nullptr;
  }
  until_pool_look_ = 1;  // blocks flow this way: look again as soon as these are used
  return blocks_[i][--count_[i]];
}

void envelope_cache::recycle(void* block, unsigned cls) noexcept {
  const unsigned i = cls - 1;
  if (count_[i] == stack_capacity) [[unlikely]]
    spill(cls);
  blocks_[i][count_[i]++] = block;
}

void envelope_cache::spill(unsigned cls) noexcept {
  // The older half (bottom of the stack) goes: the blocks freed last are the ones still in
  // this core's cache, and they are reused first.
  const unsigned i = cls - 1;
  auto& stack = blocks_[i];
  const unsigned kept = pool_.give(cls, stack.data(), batch);
  for (unsigned k = kept; k < batch; ++k) internal::deallocate(stack[k]);
  std::copy(stack.begin() + batch, stack.begin() + count_[i], stack.begin());
  count_[i] -= batch;
}

envelope_pool::envelope_pool() {
  for (unsigned cls = 1; cls < envelope_block_classes; ++cls) blocks_[cls].reserve(max_pooled);
}

envelope_pool::~envelope_pool() {
  for (auto& v : blocks_)
    for (void* b : v) internal::deallocate(b);
}

unsigned envelope_pool::take(unsigned cls, void** out, unsigned n) noexcept {
  std::lock_guard lock(mutex_);
  auto& v = blocks_[cls];
  const auto got = static_cast<unsigned>(std::min<std::size_t>(n, v.size()));
  std::copy(v.end() - got, v.end(), out);
  v.resize(v.size() - got);
  pooled_[cls].store(v.size(), std::memory_order_relaxed);
  return got;
}

unsigned envelope_pool::give(unsigned cls, void* const* in, unsigned n) noexcept {
  std::lock_guard lock(mutex_);
  auto& v = blocks_[cls];
  const auto kept = static_cast<unsigned>(std::min<std::size_t>(n, max_pooled - v.size()));
  v.insert(v.end(), in, in + kept);  // within the reserved capacity: no allocation
  pooled_[cls].store(v.size(), std::memory_order_relaxed);
  return kept;
}

}  // namespace eam::internal
