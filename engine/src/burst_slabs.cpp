#include "burst_slabs.hpp"

#include "allocator.hpp"

#include <cstddef>
#include <new>

namespace eam::internal {

constinit EAM_TLS burst_slabs tls_burst_slabs;
std::atomic<std::int64_t> burst_slabs::live_slabs_{0};

void burst_slabs::drop(slab* s, std::int64_t n) noexcept {
  // acq_rel: the frees before this one, on any thread, happen before the slab's free.
  if (s->live.fetch_sub(n, std::memory_order_acq_rel) == n) {
    s->~slab();
    deallocate(s);
    live_slabs_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void burst_slabs::stop_carving(carving& c) noexcept {
  if (c.end == nullptr) return;
  slab* s = slab_of(c.end - 1);
  const std::int64_t carved = c.carved;
  c = {};
  drop(s, unretired - carved);
}

void burst_slabs::start_slab(carving& c) {
  // The plain path when its block is aligned (the allocator's 4 KiB blocks are, in practice):
  // an aligned allocation takes twice the address space. Both throw bad_alloc as any allocation.
  void* memory = internal::allocate(slab_bytes, alignof(std::max_align_t));
  if (reinterpret_cast<std::uintptr_t>(memory) % slab_bytes != 0) [[unlikely]] {
    deallocate(memory);
    memory = internal::allocate(slab_bytes, slab_bytes);
  }
  stop_carving(c);
  auto* s = new (memory) slab{};
  s->live.store(unretired, std::memory_order_relaxed);  // published with the blocks' messages
  live_slabs_.fetch_add(1, std::memory_order_relaxed);
  c.next = static_cast<char*>(memory) + header_bytes;
  c.end = static_cast<char*>(memory) + slab_bytes;
}

void burst_slabs::retire_slabs() noexcept {
  flush();
  for (carving& c : carving_) stop_carving(c);
}

}  // namespace eam::internal
