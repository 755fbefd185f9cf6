#include "wire_registry.hpp"

#include <eam/cluster/errc.hpp>

#include <array>
#include <cstdint>
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

// Entries never move or go, so each thread keeps the types it found, 16 places picked by the
// type's address: a worker runs many actors, each sending its own few types, and one remembered
// type sent it to the shared lock whenever two alternated; that lock's word is written by every
// reader, a line that all the sending workers passed between them on every message.
const wire_type* find_wire_type(message_type_id type) noexcept {
  constexpr std::size_t places = 16;
  thread_local constinit std::array<const wire_type*, places> found{};
  const auto key = reinterpret_cast<std::uintptr_t>(type.descriptor());
  const wire_type*& place = found[(key * 0x9e3779b97f4a7c15ULL) >> 60];  // the top 4 bits
  static_assert(places == 16);
  if (place != nullptr && place->type == type) return place;
  registry& r = the_registry();
  std::shared_lock guard(r.lock);
  const auto it = r.by_type.find(type);
  if (it == r.by_type.end()) return nullptr;  // not kept: it may be registered later
  return place = it->second;
}

const wire_type* find_wire_type(std::string_view name) noexcept {
  thread_local const wire_type* last = nullptr;  // the decoding thread's, as above
  if (last != nullptr && last->name == name) return last;
  registry& r = the_registry();
  std::shared_lock guard(r.lock);
  const auto it = r.by_name.find(name);
  if (it == r.by_name.end()) return nullptr;
  return last = it->second;
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
