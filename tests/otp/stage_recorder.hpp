#pragma once
// What a test consumer saw, readable from the test thread: every batch it handled, in order.
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <cstddef>
#include <mutex>
#include <vector>

namespace eam::test {

template <class T>
struct stage_log {
  std::mutex m;
  std::vector<std::vector<T>> batches;
  std::size_t total = 0;

  void add(const std::vector<T>& batch) {
    std::lock_guard l(m);
    batches.push_back(batch);
    total += batch.size();
  }
  std::size_t count() {
    std::lock_guard l(m);
    return total;
  }
  std::vector<T> events() {
    std::lock_guard l(m);
    std::vector<T> out;
    for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
    return out;
  }
  std::size_t largest_batch() {
    std::lock_guard l(m);
    std::size_t n = 0;
    for (const auto& b : batches) n = std::max(n, b.size());
    return n;
  }
};

/// A consumer that records its batches into `log` (which must outlive the system).
template <class T, class Where>
otp::consumer<T> recorder(Where& where, stage_log<T>& log) {
  return otp::consumer<T>::start(where, [&log](std::vector<T>& events) { log.add(events); });
}

/// A finite producer of 0, 1, ..., total - 1, emitting exactly what it is asked for.
template <class Where>
otp::producer<int> counter_producer(Where& where, int total, otp::producer_options<int> options = {}) {
  return otp::producer<int>::start(
      where, [] { return 0; },
      [total](std::size_t demand, int& next) {
        std::vector<int> out;
        while (out.size() < demand && next < total) out.push_back(next++);
        return out;
      },
      std::move(options));
}

}  // namespace eam::test
