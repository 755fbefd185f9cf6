#pragma once
// The process-wide table of wire types: stable name <-> local message type, with the codec of
// each. Written at registration (rare), read on every message crossing nodes: a shared lock.
#include <eam/cluster/wire.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace eam::cluster::internal {

struct wire_type {
  std::string name;
  message_type_id type;
  detail::encode_fn encode;
  detail::decode_fn decode;
};

/// Null when the type or name is not registered. Entries are never removed or moved: the
/// pointer stays valid for the life of the process.
const wire_type* find_wire_type(message_type_id type) noexcept;
const wire_type* find_wire_type(std::string_view name) noexcept;
/// Every registered wire type, in registration order.
std::vector<const wire_type*> all_wire_types();

}  // namespace eam::cluster::internal
