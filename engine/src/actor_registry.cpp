#include "actor_registry.hpp"

#include "actor_cell.hpp"

namespace eam::internal {

actor_registry::shard& actor_registry::shard_of(const actor_cell* c) noexcept {
  return shards_[c->id() % shard_count];
}

void actor_registry::add(actor_cell* c) noexcept {
  shard& s = shard_of(c);
  {
    std::lock_guard lock(s.mutex);
    c->registry_prev = nullptr;
    c->registry_next = s.head;
    if (s.head != nullptr) s.head->registry_prev = c;
    s.head = c;
  }
  live_.fetch_add(1, std::memory_order_relaxed);
}

void actor_registry::remove(actor_cell* c) noexcept {
  shard& s = shard_of(c);
  {
    std::lock_guard lock(s.mutex);
    if (c->registry_prev != nullptr)
      c->registry_prev->registry_next = c->registry_next;
    else
      s.head = c->registry_next;
    if (c->registry_next != nullptr) c->registry_next->registry_prev = c->registry_prev;
    c->registry_prev = c->registry_next = nullptr;
  }
  live_.fetch_sub(1, std::memory_order_release);
}

std::vector<actor_cell*> actor_registry::roots() const {
  std::vector<actor_cell*> out;
  for (const shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    for (actor_cell* c = s.head; c != nullptr; c = c->registry_next) {
      if (c->parent() == nullptr) {
        c->add_ref();
        out.push_back(c);
      }
    }
  }
  return out;
}

bool actor_registry::all_idle() const {
  for (const shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    for (actor_cell* c = s.head; c != nullptr; c = c->registry_next)
      if (!c->is_idle()) return false;
  }
  return true;
}

void actor_registry::for_each(const std::function<void(const actor_cell&)>& f) const {
  for (const shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    for (actor_cell* c = s.head; c != nullptr; c = c->registry_next) f(*c);
  }
}

actor_cell* actor_registry::find(std::uint64_t id) const {
  const shard& s = shards_[id % shard_count];
  std::lock_guard lock(s.mutex);
  for (actor_cell* c = s.head; c != nullptr; c = c->registry_next) {
    if (c->id() == id) {
      c->add_ref();
      return c;
    }
  }
  return nullptr;
}

bool actor_registry::register_name(const std::string& name, actor_cell* c) {
  std::lock_guard lock(names_mutex_);
  return names_.try_emplace(name, c).second;
}

bool actor_registry::unregister_name(const std::string& name, const actor_cell* c) noexcept {
  std::lock_guard lock(names_mutex_);
  auto it = names_.find(name);
  if (it == names_.end() || it->second != c) return false;
  names_.erase(it);
  return true;
}

bool actor_registry::unregister_name(std::string_view name) noexcept {
  std::lock_guard lock(names_mutex_);
  auto it = names_.find(name);
  if (it == names_.end()) return false;
  names_.erase(it);
  return true;
}

void actor_registry::set_extension(std::shared_ptr<name_extension> extension) {
  std::lock_guard lock(names_mutex_);
  extension_ = std::move(extension);
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
