#pragma once
// actor_registry: every live actor (for shutdown, counting and, later, introspection) and the
// names actors are registered under. Not on the message path: spawn and exit take a lock on
// one of many shards; name operations take the name table's lock.
#include <eam/engine/name_extension.hpp>

#include <array>
#include <functional>
#include <atomic>
#include <memory>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace eam::detail {
class actor_cell;
}

namespace eam::internal {

using detail::actor_cell;

class actor_registry {
 public:
  void add(actor_cell* c) noexcept;
  void remove(actor_cell* c) noexcept;
  [[nodiscard]] std::size_t count() const noexcept { return live_.load(std::memory_order_acquire); }
  /// Counted references to every live actor without a parent.
  [[nodiscard]] std::vector<actor_cell*> roots() const;
  /// Whether every live actor is idle with an empty mailbox (a snapshot, not atomic as a whole).
  [[nodiscard]] bool all_idle() const;
  /// Calls f(cell) for every live actor, under its shard's lock (f must not spawn or stop).
  void for_each(const std::function<void(const actor_cell&)>& f) const;

  /// False when another actor holds the name.
  bool register_name(const std::string& name, actor_cell* c);
  /// Frees the name if `c` holds it; true when it did.
  bool unregister_name(const std::string& name, const actor_cell* c) noexcept;
  /// Frees the name whoever holds it; true when someone did.
  bool unregister_name(std::string_view name) noexcept;
  /// A counted reference, or null.
  [[nodiscard]] actor_cell* whereis(std::string_view name) const;
  /// The registry beyond this system (name_extension.hpp), or null.
  void set_extension(std::shared_ptr<name_extension> extension);
  [[nodiscard]] std::shared_ptr<name_extension> extension() const;
  /// A counted reference to the live actor with this id, or null (walks one shard).
  [[nodiscard]] actor_cell* find(std::uint64_t id) const;

 private:
  struct alignas(64) shard {
    mutable std::mutex mutex;
    actor_cell* head = nullptr;
  };
  static constexpr std::size_t shard_count = 64;
  shard& shard_of(const actor_cell* c) noexcept;

  std::array<shard, shard_count> shards_;
  std::atomic<std::size_t> live_{0};

  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  mutable std::mutex names_mutex_;
  std::unordered_map<std::string, actor_cell*, name_hash, std::equal_to<>> names_;
  std::shared_ptr<name_extension> extension_;  // under names_mutex_; read on name operations only
};

}  // namespace eam::internal
