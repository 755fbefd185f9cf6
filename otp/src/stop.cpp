#include <eam/otp/stop.hpp>

#include <algorithm>
#include <thread>

namespace eam::otp {

bool stop_and_wait(const actor_ref& ref, std::chrono::milliseconds timeout) {
  if (!ref || !ref.is_alive()) return true;
  if (inside_actor())
    throw error(errc::blocking_call_on_worker, "stop_and_wait inside a handler would stall a worker: ctx.stop(ref) and watch it");
  system_of(ref).stop(ref);
  // The engine marks an actor dead after its terminate and its watchers' downs; polling with a
  // growing pause is fine here: stopping is rare, and the first checks come within microseconds.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(20);
  while (ref.is_alive()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(2000));
  }
  return true;
}

}  // namespace eam::otp
