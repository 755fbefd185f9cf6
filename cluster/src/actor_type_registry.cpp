// The process-wide table of actor types spawnable by name (placement.hpp): written when types
// are registered (rare, at start), read on every spawn by name.
#include "remote_spawn.hpp"

#include <eam/cluster/errc.hpp>

#include <map>
#include <mutex>
#include <shared_mutex>

namespace eam::cluster {

namespace {

struct actor_types {
  std::shared_mutex lock;
  std::map<std::string, internal::actor_type_entry, std::less<>> by_name;  // a node never moves once added
  std::map<std::string_view, const internal::actor_type_entry*, std::less<>> by_engine_type;
};

actor_types& the_types() {
  static actor_types t;
  return t;
}

}  // namespace

void detail::add_actor_type(std::string type_name, remote_factory factory, std::optional<state_codec> migration) {
  actor_types& t = the_types();
  std::unique_lock guard(t.lock);
  const auto [it, fresh] = t.by_name.try_emplace(type_name, internal::actor_type_entry{type_name, std::move(factory), {}});
  if (!fresh) throw error(cluster_errc::invalid_config, "actor type " + type_name + " is registered already");
  if (migration) {
    it->second.migration = std::move(migration);
    for (std::string_view engine_type : it->second.migration->engine_types) t.by_engine_type[engine_type] = &it->second;
  }
}

const internal::actor_type_entry* internal::find_actor_type(std::string_view type_name) {
  actor_types& t = the_types();
  std::shared_lock guard(t.lock);
  const auto it = t.by_name.find(type_name);
  return it == t.by_name.end() ? nullptr : &it->second;
}

const internal::actor_type_entry* internal::find_migratable_type(std::string_view engine_type) {
  actor_types& t = the_types();
  std::shared_lock guard(t.lock);
  const auto it = t.by_engine_type.find(engine_type);
  return it == t.by_engine_type.end() ? nullptr : it->second;
}

}  // namespace eam::cluster
