#pragma once
// keyed_vector: records found by a unique key, and optionally by a group key several may share,
// kept in a vector, with a hash index that exists only once the vector is long.
//
// Why: an actor's monitors, links and timers were plain vectors searched and erased in place,
// which is right for the few most actors hold, and quadratic for the many a supervisor, a pool
// or a registry holds: one actor watching 80,000 others took 20 s to hear their ends, 260 us a
// down, most of it erasing from the front of its list of watches. Here a short vector is still
// searched (no index, nothing allocated beyond the vector), and past index_from records every
// lookup and erase is constant time. Not earlier: a scan of a few dozen costs less than a map
// node allocated and freed per record (indexed from 16, a consumer supervisor holding 20
// watches ran 1.15x slower; engine/README.md, section 4). The group key is for the watches,
// found by target at a child's end: a supervisor watches each child, so a scan of its watches
// at every child's end was quadratic too. A group's records form a list through their index
// entries, so erasing one of a large group is constant time as well (a multimap of groups
// walked the group to erase one: one actor watching one target 64,000 times, as a monitor per
// request does, took 180 us an unwatch).
//
// 32 bytes whatever it holds (the vector and one pointer to both indexes): an actor's extras
// (actor_cell.hpp) hold four and stay within one 512-byte allocation.
//
// Order: erase moves the last record into the hole, so iteration order is not insertion order.
// The index is only a shortcut: when building or growing it fails for want of memory it is
// dropped, and lookups scan again, so no operation on the vector's records fails because of it.
// Owned by one thread (an actor's consumer).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace eam::internal {

/// GroupOf: void, or a function object giving a record's group key (hashable by std::hash).
template <class T, class Key, class KeyOf, class Hash = std::hash<Key>, class GroupOf = void>
class keyed_vector {
  static constexpr bool grouped = !std::is_void_v<GroupOf>;
  struct no_group {
    template <class U>
    int operator()(const U&) const noexcept {
      return 0;
    }
  };
  using group_of = std::conditional_t<grouped, GroupOf, no_group>;
  using group_key = std::decay_t<decltype(group_of{}(std::declval<const T&>()))>;
  struct no_groups {};

 public:
  /// The length past which lookups go through the index.
  static constexpr std::size_t index_from = 64;

  [[nodiscard]] T* find(const Key& key) noexcept {
    if (index_) {
      const auto it = index_->by_key.find(key);
      return it == index_->by_key.end() ? nullptr : &items_[place_of(it->second)];
    }
    for (T& item : items_)
      if (KeyOf{}(item) == key) return &item;
    return nullptr;
  }

  /// Calls f(T&) for each record of group `group` (with a GroupOf); f must not add or erase.
  template <class F>
  void for_each_in_group(const group_key& group, F f) {
    static_assert(grouped, "a keyed_vector without GroupOf has no groups");
    if (!index_) {
      for (T& item : items_)
        if (group_of{}(item) == group) f(item);
      return;
    }
    const auto head = index_->by_group.find(group);
    if (head == index_->by_group.end()) return;
    for (const key_entry* e = head->second; e != nullptr; e = e->second.next) f(items_[e->second.at]);
  }

  /// Appends a record whose key is not held yet. Throws std::bad_alloc (the vector's), with
  /// nothing changed. Always inlined: a case added to actor_cell::handle_system (child_init) led
  /// GCC to call the watchers' insert out of line there, 78 instructions a watch where inlined it
  /// was 45 (gate: watch_many 3,847.8 against 3,815.7 inlined).
  [[gnu::always_inline]] void push_back(T item) {
    items_.push_back(std::move(item));
    if (index_) {
      try {
        add_to_index(*index_, items_.size() - 1);
      } catch (...) {
        index_.reset();  // scans from here; rebuilt by a later push
      }
    } else if (items_.size() > index_from) {
      build_index();
    }
  }

  /// Removes the record `item` points to (one of this vector's).
  void erase(T* item) noexcept {
    const std::size_t at = static_cast<std::size_t>(item - items_.data());
    const std::size_t last = items_.size() - 1;
    if (index_) {
      if constexpr (grouped) {
        const auto entry = index_->by_key.find(KeyOf{}(*item));
        unlink(*index_, *entry, group_of{}(*item));
        index_->by_key.erase(entry);
      } else {
        index_->by_key.erase(KeyOf{}(*item));  // by key: one walk of its bucket, where by iterator it takes two
      }
    }
    if (at != last) {
      *item = std::move(items_[last]);
      if (index_) place_of(index_->by_key.find(KeyOf{}(*item))->second) = at;  // its group list holds its entry
    }
    items_.pop_back();
  }

  /// Removes the record with `key`; false when none has it.
  bool erase(const Key& key) noexcept {
    T* item = find(key);
    if (item == nullptr) return false;
    erase(item);
    return true;
  }

  /// Removes every record `pred` holds for.
  template <class Pred>
  void erase_if(Pred pred) noexcept {
    for (std::size_t i = items_.size(); i-- > 0;)
      if (pred(items_[i])) erase(&items_[i]);  // what moves into i was looked at already
  }

  void clear() noexcept {
    items_.clear();
    index_.reset();
  }

  [[nodiscard]] bool empty() const noexcept { return items_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
  [[nodiscard]] bool indexed() const noexcept { return index_ != nullptr; }
  T* begin() noexcept { return items_.data(); }
  T* end() noexcept { return items_.data() + items_.size(); }

 private:
  // With groups, a key's entry also links it into its group's list: entries of an
  // unordered_map stay where they are when it rehashes, so they can point at each other.
  struct grouped_place;
  using place = std::conditional_t<grouped, grouped_place, std::size_t>;
  using key_entry = std::pair<const Key, place>;
  struct grouped_place {
    std::size_t at;  // the record's place in items_
    key_entry* prev;
    key_entry* next;
  };
  static std::size_t& place_of(place& p) noexcept {
    if constexpr (grouped)
      return p.at;
    else
      return p;
  }
  struct index {
    std::unordered_map<Key, place, Hash> by_key;  // to the record's place
    // A group's first entry in by_key.
    [[no_unique_address]] std::conditional_t<grouped, std::unordered_map<group_key, key_entry*>, no_groups> by_group;
  };

  // May throw std::bad_alloc with the index half changed: the callers drop the index then.
  void add_to_index(index& x, std::size_t at) {
    const Key key = KeyOf{}(items_[at]);
    if constexpr (grouped) {
      key_entry*& head = x.by_group.try_emplace(group_of{}(items_[at]), nullptr).first->second;
      key_entry& e = *x.by_key.emplace(key, grouped_place{at, nullptr, head}).first;
      if (head != nullptr) head->second.prev = &e;
      head = &e;
    } else {
      x.by_key.emplace(key, at);
    }
  }

  // Takes `e` out of its group's list (and the group out of the index when it was the last).
  static void unlink(index& x, key_entry& e, const group_key& group) noexcept {
    grouped_place& p = e.second;
    if (p.next != nullptr) p.next->second.prev = p.prev;
    if (p.prev != nullptr) {
      p.prev->second.next = p.next;
    } else if (p.next != nullptr) {
      x.by_group.find(group)->second = p.next;
    } else {
      x.by_group.erase(group);
    }
  }

  void build_index() noexcept {
    try {
      auto x = std::make_unique<index>();
      x->by_key.reserve(items_.size() * 2);
      for (std::size_t i = 0; i < items_.size(); ++i) add_to_index(*x, i);
      index_ = std::move(x);
    } catch (...) {
      // Out of memory: the vector is still searched.
    }
  }

  std::vector<T> items_;
  std::unique_ptr<index> index_;
};

}  // namespace eam::internal
