#pragma once
// The migration tests' witness: an actor that watches or links to a target (trapping exits)
// and records the eam::moved, eam::down and eam::exit_signal info messages it gets. A call of
// `observer_sync` is answered after everything queued before it: a test's sync point.
#include <eam/eam.hpp>

#include <memory>
#include <mutex>
#include <vector>

namespace eam::test {

struct observed {
  std::mutex lock;
  std::vector<moved> moves;
  int downs = 0;
  int exits = 0;
};
struct observer_sync {};
using observer_ref = typed_ref<int(observer_sync)>;

inline observer_ref observe(actor_system& system, std::shared_ptr<observed> log, actor_ref target, bool link) {
  return system.spawn([log, target, link](actor_context& ctx) {
    ctx.set_trap_exit(true);
    if (link)
      ctx.link(target);
    else
      ctx.watch(target);
    return behavior{[log](const moved& m) {
                      std::lock_guard g(log->lock);
                      log->moves.push_back(m);
                    },
                    [log](const down&) {
                      std::lock_guard g(log->lock);
                      ++log->downs;
                    },
                    [log](const exit_signal&) {
                      std::lock_guard g(log->lock);
                      ++log->exits;
                    },
                    [](observer_sync) { return 0; }};
  });
}

}  // namespace eam::test
