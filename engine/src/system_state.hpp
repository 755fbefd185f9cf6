#pragma once
// system_state: what an actor_system owns. Cells point at it; the public actor_system is a
// handle to it.
#include "actor_registry.hpp"
#include "caller_turn_gate.hpp"
#include "mute_table.hpp"
#include "scheduler.hpp"
#include "timer_service.hpp"

#include <eam/engine/system.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>
#include <thread>

namespace eam::detail {

class system_state {
 public:
  enum class phase : std::uint8_t {
    running,   ///< normal operation
    draining,  ///< shutdown began: no spawns or calls from outside; actors finish their mail
    stopping,  ///< actors are being stopped: no spawns or calls at all
    stopped,   ///< workers joined
  };

  explicit system_state(const system_config& cfg);

  system_config config;
  // The timers before the scheduler: its destructor joins workers the timer service watches
  // (scheduler::stop), so the service must outlive it.
  internal::timer_service timers;
  internal::scheduler scheduler;
  internal::actor_registry registry;
  internal::mute_table mutes;
  // Turns run by callers outside the pool (system_config::calls_run_on_caller); shutdown
  // closes it before it stops the workers.
  internal::caller_turn_gate caller_turns;
  std::atomic<phase> state{phase::running};
  actor_system* handle = nullptr;
  // Shutdown started from inside an actor runs on a thread of its own (actor_system::shutdown);
  // `stopped` is signalled when any shutdown completes.
  std::mutex shutdown_mutex;
  std::condition_variable stopped;
  std::thread shutdown_thread;  // guarded by shutdown_mutex
  // health(): registered components, and when the system started.
  std::mutex health_mutex;
  std::vector<std::pair<std::string, std::function<component_health()>>> health_checks;
  // The last non-zero backlog sample and when it was taken (guarded by health_mutex): a health()
  // right after another reads it for a second, instead of the 0 of a census not yet taken.
  std::uint64_t last_backlog = 0;
  std::chrono::steady_clock::time_point last_backlog_at{};
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  [[nodiscard]] phase current_phase() const noexcept { return state.load(std::memory_order_acquire); }
};

}  // namespace eam::detail
