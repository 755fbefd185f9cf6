#pragma once
// inject_queue: the global queue of runnable actors that come from outside the pool or
// overflow a worker's local queue. Order across producers does not matter here, which is why
// moodycamel's ConcurrentQueue (FIFO per producer only) fits.
//
// In front of it sits one hand-off slot for actors scheduled by threads outside the pool (a
// blocking call from the program's own thread): a searching worker looks at the slot first, and
// one word moving between two cores is what a request from outside costs, where moodycamel's
// producer lookup, block and indices cost several (blocking calls from a thread ran 1.15x to
// 1.4x as fast, the more so when the machine's cores are far apart).
// The slot is filled only while the queue looks empty, so it never lets an actor overtake the
// ones queued before it: a thread outside the pool that keeps waking actors (a network thread)
// cannot starve what the workers overflowed or handed off. A race lets one actor pass a few
// queued a moment before, no more: the slot holds one.
// The slot's line also carries where the worker will read first: the cell's first line, its
// mailbox, the envelope that woke it, and that envelope's reply slot when a blocking caller
// waits on one. The worker prefetches them as it takes the slot, so they cross between the
// cores at once, behind its own searcher bookkeeping, where each look found the next line one
// transfer later.
// Shared:  slot_  an outside thread CASes it from null to its actor (release: the actor's
//                 consumer role, [I1]); a worker exchanges it back to null (acquire, [I2]). A
//                 full slot, or a queue with actors in it, sends the outside actor to the queue.
//          slot_lines_  hints, relaxed both ways: stored before [I1], read after [I2]. Two
//                 outside threads racing may leave one's lines beside the other's actor, or
//                 lines already freed: a prefetch of any address is harmless.
//
// A worker pushes and pops through its own tokens (worker_tokens): its pushes go to a moodycamel
// producer of its own, in order, without the lookup of the thread's producer that a push without
// a token makes; it pushes half its full local queue at once (worker::spill_older_half), and
// takes up to a batch at once when it has nothing local, through a consumer token that moves on
// to the next producer after each batch, so no producer that keeps its queue full starves the
// others.
//
// Under ThreadSanitizer the queue is a mutex around a deque instead: moodycamel orders its
// slots with standalone fences, which TSan does not model, so it would report races that are
// not there and hide the ones in our own code. The swap changes no semantics the engine relies
// on.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#if defined(__SANITIZE_THREAD__)
#include <algorithm>
#include <deque>
#include <mutex>
#else
#include <concurrentqueue/concurrentqueue.h>
#endif

namespace eam::detail {
class actor_cell;
}

namespace eam::internal {

using detail::actor_cell;

class inject_queue {
 public:
  /// Addresses the worker that takes an actor from the hand-off slot reads first (null: none).
  using first_lines = std::array<const void*, 4>;

  /// A worker's own producer and consumer in the queue; made and used by that worker only, and
  /// destroyed before the queue.
  class worker_tokens;

  /// For a thread outside the pool, behind the hand-off slot.
  void push(actor_cell* c) { q_.push(c); }
  /// For a worker: in order behind its earlier pushes.
  void push(actor_cell* c, worker_tokens& mine);
  /// For a worker: `n` actors at once, in order (half its full local queue).
  void push_bulk(actor_cell* const* cs, std::size_t n, worker_tokens& mine);
  /// For a thread outside the pool: into the hand-off slot when it is free and nothing is
  /// queued, else the queue.
  void push_from_outside(actor_cell* c, const first_lines& lines = {}) {
    actor_cell* expected = nullptr;
    if (slot_.load(std::memory_order_relaxed) == nullptr && q_.size_approx() == 0) {
      for (std::size_t i = 0; i < lines.size(); ++i) slot_lines_[i].store(lines[i], std::memory_order_relaxed);
      if (slot_.compare_exchange_strong(expected, c, std::memory_order_release, std::memory_order_relaxed))  // [I1]
        return;
    }
    q_.push(c);
  }
  /// One actor: the hand-off slot's, else the queue's.
  actor_cell* try_pop(worker_tokens& mine) noexcept;
  /// Up to `max` actors into `out` (the hand-off slot's first); how many.
  std::size_t try_pop_bulk(worker_tokens& mine, actor_cell** out, std::size_t max) noexcept;
  [[nodiscard]] std::size_t size_approx() const noexcept {
    return q_.size_approx() + (slot_.load(std::memory_order_relaxed) != nullptr ? 1 : 0);
  }

 private:
  actor_cell* try_pop_slot() noexcept {
    if (slot_.load(std::memory_order_relaxed) == nullptr) return nullptr;  // a hint: the exchange decides
    actor_cell* c = slot_.exchange(nullptr, std::memory_order_acquire);    // [I2]
    if (c != nullptr)
      for (const auto& line : slot_lines_)
        if (const void* p = line.load(std::memory_order_relaxed)) __builtin_prefetch(p);
    return c;
  }

#if defined(__SANITIZE_THREAD__)
  class queue {
   public:
    struct producer {
      explicit producer(queue&) noexcept {}
    };
    struct consumer {
      explicit consumer(queue&) noexcept {}
    };
    queue& source() noexcept { return *this; }
    void push(actor_cell* c) {
      std::lock_guard l(m_);
      q_.push_back(c);
    }
    void push(actor_cell* c, producer&) { push(c); }
    void push_bulk(actor_cell* const* cs, std::size_t n, producer&) {
      std::lock_guard l(m_);
      q_.insert(q_.end(), cs, cs + n);
    }
    actor_cell* try_pop(consumer&) noexcept {
      std::lock_guard l(m_);
      if (q_.empty()) return nullptr;
      actor_cell* c = q_.front();
      q_.pop_front();
      return c;
    }
    std::size_t try_pop_bulk(consumer&, actor_cell** out, std::size_t max) noexcept {
      std::lock_guard l(m_);
      const std::size_t n = std::min(max, q_.size());
      std::copy_n(q_.begin(), n, out);
      q_.erase(q_.begin(), q_.begin() + static_cast<std::ptrdiff_t>(n));
      return n;
    }
    [[nodiscard]] std::size_t size_approx() const noexcept {
      std::lock_guard l(m_);
      return q_.size();
    }

   private:
    mutable std::mutex m_;
    std::deque<actor_cell*> q_;
  };
#else
  class queue {
   public:
    using producer = moodycamel::ProducerToken;
    using consumer = moodycamel::ConsumerToken;
    void push(actor_cell* c) {
      while (!q_.enqueue(c)) {
      }  // fails only when a block cannot be allocated; retry
    }
    void push(actor_cell* c, producer& mine) {
      while (!q_.enqueue(mine, c)) {
      }  // as above
    }
    void push_bulk(actor_cell* const* cs, std::size_t n, producer& mine) {
      while (!q_.enqueue_bulk(mine, cs, n)) {
      }  // as above: all or none
    }
    actor_cell* try_pop(consumer& mine) noexcept {
      actor_cell* c = nullptr;
      return q_.try_dequeue(mine, c) ? c : nullptr;
    }
    std::size_t try_pop_bulk(consumer& mine, actor_cell** out, std::size_t max) noexcept {
      return q_.try_dequeue_bulk(mine, out, max);
    }
    [[nodiscard]] std::size_t size_approx() const noexcept { return q_.size_approx(); }

    /// What a worker's tokens are made from.
    auto& source() noexcept { return q_; }

   private:
    // A consumer token moves on to the next producer after this many actors: one batch
    // (worker::global_batch), so a producer that keeps its queue full delays another's actors by
    // a batch, not by moodycamel's default of 256. Without a token moodycamel picks the fullest
    // of the first producers it looks at, the newest on a tie, which could pass over an older
    // producer's actor for as long as a newer one kept refilling.
    struct traits : moodycamel::ConcurrentQueueDefaultTraits {
      static constexpr std::uint32_t EXPLICIT_CONSUMER_CONSUMPTION_QUOTA_BEFORE_ROTATE = 32;
    };
    moodycamel::ConcurrentQueue<actor_cell*, traits> q_;
  };
#endif
  alignas(64) std::atomic<actor_cell*> slot_{nullptr};
  std::array<std::atomic<const void*>, 4> slot_lines_{};
  queue q_;
};

class inject_queue::worker_tokens {
 public:
  explicit worker_tokens(inject_queue& q) : producer_(q.q_.source()), consumer_(q.q_.source()) {}

 private:
  friend class inject_queue;
  queue::producer producer_;
  queue::consumer consumer_;
};

inline void inject_queue::push(actor_cell* c, worker_tokens& mine) { q_.push(c, mine.producer_); }

inline void inject_queue::push_bulk(actor_cell* const* cs, std::size_t n, worker_tokens& mine) {
  q_.push_bulk(cs, n, mine.producer_);
}

inline actor_cell* inject_queue::try_pop(worker_tokens& mine) noexcept {
  if (actor_cell* c = try_pop_slot()) return c;
  return q_.try_pop(mine.consumer_);
}

inline std::size_t inject_queue::try_pop_bulk(worker_tokens& mine, actor_cell** out, std::size_t max) noexcept {
  if (max == 0) return 0;
  if (actor_cell* c = try_pop_slot()) {
    out[0] = c;
    return 1 + q_.try_pop_bulk(mine.consumer_, out + 1, max - 1);
  }
  return q_.try_pop_bulk(mine.consumer_, out, max);
}

}  // namespace eam::internal
