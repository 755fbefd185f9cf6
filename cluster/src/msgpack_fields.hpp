#pragma once
// msgpack for the cluster's own control messages (gossip datagrams, registry and groups
// frames): a sink that packs into a byte vector, and checked reading of untrusted objects,
// where each helper throws bad_message, never reads out of bounds, and accepts only the one
// shape asked for.
#include "decode_verdict.hpp"

#include <msgpack.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace eam::cluster::internal {

/// What msgpack::packer writes into.
struct byte_sink {
  std::vector<std::byte>& out;
  void write(const char* data, std::size_t size) {
    if (size == 0) return;  // msgpack may hand an empty string's nullptr
    const std::size_t at = out.size();
    out.resize(at + size);
    std::memcpy(out.data() + at, data, size);
  }
};
using bytes_packer = msgpack::packer<byte_sink>;

inline void pack_text(bytes_packer& pk, std::string_view text) {
  pk.pack_str(static_cast<std::uint32_t>(text.size()));
  pk.pack_str_body(text.data(), static_cast<std::uint32_t>(text.size()));
}

/// The bytes `pack(packer)` writes.
template <class Pack>
std::vector<std::byte> pack_to_bytes(Pack&& pack) {
  std::vector<std::byte> out;
  byte_sink sink{out};
  bytes_packer pk(sink);
  pack(pk);
  return out;
}

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

/// Names that cross the wire (global names, scopes, groups): 1 to `most` bytes, spaces and
/// UTF-8 allowed, never a control character (they reach logs).
inline bool valid_wire_name(std::string_view name, std::size_t most) noexcept {
  if (name.empty() || name.size() > most) return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

/// Unpacks `body` (exactly one msgpack object, within `limit`) and hands the object to
/// `visit`; whatever is malformed, over a limit or of the wrong shape becomes a bad verdict,
/// never an exception.
template <class Visit>
decode_verdict decode_untrusted(std::span<const std::byte> body, const msgpack::unpack_limit& limit, Visit&& visit) {
  decode_verdict out;
  try {
    msgpack::object_handle handle;
    std::size_t offset = 0;
    msgpack::unpack(handle, reinterpret_cast<const char*>(body.data()), body.size(), offset, refer_to_buffer, nullptr,
                    limit);
    if (offset != body.size()) throw bad_message("bytes after the body");
    visit(handle.get());
  } catch (const bad_message& e) {
    out.bad = true;
    out.why = e.what();
  } catch (const msgpack::unpack_error& e) {  // truncated, over a limit, or not msgpack
    out.bad = true;
    out.why = std::string("undecodable: ") + e.what();
  } catch (const msgpack::type_error&) {
    out.bad = true;
    out.why = "a field has the wrong type";
  } catch (const std::bad_alloc&) {
    out.bad = true;
    out.why = "too large to decode";
  }
  return out;
}

}  // namespace eam::cluster::internal
