#pragma once
// caller_turn_gate: lets a thread outside the pool run an actor's turn itself (a blocking call
// that found its target idle: actor_cell::deliver_call_from_thread) until shutdown closes the
// gate, and lets shutdown wait for the turns that entered before.
//
// Why: shutdown joins the workers before the system is destroyed, so no worker's turn outlives
// it. A turn on a program's thread touches the system as much (sends, timers, the mute table,
// an actor that ends deregisters), and the program may destroy the system as soon as shutdown
// returns; the gate is the join for those turns.
//
// One word per slot, each on a line of its own: twice the turns running in it, plus 1 once
// closed. A thread takes the slot its first enter was given (round robin): threads calling
// different actors at once would otherwise pass one line between their cores on every call
// (two calling threads paid 1.6x the CPU a call of one).
//   enter  fetch_add(2) on the thread's slot, relaxed; an odd result (closed) undoes it
//          (fetch_sub(2), release) and the caller hands the actor to the pool instead.
//   leave  fetch_sub(2) on the same slot, release: the turn's writes happen before it.
//   close  fetch_or(1) on every slot, then load (acquire) each until it is 1.
// Every change to a slot is a read-modify-write of its word, so all of them fall in one order:
// an enter before the close's fetch_or on that slot is counted in what the close waits for,
// one after it sees the bit. The load that reads 1 follows every leave of that slot in its
// order (each RMW continues the release sequences before it), so it synchronizes with all of
// them: what the turns did happens before shutdown goes on.
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace eam::internal {

class caller_turn_gate {
 public:
  /// `enabled`: system_config::calls_run_on_caller; a disabled gate never lets a turn in.
  explicit caller_turn_gate(bool enabled) noexcept : enabled_(enabled) {}
  caller_turn_gate(const caller_turn_gate&) = delete;
  caller_turn_gate& operator=(const caller_turn_gate&) = delete;

  /// Whether the calling thread may run a turn now; if so, it passes the slot to leave() after.
  [[nodiscard]] std::atomic<std::uint64_t>* try_enter() noexcept {
    if (!enabled_) return nullptr;
    std::atomic<std::uint64_t>& word = slots_[this_thread_slot()].word;
    if ((word.fetch_add(2, std::memory_order_relaxed) & closed) == 0) [[likely]]
      return &word;
    word.fetch_sub(2, std::memory_order_release);
    return nullptr;
  }
  static void leave(std::atomic<std::uint64_t>* entered) noexcept { entered->fetch_sub(2, std::memory_order_release); }

  /// No turn enters after this returns, and every turn that entered before has left. Blocks
  /// as long as the longest of them (shutdown waits for a long handler on a worker the same way).
  void close() noexcept {
    for (slot& s : slots_) s.word.fetch_or(closed, std::memory_order_relaxed);
    for (slot& s : slots_)
      while (s.word.load(std::memory_order_acquire) != closed)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
  }

 private:
  static constexpr std::uint64_t closed = 1;
  static constexpr std::size_t slot_count = 16;
  struct alignas(64) slot {
    std::atomic<std::uint64_t> word{0};
  };
  // Constant-initialised thread-locals: no guard to check on each call.
  static std::size_t this_thread_slot() noexcept {
    if (tls_slot_ == no_slot) [[unlikely]]
      tls_slot_ = next_slot_.fetch_add(1, std::memory_order_relaxed) % slot_count;
    return tls_slot_;
  }
  static constexpr std::size_t no_slot = ~std::size_t{0};
  static inline thread_local std::size_t tls_slot_ = no_slot;
  static inline std::atomic<std::size_t> next_slot_{0};

  std::array<slot, slot_count> slots_{};
  const bool enabled_;
};

}  // namespace eam::internal
