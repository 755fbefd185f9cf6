#include "names_wire.hpp"

#include "msgpack_fields.hpp"
#include "sync_parts.hpp"

#include <algorithm>

namespace eam::cluster::internal {

namespace {

// [name, stamp, actor, [[message, reply]...]]
void pack_claim_fields(bytes_packer& pk, const name_announcement& a) {
  pack_text(pk, a.name);
  pk.pack(a.stamp);
  pk.pack(a.actor);
  pk.pack_array(static_cast<std::uint32_t>(a.signatures.size()));
  for (const auto& [message, reply] : a.signatures) {
    pk.pack_array(2);
    pack_text(pk, message);
    pack_text(pk, reply);
  }
}

// A name may hold spaces and UTF-8; never control characters (it reaches logs).
std::string_view name_text(const msgpack::object& o) {
  if (o.type != msgpack::type::STR) throw bad_message("a name is not a string");
  const std::string_view t{o.via.str.ptr, o.via.str.size};
  if (!announceable_name(t)) throw bad_message("a name is empty, too long or holds a control character");
  return t;
}

name_announcement read_claim(const msgpack::object_array& a, std::uint32_t at) {
  name_announcement c;
  c.name = name_text(field(a, at));
  c.stamp = u64(field(a, at + 1));
  c.actor = u64(field(a, at + 2));
  const msgpack::object& sigs = field(a, at + 3);
  if (sigs.type != msgpack::type::ARRAY || sigs.via.array.size > max_claim_signatures)
    throw bad_message("signatures are not a short array");
  c.signatures.reserve(sigs.via.array.size);
  for (std::uint32_t i = 0; i < sigs.via.array.size; ++i) {
    const msgpack::object& s = sigs.via.array.ptr[i];
    if (s.type != msgpack::type::ARRAY || s.via.array.size != 2) throw bad_message("a signature is not a pair");
    c.signatures.emplace_back(std::string(text(s.via.array.ptr[0], max_name_bytes)),
                              std::string(text(s.via.array.ptr[1], max_name_bytes, true)));
  }
  return c;
}

}  // namespace

bool announceable_name(std::string_view name) noexcept { return valid_wire_name(name, max_name_bytes); }

names_decode_outcome decode_names(std::span<const std::byte> body, names_visitor& visitor) {
  // No header may claim more elements than the body has bytes (each takes at least one).
  const std::size_t most = std::min(body.size(), max_sync_names);
  return decode_untrusted(body, msgpack::unpack_limit(most, 0, max_name_bytes, 0, 0, 6), [&](const msgpack::object& o) {
    if (o.type != msgpack::type::ARRAY || o.via.array.size == 0) throw bad_message("a message is not a non-empty array");
    const auto& a = o.via.array;
    const std::uint64_t op = u64(a.ptr[0]);
    switch (op) {
      case static_cast<std::uint64_t>(names_op::put): visitor.on_put(read_claim(a, 1)); break;
      case static_cast<std::uint64_t>(names_op::del):
        visitor.on_del(std::string(name_text(field(a, 1))), u64(field(a, 2)));
        break;
      case static_cast<std::uint64_t>(names_op::sync):
      case static_cast<std::uint64_t>(names_op::sync_more): {
        const msgpack::object& list = field(a, 1);
        if (list.type != msgpack::type::ARRAY) throw bad_message("a sync's names are not an array");
        std::vector<name_announcement> all;
        all.reserve(list.via.array.size);
        for (std::uint32_t i = 0; i < list.via.array.size; ++i) {
          const msgpack::object& e = list.via.array.ptr[i];
          if (e.type != msgpack::type::ARRAY) throw bad_message("a sync entry is not an array");
          all.push_back(read_claim(e.via.array, 0));
        }
        if (op == static_cast<std::uint64_t>(names_op::sync))
          visitor.on_sync(std::move(all));
        else
          visitor.on_sync_more(std::move(all));
        break;
      }
      default: throw bad_message("unknown registry operation");
    }
  });
}

std::vector<std::byte> encode_put(const name_announcement& a) {
  return pack_to_bytes([&](bytes_packer& pk) {
    pk.pack_array(5);
    pk.pack(static_cast<std::uint8_t>(names_op::put));
    pack_claim_fields(pk, a);
  });
}

std::vector<std::byte> encode_del(std::string_view name, std::uint64_t stamp) {
  return pack_to_bytes([&](bytes_packer& pk) {
    pk.pack_array(3);
    pk.pack(static_cast<std::uint8_t>(names_op::del));
    pack_text(pk, name);
    pk.pack(stamp);
  });
}

std::vector<std::byte> encode_sync(const std::vector<name_announcement>& all, names_op op) {
  return pack_to_bytes([&](bytes_packer& pk) {
    pk.pack_array(2);
    pk.pack(static_cast<std::uint8_t>(op));
    pk.pack_array(static_cast<std::uint32_t>(all.size()));
    for (const name_announcement& a : all) {
      pk.pack_array(4);
      pack_claim_fields(pk, a);
    }
  });
}

std::vector<std::vector<std::byte>> encode_sync_parts(const std::vector<name_announcement>& all,
                                                      std::size_t max_body_bytes, std::size_t& left_out) {
  std::vector<std::size_t> sizes;
  sizes.reserve(all.size());
  for (const name_announcement& a : all)
    sizes.push_back(pack_to_bytes([&](bytes_packer& pk) {
                      pk.pack_array(4);
                      pack_claim_fields(pk, a);
                    }).size());
  const std::size_t budget = sync_part_budget(max_body_bytes);
  std::vector<std::vector<std::byte>> bodies;
  for (const std::vector<std::size_t>& part : cut_into_parts(sizes, budget, max_sync_names, left_out)) {
    std::vector<name_announcement> names;
    names.reserve(part.size());
    for (const std::size_t i : part) names.push_back(all[i]);
    bodies.push_back(encode_sync(names, bodies.empty() ? names_op::sync : names_op::sync_more));
  }
  return bodies;
}

}  // namespace eam::cluster::internal
