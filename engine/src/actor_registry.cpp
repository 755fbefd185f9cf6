#include "actor_registry.hpp"

#include "actor_cell.hpp"

namespace eam::internal {

actor_registry::shard& actor_registry::shard_of(const actor_cell* c) noexcept {
  return shards_[shard_index(c->id())];
}

void actor_registry::add(actor_cell* c) noexcept {
  shard& s = shard_of(c);
  std::lock_guard lock(s.mutex);
  c->registry_slot = s.cells.insert(c);
  s.live.store(s.cells.size(), std::memory_order_relaxed);  // nothing to publish: the actor has not run
}

void actor_registry::remove(actor_cell* c) noexcept {
  shard& s = shard_of(c);
  std::lock_guard lock(s.mutex);
  s.cells.erase(c->registry_slot);
  s.cells.compact_if_sparse([](actor_cell* moved, std::uint32_t slot) { moved->registry_slot = slot; });
  s.live.store(s.cells.size(), std::memory_order_release);
}

std::size_t actor_registry::count() const noexcept {
  std::size_t sum = 0;
  for (const shard& s : shards_) sum += s.live.load(std::memory_order_acquire);
  return sum;
}

std::vector<actor_cell*> actor_registry::roots() const {
  std::vector<actor_cell*> out;
  for (const shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    s.cells.for_each([&out](actor_cell* c) {
      if (c->parent() == nullptr) {
        c->add_ref();
        out.push_back(c);
      }
    });
  }
  return out;
}

bool actor_registry::all_idle() const {
  for (const shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    if (s.cells.find_if([](const actor_cell* c) { return !c->is_idle(); }) != nullptr) return false;
  }
  return true;
}

void actor_registry::for_each(const std::function<void(const actor_cell&)>& f) const {
  for (const shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    s.cells.for_each([&f](const actor_cell* c) { f(*c); });
  }
}

actor_cell* actor_registry::find(std::uint64_t id) const {
  const shard& s = shards_[shard_index(id)];
  std::lock_guard lock(s.mutex);
  actor_cell* c = s.cells.find_if([id](const actor_cell* cell) { return cell->id() == id; });
  if (c != nullptr) c->add_ref();
  return c;
}

bool actor_registry::register_name(const std::string& name, actor_cell* c) {
  std::lock_guard lock(names_mutex_);
  if (!names_.try_emplace(name, c).second) return false;
  names_changed();
  return true;
}

bool actor_registry::unregister_name(const std::string& name, const actor_cell* c) noexcept {
  std::lock_guard lock(names_mutex_);
  auto it = names_.find(name);
  if (it == names_.end() || it->second != c) return false;
  names_.erase(it);
  names_changed();
  return true;
}

void actor_registry::set_extension(std::shared_ptr<name_extension> extension) {
  std::lock_guard lock(names_mutex_);
  extension_ = std::move(extension);
  names_changed();
}

std::shared_ptr<name_extension> actor_registry::extension() const {
  std::lock_guard lock(names_mutex_);
  return extension_;
}

actor_cell* actor_registry::whereis(std::string_view name) const {
  std::lock_guard lock(names_mutex_);
  auto it = names_.find(name);
  if (it == names_.end()) return nullptr;
  it->second->add_ref();
  return it->second;
}

}  // namespace eam::internal
