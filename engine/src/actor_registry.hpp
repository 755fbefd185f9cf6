#pragma once
// actor_registry: every live actor (for shutdown, counting and, later, introspection) and the
// names actors are registered under. Not on the message path: spawn and exit take a lock on
// one of many shards; name operations take the name table's lock.
//
// A shard keeps its actors in a slot_table (slot_table.hpp): a spawn and an exit write the
// shard and the actor's own cell, never another actor's. Its count sits beside its lock, not
// in one counter for the system: with spawns on one worker and exits on another, that counter
// was a line both wrote for every actor.
#include "actor_ids.hpp"
#include "short_lock.hpp"
#include "slot_table.hpp"

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
  /// Lists `c` (not listed). Growing a shard's table allocates (8 bytes a slot, doubling), and
  /// a failure ends the program: by then the spawn has linked the actor into its parent and
  /// cannot be undone.
  void add(actor_cell* c) noexcept;
  /// Unlists `c` (listed).
  void remove(actor_cell* c) noexcept;
  /// Live actors: the sum of the shards' counts, each read once (not a snapshot of all).
  [[nodiscard]] std::size_t count() const noexcept;
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
  /// A counted reference, or null.
  [[nodiscard]] actor_cell* whereis(std::string_view name) const;
  /// Moves whenever a name is taken or freed here, the extension changes, or names_changed()
  /// is called (actor_system::names_version).
  [[nodiscard]] std::uint64_t names_version() const noexcept { return names_version_.load(std::memory_order_acquire); }
  /// After a change to what whereis answers (release: a reader of the new number that looks the
  /// name up again finds the change).
  void names_changed() noexcept { names_version_.fetch_add(1, std::memory_order_release); }
  /// The registry beyond this system (name_extension.hpp), or null.
  void set_extension(std::shared_ptr<name_extension> extension);
  [[nodiscard]] std::shared_ptr<name_extension> extension() const;
  /// A counted reference to the live actor with this id, or null (walks one shard).
  [[nodiscard]] actor_cell* find(std::uint64_t id) const;

 private:
  struct alignas(64) shard {
    mutable short_lock mutex;
    slot_table<actor_cell> cells;  // under mutex
    // cells.size(), stored under mutex (release: what the actor did before it left the
    // registry happens before a count() that no longer counts it), read without it (acquire).
    std::atomic<std::size_t> live{0};
  };
  static constexpr std::size_t shard_count = 64;
  // A block of ids shares a shard: a thread hands out a block's ids in a row (actor_ids.hpp),
  // so a worker's spawns stay on one shard's lines for a while and its actors' exits on
  // another's, where id % shard_count put each spawn and each exit on the next shard, lines
  // that the other worker wrote last (fork-join-create on 2 workers).
  static constexpr std::size_t shard_index(std::uint64_t id) noexcept { return (id / actor_id_block) % shard_count; }
  shard& shard_of(const actor_cell* c) noexcept;

  std::array<shard, shard_count> shards_;

  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  mutable std::mutex names_mutex_;
  std::unordered_map<std::string, actor_cell*, name_hash, std::equal_to<>> names_;
  std::shared_ptr<name_extension> extension_;  // under names_mutex_; read on name operations only
  // Its own line: read by every named send that finds its cached actor, written only when names change.
  alignas(64) std::atomic<std::uint64_t> names_version_{0};
};

}  // namespace eam::internal
