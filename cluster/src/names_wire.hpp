#pragma once
// The distributed registry's messages between nodes (frame kind `names`, after the two-byte
// frame header), msgpack:
//   [put, name, stamp, actor id, [[message wire name, reply wire name or ""]...]]
//   [del, name, stamp]
//   [sync, [[name, stamp, actor id, [signatures...]]...]]   every name the sender holds
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

enum class names_op : std::uint8_t { put = 0, del = 1, sync = 2 };

/// The most bytes of a name, and the most names one sync carries.
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
  virtual void on_sync(std::vector<name_announcement>&& all) = 0;

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
std::vector<std::byte> encode_sync(const std::vector<name_announcement>& all);

}  // namespace eam::cluster::internal
