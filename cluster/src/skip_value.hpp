#pragma once
// Passes over one msgpack value without building it and without limits on its sizes or nesting,
// so that a frame can go on after an item whose payload this node refuses (over its limits:
// frame.cpp). Iterative, with one count of the values still to pass (a container adds its
// elements to it), so no nesting reaches the stack; every value takes at least a byte, so it
// stops within the frame's length, and a count beyond the bytes left is refused at once.
#include <cstddef>

namespace eam::cluster::internal {

/// True, with `offset` past the value, when a whole value lies at `offset` (before `size`);
/// false, with `offset` unmoved, when it is cut short or holds a byte msgpack never uses.
bool skip_msgpack_value(const char* data, std::size_t size, std::size_t& offset) noexcept;

}  // namespace eam::cluster::internal
