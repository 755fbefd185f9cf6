#pragma once
// Waiting on an event with a bound, instead of sleeping a fixed time: returns as soon as
// `done()` holds, false if it still does not after `limit`.
#include <chrono>
#include <thread>

namespace eam::test {

template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace eam::test
