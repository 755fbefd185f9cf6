#include "object_reader.hpp"

#include <bit>
#include <cstring>

namespace eam::cluster::internal {

namespace {

[[noreturn, gnu::cold]] void throw_insufficient_bytes() { throw msgpack::insufficient_bytes("insufficient bytes"); }

template <class Unsigned>
Unsigned from_big_endian(Unsigned v) noexcept {
  if constexpr (sizeof(Unsigned) == 1)
    return v;
  else if constexpr (sizeof(Unsigned) == 2)
    return __builtin_bswap16(v);
  else if constexpr (sizeof(Unsigned) == 4)
    return __builtin_bswap32(v);
  else
    return __builtin_bswap64(v);
}

void set_unsigned(msgpack::object& out, std::uint64_t v) noexcept {
  out.type = msgpack::type::POSITIVE_INTEGER;
  out.via.u64 = v;
}

// A signed encoding of a value that is not negative reads as a positive integer, as msgpack's.
void set_signed(msgpack::object& out, std::int64_t v) noexcept {
  if (v >= 0) return set_unsigned(out, static_cast<std::uint64_t>(v));
  out.type = msgpack::type::NEGATIVE_INTEGER;
  out.via.i64 = v;
}

}  // namespace

inline void object_reader::need(std::size_t n) const {
  if (static_cast<std::size_t>(end_ - at_) < n) [[unlikely]]
    throw_insufficient_bytes();
}

template <class Unsigned>
inline Unsigned object_reader::big_endian() {
  need(sizeof(Unsigned));
  Unsigned v;
  std::memcpy(&v, at_, sizeof v);
  at_ += sizeof v;
  return from_big_endian(v);
}

inline void object_reader::bytes(msgpack::object& out, msgpack::type::object_type type, std::uint64_t n) {
  need(n);
  const char* start = at_;
  const auto size = static_cast<std::uint32_t>(n);
  switch (type) {
    case msgpack::type::STR:
      if (n > limits_.str()) [[unlikely]]
        throw msgpack::str_size_overflow("str size overflow");
      out.via.str.size = size;
      out.via.str.ptr = start;
      break;
    case msgpack::type::BIN:
      if (n > limits_.bin()) [[unlikely]]
        throw msgpack::bin_size_overflow("bin size overflow");
      out.via.bin.size = size;
      out.via.bin.ptr = start;
      break;
    default:  // EXT: its type byte, then its data; the object points at the type byte and counts the data
      if (n > limits_.ext()) [[unlikely]]
        throw msgpack::ext_size_overflow("ext size overflow");
      out.via.ext.size = size - 1;
      out.via.ext.ptr = start;
      break;
  }
  out.type = type;
  at_ += n;
}

inline bool object_reader::scalar(msgpack::object& out, std::uint8_t b) {
  if (b <= 0x7f) {
    set_unsigned(out, b);
    return true;
  }
  if (b >= 0xe0) {
    out.type = msgpack::type::NEGATIVE_INTEGER;
    out.via.i64 = static_cast<std::int8_t>(b);
    return true;
  }
  if (b >= 0xa0 && b <= 0xbf) {
    bytes(out, msgpack::type::STR, b & 0x1fu);
    return true;
  }
  switch (b) {
    case 0xc0: out.type = msgpack::type::NIL; return true;
    case 0xc2:
    case 0xc3:
      out.type = msgpack::type::BOOLEAN;
      out.via.boolean = b == 0xc3;
      return true;
    case 0xca:
      out.type = msgpack::type::FLOAT32;
      out.via.f64 = std::bit_cast<float>(big_endian<std::uint32_t>());
      return true;
    case 0xcb:
      out.type = msgpack::type::FLOAT64;
      out.via.f64 = std::bit_cast<double>(big_endian<std::uint64_t>());
      return true;
    case 0xcc: set_unsigned(out, big_endian<std::uint8_t>()); return true;
    case 0xcd: set_unsigned(out, big_endian<std::uint16_t>()); return true;
    case 0xce: set_unsigned(out, big_endian<std::uint32_t>()); return true;
    case 0xcf: set_unsigned(out, big_endian<std::uint64_t>()); return true;
    case 0xd0: set_signed(out, static_cast<std::int8_t>(big_endian<std::uint8_t>())); return true;
    case 0xd1: set_signed(out, static_cast<std::int16_t>(big_endian<std::uint16_t>())); return true;
    case 0xd2: set_signed(out, static_cast<std::int32_t>(big_endian<std::uint32_t>())); return true;
    case 0xd3: set_signed(out, static_cast<std::int64_t>(big_endian<std::uint64_t>())); return true;
    default: return false;
  }
}

inline void object_reader::value(msgpack::object& out, std::uint32_t level) {
  need(1);
  const auto b = static_cast<std::uint8_t>(*at_++);
  if (!scalar(out, b)) other(out, b, level);
}

msgpack::object object_reader::read(const char* data, std::size_t size, std::size_t& offset) {
  if (offset >= size) throw_insufficient_bytes();
  at_ = data + offset;
  end_ = data + size;
  msgpack::object out;
  need(1);
  const auto b = static_cast<std::uint8_t>(*at_++);
  if (b >= 0x90 && b <= 0x9f) {
    array(out, b & 0x0fu, 1);  // most payloads: a struct's fields (MSGPACK_DEFINE)
  } else if (!scalar(out, b)) {
    other(out, b, 1);
  }
  offset = static_cast<std::size_t>(at_ - data);
  return out;
}

// Zone memory, left as it is: each element is written whole by `value` before anything reads
// it, and a value that throws leaves the whole object unread.
template <class Element>
Element* object_reader::in_zone(std::uint32_t count) {
  return static_cast<Element*>(zone_.allocate_align(count * sizeof(Element), MSGPACK_ZONE_ALIGNOF(Element)));
}

void object_reader::array(msgpack::object& out, std::uint32_t count, std::uint32_t level) {
  if (count > limits_.array()) throw msgpack::array_size_overflow("array size overflow");
  if (level > limits_.depth()) throw msgpack::depth_size_overflow("depth size overflow");
  out.type = msgpack::type::ARRAY;
  out.via.array.size = count;
  out.via.array.ptr = nullptr;
  if (count == 0) return;
  auto* items = in_zone<msgpack::object>(count);
  out.via.array.ptr = items;
  for (std::uint32_t i = 0; i < count; ++i) value(items[i], level + 1);
}

void object_reader::map(msgpack::object& out, std::uint32_t count, std::uint32_t level) {
  if (count > limits_.map()) throw msgpack::map_size_overflow("map size overflow");
  if (level > limits_.depth()) throw msgpack::depth_size_overflow("depth size overflow");
  out.type = msgpack::type::MAP;
  out.via.map.size = count;
  out.via.map.ptr = nullptr;
  if (count == 0) return;
  auto* pairs = in_zone<msgpack::object_kv>(count);
  out.via.map.ptr = pairs;
  for (std::uint32_t i = 0; i < count; ++i) {
    value(pairs[i].key, level + 1);
    value(pairs[i].val, level + 1);
  }
}

void object_reader::other(msgpack::object& out, std::uint8_t b, std::uint32_t level) {
  if (b >= 0x80 && b <= 0x8f) return map(out, b & 0x0fu, level);
  if (b >= 0x90 && b <= 0x9f) return array(out, b & 0x0fu, level);
  switch (b) {
    case 0xc4: return bytes(out, msgpack::type::BIN, big_endian<std::uint8_t>());
    case 0xc5: return bytes(out, msgpack::type::BIN, big_endian<std::uint16_t>());
    case 0xc6: return bytes(out, msgpack::type::BIN, big_endian<std::uint32_t>());
    case 0xc7: return bytes(out, msgpack::type::EXT, std::uint64_t{big_endian<std::uint8_t>()} + 1);
    case 0xc8: return bytes(out, msgpack::type::EXT, std::uint64_t{big_endian<std::uint16_t>()} + 1);
    case 0xc9:
      return bytes(out, msgpack::type::EXT,
                   std::uint64_t{big_endian<std::uint32_t>()} + 1);  // 2^32 at most: no frame is as long
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8: return bytes(out, msgpack::type::EXT, (std::uint64_t{1} << (b - 0xd4)) + 1);
    case 0xd9: return bytes(out, msgpack::type::STR, big_endian<std::uint8_t>());
    case 0xda: return bytes(out, msgpack::type::STR, big_endian<std::uint16_t>());
    case 0xdb: return bytes(out, msgpack::type::STR, big_endian<std::uint32_t>());
    case 0xdc: return array(out, big_endian<std::uint16_t>(), level);
    case 0xdd: return array(out, big_endian<std::uint32_t>(), level);
    case 0xde: return map(out, big_endian<std::uint16_t>(), level);
    case 0xdf: return map(out, big_endian<std::uint32_t>(), level);
    default:  // 0xc1, the one byte msgpack leaves unused
      throw msgpack::parse_error("parse error");
  }
}

}  // namespace eam::cluster::internal
