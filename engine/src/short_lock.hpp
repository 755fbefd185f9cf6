#pragma once
// short_lock: a mutex for critical sections of a few dozen instructions taken on every spawn and
// every exit (the registry's shards). std::mutex is glibc's pthread mutex, whose lock and unlock
// check the mutex's type and robustness on each call: 110 of the 1,815 instructions a spawn and
// an exit cost went to the two pairs of them. Here the uncontended lock is one compare-exchange
// and the unlock one exchange; a contended lock spins briefly (the holder is a few dozen
// instructions from done) and then sleeps on the word (futex through std::atomic::wait), so a
// holder preempted by the kernel costs waiters no CPU.
//
// The word is unlocked, held, or contended (held, and waiters may sleep on it), as mutex 3 of
// Drepper's "Futexes Are Tricky": a waiter sets contended before it sleeps, so the unlock that
// finds contended wakes one; a woken waiter takes the lock as contended, as others may sleep.
// Orderings: the compare-exchange or exchange that takes the lock is acquire, the exchange that
// frees it release (seq_cst, see unlock): what a holder wrote happens before what the next
// holder reads.
#include "cpu_relax.hpp"

#include <atomic>
#include <cstdint>

namespace eam::internal {

class short_lock {
 public:
  short_lock() = default;
  short_lock(const short_lock&) = delete;
  short_lock& operator=(const short_lock&) = delete;

  void lock() noexcept {
    if (try_lock()) [[likely]]
      return;
    lock_contended();
  }
  bool try_lock() noexcept {
    std::uint32_t seen = unlocked;
    return word_.compare_exchange_strong(seen, held, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() noexcept {
    // seq_cst, not release: notify_one skips the wake when it reads no waiters (libstdc++ counts
    // them), a load after this store that only sequential consistency orders against a waiter's
    // count-then-look. The same instruction as release on x86 (xchg).
    if (word_.exchange(unlocked, std::memory_order_seq_cst) == contended) [[unlikely]]
      word_.notify_one();
  }

 private:
  static constexpr std::uint32_t unlocked = 0, held = 1, contended = 2;
  // Looks at the word this many times before sleeping: a holder is a few dozen instructions
  // from its unlock, unless the kernel took its core.
  static constexpr int spins = 64;

  [[gnu::noinline]] void lock_contended() noexcept {
    for (int i = 0; i < spins; ++i) {
      cpu_relax();
      if (word_.load(std::memory_order_relaxed) == unlocked && try_lock()) return;
    }
    // From here on it is taken as contended: another waiter may sleep beside us.
    while (word_.exchange(contended, std::memory_order_acquire) != unlocked)
      word_.wait(contended, std::memory_order_relaxed);
  }

  std::atomic<std::uint32_t> word_{unlocked};
};

}  // namespace eam::internal
