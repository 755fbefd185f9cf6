#include "gossip_wire.hpp"

#include "msgpack_fields.hpp"

#include <algorithm>

namespace eam::cluster::internal {

namespace {

void pack_member_fields(bytes_packer& pk, const member& m) {
  pack_text(pk, m.id);
  pk.pack(m.incarnation);
  pack_text(pk, m.address);
  pk.pack_array(static_cast<std::uint32_t>(m.roles.size()));
  for (const auto& r : m.roles) pack_text(pk, r);
  pk.pack_map(static_cast<std::uint32_t>(m.metadata.size()));
  for (const auto& [k, v] : m.metadata) {
    pack_text(pk, k);
    pack_text(pk, v);
  }
}

// An array or map header is allocated before its elements are read: no header may claim more
// elements than the body has bytes (each takes at least one), nor more than a state holds.
msgpack::unpack_limit gossip_limits(std::size_t body_bytes) {
  const std::size_t most = std::min(body_bytes, max_state_members);
  return msgpack::unpack_limit(/*array*/ most, /*map*/ std::min(most, max_gossip_entries), /*str*/ max_gossip_text,
                               /*bin*/ 0, /*ext*/ 0, /*depth*/ 8);
}

// Ids, addresses, roles and metadata reach logs, maps and dialled addresses: bounded.
std::string_view text(const msgpack::object& o, bool allow_empty = false, bool allow_space = false) {
  return internal::text(o, max_gossip_text, allow_empty, allow_space);
}

std::string_view address(const msgpack::object& o) {
  const std::string_view a = text(o);
  const auto colon = a.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == a.size() || a.size() - colon > 6)
    throw bad_message("an address is not host:port");
  for (std::size_t i = colon + 1; i < a.size(); ++i)
    if (a[i] < '0' || a[i] > '9') throw bad_message("an address is not host:port");
  return a;
}

// [id, incarnation, address, [roles], {metadata}] starting at field `at` of `a`.
member read_member(const msgpack::object_array& a, std::uint32_t at) {
  member m;
  m.id = text(field(a, at));
  m.incarnation = u64(field(a, at + 1));
  m.address = address(field(a, at + 2));
  const msgpack::object& roles = field(a, at + 3);
  if (roles.type != msgpack::type::ARRAY || roles.via.array.size > max_gossip_entries)
    throw bad_message("roles are not a short array");
  for (std::uint32_t i = 0; i < roles.via.array.size; ++i) m.roles.emplace_back(text(roles.via.array.ptr[i]));
  const msgpack::object& meta = field(a, at + 4);
  if (meta.type != msgpack::type::MAP || meta.via.map.size > max_gossip_entries)
    throw bad_message("metadata is not a short map");
  for (std::uint32_t i = 0; i < meta.via.map.size; ++i)
    m.metadata.insert_or_assign(std::string(text(meta.via.map.ptr[i].key)),
                                std::string(text(meta.via.map.ptr[i].val, true, true)));
  return m;
}

void visit_message(const msgpack::object& o, gossip_visitor& v) {
  if (o.type != msgpack::type::ARRAY || o.via.array.size == 0) throw bad_message("a message is not a non-empty array");
  const auto& a = o.via.array;
  const std::uint64_t kind = u64(a.ptr[0]);
  if (kind > static_cast<std::uint64_t>(gossip_kind::state)) throw bad_message("unknown message kind");
  switch (static_cast<gossip_kind>(kind)) {
    case gossip_kind::ping: return v.on_ping(u64(field(a, 1)), text(field(a, 2)));
    case gossip_kind::indirect_ping:
      return v.on_indirect_ping(u64(field(a, 1)), text(field(a, 2)), address(field(a, 3)));
    case gossip_kind::ack: return v.on_ack(u64(field(a, 1)));
    case gossip_kind::nack: return v.on_nack(u64(field(a, 1)));
    case gossip_kind::alive: {
      member m = read_member(a, 1);
      return v.on_alive(std::move(m));
    }
    case gossip_kind::suspect: return v.on_suspect(text(field(a, 1)), u64(field(a, 2)), text(field(a, 3)));
    case gossip_kind::dead: return v.on_dead(text(field(a, 1)), u64(field(a, 2)), text(field(a, 3)));
    case gossip_kind::state: {
      const bool is_reply = boolean(field(a, 1));
      const bool is_join = boolean(field(a, 2));
      const msgpack::object& list = field(a, 3);
      if (list.type != msgpack::type::ARRAY) throw bad_message("a state's members are not an array");
      std::vector<member> members;
      members.reserve(list.via.array.size);
      for (std::uint32_t i = 0; i < list.via.array.size; ++i) {
        const msgpack::object& e = list.via.array.ptr[i];
        if (e.type != msgpack::type::ARRAY) throw bad_message("a state entry is not an array");
        member m = read_member(e.via.array, 0);
        const std::uint64_t status = u64(field(e.via.array, 5));
        if (status > static_cast<std::uint64_t>(member_status::left)) throw bad_message("unknown member status");
        m.status = static_cast<member_status>(status);
        members.push_back(std::move(m));
      }
      return v.on_state(is_reply, is_join, std::move(members));
    }
  }
}

}  // namespace

gossip_decode_outcome decode_gossip(std::span<const std::byte> body, gossip_visitor& visitor) {
  gossip_decode_outcome out;
  const decode_verdict verdict = decode_untrusted(body, gossip_limits(body.size()), [&](const msgpack::object& all) {
    if (all.type != msgpack::type::ARRAY) throw bad_message("a body is not an array");
    for (std::uint32_t i = 0; i < all.via.array.size; ++i) {
      visit_message(all.via.array.ptr[i], visitor);
      ++out.messages;
    }
  });
  out.bad = verdict.bad;
  out.why = verdict.why;
  return out;
}

encoded_message encode_ping(std::uint64_t seq, std::string_view target) {
  return pack_to_bytes([&](bytes_packer& pk) {
    pk.pack_array(3);
    pk.pack(static_cast<std::uint8_t>(gossip_kind::ping));
    pk.pack(seq);
    pack_text(pk, target);
  });
}

encoded_message encode_indirect_ping(std::uint64_t seq, std::string_view target, std::string_view target_address) {
  return pack_to_bytes([&](bytes_packer& pk) {
    pk.pack_array(4);
    pk.pack(static_cast<std::uint8_t>(gossip_kind::indirect_ping));
    pk.pack(seq);
    pack_text(pk, target);
    pack_text(pk, target_address);
  });
}

encoded_message encode_ack(std::uint64_t seq) {
  return pack_to_bytes([&](bytes_packer& pk) {
    pk.pack_array(2);
    pk.pack(static_cast<std::uint8_t>(gossip_kind::ack));
    pk.pack(seq);
  });
}

encoded_message encode_nack(std::uint64_t seq) {
  return pack_to_bytes([&](bytes_packer& pk) {
    pk.pack_array(2);
    pk.pack(static_cast<std::uint8_t>(gossip_kind::nack));
    pk.pack(seq);
  });
}

encoded_message encode_alive(const member& m) {
  return pack_to_bytes([&](bytes_packer& pk) {
    pk.pack_array(6);
    pk.pack(static_cast<std::uint8_t>(gossip_kind::alive));
    pack_member_fields(pk, m);
  });
}

namespace {
encoded_message encode_accusation(gossip_kind kind, std::string_view id, std::uint64_t incarnation,
                                  std::string_view from) {
  return pack_to_bytes([&](bytes_packer& pk) {
    pk.pack_array(4);
    pk.pack(static_cast<std::uint8_t>(kind));
    pack_text(pk, id);
    pk.pack(incarnation);
    pack_text(pk, from);
  });
}
}  // namespace

encoded_message encode_suspect(std::string_view id, std::uint64_t incarnation, std::string_view from) {
  return encode_accusation(gossip_kind::suspect, id, incarnation, from);
}

encoded_message encode_dead(std::string_view id, std::uint64_t incarnation, std::string_view from) {
  return encode_accusation(gossip_kind::dead, id, incarnation, from);
}

std::vector<std::byte> encode_state(bool is_reply, bool is_join, const std::vector<member>& members) {
  return pack_to_bytes([&](bytes_packer& pk) {
    pk.pack_array(1);  // a body of one message
    pk.pack_array(4);
    pk.pack(static_cast<std::uint8_t>(gossip_kind::state));
    pk.pack(is_reply);
    pk.pack(is_join);
    pk.pack_array(static_cast<std::uint32_t>(members.size()));
    for (const member& m : members) {
      pk.pack_array(6);
      pack_member_fields(pk, m);
      pk.pack(static_cast<std::uint8_t>(m.status));
    }
  });
}

std::vector<std::byte> make_body(std::span<const encoded_message* const> messages) {
  std::size_t size = body_overhead;
  for (const auto* m : messages) size += m->size();
  std::vector<std::byte> out;
  out.reserve(size);
  byte_sink sink{out};
  bytes_packer pk(sink);
  pk.pack_array(static_cast<std::uint32_t>(messages.size()));
  for (const auto* m : messages) out.insert(out.end(), m->begin(), m->end());
  return out;
}

}  // namespace eam::cluster::internal
