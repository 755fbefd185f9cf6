#pragma once
// keyed_vector: records found by a unique key, kept in a vector, with a hash index that exists
// only once the vector is long.
//
// Why: an actor's monitors, links and timers were plain vectors searched and erased in place,
// which is right for the few most actors hold, and quadratic for the many a supervisor, a pool
// or a registry holds: one actor watching 80,000 others took 20 s to hear their ends, 260 us a
// down, most of it erasing from the front of its list of watches. Here a short vector is still
// searched (no index, nothing allocated beyond the vector), and past index_from records every
// lookup and erase is constant time. Not earlier: a scan of a few dozen costs less than a map
// node allocated and freed per record (indexed from 16, a consumer supervisor holding 20
// watches ran 1.15x slower; engine/README.md, section 4).
//
// Order: erase moves the last record into the hole, so iteration order is not insertion order.
// The index is only a shortcut: when building or growing it fails for want of memory it is
// dropped, and lookups scan again, so no operation on the vector's records fails because of it.
// Owned by one thread (an actor's consumer).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

namespace eam::internal {

template <class T, class Key, class KeyOf, class Hash = std::hash<Key>>
class keyed_vector {
 public:
  /// The length past which lookups go through the index.
  static constexpr std::size_t index_from = 64;

  [[nodiscard]] T* find(const Key& key) noexcept {
    if (index_) {
      const auto it = index_->find(key);
      return it == index_->end() ? nullptr : &items_[it->second];
    }
    for (T& item : items_)
      if (KeyOf{}(item) == key) return &item;
    return nullptr;
  }

  /// Appends a record whose key is not held yet. Throws std::bad_alloc (the vector's), with
  /// nothing changed.
  void push_back(T item) {
    items_.push_back(std::move(item));
    if (index_) {
      try {
        index_->emplace(KeyOf{}(items_.back()), items_.size() - 1);
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
    if (index_) index_->erase(KeyOf{}(*item));
    if (at != last) {
      *item = std::move(items_[last]);
      if (index_) index_->find(KeyOf{}(*item))->second = at;
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
  const T* begin() const noexcept { return items_.data(); }
  const T* end() const noexcept { return items_.data() + items_.size(); }

 private:
  void build_index() noexcept {
    try {
      auto index = std::make_unique<std::unordered_map<Key, std::size_t, Hash>>();
      index->reserve(items_.size() * 2);
      for (std::size_t i = 0; i < items_.size(); ++i) index->emplace(KeyOf{}(items_[i]), i);
      index_ = std::move(index);
    } catch (...) {
      // Out of memory: the vector is still searched.
    }
  }

  std::vector<T> items_;
  std::unique_ptr<std::unordered_map<Key, std::size_t, Hash>> index_;
};

}  // namespace eam::internal
