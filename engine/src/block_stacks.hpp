#pragma once
// block_stacks: one thread's stacks of free small envelope blocks, one per block class, whose
// older half goes to a shared pool when a stack is full and which take a batch from it when
// empty. What envelope_cache (blocks recycled between workers) and outside_blocks (blocks of
// threads outside the pool) keep their blocks in. Used by one thread; the pool has the lock.
#include <array>
#include <cstddef>

namespace eam::internal {

/// Classes 1 and 2 (detail::envelope_block_class); 0 is "not recycled".
inline constexpr std::size_t envelope_block_classes = 3;

class envelope_pool;

class block_stacks {
 public:
  static constexpr unsigned capacity = 256;
  static constexpr unsigned batch = capacity / 2;

  explicit block_stacks(envelope_pool& pool) noexcept : pool_(pool) {}
  /// Everything to the pool; what does not fit, to the allocator.
  ~block_stacks();
  block_stacks(const block_stacks&) = delete;
  block_stacks& operator=(const block_stacks&) = delete;

  [[nodiscard]] bool empty(unsigned cls) const noexcept { return count_[cls - 1] == 0; }
  /// The block pushed last (not empty).
  void* pop(unsigned cls) noexcept { return blocks_[cls - 1][--count_[cls - 1]]; }
  /// A full stack first gives its older half to the pool: the blocks freed last are the ones
  /// still in this core's cache, and they are reused first.
  void push(void* block, unsigned cls) noexcept {
    if (count_[cls - 1] == capacity) [[unlikely]]
      spill(cls);
    blocks_[cls - 1][count_[cls - 1]++] = block;
  }
  /// Into an empty stack, up to a batch from the pool; false when it had none.
  bool take_batch(unsigned cls) noexcept;
  /// Everything to the allocator; returns how many.
  unsigned release() noexcept;
  /// Whether the pool holds `n` blocks of class `cls` or more (a hint: envelope_pool::holds).
  [[nodiscard]] bool pool_holds(unsigned cls, std::size_t n) const noexcept;

 private:
  void spill(unsigned cls) noexcept;

  std::array<unsigned, envelope_block_classes - 1> count_{};  // [cls - 1]
  envelope_pool& pool_;
  std::array<std::array<void*, capacity>, envelope_block_classes - 1> blocks_;  // [cls - 1]
};

}  // namespace eam::internal
