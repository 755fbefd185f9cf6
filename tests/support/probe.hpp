#pragma once
// A probe actor for tests: watches the actors it is told to and records every down (and, when
// trapping, every exit signal) it receives, so a test can wait for them.
#include <eam/eam.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace eam::test {

struct watch_this {
  actor_ref target;
};
struct link_to {
  actor_ref target;
};
/// A call that returns once everything cast to the probe before it was handled: the watch and
/// link requests it sent are then queued at their targets, ahead of anything sent later.
struct sync_probe {};

/// What a probe saw, readable from the test thread.
struct probe_log {
  std::mutex m;
  std::vector<std::string> entries;  // "down <id> <reason>" or "exit <id> <reason>"
  void add(std::string s) {
    std::lock_guard l(m);
    entries.push_back(std::move(s));
  }
  std::vector<std::string> snapshot() {
    std::lock_guard l(m);
    return entries;
  }
  std::size_t size() {
    std::lock_guard l(m);
    return entries.size();
  }
};

inline auto probe(actor_context& ctx, std::shared_ptr<probe_log> log, bool trap_exits) {
  ctx.set_trap_exit(trap_exits);
  return behavior{
      [&ctx](watch_this w) { (void)ctx.watch(w.target); },
      [&ctx](link_to l) { ctx.link(l.target); },
      [](sync_probe) { return true; },
      [log](down d) { log->add("down " + std::to_string(d.actor.id()) + " " + d.reason.to_string()); },
      [log](exit_signal x) { log->add("exit " + std::to_string(x.from.id()) + " " + x.reason.to_string()); },
  };
}

}  // namespace eam::test
