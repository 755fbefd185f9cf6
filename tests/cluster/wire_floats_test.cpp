// Doubles and floats on the wire (cluster/include/eam/cluster/wire.hpp): each encodes and
// decodes to itself, bit for bit, in the builtin f64 codec and inside a user's type. A value
// from another node may be any: msgpack-cxx 4.1's own packer turns -0.0 into 0.0 and cannot
// take 2^64 without undefined behaviour (found by the frame fuzzer).
#include "wire_round_trip.hpp"

#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace {
double round_trip_f64(double d) {
  const std::optional<double> back = eam::test::wire_round_trip("f64", d);
  REQUIRE(back.has_value());
  return *back;
}

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

struct reading {  // a user's type: its fields go through msgpack's own adaptors
  double value;
  float weight;
  std::vector<double> history;
  MSGPACK_DEFINE(value, weight, history);
};
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

  TEST_CASE("a user's type carries its doubles and floats bit for bit, -0.0 and 2^64 included") {
    const double big = 18446744073709551616.0;
    const reading sent{-0.0, static_cast<float>(big), {big, -0.0, 3.0, -2.5}};
    eam::cluster::detail::frame_buffer buffer;
    eam::cluster::detail::wire_packer pk(buffer);
    pk.pack(sent);
    const msgpack::object_handle h = msgpack::unpack(buffer.data(), buffer.size());
    const auto got = h.get().as<reading>();
    CHECK(same_bits(got.value, sent.value));
    CHECK(same_bits(got.weight, sent.weight));
    REQUIRE(got.history.size() == sent.history.size());
    for (std::size_t i = 0; i < sent.history.size(); ++i) CHECK(same_bits(got.history[i], sent.history[i]));
  }
}
