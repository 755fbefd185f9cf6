#pragma once
// Checked reading of untrusted msgpack objects (gossip datagrams, name registry frames): each
// helper throws bad_message, never reads out of bounds, and accepts only the one shape asked.
#include <msgpack.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string_view>

namespace eam::cluster::internal {

struct bad_message : std::exception {
  const char* what_;
  explicit bad_message(const char* what) : what_(what) {}
  const char* what() const noexcept override { return what_; }
};

inline const msgpack::object& field(const msgpack::object_array& a, std::uint32_t i) {
  if (i >= a.size) throw bad_message("a message has too few fields");
  return a.ptr[i];
}

inline std::uint64_t u64(const msgpack::object& o) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) throw bad_message("a number field is not an unsigned integer");
  return o.via.u64;
}

inline bool boolean(const msgpack::object& o) {
  if (o.type != msgpack::type::BOOLEAN) throw bad_message("a flag is not a boolean");
  return o.via.boolean;
}

/// Text that reaches logs, maps and dialled addresses: printable ASCII (a space only where
/// allowed), 1 to `most` bytes (0 where allowed).
inline std::string_view text(const msgpack::object& o, std::size_t most, bool allow_empty = false,
                             bool allow_space = false) {
  if (o.type != msgpack::type::STR) throw bad_message("a text field is not a string");
  const std::string_view t{o.via.str.ptr, o.via.str.size};
  if ((!allow_empty && t.empty()) || t.size() > most) throw bad_message("a text field has a bad length");
  for (const char c : t)
    if (c < ' ' || c > '~' || (c == ' ' && !allow_space)) throw bad_message("a text field is not printable");
  return t;
}

/// For msgpack::unpack: strings and binaries point into the buffer instead of being copied.
inline bool refer_to_buffer(msgpack::type::object_type, std::size_t, void*) { return true; }

}  // namespace eam::cluster::internal
