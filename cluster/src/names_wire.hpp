#pragma once
// The distributed registry's messages between nodes (frame kind `names`, after the two-byte
// frame header), msgpack:
//   [put, name, stamp, actor id, [[message wire name, reply wire name or ""]...]]
//   [del, name, stamp]
//   [sync, [[name, stamp, actor id, [signatures...]]...]]   every name the sender holds, or
//                                                          the first part of them
//   [sync_more, [[name, stamp, actor id, [signatures...]]...]]   the next part (sync_parts.hpp)
// A node only ever sends the names it holds itself; the owner is the peer it comes from.
// Untrusted: sizes, text and shapes are checked; a bad frame is dropped whole.
#include "decode_verdict.hpp"
#include "frame.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace eam::cluster::internal {

enum class names_op : std::uint8_t { put = 0, del = 1, sync = 2, sync_more = 3 };

/// The most bytes of a name, and the most names one sync part carries.
inline constexpr std::size_t max_name_bytes = 1024;
inline constexpr std::size_t max_sync_names = 100000;
/// The most signatures a claim lists (the wire types its actor handles).
inline constexpr std::size_t max_claim_signatures = 1024;

/// One name as its owner announces it.
struct name_announcement {
  std::string name;
  std::uint64_t stamp = 0;  ///< the owner's registration time (hybrid logical clock)
  std::uint64_t actor = 0;  ///< the actor's id on the owner
  std::vector<wire_signature> signatures;
};

class names_visitor {
 public:
  virtual void on_put(name_announcement&& a) = 0;
  virtual void on_del(std::string&& name, std::uint64_t stamp) = 0;
  /// The sender's names: they replace every name it held here.
  virtual void on_sync(std::vector<name_announcement>&& all) = 0;
  /// More of the sender's names, after its sync: they add to it.
  virtual void on_sync_more(std::vector<name_announcement>&& more) = 0;

 protected:
  ~names_visitor() = default;
};

using names_decode_outcome = decode_verdict;

/// Whether a name can cross the wire: 1 to max_name_bytes bytes, no control character. Other
/// names stay local to their node.
bool announceable_name(std::string_view name) noexcept;

/// Never throws for bad input.
names_decode_outcome decode_names(std::span<const std::byte> body, names_visitor& visitor);

std::vector<std::byte> encode_put(const name_announcement& a);
std::vector<std::byte> encode_del(std::string_view name, std::uint64_t stamp);
/// One part of a sync: `op` sync (the first) or sync_more.
std::vector<std::byte> encode_sync(const std::vector<name_announcement>& all, names_op op = names_op::sync);
/// Every name of `all` as the parts of one sync, each body at most `max_body_bytes` and
/// max_sync_names names. A name whose announcement alone is larger goes in none, counted in
/// `left_out`.
std::vector<std::vector<std::byte>> encode_sync_parts(const std::vector<name_announcement>& all,
                                                      std::size_t max_body_bytes, std::size_t& left_out);

}  // namespace eam::cluster::internal
