#include <eam/otp/agent.hpp>

#include <thread>

namespace eam::otp::detail {

bool wait_for_exit(const actor_ref& ref, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(20);
  while (ref.is_alive()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(2000));
  }
  return true;
}

}  // namespace eam::otp::detail
