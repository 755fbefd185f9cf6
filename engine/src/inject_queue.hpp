#pragma once
// inject_queue: the global queue of runnable actors that come from outside the pool or
// overflow a worker's local queue. Order across producers does not matter here, which is why
// moodycamel's ConcurrentQueue (FIFO per producer only) fits.
//
// Under ThreadSanitizer it is a mutex around a deque instead: moodycamel orders its slots with
// standalone fences, which TSan does not model, so it would report races that are not there
// and hide the ones in our own code. The swap changes no semantics the engine relies on.
#include <cstddef>

#if defined(__SANITIZE_THREAD__)
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

#if defined(__SANITIZE_THREAD__)
class inject_queue {
 public:
  void push(actor_cell* c) {
    std::lock_guard l(m_);
    q_.push_back(c);
  }
  actor_cell* try_pop() noexcept {
    std::lock_guard l(m_);
    if (q_.empty()) return nullptr;
    actor_cell* c = q_.front();
    q_.pop_front();
    return c;
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
class inject_queue {
 public:
  void push(actor_cell* c) {
    while (!q_.enqueue(c)) {
    }  // fails only when a block cannot be allocated; retry
  }
  actor_cell* try_pop() noexcept {
    actor_cell* c = nullptr;
    return q_.try_dequeue(c) ? c : nullptr;
  }
  [[nodiscard]] std::size_t size_approx() const noexcept { return q_.size_approx(); }

 private:
  moodycamel::ConcurrentQueue<actor_cell*> q_;
};
#endif

}  // namespace eam::internal
