// The cluster's msgpack reader (cluster/src/object_reader.hpp) against msgpack::unpack: every
// encoding, every value cut short, every limit, and random bytes must read the same (value,
// offset after it, or error), plus a few values checked outright.
#include <doctest/doctest.h>

#include "object_reader_oracle.hpp"

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using eam::cluster::internal::object_reader;
using eam::cluster::test::disagreement;

using bytes = std::vector<std::uint8_t>;

const msgpack::unpack_limit wide(1u << 16, 1u << 16, 8u << 20, 8u << 20, 1u << 16, 32);

std::string differs(const bytes& b, const msgpack::unpack_limit& limits = wide, std::size_t offset = 0) {
  return disagreement(reinterpret_cast<const char*>(b.data()), b.size(), offset, limits);
}

bytes cat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

bytes filler(std::size_t n, std::uint8_t v = 0x01) { return bytes(n, v); }

// One encoding of each form msgpack has, at and around each form's boundaries.
std::vector<bytes> every_form() {
  // A table, one kind of form a line.
  // clang-format off
  std::vector<bytes> all = {
      {0x00}, {0x7f}, {0xe0}, {0xff},                                   // fixints
      {0xc0}, {0xc2}, {0xc3},                                           // nil, false, true
      {0xcc, 0xff}, {0xcd, 0x12, 0x34}, {0xce, 0xde, 0xad, 0xbe, 0xef},  // uint 8/16/32
      {0xcf, 0x80, 0, 0, 0, 0, 0, 0, 1},                                // uint 64
      {0xd0, 0x80}, {0xd0, 0x05}, {0xd0, 0x00},                         // int 8: negative, positive, zero
      {0xd1, 0xff, 0xfe}, {0xd1, 0x00, 0x10},                           // int 16
      {0xd2, 0x80, 0, 0, 0}, {0xd2, 0, 0, 0, 7},                        // int 32
      {0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0}, {0xd3, 0, 0, 0, 0, 0, 0, 0, 9},  // int 64
      {0xca, 0x3f, 0xc0, 0, 0}, {0xca, 0x7f, 0xc0, 0, 1},               // float 32 (1.5, a NaN)
      {0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18},           // float 64 (pi)
      {0xcb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0},                             // float 64 (-inf)
      {0xa0}, {0xa3, 'a', 'b', 'c'}, cat({{0xbf}, filler(31, 'x')}),    // fixstr
      {0xd9, 0}, {0xd9, 2, 'h', 'i'}, {0xda, 0, 1, 'z'}, {0xdb, 0, 0, 0, 1, 'q'},  // str 8/16/32
      {0xc4, 0}, {0xc4, 2, 0, 0xff}, {0xc5, 0, 1, 7}, {0xc6, 0, 0, 0, 1, 9},         // bin 8/16/32
      {0xd4, 1, 0xaa}, {0xd5, 2, 1, 2}, {0xd6, 3, 1, 2, 3, 4},          // fixext 1/2/4
      cat({{0xd7, 0xfe}, filler(8)}), cat({{0xd8, 0x7f}, filler(16)}),  // fixext 8/16
      {0xc7, 0, 5}, {0xc7, 2, 5, 1, 2}, {0xc8, 0, 1, 6, 9}, {0xc9, 0, 0, 0, 1, 0x80, 3},  // ext 8/16/32
      {0x90}, {0x91, 0x01}, {0x93, 0xc0, 0xa1, 'a', 0x92, 0x01, 0xff},  // fixarray, nested
      {0xdc, 0, 2, 0x01, 0x02}, {0xdd, 0, 0, 0, 1, 0xc3},               // array 16/32
      {0x80}, {0x81, 0xa1, 'k', 0x05}, {0x82, 0x01, 0x90, 0xc0, 0x80},  // fixmap, nested
      {0xde, 0, 1, 0x01, 0x02}, {0xdf, 0, 0, 0, 1, 0xc2, 0xc3},         // map 16/32
  };
  // clang-format on
  // A struct as a sender packs it, beside another value: the reader must stop after the first.
  all.push_back({0x94, 0x00, 0xcd, 0x01, 0x00, 0xa2, 'o', 'k', 0xcb, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0});
  return all;
}

TEST_SUITE("cluster.object_reader") {
  TEST_CASE("object_reader reads every msgpack form as msgpack::unpack does") {
    for (const bytes& b : every_form()) {
      CAPTURE(b.size());
      CAPTURE(static_cast<int>(b[0]));
      CHECK(differs(b) == "");
      // After two bytes of something else, as a payload sits in a frame.
      CHECK(differs(cat({{0xee, 0xee}, b}), wide, 2) == "");
    }
  }

  TEST_CASE("object_reader fails a value cut short, at every length, as msgpack::unpack does") {
    for (const bytes& b : every_form()) {
      for (std::size_t n = 0; n < b.size(); ++n) {
        const bytes cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        CAPTURE(static_cast<int>(b[0]));
        CAPTURE(n);
        CHECK(differs(cut) == "");
      }
    }
  }

  TEST_CASE("object_reader keeps msgpack::unpack's limits and the order it checks them in") {
    const msgpack::unpack_limit tight(/*array*/ 3, /*map*/ 2, /*str*/ 4, /*bin*/ 4, /*ext*/ 5, /*depth*/ 3);
    // clang-format off
    const std::vector<bytes> cases = {
        {0x93, 1, 2, 3}, {0x94, 1, 2, 3, 4}, {0xdc, 0, 4}, {0xdd, 0xff, 0xff, 0xff, 0xff},  // arrays
        {0x82, 1, 2, 3, 4}, {0x83, 1, 2, 3, 4, 5, 6}, {0xde, 0xff, 0xff},                   // maps
        {0xa4, 'a', 'b', 'c', 'd'}, {0xa5, 'a', 'b', 'c', 'd', 'e'}, {0xa5, 'a'},           // str: over, and over but short
        {0xd9, 5, 1, 2, 3, 4, 5}, {0xdb, 0xff, 0xff, 0xff, 0xff},                           // str 8, str 32 far beyond
        {0xc4, 4, 1, 2, 3, 4}, {0xc4, 5, 1, 2, 3, 4, 5}, {0xc6, 0x7f, 0, 0, 0},             // bin
        {0xd6, 1, 1, 2, 3, 4}, {0xd7, 1, 1, 2, 3, 4, 5, 6, 7, 8}, {0xc7, 4, 1, 1, 2, 3, 4},  // ext at and over
        {0xc9, 0xff, 0xff, 0xff, 0xff}, {0xc9, 0xff, 0xff, 0xff, 0xfe},                     // ext 32: n + 1 is 2^32
        {0x91, 0x91, 0x91, 0x91, 1}, {0x91, 0x91, 0x91, 0x90}, {0x91, 0x91, 0x91, 1},        // depth: over, over, at
        {0x91, 0x81, 0x01, 0x91, 0x90}, {0x81, 0x91, 0x90, 0x01},                            // depth through maps
        {0x92, 0xc1, 0x01}, {0x95, 0xc1}, {0x93, 0x01, 0xa9, 'a'},  // a bad byte, a short string: before the count runs out
    };
    // clang-format on
    for (const bytes& b : cases) {
      CAPTURE(b.size());
      CAPTURE(static_cast<int>(b[0]));
      CHECK(differs(b, tight) == "");
    }
  }

  TEST_CASE("object_reader's values, checked outright") {
    msgpack::zone zone;
    object_reader reader(zone, wide);
    const bytes b = {0x94, 0x05, 0xff, 0xa2, 'h', 'i', 0xd0, 0x03, 0x2a};
    const char* data = reinterpret_cast<const char*>(b.data());
    std::size_t offset = 0;
    const msgpack::object o = reader.read(data, b.size(), offset);
    CHECK(offset == b.size() - 1);  // the trailing 0x2a is the next value's
    REQUIRE(o.type == msgpack::type::ARRAY);
    REQUIRE(o.via.array.size == 4);
    const msgpack::object* f = o.via.array.ptr;
    CHECK(f[0].type == msgpack::type::POSITIVE_INTEGER);
    CHECK(f[0].via.u64 == 5);
    CHECK(f[1].type == msgpack::type::NEGATIVE_INTEGER);
    CHECK(f[1].via.i64 == -1);
    CHECK(f[2].type == msgpack::type::STR);
    CHECK(f[2].via.str.ptr == data + 4);  // referred to in place, not copied
    CHECK(std::string(f[2].via.str.ptr, f[2].via.str.size) == "hi");
    CHECK(f[3].type == msgpack::type::POSITIVE_INTEGER);  // int 8 holding 3
    CHECK(f[3].via.u64 == 3);
    CHECK(reader.read(data, b.size(), offset).via.u64 == 42);
    CHECK(offset == b.size());
    CHECK_THROWS_AS(reader.read(data, b.size(), offset), msgpack::insufficient_bytes);
    CHECK(offset == b.size());  // a failed read moves nothing
  }

}  // TEST_SUITE

// Random values packed by msgpack's packer, then cut, bit-flipped or overwritten in places.
void pack_random(std::mt19937_64& rng, msgpack::packer<msgpack::sbuffer>& pk, int depth) {
  const auto pick = [&](std::uint64_t n) { return static_cast<std::uint64_t>(rng() % n); };
  const std::uint64_t form = depth >= 4 ? pick(9) : pick(11);
  switch (form) {
    case 0: pk.pack_nil(); break;
    case 1: pk.pack(pick(2) == 0); break;
    case 2: pk.pack(rng() >> pick(64)); break;
    case 3: pk.pack(-static_cast<std::int64_t>(rng() >> (pick(63) + 1))); break;
    case 4: pk.pack(static_cast<float>(static_cast<std::int64_t>(rng())) / 7.0f); break;
    case 5: pk.pack(static_cast<double>(static_cast<std::int64_t>(rng())) / 3.0); break;
    case 6: pk.pack(std::string(pick(40), static_cast<char>('a' + pick(26)))); break;
    case 7: {
      const std::string b(pick(20), '\x7f');
      pk.pack_bin(static_cast<std::uint32_t>(b.size()));
      pk.pack_bin_body(b.data(), static_cast<std::uint32_t>(b.size()));
      break;
    }
    case 8: {
      const std::string e(pick(20), '\x11');
      pk.pack_ext(e.size(), static_cast<std::int8_t>(pick(256)));
      pk.pack_ext_body(e.data(), static_cast<std::uint32_t>(e.size()));
      break;
    }
    case 9: {
      const auto n = static_cast<std::uint32_t>(pick(5) == 0 ? pick(40) : pick(4));
      pk.pack_array(n);
      for (std::uint32_t i = 0; i < n; ++i) pack_random(rng, pk, depth + 1);
      break;
    }
    default: {
      const auto n = static_cast<std::uint32_t>(pick(4));
      pk.pack_map(n);
      for (std::uint32_t i = 0; i < 2 * n; ++i) pack_random(rng, pk, depth + 1);
      break;
    }
  }
}

TEST_SUITE("cluster.object_reader") {
  TEST_CASE("object_reader and msgpack::unpack agree on random and damaged bytes") {
    std::mt19937_64 rng(20261207);  // fixed: a failure reproduces
    const msgpack::unpack_limit tight(6, 3, 16, 8, 9, 4);
    for (int round = 0; round < 4000; ++round) {
      msgpack::sbuffer buffer;
      msgpack::packer<msgpack::sbuffer> pk(buffer);
      pack_random(rng, pk, 0);
      bytes b(reinterpret_cast<const std::uint8_t*>(buffer.data()),
              reinterpret_cast<const std::uint8_t*>(buffer.data()) + buffer.size());
      switch (round % 4) {
        case 0: break;  // as packed
        case 1:
          if (!b.empty()) b.resize(rng() % b.size());  // cut
          break;
        case 2:
          for (int flips = 0; flips < 3 && !b.empty(); ++flips)
            b[rng() % b.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
          break;
        default:
          for (int writes = 0; writes < 2 && !b.empty(); ++writes)
            b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
          break;
      }
      CAPTURE(round);
      CHECK(differs(b) == "");
      CHECK(differs(b, tight) == "");
    }
  }

}  // TEST_SUITE

}  // namespace
