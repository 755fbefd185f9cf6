#pragma once
// run_queue: a worker's bounded local queue of runnable actors. FIFO; the owner pushes at the
// tail and pops at the head; idle workers steal half of it from the head. The design follows
// Tokio's local run queue (tokio/src/runtime/scheduler/multi_thread/queue.rs), simplified:
// thieves copy a range, then claim it with one CAS on head_.
//
// Shared:  head_   CAS by the owner (pop, take_older_half) and thieves (steal); only ever
//                  increases.
//          tail_   written by the owner only; read by thieves.
//          slots_  written by the owner before [Q1] publishes them.
// Invariants:
//   Q-I1  Only the owner moves tail_, and only while tail_ - head_ < capacity, so it never
//         overwrites a slot in [head_, tail_).
//   Q-I2  Each index in [head_, tail_) is handed out once: to whoever's CAS moves head_ past
//         it. A thief reads slots before its CAS; if head_ moved meanwhile the CAS fails and
//         the copies are discarded (indices are 32-bit and monotonic: no ABA within a CAS
//         window).
// Orderings:
//   [Q1] push: tail_ store, release  -> [Q2]
//   [Q2] steal/pop: tail_ load, acquire <- [Q1]: the slots below tail_ are visible.
//   [Q3] pop/steal: head_ CAS, acq_rel: one winner per index; pairs with the head_ acquire
//        loads of push (so the owner reuses a slot only after its reader took it).
#include "invariant.hpp"

#include <array>
#include <atomic>
#include <cstdint>

namespace eam::detail {
class actor_cell;
}

namespace eam::internal {

using detail::actor_cell;

class run_queue {
 public:
  static constexpr std::uint32_t capacity = 256;

  // -- owner ------------------------------------------------------------------------------
  /// False when full (the caller spills the older half: take_older_half).
  bool push(actor_cell* c) noexcept {
    const std::uint32_t t = tail_.load(std::memory_order_relaxed);  // Q-I1: we are the only writer
    const std::uint32_t h = head_.load(std::memory_order_acquire);  // pairs with [Q3]
    EAM_ASSERT(t - h <= capacity, "Q-I1: the owner never lets tail_ run more than capacity ahead of head_");
    if (t - h >= capacity) return false;
    slots_[t & mask].store(c, std::memory_order_relaxed);  // published by [Q1]
    tail_.store(t + 1, std::memory_order_release);           // [Q1]
    return true;
  }
  actor_cell* pop() noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint32_t t = tail_.load(std::memory_order_relaxed);  // our own writes
      if (h == t) return nullptr;
      actor_cell* c = slots_[h & mask].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel, std::memory_order_acquire))  // [Q3]
        return c;
    }
  }

  /// When full: claims the older half of the queue for the caller, who sends it to the global
  /// queue in one batch (Tokio's overflow: one shared push per half a queue, where one actor at
  /// a time cost a spawning turn a global-queue push and a later pop per actor). Writes the
  /// claimed actors, oldest first, to `out` and returns how many; 0 when a thief made room
  /// meanwhile (the caller pushes again).
  std::uint32_t take_older_half(actor_cell** out) noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint32_t size = tail_.load(std::memory_order_relaxed) - h;  // our own writes
      if (size < capacity) return 0;
      const std::uint32_t n = size / 2;
      for (std::uint32_t i = 0; i < n; ++i) out[i] = slots_[(h + i) & mask].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + n, std::memory_order_acq_rel, std::memory_order_acquire))  // [Q3], as a thief
        return n;
    }
  }

  // -- any other worker -------------------------------------------------------------------
  /// Moves half of this queue (rounded up) into `dst`, which the caller owns, except the
  /// first actor, which it returns to run at once. Null when there was nothing to steal. An
  /// actor `dst` has no room for goes to `overflow(actor)`: none is ever dropped.
  template <class Overflow>
  actor_cell* steal_into(run_queue& dst, Overflow&& overflow) noexcept {
    std::array<actor_cell*, capacity> taken;
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t n = 0;
    for (;;) {
      const std::uint32_t t = tail_.load(std::memory_order_acquire);  // [Q2]
      const std::uint32_t size = t - h;
      if (size == 0 || size > capacity) return nullptr;  // empty, or a stale head: give up
      n = size - size / 2;
      for (std::uint32_t i = 0; i < n; ++i) taken[i] = slots_[(h + i) & mask].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + n, std::memory_order_acq_rel, std::memory_order_acquire))  // [Q3]
        break;
    }
    for (std::uint32_t i = 1; i < n; ++i)
      if (!dst.push(taken[i])) overflow(taken[i]);  // dst is usually empty: room for half
    EAM_ASSERT(taken[0] != nullptr, "Q-I2: every index in [head_, tail_) holds the actor pushed there");
    return taken[0];
  }

  /// Approximate length; any thread.
  [[nodiscard]] std::uint32_t size() const noexcept {
    const std::uint32_t t = tail_.load(std::memory_order_acquire);
    const std::uint32_t h = head_.load(std::memory_order_acquire);
    return t - h > capacity ? 0 : t - h;
  }

 private:
  static constexpr std::uint32_t mask = capacity - 1;
  alignas(64) std::atomic<std::uint32_t> head_{0};
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  alignas(64) std::array<std::atomic<actor_cell*>, capacity> slots_{};
};

}  // namespace eam::internal
