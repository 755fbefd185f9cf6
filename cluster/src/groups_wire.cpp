#include "groups_wire.hpp"

#include "msgpack_fields.hpp"
#include "sync_parts.hpp"

#include <algorithm>

namespace eam::cluster::internal {

namespace {

std::string_view group_text(const msgpack::object& o) {
  if (o.type != msgpack::type::STR) throw bad_message("a scope or group is not a string");
  const std::string_view t{o.via.str.ptr, o.via.str.size};
  if (!valid_group_text(t)) throw bad_message("a scope or group is empty, too long or holds a control character");
  return t;
}

group_key read_key(const msgpack::object_array& a, std::uint32_t at) {
  return {std::string(group_text(field(a, at))), std::string(group_text(field(a, at + 1)))};
}

}  // namespace

bool valid_group_text(std::string_view text) noexcept { return valid_wire_name(text, max_group_text); }

groups_decode_outcome decode_groups(std::span<const std::byte> body, groups_visitor& visitor) {
  // No header may claim more elements than the body has bytes (each takes at least one).
  const std::size_t most = std::min(body.size(), max_sync_entries);
  return decode_untrusted(body, msgpack::unpack_limit(most, 0, max_group_text, 0, 0, 6), [&](const msgpack::object& o) {
    if (o.type != msgpack::type::ARRAY || o.via.array.size == 0) throw bad_message("a message is not a non-empty array");
    const auto& a = o.via.array;
    const std::uint64_t op = u64(a.ptr[0]);
    switch (op) {
      case static_cast<std::uint64_t>(groups_op::join):
        visitor.on_join(read_key(a, 1), u64(field(a, 3)), u64(field(a, 4)));
        break;
      case static_cast<std::uint64_t>(groups_op::leave):
        visitor.on_leave(read_key(a, 1), u64(field(a, 3)), u64(field(a, 4)));
        break;
      case static_cast<std::uint64_t>(groups_op::sync):
      case static_cast<std::uint64_t>(groups_op::sync_more): {
        const std::uint64_t version = u64(field(a, 1));
        const msgpack::object& list = field(a, 2);
        if (list.type != msgpack::type::ARRAY) throw bad_message("a sync's groups are not an array");
        std::vector<group_members_of> all;
        all.reserve(list.via.array.size);
        for (std::uint32_t i = 0; i < list.via.array.size; ++i) {
          const msgpack::object& e = list.via.array.ptr[i];
          if (e.type != msgpack::type::ARRAY) throw bad_message("a sync entry is not an array");
          group_members_of g{read_key(e.via.array, 0), {}};
          const msgpack::object& ids = field(e.via.array, 2);
          if (ids.type != msgpack::type::ARRAY) throw bad_message("a group's members are not an array");
          g.actors.reserve(ids.via.array.size);
          for (std::uint32_t k = 0; k < ids.via.array.size; ++k) g.actors.push_back(u64(ids.via.array.ptr[k]));
          all.push_back(std::move(g));
        }
        if (op == static_cast<std::uint64_t>(groups_op::sync))
          visitor.on_sync(version, std::move(all));
        else
          visitor.on_sync_more(version, std::move(all));
        break;
      }
      default: throw bad_message("unknown groups operation");
    }
  });
}

std::vector<std::byte> encode_group_change(groups_op op, const group_key& key, std::uint64_t actor,
                                           std::uint64_t version) {
  return pack_to_bytes([&](bytes_packer& pk) {
    pk.pack_array(5);
    pk.pack(static_cast<std::uint8_t>(op));
    pack_text(pk, key.scope);
    pack_text(pk, key.group);
    pk.pack(actor);
    pk.pack(version);
  });
}

std::vector<std::byte> encode_groups_sync(std::uint64_t version, const std::vector<group_members_of>& all,
                                          groups_op op) {
  return pack_to_bytes([&](bytes_packer& pk) {
    pk.pack_array(3);
    pk.pack(static_cast<std::uint8_t>(op));
    pk.pack(version);
    pk.pack_array(static_cast<std::uint32_t>(all.size()));
    for (const group_members_of& g : all) {
      pk.pack_array(3);
      pack_text(pk, g.key.scope);
      pack_text(pk, g.key.group);
      pk.pack_array(static_cast<std::uint32_t>(g.actors.size()));
      for (const std::uint64_t id : g.actors) pk.pack(id);
    }
  });
}

std::vector<std::vector<std::byte>> encode_groups_sync_parts(std::uint64_t version,
                                                             const std::vector<group_members_of>& all,
                                                             std::size_t max_body_bytes, std::size_t& left_out) {
  const std::size_t budget = sync_part_budget(max_body_bytes);
  // Entries of at most as many members as fit a part beside their names (9 bytes a member at
  // most, 5 for each text's header and 5 for the list's).
  constexpr std::size_t id_bytes = 9, entry_overhead = 16;
  std::vector<group_members_of> entries;
  std::vector<std::size_t> sizes;
  left_out = 0;
  for (const group_members_of& g : all) {
    const std::size_t names = entry_overhead + g.key.scope.size() + g.key.group.size();
    if (names + id_bytes > budget) {
      ++left_out;
      continue;
    }
    const std::size_t per_entry = std::min((budget - names) / id_bytes, max_sync_entries);
    for (std::size_t first = 0; first < g.actors.size(); first += per_entry) {
      const std::size_t last = std::min(first + per_entry, g.actors.size());
      entries.push_back({g.key,
                         {g.actors.begin() + static_cast<std::ptrdiff_t>(first),
                          g.actors.begin() + static_cast<std::ptrdiff_t>(last)}});
      sizes.push_back(names + id_bytes * (last - first));
    }
  }
  std::size_t too_large = 0;  // none: each entry's size was bounded above
  std::vector<std::vector<std::byte>> bodies;
  for (const std::vector<std::size_t>& part : cut_into_parts(sizes, budget, max_sync_entries, too_large)) {
    std::vector<group_members_of> slice;
    slice.reserve(part.size());
    for (const std::size_t i : part) slice.push_back(std::move(entries[i]));
    bodies.push_back(encode_groups_sync(version, slice, bodies.empty() ? groups_op::sync : groups_op::sync_more));
  }
  return bodies;
}

}  // namespace eam::cluster::internal
