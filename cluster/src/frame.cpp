#include "frame.hpp"

#include "object_reader.hpp"
#include "skip_value.hpp"

#include <exception>

namespace eam::cluster::internal {

namespace {

// Caps on one decoded object, far below what a 5-byte header could ask for: an array of 2^32
// elements would otherwise be allocated before the bytes behind it are checked.
const msgpack::unpack_limit item_limits(/*array*/ 1u << 16, /*map*/ 1u << 16, /*str*/ 8u << 20, /*bin*/ 8u << 20,
                                        /*ext*/ 1u << 16, /*depth*/ 32);
// A payload read on its own (head_reader): one level less, as it sits inside its item's array.
const msgpack::unpack_limit payload_limits(item_limits.array(), item_limits.map(), item_limits.str(), item_limits.bin(),
                                           item_limits.ext(), item_limits.depth() - 1);

// The head of an item read straight from its bytes: an array's length, an unsigned integer, a
// string, each in the encodings a packer writes (msgpack-c's for these values). False, with
// nothing consumed that matters, for anything else: the caller leaves that item to the general
// path, which reads it afresh from its start.
class head_reader {
 public:
  head_reader(const char* data, std::size_t size, std::size_t offset) noexcept
      : at_(data + offset), end_(data + size) {}

  bool array(std::uint32_t& n) noexcept {
    if (at_ == end_) return false;
    const auto b = static_cast<std::uint8_t>(*at_);
    if (b >= 0x90 && b <= 0x9f) {
      n = b & 0x0fu;
      ++at_;
      return true;
    }
    if (b == 0xdc) return big_endian(2, n);
    return false;  // array 32 holds more than any item has
  }
  bool uint(std::uint64_t& v) noexcept {
    if (at_ == end_) return false;
    const auto b = static_cast<std::uint8_t>(*at_);
    if (b <= 0x7f) {
      v = b;
      ++at_;
      return true;
    }
    if (b >= 0xcc && b <= 0xcf) return big_endian(std::size_t{1} << (b - 0xcc), v);
    return false;
  }
  bool str(std::string_view& s) noexcept {
    if (at_ == end_) return false;
    const auto b = static_cast<std::uint8_t>(*at_);
    std::uint32_t n = 0;
    if (b >= 0xa0 && b <= 0xbf) {
      n = b & 0x1fu;
      ++at_;
    } else if (b < 0xd9 || b > 0xdb || !big_endian(std::size_t{1} << (b - 0xd9), n)) {
      return false;
    }
    if (n > item_limits.str() || static_cast<std::size_t>(end_ - at_) < n) return false;
    s = {at_, n};
    at_ += n;
    return true;
  }
  [[nodiscard]] std::size_t offset(const char* data) const noexcept { return static_cast<std::size_t>(at_ - data); }

 private:
  // The marker at at_, then `bytes` of a big-endian number.
  template <class Int>
  bool big_endian(std::size_t bytes, Int& out) noexcept {
    if (static_cast<std::size_t>(end_ - at_) < 1 + bytes) return false;
    std::uint64_t v = 0;
    for (std::size_t i = 1; i <= bytes; ++i) v = v << 8 | static_cast<std::uint8_t>(at_[i]);
    out = static_cast<Int>(v);
    at_ += 1 + bytes;
    return true;
  }
  const char* at_;
  const char* end_;
};

struct bad_item : std::exception {
  const char* what_;
  explicit bad_item(const char* what) : what_(what) {}
  const char* what() const noexcept override { return what_; }
};

const msgpack::object& field(const msgpack::object_array& a, std::uint32_t i) {
  if (i >= a.size) throw bad_item("an item has too few fields");
  return a.ptr[i];
}

std::uint64_t u64(const msgpack::object& o) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) throw bad_item("a number field is not an unsigned integer");
  return o.via.u64;
}

std::string_view str(const msgpack::object& o) {
  if (o.type != msgpack::type::STR) throw bad_item("a text field is not a string");
  return {o.via.str.ptr, o.via.str.size};
}

// What a peer names itself goes into logs and into addresses this node dials: printable ASCII
// only, bounded.
bool printable(std::string_view text, std::size_t most) {
  if (text.empty() || text.size() > most) return false;
  for (const char c : text)
    if (c <= ' ' || c > '~') return false;
  return true;
}

bool looks_like_host_port(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size() || address.size() - colon > 6)
    return false;
  for (std::size_t i = colon + 1; i < address.size(); ++i)
    if (address[i] < '0' || address[i] > '9') return false;
  return true;
}

// Decodes a payload of wire type `name`; an unknown name yields an empty message.
message payload(std::string_view name, const msgpack::object& o) {
  const wire_type* t = find_wire_type(name);
  if (t == nullptr) return {};
  return t->decode(o);  // throws msgpack::type_error on a shape the type does not have
}

// Casts, calls and replies, nearly all that a node receives, in the shape a sender packs them:
// their head is read from the bytes and only the payload becomes a msgpack object. Building the
// item's own array, its numbers and its type name as objects cost as much again as the payload
// (callgrind). False, with nothing read, for any other item or encoding: visit_item then reads
// it whole, so a frame decodes to what that path alone gives, errors included (the payload
// reader's depth is one less, as the payload sits one level down in the item).
bool visit_common_item(const char* data, std::size_t size, std::size_t& offset, object_reader& payloads,
                       frame_visitor& v) {
  head_reader head(data, size, offset);
  std::uint32_t fields = 0;
  std::uint64_t kind = 0, target = 0, request = 0;
  std::string_view name;
  if (!head.array(fields) || !head.uint(kind)) return false;
  switch (static_cast<item_kind>(kind)) {
    case item_kind::cast:
      if (fields != 4 || !head.uint(target) || !head.str(name)) return false;
      break;
    case item_kind::call:
      if (fields != 5 || !head.uint(target) || !head.uint(request) || !head.str(name)) return false;
      break;
    case item_kind::reply:
      if (fields != 4 || !head.uint(request) || !head.str(name)) return false;
      break;
    default: return false;
  }
  std::size_t end = head.offset(data);
  message m;
  std::string refused;  // why this node cannot take the payload; the frame goes on after it
  try {
    const msgpack::object body = payloads.read(data, size, end);
    try {
      m = payload(name, body);
    } catch (const msgpack::type_error&) {
      refused = "its payload does not have the shape of the type registered under its wire name here";
    } catch (const std::bad_alloc&) {
      refused = "out of memory while decoding its payload";
    } catch (const std::exception& e) {
      refused = std::string("its type's conversion refused the payload: ") + e.what();
    }
  } catch (const msgpack::size_overflow& e) {         // over a size or nesting limit, but maybe whole
    if (!skip_msgpack_value(data, size, end)) throw;  // cut short or malformed: the frame ends
    refused = std::string("its payload is over this node's limits (") + e.what() +
              "; at most 65,536 entries in an array or map, 8 MiB in a string or binary, 31 levels deep)";
  } catch (const std::bad_alloc&) {
    if (!skip_msgpack_value(data, size, end)) throw;
    refused = "out of memory while decoding its payload";
  }
  offset = end;
  if (!refused.empty()) {
    v.on_undecodable_payload(static_cast<item_kind>(kind), request, name, refused);
  } else if (!m) {
    v.on_unknown_type(static_cast<item_kind>(kind), request, name);
  } else if (kind == static_cast<std::uint64_t>(item_kind::cast)) {
    v.on_cast(target, std::move(m));
  } else if (kind == static_cast<std::uint64_t>(item_kind::call)) {
    v.on_call(target, request, std::move(m));
  } else {
    v.on_reply(request, std::move(m));
  }
  return true;
}

void visit_item(const msgpack::object& o, frame_visitor& v) {
  if (o.type != msgpack::type::ARRAY || o.via.array.size == 0) throw bad_item("an item is not a non-empty array");
  const auto& a = o.via.array;
  const std::uint64_t kind = u64(a.ptr[0]);
  if (kind > static_cast<std::uint64_t>(item_kind::node_at)) throw bad_item("unknown item kind");
  switch (static_cast<item_kind>(kind)) {
    case item_kind::cast: {
      const std::uint64_t target = u64(field(a, 1));
      const std::string_view name = str(field(a, 2));
      message m = payload(name, field(a, 3));
      if (!m) return v.on_unknown_type(item_kind::cast, 0, name);
      return v.on_cast(target, std::move(m));
    }
    case item_kind::call: {
      const std::uint64_t target = u64(field(a, 1));
      const std::uint64_t request = u64(field(a, 2));
      const std::string_view name = str(field(a, 3));
      message m = payload(name, field(a, 4));
      if (!m) return v.on_unknown_type(item_kind::call, request, name);
      return v.on_call(target, request, std::move(m));
    }
    case item_kind::reply: {
      const std::uint64_t request = u64(field(a, 1));
      const std::string_view name = str(field(a, 2));
      message m = payload(name, field(a, 3));
      if (!m) return v.on_unknown_type(item_kind::reply, request, name);
      return v.on_reply(request, std::move(m));
    }
    case item_kind::reply_error: {
      const std::uint64_t request = u64(field(a, 1));
      return v.on_reply(request, message::of(field(a, 2).as<error>()));
    }
    case item_kind::monitor:
      return v.on_monitor(u64(field(a, 1)));
    case item_kind::down:
      return v.on_down(u64(field(a, 1)), field(a, 2).as<exit_reason>());
    case item_kind::moved: {
      const std::uint64_t actor = u64(field(a, 1));
      actor_ref to = field(a, 2).as<actor_ref>();
      std::string node(str(field(a, 3)));
      if (!printable(node, 255)) throw bad_item("a moved item's node id is not a printable name");
      return v.on_moved(actor, std::move(to), std::move(node));
    }
    case item_kind::exit: {
      const std::uint64_t target = u64(field(a, 1));
      actor_ref from = field(a, 2).as<actor_ref>();
      return v.on_exit(target, std::move(from), field(a, 3).as<exit_reason>());
    }
    case item_kind::lookup: {
      const std::uint64_t request = u64(field(a, 1));
      std::string name(str(field(a, 2)));
      const msgpack::object& list = field(a, 3);
      if (list.type != msgpack::type::ARRAY) throw bad_item("a lookup's signatures are not an array");
      std::vector<wire_signature> sigs;
      sigs.reserve(list.via.array.size);
      for (std::uint32_t i = 0; i < list.via.array.size; ++i) {
        const msgpack::object& s = list.via.array.ptr[i];
        if (s.type != msgpack::type::ARRAY || s.via.array.size != 2) throw bad_item("a signature is not a pair");
        sigs.emplace_back(str(s.via.array.ptr[0]), str(s.via.array.ptr[1]));
      }
      return v.on_lookup(request, std::move(name), std::move(sigs));
    }
    case item_kind::lookup_reply:
      return v.on_lookup_reply(u64(field(a, 1)), u64(field(a, 2)), std::string(str(field(a, 3))));
    case item_kind::cancel: return v.on_cancel(u64(field(a, 1)));
    case item_kind::demonitor: return v.on_demonitor(u64(field(a, 1)));
    case item_kind::link: {
      const std::uint64_t target = u64(field(a, 1));
      actor_ref from = field(a, 2).as<actor_ref>();
      const std::uint64_t linked = u64(field(a, 3));
      if (linked > 1) throw bad_item("a link item's flag is neither 0 nor 1");
      return v.on_link(target, std::move(from), linked == 1);
    }
    case item_kind::where: {
      std::string node(str(field(a, 1)));
      if (!printable(node, 200)) throw bad_item("a where item's node id is not a printable name");
      return v.on_where(std::move(node), u64(field(a, 2)));
    }
    case item_kind::node_at: {
      std::string node(str(field(a, 1)));
      if (!printable(node, 200)) throw bad_item("a node_at item's node id is not a printable name");
      const std::uint64_t incarnation = u64(field(a, 2));
      std::string address(str(field(a, 3)));
      if (!printable(address, 255) || !looks_like_host_port(address))
        throw bad_item("a node_at item's address is not host:port");
      return v.on_node_at(std::move(node), incarnation, std::move(address));
    }
  }
  throw bad_item("unknown item kind");
}

}  // namespace

decode_outcome decode_frame(std::span<const std::byte> frame, frame_visitor& v) {
  decode_outcome out;
  if (frame.size() < 2) return {0, true, "a frame shorter than its header"};
  if (static_cast<std::uint8_t>(frame[0]) != wire_version) return {0, true, "unknown wire version"};
  const auto* data = reinterpret_cast<const char*>(frame.data());
  const std::size_t size = frame.size();
  std::size_t offset = 2;
  try {
    switch (static_cast<frame_kind>(frame[1])) {
      case frame_kind::gossip_state:
      case frame_kind::rekey_request:
      case frame_kind::rekey_barrier:
      case frame_kind::names:
      case frame_kind::groups:
        return {0, true, "a membership or registry frame where only a hello is accepted"};
      case frame_kind::refused:
        return {0, true, "a refusal sent to a listener"};
      case frame_kind::heartbeat:
        if (size != 2) return {0, true, "a heartbeat with a body"};
        v.on_heartbeat();
        return out;
      case frame_kind::leave:
        if (size != 2) return {0, true, "a leave with a body"};
        v.on_leave();
        return out;
      case frame_kind::hello: {
        msgpack::object_handle h = msgpack::unpack(data, size, offset, nullptr, nullptr, item_limits);
        if (offset != size) return {0, true, "bytes after a hello"};
        const msgpack::object& o = h.get();
        if (o.type != msgpack::type::ARRAY || o.via.array.size != 5) return {0, true, "a hello is not five fields"};
        const msgpack::object* f = o.via.array.ptr;
        hello hi{std::string(str(f[0])), u64(f[1]), std::string(str(f[2])), u64(f[3]), u64(f[4])};
        if (!printable(hi.node, 200)) return {0, true, "a hello's node id is empty, too long or not printable"};
        if (!printable(hi.address, 255) || !looks_like_host_port(hi.address))
          return {0, true, "a hello's address is not host:port"};
        v.on_hello(std::move(hi));
        return out;
      }
      case frame_kind::data: {
        msgpack::zone zone;  // one for the frame, emptied after each item
        object_reader payloads(zone, payload_limits);
        object_reader items(zone, item_limits);
        while (offset < size) {
          if (!visit_common_item(data, size, offset, payloads, v)) visit_item(items.read(data, size, offset), v);
          ++out.items;
          zone.clear();
        }
        return out;
      }
    }
    return {0, true, "unknown frame kind"};
  } catch (const bad_item& e) {
    out.bad = true;
    out.why = e.what();
  } catch (const msgpack::unpack_error& e) {  // truncated, too deep, too large, malformed
    out.bad = true;
    out.why = std::string("undecodable msgpack: ") + e.what();
  } catch (const msgpack::type_error& e) {  // a payload whose shape is not its type's
    out.bad = true;
    out.why = "a payload does not match its wire type";
  } catch (const std::bad_alloc&) {
    out.bad = true;
    out.why = "out of memory while decoding";
  } catch (const std::exception& e) {  // a payload type's own conversion refused the value
    out.bad = true;
    out.why = std::string("a payload failed to convert: ") + e.what();
  }
  return out;
}

void write_header(frame_buffer& out, frame_kind kind) {
  const char header[frame_header_bytes] = {static_cast<char>(wire_version), static_cast<char>(kind)};
  out.write(header, frame_header_bytes);
}

void pack_hello(frame_buffer& out, const hello& h) {
  write_header(out, frame_kind::hello);
  packer pk(out);
  pk.pack_array(5);
  pk.pack(h.node);
  pk.pack(h.incarnation);
  pk.pack(h.address);
  pk.pack(h.session);
  pk.pack(h.ended);
}

void pack_refusal(frame_buffer& out, const refusal& r) {
  write_header(out, frame_kind::refused);
  packer pk(out);
  pk.pack_array(3);
  pk.pack(static_cast<std::uint8_t>(r.reason));
  pk.pack(r.by);
  pk.pack(r.address);
}

decode_outcome decode_refusal(std::span<const std::byte> frame, refusal& out) {
  if (frame.size() < 2) return {0, true, "a frame shorter than its header"};
  if (static_cast<std::uint8_t>(frame[0]) != wire_version) return {0, true, "unknown wire version"};
  if (static_cast<frame_kind>(frame[1]) != frame_kind::refused) return {0, true, "a frame other than a refusal from a listener"};
  const auto* data = reinterpret_cast<const char*>(frame.data());
  std::size_t offset = 2;
  try {
    msgpack::object_handle h = msgpack::unpack(data, frame.size(), offset, nullptr, nullptr, item_limits);
    if (offset != frame.size()) return {0, true, "bytes after a refusal"};
    const msgpack::object& o = h.get();
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 3) return {0, true, "a refusal is not a triple"};
    if (u64(o.via.array.ptr[0]) != static_cast<std::uint8_t>(refusal_reason::node_id_in_use))
      return {0, true, "a refusal of an unknown reason"};
    refusal r{refusal_reason::node_id_in_use, std::string(str(o.via.array.ptr[1])), std::string(str(o.via.array.ptr[2]))};
    if (!printable(r.by, 200)) return {0, true, "a refusal's node id is empty, too long or not printable"};
    if (!printable(r.address, 255) || !looks_like_host_port(r.address))
      return {0, true, "a refusal's address is not host:port"};
    out = std::move(r);
    return {};
  } catch (const bad_item& e) {
    return {0, true, e.what()};
  } catch (const msgpack::unpack_error& e) {
    return {0, true, std::string("undecodable msgpack: ") + e.what()};
  } catch (const std::bad_alloc&) {
    return {0, true, "out of memory while decoding"};
  }
}

void pack_cast(packer& pk, std::uint64_t target, const wire_type& t, const void* payload) {
  pk.pack_array(4);
  pk.pack(static_cast<std::uint8_t>(item_kind::cast));
  pk.pack(target);
  pk.pack(t.name);
  t.encode(pk, payload);
}

void pack_call(packer& pk, std::uint64_t target, std::uint64_t request, const wire_type& t, const void* payload) {
  pk.pack_array(5);
  pk.pack(static_cast<std::uint8_t>(item_kind::call));
  pk.pack(target);
  pk.pack(request);
  pk.pack(t.name);
  t.encode(pk, payload);
}

void pack_reply(packer& pk, std::uint64_t request, const wire_type& t, const void* payload) {
  pk.pack_array(4);
  pk.pack(static_cast<std::uint8_t>(item_kind::reply));
  pk.pack(request);
  pk.pack(t.name);
  t.encode(pk, payload);
}

void pack_reply_error(packer& pk, std::uint64_t request, const error& e) {
  pk.pack_array(3);
  pk.pack(static_cast<std::uint8_t>(item_kind::reply_error));
  pk.pack(request);
  pk.pack(e);
}

void pack_monitor(packer& pk, std::uint64_t target) {
  pk.pack_array(2);
  pk.pack(static_cast<std::uint8_t>(item_kind::monitor));
  pk.pack(target);
}

void pack_link(packer& pk, std::uint64_t target, const actor_ref& from, bool linked) {
  pk.pack_array(4);
  pk.pack(static_cast<std::uint8_t>(item_kind::link));
  pk.pack(target);
  pk.pack(from);
  pk.pack(static_cast<std::uint8_t>(linked ? 1 : 0));
}

void pack_demonitor(packer& pk, std::uint64_t target) {
  pk.pack_array(2);
  pk.pack(static_cast<std::uint8_t>(item_kind::demonitor));
  pk.pack(target);
}

void pack_down(packer& pk, std::uint64_t actor, const exit_reason& reason) {
  pk.pack_array(3);
  pk.pack(static_cast<std::uint8_t>(item_kind::down));
  pk.pack(actor);
  pk.pack(reason);
}

void pack_moved(packer& pk, std::uint64_t actor, const actor_ref& to, std::string_view node) {
  pk.pack_array(4);
  pk.pack(static_cast<std::uint8_t>(item_kind::moved));
  pk.pack(actor);
  pk.pack(to);
  pk.pack(node);
}

void pack_exit(packer& pk, std::uint64_t target, const actor_ref& from, const exit_reason& reason) {
  pk.pack_array(4);
  pk.pack(static_cast<std::uint8_t>(item_kind::exit));
  pk.pack(target);
  pk.pack(from);
  pk.pack(reason);
}

void pack_lookup(packer& pk, std::uint64_t request, std::string_view name, const std::vector<wire_signature>& sigs) {
  pk.pack_array(4);
  pk.pack(static_cast<std::uint8_t>(item_kind::lookup));
  pk.pack(request);
  pk.pack(name);
  pk.pack_array(static_cast<std::uint32_t>(sigs.size()));
  for (const auto& [m, r] : sigs) {
    pk.pack_array(2);
    pk.pack(m);
    pk.pack(r);
  }
}

void pack_lookup_reply(packer& pk, std::uint64_t request, std::uint64_t actor, std::string_view why) {
  pk.pack_array(4);
  pk.pack(static_cast<std::uint8_t>(item_kind::lookup_reply));
  pk.pack(request);
  pk.pack(actor);
  pk.pack(why);
}

void pack_cancel(packer& pk, std::uint64_t request) {
  pk.pack_array(2);
  pk.pack(static_cast<std::uint8_t>(item_kind::cancel));
  pk.pack(request);
}

void pack_where(packer& pk, std::string_view node, std::uint64_t incarnation) {
  pk.pack_array(3);
  pk.pack(static_cast<std::uint8_t>(item_kind::where));
  pk.pack(node);
  pk.pack(incarnation);
}

void pack_node_at(packer& pk, std::string_view node, std::uint64_t incarnation, std::string_view address) {
  pk.pack_array(4);
  pk.pack(static_cast<std::uint8_t>(item_kind::node_at));
  pk.pack(node);
  pk.pack(incarnation);
  pk.pack(address);
}

}  // namespace eam::cluster::internal
