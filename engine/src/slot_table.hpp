#pragma once
// slot_table: a set of pointers kept in one array, each at an index its owner remembers, with
// the free slots chained through the array itself.
//
// Why not an intrusive list: unlinking an element writes into its two neighbours, and the
// registry's neighbours are other actors' cells. When one worker spawns actors that another
// runs and ends (fork-join-create), each spawn wrote into the cell spawned just before it in
// the same shard and each exit into the cells on either side: lines the other worker was
// using. Here an insert and an erase touch the array slot and nothing else; the owner keeps
// its own index.
//
// Not synchronised: the caller's lock guards it. Slots hold a pointer (aligned, bit 0 clear)
// or, free, (the next free index << 1) | 1. The array does not shrink as elements leave, so
// compact_if_sparse() moves the live ones to the front once at most a quarter of the slots
// hold one, and tells the owners their new indexes.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace eam::internal {

template <class T>
class slot_table {
 public:
  /// Stores `p` (aligned to at least 2) in a free slot and returns that slot's index.
  /// Allocates when no slot is free (may throw std::bad_alloc; the table is then unchanged).
  std::uint32_t insert(T* p) {
    std::uint32_t index;
    if (first_free_ != no_slot) {
      index = first_free_;
      first_free_ = static_cast<std::uint32_t>(slots_[index] >> 1);
      slots_[index] = reinterpret_cast<std::uintptr_t>(p);
    } else {
      index = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(reinterpret_cast<std::uintptr_t>(p));
    }
    ++size_;
    return index;
  }

  /// Frees the slot at `index` (which insert returned and no erase freed since).
  void erase(std::uint32_t index) noexcept {
    slots_[index] = (std::uintptr_t{first_free_} << 1) | 1;
    first_free_ = index;
    --size_;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// Slots in the array, free ones included.
  [[nodiscard]] std::size_t slots() const noexcept { return slots_.size(); }

  /// f(T*) for every element, in slot order.
  template <class F>
  void for_each(F&& f) const {
    for (const std::uintptr_t s : slots_)
      if ((s & 1) == 0) f(reinterpret_cast<T*>(s));
  }

  /// The first element for which pred(T*) holds, or null.
  template <class Pred>
  [[nodiscard]] T* find_if(Pred&& pred) const {
    for (const std::uintptr_t s : slots_)
      if ((s & 1) == 0 && pred(reinterpret_cast<T*>(s))) return reinterpret_cast<T*>(s);
    return nullptr;
  }

  /// When the array has at least min_compacted slots and at most a quarter hold elements:
  /// moves the elements to the front in their order, calls renumber(T*, new index) for each,
  /// and gives the rest of the array back. Amortised: the elements since the last compaction
  /// (or growth) were erased at three times the rate of what is moved.
  template <class F>
  void compact_if_sparse(F&& renumber) noexcept {
    if (slots_.size() < min_compacted || 4 * size_ > slots_.size()) return;
    std::uint32_t next = 0;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if ((slots_[i] & 1) != 0) continue;
      slots_[next] = slots_[i];
      renumber(reinterpret_cast<T*>(slots_[i]), next);
      ++next;
    }
    slots_.resize(next);
    // Gives the memory back: a system that once ran millions of actors should not keep their
    // slots. A failed allocation keeps the larger array, which is as good.
    try {
      slots_.shrink_to_fit();
    } catch (...) {
    }
    first_free_ = no_slot;
  }

  static constexpr std::size_t min_compacted = 1024;

 private:
  static constexpr std::uint32_t no_slot = ~std::uint32_t{0} >> 1;  // fits the free chain's 31 bits above the tag
  std::vector<std::uintptr_t> slots_;
  std::uint32_t first_free_ = no_slot;
  std::size_t size_ = 0;
};

}  // namespace eam::internal
