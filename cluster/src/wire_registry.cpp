#include "wire_registry.hpp"

#include <eam/cluster/errc.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

namespace eam::cluster {

namespace {

struct registry {
  std::shared_mutex lock;
  std::deque<internal::wire_type> entries;  // a deque: entries never move once added
  std::unordered_map<message_type_id, const internal::wire_type*> by_type;
  std::unordered_map<std::string_view, const internal::wire_type*> by_name;  // views into entries

  registry();
  void add(std::string name, message_type_id type, detail::encode_fn encode, detail::decode_fn decode) {
    std::unique_lock guard(lock);
    const auto t = by_type.find(type);
    const auto n = by_name.find(name);
    if (t != by_type.end() || n != by_name.end()) {
      if (t != by_type.end() && n != by_name.end() && t->second == n->second) return;  // the same pair again
      throw error(cluster_errc::invalid_config,
                  "wire name " + name + " or type " + std::string(type.name()) + " is registered with another");
    }
    const internal::wire_type& e = entries.emplace_back(internal::wire_type{std::move(name), type, encode, decode});
    by_type.emplace(type, &e);
    by_name.emplace(e.name, &e);
  }
};

template <class T>
void add_builtin(registry& r, const char* name) {
  r.add(
      name, message_type_id::of<T>(),
      [](detail::wire_packer& pk, const void* p) { pk.pack(*static_cast<const T*>(p)); },
      [](const msgpack::object& o) { return eam::message::of(o.as<T>()); });
}

// The reply types most calls answer with, so that they need no registration of their own.
registry::registry() {
  add_builtin<bool>(*this, "bool");
  add_builtin<int>(*this, "i32");
  add_builtin<long>(*this, "i64");
  add_builtin<long long>(*this, "ll64");
  add_builtin<unsigned>(*this, "u32");
  add_builtin<unsigned long>(*this, "u64");
  add_builtin<unsigned long long>(*this, "ull64");
  add_builtin<double>(*this, "f64");
  add_builtin<std::string>(*this, "string");
  add_builtin<eam::error>(*this, "eam.error");
  add_builtin<eam::exit_reason>(*this, "eam.exit_reason");
  add_builtin<eam::actor_ref>(*this, "eam.actor_ref");
}

registry& the_registry() {
  static registry r;
  return r;
}

// Domains named on the wire that this process does not link (another layer's codes): made once
// per name and kept, so that an error_code may point to them; they compare equal by name.
struct foreign_domains {
  std::mutex lock;
  std::unordered_map<std::string, std::unique_ptr<error_domain>> by_name;
  std::deque<std::string> names;
};

}  // namespace

namespace detail {

void add_wire_type(std::string wire_name, message_type_id type, encode_fn encode, decode_fn decode) {
  the_registry().add(std::move(wire_name), type, encode, decode);
}

const error_domain& domain_named(std::string_view name) {
  if (name == error_code(errc::timeout).domain().name) return error_code(errc::timeout).domain();
  if (name == error_code(cluster_errc::invalid_config).domain().name) return error_code(cluster_errc::invalid_config).domain();
  static foreign_domains foreign;
  std::lock_guard guard(foreign.lock);
  if (foreign.by_name.size() >= 64 && !foreign.by_name.contains(std::string(name)))
    throw msgpack::type_error();  // a peer inventing domains: bad input, not memory to keep
  auto& slot = foreign.by_name[std::string(name)];
  if (!slot) {
    const std::string& kept = foreign.names.emplace_back(name);
    slot = std::make_unique<error_domain>(error_domain{kept, [](int) noexcept { return std::string_view("code"); }});
  }
  return *slot;
}

}  // namespace detail

namespace internal {

namespace {

// Entries never move or go, so each thread keeps the types it found, in 16 places picked by a
// hash of the key. A worker runs many actors, each sending its own few types, and the I/O
// thread decodes what every peer sends: with one remembered type, two alternating types sent
// the thread to the registry's shared lock for each message, and every reader writes that
// lock's word, a line that all the sending workers passed between them. Misses are not kept:
// a type may be registered later.
constexpr std::size_t remembered_places = 16;
using remembered = std::array<const wire_type*, remembered_places>;

template <class Matches, class Find>
const wire_type* remembered_or_found(remembered& places, std::uint64_t hash, Matches matches, Find find) noexcept {
  static_assert(remembered_places == 16);
  const wire_type*& place = places[(hash * 0x9e3779b97f4a7c15ULL) >> 60];  // the product's top 4 bits
  if (place != nullptr && matches(*place)) return place;
  registry& r = the_registry();
  std::shared_lock guard(r.lock);
  const wire_type* found = find(r);
  if (found != nullptr) place = found;
  return found;
}

// Cheap and enough to spread a program's wire names: their length and their first and last
// eight bytes (names often share a prefix, such as an application's).
std::uint64_t name_hash(std::string_view name) noexcept {
  std::uint64_t first = 0, last = 0;
  const std::size_t n = std::min<std::size_t>(name.size(), 8);
  if (n != 0) {  // an empty view may have no data
    std::memcpy(&first, name.data(), n);
    std::memcpy(&last, name.data() + name.size() - n, n);
  }
  return name.size() ^ first ^ (last * 31);
}

}  // namespace

const wire_type* find_wire_type(message_type_id type) noexcept {
  thread_local constinit remembered places{};
  return remembered_or_found(
      places, reinterpret_cast<std::uintptr_t>(type.descriptor()),
      [type](const wire_type& t) { return t.type == type; },
      [type](registry& r) -> const wire_type* {
        const auto it = r.by_type.find(type);
        return it == r.by_type.end() ? nullptr : it->second;
      });
}

const wire_type* find_wire_type(std::string_view name) noexcept {
  // The last one first: a frame's items are often of one type, and this skips the hash.
  thread_local constinit const wire_type* last = nullptr;
  if (last != nullptr && last->name == name) return last;
  thread_local constinit remembered places{};
  const wire_type* found = remembered_or_found(
      places, name_hash(name), [name](const wire_type& t) { return t.name == name; },
      [name](registry& r) -> const wire_type* {
        const auto it = r.by_name.find(name);
        return it == r.by_name.end() ? nullptr : it->second;
      });
  if (found != nullptr) last = found;
  return found;
}

std::vector<const wire_type*> all_wire_types() {
  registry& r = the_registry();
  std::shared_lock guard(r.lock);
  std::vector<const wire_type*> out;
  out.reserve(r.entries.size());
  for (const wire_type& t : r.entries) out.push_back(&t);
  return out;
}

}  // namespace internal
}  // namespace eam::cluster
