#pragma once
// A value through a builtin wire codec and back, as it leaves one node and reaches another.
#include "wire_registry.hpp"

#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include <optional>
#include <string_view>

namespace eam::test {

/// `value` encoded by the codec registered under `wire_name`, then decoded: empty when what
/// comes back is not a T. The whole encoding must be read.
template <class T>
std::optional<T> wire_round_trip(std::string_view wire_name, const T& value) {
  const cluster::internal::wire_type* t = cluster::internal::find_wire_type(wire_name);
  REQUIRE(t != nullptr);
  cluster::detail::frame_buffer buffer;
  cluster::detail::wire_packer pk(buffer);
  t->encode(pk, &value);
  std::size_t offset = 0;
  const msgpack::object_handle h = msgpack::unpack(buffer.data(), buffer.size(), offset);
  CHECK(offset == buffer.size());
  const message m = t->decode(h.get());
  const T* back = m.get_if<T>();
  if (back == nullptr) return std::nullopt;
  return *back;
}

}  // namespace eam::test
