#include "deferred_releases.hpp"

#include "actor_cell.hpp"

namespace eam::internal {

constinit EAM_TLS deferred_releases* tls_deferred_releases = nullptr;

// Each slot is emptied before its releases are given: giving the last one frees the cell, which
// may drop refs of its own (a parent, a behavior that never ran) and so come back here.

void deferred_releases::evict(slot& s, actor_cell* c, std::uint32_t held) noexcept {
  actor_cell* const other = s.cell;
  const std::uint32_t n = s.count;
  s.cell = c;
  s.count = held;
  other->release_many(n);
}

void deferred_releases::give_back_pending() noexcept {
  while (pending_ != 0) {
    const auto i = static_cast<unsigned>(__builtin_ctzll(pending_));
    pending_ &= pending_ - 1;
    slot& s = slots_[i];
    if (s.count == 0) continue;
    const std::uint32_t n = s.count;
    s.count = 0;
    s.cell->release_many(n);
  }
}

}  // namespace eam::internal
