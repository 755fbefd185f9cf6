#pragma once
// Reads the same bytes with the cluster's object_reader and with msgpack::unpack (the same limits,
// strings referred to in place) and says where the two differ: the value, the offset after it,
// or the error. Shared by object_reader_test.cpp and the frame fuzzer (fuzz_frame.cpp).
#include "object_reader.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <typeinfo>

namespace eam::cluster::test {

// The value as text: each type by name, floats by their bits, bytes in hex, and whether strings,
// binaries and extensions point into [data, end) (both readers must refer, never copy).
inline void describe(const msgpack::object& o, const char* data, const char* end, std::string& out) {
  const auto hex = [&](const char* p, std::size_t n) {
    out += (n == 0 || (p >= data && p + n <= end)) ? "@" : "copied!";
    char two[3];
    for (std::size_t i = 0; i < n; ++i) {
      std::snprintf(two, sizeof two, "%02x", static_cast<unsigned>(static_cast<std::uint8_t>(p[i])));
      out += two;
    }
  };
  switch (o.type) {
    case msgpack::type::NIL: out += "nil"; return;
    case msgpack::type::BOOLEAN: out += o.via.boolean ? "true" : "false"; return;
    case msgpack::type::POSITIVE_INTEGER: out += "+" + std::to_string(o.via.u64); return;
    case msgpack::type::NEGATIVE_INTEGER: out += std::to_string(o.via.i64); return;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &o.via.f64, sizeof bits);
      out += (o.type == msgpack::type::FLOAT32 ? "f32:" : "f64:") + std::to_string(bits);
      return;
    }
    case msgpack::type::STR:
      out += "str:";
      hex(o.via.str.ptr, o.via.str.size);
      return;
    case msgpack::type::BIN:
      out += "bin:";
      hex(o.via.bin.ptr, o.via.bin.size);
      return;
    case msgpack::type::EXT:
      out += "ext:";
      hex(o.via.ext.ptr, o.via.ext.size + 1u);
      return;
    case msgpack::type::ARRAY:
      out += "[";
      for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
        describe(o.via.array.ptr[i], data, end, out);
        out += ",";
      }
      out += "]";
      return;
    case msgpack::type::MAP:
      out += "{";
      for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        describe(o.via.map.ptr[i].key, data, end, out);
        out += ":";
        describe(o.via.map.ptr[i].val, data, end, out);
        out += ",";
      }
      out += "}";
      return;
  }
  out += "unknown type " + std::to_string(static_cast<int>(o.type));
}

// What one reader made of the bytes: the value and where it ended, or its error (where a reader
// stopped in bad bytes is not compared: msgpack moves the offset to there, this reader not at all,
// and a caller drops the whole frame either way).
inline std::string outcome_of_reader(const char* data, std::size_t size, std::size_t offset,
                                     const msgpack::unpack_limit& limits) {
  msgpack::zone zone;
  internal::object_reader reader(zone, limits);
  try {
    const msgpack::object o = reader.read(data, size, offset);
    std::string out = "ends at " + std::to_string(offset) + ": ";
    describe(o, data, data + size, out);
    return out;
  } catch (const msgpack::unpack_error& e) {
    return std::string(typeid(e).name()) + " " + e.what();
  }
}

inline std::string outcome_of_msgpack(const char* data, std::size_t size, std::size_t offset,
                                      const msgpack::unpack_limit& limits) {
  const auto refer = [](msgpack::type::object_type, std::size_t, void*) { return true; };
  try {
    const msgpack::object_handle h = msgpack::unpack(data, size, offset, refer, nullptr, limits);
    std::string out = "ends at " + std::to_string(offset) + ": ";
    describe(h.get(), data, data + size, out);
    return out;
  } catch (const msgpack::unpack_error& e) {
    return std::string(typeid(e).name()) + " " + e.what();
  }
}

/// Empty when both readers make the same of the value at `offset`; else both outcomes.
inline std::string disagreement(const char* data, std::size_t size, std::size_t offset,
                                const msgpack::unpack_limit& limits) {
  std::string ours = outcome_of_reader(data, size, offset, limits);
  std::string theirs = outcome_of_msgpack(data, size, offset, limits);
  if (ours == theirs) return {};
  return "object_reader: " + ours + "\nmsgpack::unpack: " + theirs;
}

}  // namespace eam::cluster::test
