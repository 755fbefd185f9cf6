#pragma once
// A one-shot completion signal a benchmark thread waits on while actors run a workload.
#include <atomic>
#include <cstdint>

namespace eam::bench {

class done_latch {
 public:
  void set(std::int64_t value = 0) noexcept {
    value_.store(value, std::memory_order_relaxed);
    done_.store(true, std::memory_order_release);
    done_.notify_all();
  }
  std::int64_t wait() noexcept {
    done_.wait(false, std::memory_order_acquire);
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<bool> done_{false};
  std::atomic<std::int64_t> value_{0};
};

}  // namespace eam::bench
