#include "envelope_cache.hpp"

#include "allocator.hpp"
#include "outbox.hpp"

#include <algorithm>
#include <new>

namespace eam::internal {

namespace {
void* allocator_block(unsigned cls) {
  return internal::allocate_small(detail::envelope_block_bytes(static_cast<std::uint8_t>(cls)));
}
}  // namespace

detail::envelope_memory envelope_cache::allocate_unstacked(unsigned cls, unsigned sent_this_turn) {
  if (--until_pool_look_ == 0)
    if (void* block = look_in_pool(cls, sent_this_turn)) return {block, recycled};
  return {allocator_block(cls), maker_};
}

detail::envelope_memory envelope_cache::allocate(unsigned cls, unsigned sent_this_turn) {
  if (!recycles_for(sent_this_turn)) return {tls_burst_slabs.allocate(cls), slab};
  if (!stacks_.empty(cls)) return {stacks_.pop(cls), recycled};
  return allocate_unstacked(cls, sent_this_turn);
}

void* envelope_cache::look_in_pool(unsigned cls, unsigned sent_this_turn) noexcept {
  const bool fresh_instead = !stacks_.pool_holds(cls, sent_this_turn);
  if (fresh_instead || !stacks_.take_batch(cls)) {
    until_pool_look_ = pool_look_interval;
    return nullptr;
  }
  until_pool_look_ = 1;  // blocks flow this way: look again as soon as these are used
  return stacks_.pop(cls);
}

void envelope_cache::recycle(void* block, unsigned cls) noexcept { stacks_.push(block, cls); }

void give_back_slab_block(void* block) noexcept {
  if (tls_envelope_cache != nullptr)  // a worker: it flushes its run before it sleeps
    tls_burst_slabs.free(block);
  else
    burst_slabs::give_back_now(block);
}

envelope_pool::envelope_pool(std::size_t bound) : bound_(bound) {
  // What a pool outside the workers holds at most; a system's grows past it only after a long
  // sending turn.
  for (unsigned cls = 1; cls < envelope_block_classes; ++cls) blocks_[cls].reserve(first_capacity());
}

envelope_pool::~envelope_pool() {
  for (auto& v : blocks_)
    for (void* b : v) internal::deallocate(b);
}

unsigned envelope_pool::move_out(unsigned cls, void** out, unsigned n) noexcept {
  auto& v = blocks_[cls];
  const auto got = static_cast<unsigned>(std::min<std::size_t>(n, v.size()));
  std::copy(v.end() - got, v.end(), out);
  v.resize(v.size() - got);
  pooled_[cls].store(v.size(), std::memory_order_relaxed);
  return got;
}

unsigned envelope_pool::take(unsigned cls, void** out, unsigned n) noexcept {
  std::lock_guard lock(mutex_);
  return move_out(cls, out, n);
}

unsigned envelope_pool::drain(unsigned cls, void** out, unsigned n) noexcept {
  std::lock_guard lock(mutex_);
  const unsigned got = move_out(cls, out, n);
  if (auto& v = blocks_[cls]; v.empty() && v.capacity() > first_capacity()) {
    try {  // a failure to allocate the smaller array leaves the larger, as it was
      std::vector<void*> smaller;
      smaller.reserve(first_capacity());
      v.swap(smaller);
    } catch (const std::bad_alloc&) {
    }
  }
  return got;
}

unsigned envelope_pool::give(unsigned cls, void* const* in, unsigned n) noexcept {
  std::lock_guard lock(mutex_);
  auto& v = blocks_[cls];
  auto kept = static_cast<unsigned>(std::min<std::size_t>(n, bound_ - v.size()));
  if (v.size() + kept > v.capacity()) {  // a long turn's backlog: the array grows, now and then
    try {
      v.reserve(std::min(bound_, std::max(2 * v.capacity(), v.size() + kept)));
    } catch (const std::bad_alloc&) {  // a free path: what does not fit goes to the allocator
      kept = static_cast<unsigned>(v.capacity() - v.size());
    }
  }
  v.insert(v.end(), in, in + kept);  // within the capacity: no allocation
  pooled_[cls].store(v.size(), std::memory_order_relaxed);
  return kept;
}

}  // namespace eam::internal
