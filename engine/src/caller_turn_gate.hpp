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
// One word: twice the turns running, plus 1 once closed.
//   enter  fetch_add(2), relaxed; an odd result (closed) undoes it (fetch_sub(2), release) and
//          the caller hands the actor to the pool instead.
//   leave  fetch_sub(2), release: the turn's writes happen before it.
//   close  fetch_or(1), then load (acquire) until the word is 1.
// Every change is a read-modify-write of the one word, so all of them fall in one order: an
// enter before the close's fetch_or is counted in what the close waits for, one after it sees
// the bit. The load that reads 1 follows every leave in that order (each RMW continues the
// release sequences before it), so it synchronizes with all of them: what the turns did
// happens before shutdown goes on.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace eam::internal {

// A line of its own: every caller's enter and leave writes the word, which nothing else near it
// shares; the flag beside it is read with it.
class alignas(64) caller_turn_gate {
 public:
  /// `enabled`: system_config::calls_run_on_caller; a disabled gate never lets a turn in.
  explicit caller_turn_gate(bool enabled) noexcept : enabled_(enabled) {}
  caller_turn_gate(const caller_turn_gate&) = delete;
  caller_turn_gate& operator=(const caller_turn_gate&) = delete;

  /// Whether the calling thread may run a turn now; if so, it calls leave() after it.
  [[nodiscard]] bool try_enter() noexcept {
    if (!enabled_) return false;
    if ((word_.fetch_add(2, std::memory_order_relaxed) & closed) == 0) [[likely]]
      return true;
    word_.fetch_sub(2, std::memory_order_release);
    return false;
  }
  void leave() noexcept { word_.fetch_sub(2, std::memory_order_release); }

  /// No turn enters after this returns, and every turn that entered before has left. Blocks
  /// as long as the longest of them (shutdown waits for a long handler on a worker the same way).
  void close() noexcept {
    word_.fetch_or(closed, std::memory_order_relaxed);
    while (word_.load(std::memory_order_acquire) != closed)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
  }

 private:
  static constexpr std::uint64_t closed = 1;
  std::atomic<std::uint64_t> word_{0};
  const bool enabled_;
};

}  // namespace eam::internal
