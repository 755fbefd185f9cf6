#pragma once
// What a test consumer saw, readable from the test thread: every batch it handled, in order.
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <cstddef>
#include <mutex>
#include <numeric>
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

/// from, from + 1, ..., to - 1.
inline std::vector<int> range(int from, int to) {
  std::vector<int> v(static_cast<std::size_t>(to - from));
  std::iota(v.begin(), v.end(), from);
  return v;
}

/// A producer whose handle_demand emits nothing: only pushed events flow.
inline otp::producer<int> silent_producer(actor_system& system, otp::producer_options<int> options = {}) {
  return otp::producer<int>::start(system, [](std::size_t) { return std::vector<int>{}; }, std::move(options));
}

/// Whether a consuming stage has no subscription left (so it has handled its producers' ends).
template <class Stage>
bool has_no_subscriptions(const Stage& stage) {
  auto subs = stage.subscriptions();
  return subs.has_value() && subs.value().empty();
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
