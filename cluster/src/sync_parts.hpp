#pragma once
// Cutting a sync into frames. A sync is everything of one kind a node holds (its global names,
// its group members), sent to each peer that connects, and one frame holds at most
// max_frame_bytes and one list at most the receiver's count limit: a node holding more (a
// hundred thousand names, a group of a million members) sent a sync every peer refused whole,
// or none at all, and its peers never learnt any of it. So the sync goes in parts: the first
// replaces what the peer holds from this node, the others add to it, in order on one link.
#include <cstddef>
#include <span>
#include <vector>

namespace eam::cluster::internal {

/// The parts of a list whose items encode to `sizes` bytes: consecutive items, at most
/// `max_items` a part and at most `budget` bytes of items. An item larger than `budget` alone
/// goes in no part and is counted in `left_out`. Always at least one part, perhaps empty: the
/// first part also tells the peer to drop what it held.
inline std::vector<std::vector<std::size_t>> cut_into_parts(std::span<const std::size_t> sizes, std::size_t budget,
                                                            std::size_t max_items, std::size_t& left_out) {
  std::vector<std::vector<std::size_t>> parts(1);
  std::size_t bytes = 0;
  left_out = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] > budget) {
      ++left_out;
      continue;
    }
    if (bytes + sizes[i] > budget || parts.back().size() == max_items) {
      parts.emplace_back();
      bytes = 0;
    }
    parts.back().push_back(i);
    bytes += sizes[i];
  }
  return parts;
}

/// What a part's own fields (operation, version, the list's header) take at most, beside its
/// items.
inline constexpr std::size_t sync_part_overhead = 32;

/// The bytes of items a part of at most `max_body_bytes` holds.
inline std::size_t sync_part_budget(std::size_t max_body_bytes) noexcept {
  return max_body_bytes > sync_part_overhead ? max_body_bytes - sync_part_overhead : 0;
}

}  // namespace eam::cluster::internal
