#pragma once
// What every CAF workload of the suite needs: an actor system with the run's worker count and
// the latch the timing thread waits on. Only the CAF headers event-based actors need, rather
// than caf/all.hpp, since every workload is its own translation unit.
#include "../../workloads/done_latch.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <cstddef>

namespace eam::suite::caf_peer {

// The config must outlive the system (the system keeps a reference to it), hence a base.
struct system_with_workers {
  explicit system_with_workers(unsigned workers) {
    cfg.set("scheduler.max-threads", static_cast<std::size_t>(workers));
  }
  caf::actor_system_config cfg;
};

/// An actor system whose scheduler runs `workers` threads, like every other system's run.
/// Its destructor waits for every actor to end: a workload makes its long-lived actors quit
/// (or sends them an exit) before returning.
struct caf_system : system_with_workers {
  explicit caf_system(unsigned workers) : system_with_workers(workers), sys(cfg) {}
  caf::actor_system sys;
};

/// Ends every actor of `actors` (those that would otherwise wait for messages forever).
template <class Actors>
void shut_down(const Actors& actors) {
  for (const auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

}  // namespace eam::suite::caf_peer
