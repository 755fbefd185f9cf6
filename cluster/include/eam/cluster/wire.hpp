#pragma once
/// What crosses nodes: message types registered once under a stable wire name, encoded with
/// msgpack-cxx. Describe a type's fields once with msgpack's MSGPACK_DEFINE (or an adaptor) and
/// register it on every node, before the nodes exchange it:
///
///   struct add { int n; MSGPACK_DEFINE(n); };
///   eam::cluster::register_message<add>("app.add");
///
/// Strings, numbers, vectors, maps, optionals and the types below travel out of the box:
/// `actor_ref` and `typed_ref<...>` (as node, incarnation and actor id; they arrive as working
/// refs), `eam::error` (domain, code, text), `eam::exit_reason` (kind, text), `std::variant`
/// and `std::monostate`. A call's reply type is registered the same way; the common ones
/// (bool, the integer types, double, std::string) are registered already.

#include <eam/engine/actor_ref.hpp>
#include <eam/engine/any_message.hpp>
#include <eam/engine/error.hpp>

#include <msgpack.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace eam::cluster {

namespace detail {
/// The bytes of one outgoing frame: a growable buffer msgpack packs into, that can drop an
/// item half packed (an encoding that threw) and hand its memory to ZeroMQ without a copy.
class frame_buffer {
 public:
  frame_buffer() = default;
  frame_buffer(frame_buffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), capacity_(std::exchange(o.capacity_, 0)) {}
  frame_buffer& operator=(frame_buffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(capacity_, o.capacity_);
    return *this;
  }
  ~frame_buffer() { std::free(data_); }

  void write(const char* bytes, std::size_t n) {
    if (size_ + n > capacity_) grow(size_ + n);
    std::memcpy(data_ + size_, bytes, n);
    size_ += n;
  }
  /// Room for `n` bytes in all, allocated now.
  void reserve(std::size_t n) {
    if (n > capacity_) grow_exactly(n);
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] const char* data() const noexcept { return data_; }
  /// Drops everything after the first `n` bytes.
  void truncate(std::size_t n) noexcept { size_ = n < size_ ? n : size_; }
  /// Gives up the memory (allocated with malloc: free it with std::free).
  [[nodiscard]] char* release() noexcept {
    size_ = capacity_ = 0;
    return std::exchange(data_, nullptr);
  }

 private:
  void grow(std::size_t need) {
    std::size_t cap = capacity_ != 0 ? capacity_ * 2 : 4096;
    while (cap < need) cap *= 2;
    grow_exactly(cap);
  }
  void grow_exactly(std::size_t cap) {
    void* p = std::realloc(data_, cap);
    if (p == nullptr) throw std::bad_alloc();
    data_ = static_cast<char*>(p);
    capacity_ = cap;
  }
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

/// A msgpack float 32 or float 64, marker and big-endian bits: the value exactly as it is.
template <class Float>
std::array<char, 1 + sizeof(Float)> float_bytes(Float value) noexcept {
  static_assert(std::is_same_v<Float, float> || std::is_same_v<Float, double>);
  using bits_type = std::conditional_t<sizeof(Float) == 8, std::uint64_t, std::uint32_t>;
  bits_type bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  std::array<char, 1 + sizeof(Float)> bytes{static_cast<char>(sizeof(Float) == 8 ? 0xcbU : 0xcaU)};
  for (std::size_t i = 0; i < sizeof bits; ++i) bytes[1 + i] = static_cast<char>(bits >> (8 * (sizeof bits - 1 - i)));
  return bytes;
}
}  // namespace detail
}  // namespace eam::cluster

// msgpack-cxx 4.1's packer writes a whole double or float as an integer, so -0.0 arrives as
// 0.0, and its range check lets exactly 2^64 through to a conversion to uint64_t, which is
// undefined behaviour (the frame fuzzer's UBSan found it); a value that came from another node
// may be either. The wire's own packer writes every double as a float 64 and every float as a
// float 32, bit for bit, in every adaptor that packs one (a user's fields included).
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(v1) {
template <>
inline packer<eam::cluster::detail::frame_buffer>& packer<eam::cluster::detail::frame_buffer>::pack_double(double d) {
  const auto bytes = eam::cluster::detail::float_bytes(d);
  append_buffer(bytes.data(), bytes.size());
  return *this;
}

template <>
inline packer<eam::cluster::detail::frame_buffer>& packer<eam::cluster::detail::frame_buffer>::pack_float(float f) {
  const auto bytes = eam::cluster::detail::float_bytes(f);
  append_buffer(bytes.data(), bytes.size());
  return *this;
}
}  // MSGPACK_API_VERSION_NAMESPACE(v1)
}  // namespace msgpack

namespace eam::cluster {
namespace detail {
using wire_packer = msgpack::packer<frame_buffer>;
using encode_fn = void (*)(wire_packer&, const void* payload);
using decode_fn = eam::message (*)(const msgpack::object&);
/// Binds `wire_name` to a type: throws eam::error(cluster_errc::invalid_config) when the name
/// or the type is bound to another already (the same pair again is fine).
void add_wire_type(std::string wire_name, message_type_id type, encode_fn encode, decode_fn decode);

/// A ref on the wire, resolved against the node that encodes or decodes on this thread.
struct wire_ref {
  std::string node;
  std::uint64_t incarnation = 0;
  std::uint64_t actor = 0;
};
/// Throws msgpack::type_error when no node is encoding on this thread.
wire_ref encode_ref(const actor_ref& ref);
actor_ref decode_ref(const wire_ref& ref);
/// The error domain of a name from the wire (an unknown name gets a domain of that name).
const error_domain& domain_named(std::string_view name);
}  // namespace detail

/// Registers M under `wire_name` for every node of this process. M is decoded by msgpack's
/// `as<M>` (a default-constructed value converted, or an `as` adaptor of M's own).
template <class M>
void register_message(std::string wire_name) {
  detail::add_wire_type(
      std::move(wire_name), message_type_id::of<M>(),
      [](detail::wire_packer& pk, const void* payload) { pk.pack(*static_cast<const M*>(payload)); },
      [](const msgpack::object& o) { return eam::message::of(o.as<M>()); });
}

}  // namespace eam::cluster

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <>
struct pack<eam::actor_ref> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const eam::actor_ref& v) const {
    if (!v) return o.pack_nil();
    const auto w = eam::cluster::detail::encode_ref(v);
    o.pack_array(3);
    o.pack(w.node);
    o.pack(w.incarnation);
    o.pack(w.actor);
    return o;
  }
};
template <>
struct convert<eam::actor_ref> {
  const msgpack::object& operator()(const msgpack::object& o, eam::actor_ref& v) const {
    if (o.is_nil()) {
      v = eam::actor_ref{};
      return o;
    }
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 3) throw msgpack::type_error();
    eam::cluster::detail::wire_ref w;
    o.via.array.ptr[0].convert(w.node);
    o.via.array.ptr[1].convert(w.incarnation);
    o.via.array.ptr[2].convert(w.actor);
    v = eam::cluster::detail::decode_ref(w);
    return o;
  }
};

template <class... Sigs>
struct pack<eam::typed_ref<Sigs...>> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const eam::typed_ref<Sigs...>& v) const {
    return o.pack(static_cast<const eam::actor_ref&>(v));
  }
};
/// A typed ref's type travelled with the sender's own checked ref: it arrives unchecked.
template <class... Sigs>
struct convert<eam::typed_ref<Sigs...>> {
  const msgpack::object& operator()(const msgpack::object& o, eam::typed_ref<Sigs...>& v) const {
    eam::actor_ref r;
    o.convert(r);
    v = eam::unchecked_typed_ref_cast<eam::typed_ref<Sigs...>>(std::move(r));
    return o;
  }
};

template <>
struct pack<eam::error> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const eam::error& v) const {
    o.pack_array(3);
    o.pack(v.code().domain().name);
    o.pack(v.code().value());
    o.pack(v.context());
    return o;
  }
};
/// An error has no empty state: it is built from the object (msgpack's `as`).
template <>
struct as<eam::error> {
  eam::error operator()(const msgpack::object& o) const {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 3) throw msgpack::type_error();
    const auto domain = o.via.array.ptr[0].as<std::string_view>();
    const int code = o.via.array.ptr[1].as<int>();
    return eam::error(eam::error_code(eam::cluster::detail::domain_named(domain), code),
                      o.via.array.ptr[2].as<std::string>());
  }
};
template <>
struct convert<eam::error> {
  const msgpack::object& operator()(const msgpack::object& o, eam::error& v) const {
    v = as<eam::error>{}(o);
    return o;
  }
};

template <>
struct pack<eam::exit_reason> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const eam::exit_reason& v) const {
    o.pack_array(2);
    o.pack(static_cast<std::uint8_t>(v.type()));
    o.pack(v.text());
    return o;
  }
};
template <>
struct convert<eam::exit_reason> {
  const msgpack::object& operator()(const msgpack::object& o, eam::exit_reason& v) const {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 2) throw msgpack::type_error();
    const auto kind = o.via.array.ptr[0].as<std::uint8_t>();
    // shutdown is the last kind (error.hpp appends): a number past it is no reason this node knows.
    if (kind > static_cast<std::uint8_t>(eam::exit_reason::kind::shutdown)) throw msgpack::type_error();
    v = eam::exit_reason::of(static_cast<eam::exit_reason::kind>(kind), o.via.array.ptr[1].as<std::string>());
    return o;
  }
};

template <>
struct pack<std::monostate> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const std::monostate&) const {
    return o.pack_nil();
  }
};
template <>
struct convert<std::monostate> {
  const msgpack::object& operator()(const msgpack::object& o, std::monostate&) const {
    if (!o.is_nil()) throw msgpack::type_error();
    return o;
  }
};

/// A variant travels as [index, value].
template <class... Ts>
struct pack<std::variant<Ts...>> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const std::variant<Ts...>& v) const {
    o.pack_array(2);
    o.pack(static_cast<std::uint32_t>(v.index()));
    std::visit([&](const auto& x) { o.pack(x); }, v);
    return o;
  }
};
template <class... Ts>
struct convert<std::variant<Ts...>> {
  const msgpack::object& operator()(const msgpack::object& o, std::variant<Ts...>& v) const {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 2) throw msgpack::type_error();
    const auto index = o.via.array.ptr[0].as<std::uint32_t>();
    if (index >= sizeof...(Ts)) throw msgpack::type_error();
    assign<0>(index, o.via.array.ptr[1], v);
    return o;
  }

 private:
  template <std::size_t I>
  static void assign(std::uint32_t index, const msgpack::object& value, std::variant<Ts...>& v) {
    if constexpr (I < sizeof...(Ts)) {
      if (index == I) {
        using alternative = std::variant_alternative_t<I, std::variant<Ts...>>;
        if constexpr (msgpack::has_as<alternative>::value) {  // no empty state (eam::error)
          v.template emplace<I>(value.as<alternative>());
        } else {
          alternative x{};
          value.convert(x);
          v.template emplace<I>(std::move(x));
        }
      } else {
        assign<I + 1>(index, value, v);
      }
    }
  }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
