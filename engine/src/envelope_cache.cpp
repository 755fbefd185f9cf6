#include "envelope_cache.hpp"

#include "allocator.hpp"

#include <algorithm>

namespace eam::internal {

detail::envelope_memory envelope_cache::allocate_unstacked(unsigned cls) {
  if (--until_pool_look_ == 0)
    if (void* block = look_in_pool(cls)) return {block, recycled};
  return {internal::allocate_small(detail::envelope_block_bytes(static_cast<std::uint8_t>(cls))), maker_};
}

void* envelope_cache::look_in_pool(unsigned cls) noexcept {
  if (!stacks_.take_batch(cls)) {
    until_pool_look_ = pool_look_interval;
    return nullptr;
  }
  until_pool_look_ = 1;  // blocks flow this way: look again as soon as these are used
  return stacks_.pop(cls);
}

void envelope_cache::recycle(void* block, unsigned cls) noexcept { stacks_.push(block, cls); }

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
