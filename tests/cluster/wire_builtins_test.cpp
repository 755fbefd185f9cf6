// The reply types every node can carry without registration (cluster/src/wire_registry.cpp):
// each value a builtin codec may meet encodes and decodes to itself, bit for bit. A double
// from another node may be any double: msgpack-cxx 4.1's own double packer turns -0.0 into 0.0
// and cannot take 2^64 without undefined behaviour (found by the frame fuzzer).
#include "wire_registry.hpp"

#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace wire = eam::cluster::internal;

namespace {
double round_trip_f64(double d) {
  const wire::wire_type* t = wire::find_wire_type("f64");
  REQUIRE(t != nullptr);
  eam::cluster::detail::frame_buffer buffer;
  eam::cluster::detail::wire_packer pk(buffer);
  t->encode(pk, &d);
  std::size_t offset = 0;
  const msgpack::object_handle h = msgpack::unpack(buffer.data(), buffer.size(), offset);
  CHECK(offset == buffer.size());
  const eam::message m = t->decode(h.get());
  REQUIRE(m.get_if<double>() != nullptr);
  return *m.get_if<double>();
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
}  // namespace

TEST_SUITE("cluster.wire") {
  TEST_CASE("the builtin f64 codec carries every double bit for bit, -0.0 and 2^64 included") {
    const std::vector<double> values{0.0,
                                     -0.0,
                                     1.5,
                                     -7.0,
                                     9007199254740993.0,
                                     9223372036854775808.0,   // 2^63
                                     -9223372036854775808.0,  // -2^63
                                     18446744073709551616.0,  // 2^64: the value msgpack's packer mishandles
                                     36893488147419103232.0,  // 2^65
                                     std::numeric_limits<double>::max(),
                                     std::numeric_limits<double>::lowest(),
                                     std::numeric_limits<double>::denorm_min(),
                                     std::numeric_limits<double>::infinity(),
                                     -std::numeric_limits<double>::infinity()};
    for (const double d : values) {
      CAPTURE(d);
      const double back = round_trip_f64(d);
      CHECK(same_bits(back, d));
    }
    CHECK(std::isnan(round_trip_f64(std::numeric_limits<double>::quiet_NaN())));
  }
}
