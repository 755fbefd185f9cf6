#include "skip_value.hpp"

#include <cstdint>

namespace eam::cluster::internal {

bool skip_msgpack_value(const char* data, std::size_t size, std::size_t& offset) noexcept {
  std::size_t at = offset;
  // A big-endian number of `bytes` bytes at `at`.
  const auto number = [&](std::size_t bytes, std::uint64_t& out) noexcept {
    if (size - at < bytes) return false;
    out = 0;
    for (std::size_t i = 0; i < bytes; ++i) out = out << 8 | static_cast<std::uint8_t>(data[at + i]);
    at += bytes;
    return true;
  };
  std::uint64_t left = 1;  // values still to pass over
  while (left > 0) {
    if (at >= size) return false;
    const auto b = static_cast<std::uint8_t>(data[at++]);
    --left;
    std::uint64_t skip = 0;      // bytes of data behind the marker
    std::uint64_t elements = 0;  // values a container adds
    if (b <= 0x7f || b >= 0xe0) {
      // a fixint
    } else if (b <= 0x8f) {
      elements = 2u * (b & 0x0fu);
    } else if (b <= 0x9f) {
      elements = b & 0x0fu;
    } else if (b <= 0xbf) {
      skip = b & 0x1fu;
    } else {
      switch (b) {
        case 0xc0:  // nil, false, true
        case 0xc2:
        case 0xc3: break;
        case 0xc4:  // bin 8, str 8
        case 0xd9:
          if (!number(1, skip)) return false;
          break;
        case 0xc5:  // bin 16, str 16
        case 0xda:
          if (!number(2, skip)) return false;
          break;
        case 0xc6:  // bin 32, str 32
        case 0xdb:
          if (!number(4, skip)) return false;
          break;
        case 0xc7:  // ext 8, 16, 32: the length, then a type byte and the data
          if (!number(1, skip)) return false;
          ++skip;
          break;
        case 0xc8:
          if (!number(2, skip)) return false;
          ++skip;
          break;
        case 0xc9:
          if (!number(4, skip)) return false;
          ++skip;
          break;
        case 0xca: skip = 4; break;  // float 32
        case 0xcb: skip = 8; break;  // float 64
        case 0xcc:                   // (u)int 8, 16, 32, 64
        case 0xd0: skip = 1; break;
        case 0xcd:
        case 0xd1: skip = 2; break;
        case 0xce:
        case 0xd2: skip = 4; break;
        case 0xcf:
        case 0xd3: skip = 8; break;
        case 0xd4: skip = 2; break;  // fixext 1, 2, 4, 8, 16, with the type byte
        case 0xd5: skip = 3; break;
        case 0xd6: skip = 5; break;
        case 0xd7: skip = 9; break;
        case 0xd8: skip = 17; break;
        case 0xdc:  // array 16, 32
          if (!number(2, elements)) return false;
          break;
        case 0xdd:
          if (!number(4, elements)) return false;
          break;
        case 0xde:  // map 16, 32: a key and a value an entry
          if (!number(2, elements)) return false;
          elements *= 2;
          break;
        case 0xdf:
          if (!number(4, elements)) return false;
          elements *= 2;
          break;
        default: return false;  // 0xc1, never used
      }
    }
    if (size - at < skip) return false;
    at += skip;
    left += elements;
    if (left > size - at) return false;  // more values than bytes left: it cannot all be there
  }
  offset = at;
  return true;
}

}  // namespace eam::cluster::internal
