#include "start_watch.hpp"

#include <eam/engine/task.hpp>
#include <eam/otp/supervisor.hpp>

#include <chrono>
#include <string>

namespace eam::otp::detail {

namespace {
struct probe_child {};

// A child's init has run once the child handles a message: `await_started` is answered by a
// supervisor once its own children have started, and left unhandled by any other actor, which
// the engine answers at once. Whatever the answer, the child's init is behind it, unless the
// child ended (actor_not_found, actor_crashed, system_shutting_down): then its down says
// whether it ended normally after init or abnormally (a failed init, as far as anyone can tell
// from outside). Erlang waits as long as a child's init takes; so does this, within a day.
constexpr std::chrono::hours no_start_limit{24};
}  // namespace

std::uint64_t watch_start(actor_context& ctx, const actor_ref& child, std::function<void(const down&)> on_down) {
  auto helper = ctx.spawn([](actor_context& self, actor_ref watched) {
    return behavior{
        [&self, watched](probe_child) -> task<void> {
          auto probe = eam::unchecked_typed_ref_cast<typed_ref<std::optional<error>(await_started)>>(watched);
          auto op = probe.call(await_started{}, no_start_limit);  // named: see task.hpp on GCC 12
          auto answer = co_await op;
          // No temporaries in this coroutine's expressions: GCC 12 mishandles some (task.hpp).
          std::string verdict;
          if (answer && answer.value()) {
            verdict = std::string(start_watch_refused) + answer.value()->context();
          } else if (!answer && (answer.code() == errc::actor_not_found || answer.code() == errc::actor_crashed ||
                                 answer.code() == errc::system_shutting_down)) {
            verdict = std::string(start_watch_ended);
          }
          self.exit(self.self(), verdict.empty() ? exit_reason::normal() : exit_reason::custom(verdict));
        },
    };
  }, child);
  const std::uint64_t id = ctx.watch(helper, std::move(on_down)).id;
  // The probe after the watch: the helper ends only on the probe's reply, a system message
  // queued behind the watch request, and it takes its system messages in order before each
  // ordinary one, so the watch is in place before it can end.
  eam::unchecked_typed_ref_cast<typed_ref<void(probe_child)>>(helper).cast(probe_child{});
  return id;
}

}  // namespace eam::otp::detail
