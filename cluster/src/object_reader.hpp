#pragma once
// Reads one msgpack value from a frame into a msgpack::object, its arrays and maps in a zone and
// its strings, binaries and extensions pointing into the frame (the frame outlives its decoding,
// and payload types copy what they keep).
//
// Why not msgpack-cxx's parser: it is a general state machine (an explicit stack, a visitor
// call per value and per element, a bytes-left check per state), written for streams that
// arrive in pieces. A frame is whole, and its payloads are small: the one-field payload of a
// cast cost 215 instructions there, 38 % of the 562 that the receiving I/O thread spent on the
// cast; it costs 123 here, and the thread's total is 477 (callgrind on eam_cluster_frame_bench
// and eam_cluster_send_bench). msgpack-cxx still owns the object model, the adaptors that turn
// objects into C++ types, and every encoder.
//
// What it gives is what msgpack::unpack gives with the same limits and a reference function
// that always refers: the same objects (the same types and values, and the same references for
// strings, binaries and extensions that are not empty; an empty one may point elsewhere, and
// nothing reads that pointer), the same offset
// after the value, and for bad input the same exception type and text, checked in the same order
// (tests/cluster/object_reader_test.cpp compares the two on every kind of value and on random
// bytes; the frame fuzzer compares them on whatever it finds). In short: a value cut short throws
// msgpack::insufficient_bytes, the byte 0xc1 msgpack::parse_error, and a size or nesting beyond
// `limits` the matching msgpack::size_overflow (an array's or map's before its elements are read;
// a string's, binary's or extension's once its bytes are known to be there).
#include <msgpack.hpp>

#include <cstddef>
#include <cstdint>

namespace eam::cluster::internal {

class object_reader {
 public:
  object_reader(msgpack::zone& zone, const msgpack::unpack_limit& limits) noexcept : zone_(zone), limits_(limits) {}
  object_reader(const object_reader&) = delete;
  object_reader& operator=(const object_reader&) = delete;

  /// The value at `offset` (before `size`); `offset` is moved past it only when it was read
  /// whole. What the object points to lives until the zone is cleared or the bytes go.
  msgpack::object read(const char* data, std::size_t size, std::size_t& offset);

 private:
  // `level`: how many containers hold this value, plus one (the top value's is 1), as the depth
  // limit counts them.
  void value(msgpack::object& out, std::uint32_t level);
  // The value whose first byte `b` was just read, if it is one of the common scalars (numbers,
  // nil, booleans, short strings): false, with nothing more read, for anything else.
  bool scalar(msgpack::object& out, std::uint8_t b);
  // Every other value: containers, longer strings, binaries, extensions, the bad byte.
  void other(msgpack::object& out, std::uint8_t b, std::uint32_t level);
  void array(msgpack::object& out, std::uint32_t count, std::uint32_t level);
  void map(msgpack::object& out, std::uint32_t count, std::uint32_t level);
  template <class Element>
  Element* in_zone(std::uint32_t count);
  // `out` as the STR, BIN or EXT of the `n` bytes from here, checked against that type's limit
  // once they are known to be there.
  void bytes(msgpack::object& out, msgpack::type::object_type type, std::uint64_t n);
  // The next bytes as a big-endian number of this type.
  template <class Unsigned>
  Unsigned big_endian();
  void need(std::size_t n) const;

  msgpack::zone& zone_;
  const msgpack::unpack_limit& limits_;
  const char* at_ = nullptr;
  const char* end_ = nullptr;
};

}  // namespace eam::cluster::internal
