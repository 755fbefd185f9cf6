#pragma once
/// Stopping an actor and waiting for its end: what every OTP handle's `stop()` does.

#include <eam/engine/system.hpp>

#include <chrono>

namespace eam::otp {

/// Stops `ref`'s actor (reason normal: its children first, then its terminate) and returns once
/// it has ended, true; false when it is still running after `timeout`. An empty or dead ref is
/// already stopped. Inside an actor it throws eam::error(blocking_call_on_worker): there, stop
/// with `ctx.stop(ref)` and watch for the `down`.
bool stop_and_wait(const actor_ref& ref, std::chrono::milliseconds timeout = default_call_timeout);

}  // namespace eam::otp
