#pragma once
// watch_list: an actor's own live watches, found by watch id (a down, a refusal, an unwatch)
// and by target (the end of a watched child: actor_cell::note_child_end).
//
// Both lookups scan while the list is short. Past keyed_vector::index_from watches, the id
// goes through keyed_vector's index and the target through a multimap of its own: a supervisor
// watches each of its children, and each child's end looked through all of them, so the scan
// by target made its children's ends quadratic even with the id indexed. Like keyed_vector's,
// the target index is a shortcut dropped for want of memory (the scan takes over).
// Owned by the actor's consumer.
#include "keyed_vector.hpp"

#include <eam/engine/actor_ref.hpp>
#include <eam/engine/error.hpp>
#include <eam/engine/info.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

namespace eam::internal {

struct watched {
  std::uint64_t id;
  actor_ref target;
  std::function<void(const eam::down&)> on_down;  // empty: the down goes to the behavior
  // A child's exit reason, noted when its child_exited came while this watch was live: a
  // watch refused by the ended child then reports it instead of noproc (refuse_watch).
  std::optional<exit_reason> child_end;
};

class watch_list {
 public:
  [[nodiscard]] watched* find(std::uint64_t id) noexcept { return by_id_.find(id); }

  /// Adds a watch. Throws std::bad_alloc with nothing added.
  void add(watched w) {
    const detail::actor_cell* target = w.target.cell();
    const std::uint64_t id = w.id;
    by_id_.push_back(std::move(w));
    if (by_target_) {
      try {
        by_target_->emplace(target, id);
      } catch (...) {
        by_target_.reset();
      }
    } else if (by_id_.size() > by_id_.index_from) {
      build_target_index();
    }
  }

  void erase(watched* w) noexcept {
    if (by_target_) {
      auto [first, last] = by_target_->equal_range(w->target.cell());
      for (auto it = first; it != last; ++it)
        if (it->second == w->id) {
          by_target_->erase(it);
          break;
        }
    }
    by_id_.erase(w);
  }

  /// Calls f(w) for each watch on `target`.
  template <class F>
  void for_each_on(const detail::actor_cell* target, F f) {
    if (!by_target_) {
      for (watched& w : by_id_)
        if (w.target.cell() == target) f(w);
      return;
    }
    auto [first, last] = by_target_->equal_range(target);
    for (auto it = first; it != last; ++it)
      if (watched* w = by_id_.find(it->second)) f(*w);
  }

  void clear() noexcept {
    by_id_.clear();
    by_target_.reset();
  }
  [[nodiscard]] bool empty() const noexcept { return by_id_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return by_id_.size(); }
  watched* begin() noexcept { return by_id_.begin(); }
  watched* end() noexcept { return by_id_.end(); }

 private:
  struct id_of {
    std::uint64_t operator()(const watched& w) const noexcept { return w.id; }
  };
  void build_target_index() noexcept {
    try {
      auto index = std::make_unique<std::unordered_multimap<const detail::actor_cell*, std::uint64_t>>();
      index->reserve(by_id_.size() * 2);
      for (const watched& w : by_id_) index->emplace(w.target.cell(), w.id);
      by_target_ = std::move(index);
    } catch (...) {
      // Out of memory: the targets are still scanned.
    }
  }

  keyed_vector<watched, std::uint64_t, id_of> by_id_;
  std::unique_ptr<std::unordered_multimap<const detail::actor_cell*, std::uint64_t>> by_target_;
};

}  // namespace eam::internal
