#pragma once
// The migration tests' witness: an actor that watches or links to a target (trapping exits)
// and records the eam::moved, eam::down and eam::exit_signal info messages it gets. A call of
// `observer_sync` is answered after everything queued in its mailbox before it; `settle` waits
// until what was sent to it before is handled as well.
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

/// Returns once everything sent to the observer before the call is handled. A moved, down or
/// exit reaches it as a system signal, which its next turn turns into an info message at the
/// back of its mailbox, behind a sync call already there: one sync can be answered first, the
/// second comes behind the info message.
inline void settle(const observer_ref& observer) {
  for (int round = 0; round < 2; ++round) (void)observer.call(observer_sync{}).get().value();
}

}  // namespace eam::test
