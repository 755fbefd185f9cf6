#pragma once
// Distributed process groups' messages between nodes (frame kind `groups`, after the two-byte
// frame header), msgpack:
//   [join, scope, group, actor id, version]     [leave, scope, group, actor id, version]
//   [sync, version, [[scope, group, [actor id...]]...]]   every local member the sender has,
//                                                        or the first part of them
//   [sync_more, version, [[scope, group, [actor id...]]...]]   the next part (sync_parts.hpp);
//                                                        a group's members may span parts
// A node only announces its own actors; the owner is the peer it comes from. An actor joined
// twice is listed twice (Erlang's pg counts joins). The version counts the sender's changes:
// a change at or below the version of the last sync already applied is in that sync (a join
// queued before the sync was taken but sent after it), and is not applied twice. Untrusted:
// checked, a bad frame dropped.
#include "decode_verdict.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace eam::cluster::internal {

enum class groups_op : std::uint8_t { join = 0, leave = 1, sync = 2, sync_more = 3 };

inline constexpr std::size_t max_group_text = 1024;  ///< bytes of a scope or group name
inline constexpr std::size_t max_sync_entries = 1u << 20;

struct group_key {
  std::string scope, group;
  friend auto operator<=>(const group_key&, const group_key&) = default;
};

struct group_members_of {
  group_key key;
  std::vector<std::uint64_t> actors;
};

class groups_visitor {
 public:
  virtual void on_join(group_key&& key, std::uint64_t actor, std::uint64_t version) = 0;
  virtual void on_leave(group_key&& key, std::uint64_t actor, std::uint64_t version) = 0;
  /// The sender's members: they replace every member it had here.
  virtual void on_sync(std::uint64_t version, std::vector<group_members_of>&& all) = 0;
  /// More of the sender's members, after its sync of the same version: they add to it.
  virtual void on_sync_more(std::uint64_t version, std::vector<group_members_of>&& more) = 0;

 protected:
  ~groups_visitor() = default;
};

using groups_decode_outcome = decode_verdict;

/// Whether a scope or group name can cross the wire (1 to max_group_text bytes, no control
/// character).
bool valid_group_text(std::string_view text) noexcept;
/// Never throws for bad input.
groups_decode_outcome decode_groups(std::span<const std::byte> body, groups_visitor& visitor);

std::vector<std::byte> encode_group_change(groups_op op, const group_key& key, std::uint64_t actor,
                                           std::uint64_t version);
/// One part of a sync: `op` sync (the first) or sync_more.
std::vector<std::byte> encode_groups_sync(std::uint64_t version, const std::vector<group_members_of>& all,
                                          groups_op op = groups_op::sync);
/// Every member of `all` as the parts of one sync, each body at most `max_body_bytes` and
/// max_sync_entries entries and members a list; a large group's members are split over
/// several entries. A group whose names alone leave no room for a member goes in none,
/// counted in `left_out`.
std::vector<std::vector<std::byte>> encode_groups_sync_parts(std::uint64_t version,
                                                             const std::vector<group_members_of>& all,
                                                             std::size_t max_body_bytes, std::size_t& left_out);

}  // namespace eam::cluster::internal
