// The blocking side of a call from outside the pool: spin briefly (the reply usually comes in
// a microsecond or two while a worker is awake), then sleep on a futex with the deadline; and
// the memory of its reply slots, one kept per thread for the next call.
#include <eam/engine/detail/reply.hpp>

#include <eam/engine/detail/tls.hpp>
#include "address_sanitizer.hpp"
#include "cpu_relax.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <ctime>
#include <new>
#include <thread>
#include <utility>

namespace eam::detail {

namespace {
// About 10 us: a reply from an awake worker comes within a microsecond or two; longer spins
// only take the core from the worker that would answer when the machine is loaded. Measured by
// the clock, not in pauses: a pause takes 10 ns on one x86 and 40 on another, and 300 of them
// (the count this spin had) lasted 3 us here, less than a call's round trip when the worker
// answering it had to be found first: most calls from a thread then slept on the futex.
constexpr auto spin_time = std::chrono::microseconds(10);
// Pauses between two looks at the clock (a clock read costs about as much as one or two).
constexpr unsigned pauses_per_clock_look = 32;

void futex_wake(std::atomic<std::uint32_t>* word) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

// Sleeps while *word == expected, at most until `deadline`.
void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected,
                std::chrono::steady_clock::time_point deadline) noexcept {
  const auto left = deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, &ts, nullptr, 0);
}
// A block this thread freed while it kept none, taken by its next call: one, since a thread
// blocks on one call at a time. Trivially destructible, so that a call made from another
// thread_local's destructor, after the keeper below is gone, still finds a valid (empty) spare.
// Off under ASan, which then sees every slot freed and reports a read after the free.
constinit EAM_TLS void* tls_spare_slot = nullptr;
constinit EAM_TLS std::size_t tls_spare_slot_size = 0;
constinit EAM_TLS bool tls_spare_slot_ended = false;

constexpr std::align_val_t slot_alignment{64};

// Frees the spare at the thread's end; from then on this thread keeps none.
struct spare_slot_keeper {
  ~spare_slot_keeper() {
    tls_spare_slot_ended = true;
    if (tls_spare_slot != nullptr) ::operator delete(std::exchange(tls_spare_slot, nullptr), slot_alignment);
  }
};
}  // namespace

void* allocate_reply_slot(std::size_t size) {
  if (tls_spare_slot != nullptr && tls_spare_slot_size == size) return std::exchange(tls_spare_slot, nullptr);
  return ::operator new(size, slot_alignment);
}

void free_reply_slot(void* p, std::size_t size) noexcept {
  if (!EAM_ADDRESS_SANITIZER && tls_spare_slot == nullptr && !tls_spare_slot_ended) {
    thread_local spare_slot_keeper keeper;  // registered at the first block this thread keeps
    tls_spare_slot = p;
    tls_spare_slot_size = size;
    return;
  }
  ::operator delete(p, slot_alignment);
}

void reply_slot_base::publish() noexcept {
  const std::uint32_t prev = state_.exchange(ready, std::memory_order_acq_rel);  // [R1]
  if ((prev & abandoned) != 0) {
    ops->destroy(this);  // the caller gave up after our look: the slot is ours to free
    return;
  }
  // The caller may take the answer and free the slot before this wake: a private futex wake
  // reads no memory (the kernel keys it by address), and at worst wakes another waiter that
  // now sleeps at that address, which re-checks its word as every futex waiter must.
  if ((prev & sleeping) != 0) futex_wake(&state_);
}

bool reply_slot_base::discard_if_abandoned() noexcept {
  if ((state_.load(std::memory_order_acquire) & abandoned) == 0) return false;  // [R3]
  ops->destroy(this);
  return true;
}

bool reply_slot_base::wait_until(std::chrono::steady_clock::time_point deadline) noexcept {
  const auto spin_end = std::min(deadline, std::chrono::steady_clock::now() + spin_time);
  for (unsigned i = 1;; ++i) {
    if (state_.load(std::memory_order_acquire) == ready) return true;  // [R2]
    internal::cpu_relax();
    if (i % pauses_per_clock_look != 0) continue;
    if (std::chrono::steady_clock::now() >= spin_end) break;
    if (i % (8 * pauses_per_clock_look) == 0) std::this_thread::yield();  // on a busy machine, let the worker run
  }
  for (;;) {
    std::uint32_t s = state_.load(std::memory_order_acquire);  // [R2]
    if (s == ready) return true;
    if (std::chrono::steady_clock::now() >= deadline) {
      // Give up unless the reply lands first.
      if (state_.compare_exchange_strong(s, abandoned, std::memory_order_acq_rel, std::memory_order_acquire))
        return false;
      if (s == ready) return true;
      continue;
    }
    if (s == pending &&
        !state_.compare_exchange_strong(s, pending | sleeping, std::memory_order_acq_rel, std::memory_order_acquire))
      continue;
    futex_wait(&state_, pending | sleeping, deadline);
  }
}

}  // namespace eam::detail
