#include "start_watch.hpp"

#include <eam/engine/task.hpp>
#include <eam/otp/supervisor.hpp>

#include <chrono>

namespace eam::otp::detail {

namespace {
struct probe_child {};
struct report_and_end {};

// A child's init has run once the child handles a message: `await_started` is answered by a
// supervisor once its own children have started, and left unhandled by any other actor, which
// the engine answers at once. Whatever the answer, the child's init is behind it, unless the
// child ended: then its down says whether it ended normally after init (a start, as Erlang's
// init returning ok before the process stops) or abnormally (a failed init, as far as anyone
// can tell from outside).
// Erlang waits as long as a child's init takes; so does this, within a day.
constexpr std::chrono::hours no_start_limit{24};
}  // namespace

start_watch_ref spawn_start_watch(actor_context& ctx, const actor_ref& child) {
  return ctx.spawn([](actor_context& self, actor_ref watched) {
    struct state {
      actor_ref child;
      watch_ref watch;
      bool known = false;
      std::optional<std::string> failure;
    };
    auto& st = self.make_state<state>();
    st.child = std::move(watched);
    st.watch = self.watch(st.child);
    auto conclude = [&st, &self](std::optional<std::string> failure) {
      if (st.known) return;
      st.known = true;
      st.failure = std::move(failure);
      self.unwatch(st.watch);
      self.unstash_all();  // the start_outcome calls that came early are answered before the end
      eam::unchecked_typed_ref_cast<typed_ref<void(report_and_end)>>(self.self()).cast(report_and_end{});
    };
    eam::unchecked_typed_ref_cast<typed_ref<void(probe_child)>>(self.self()).cast(probe_child{});
    return behavior{
        [&st, conclude](probe_child) -> task<void> {
          auto probe = eam::unchecked_typed_ref_cast<typed_ref<std::optional<error>(await_started)>>(st.child);
          auto op = probe.call(await_started{}, no_start_limit);  // named: see task.hpp on GCC 12
          auto answer = co_await op;
          // No temporaries in this coroutine's expressions: GCC 12 mishandles some (task.hpp).
          std::optional<std::string> failure;
          if (answer && answer.value()) failure = answer.value()->context();
          // actor_not_found, actor_crashed, system_shutting_down: the child ended, and its down,
          // queued behind this handler, says how. Any other answer (unhandled_message,
          // mailbox_full, stash_cleared, timeout) comes from a child that runs.
          const bool ended = !answer && (answer.code() == errc::actor_not_found || answer.code() == errc::actor_crashed ||
                                         answer.code() == errc::system_shutting_down);
          if (!ended) conclude(std::move(failure));
        },
        [conclude](down&& d) {
          conclude(d.reason.is_normal() ? std::nullopt : std::optional<std::string>(d.reason.to_string()));
        },
        [&st, &self](start_outcome) -> std::optional<std::string> {
          if (!st.known) self.stash();  // answered once known (conclude unstashes)
          return st.failure;
        },
        [&st, &self](report_and_end) {
          self.exit(self.self(), st.failure ? exit_reason::custom(*st.failure) : exit_reason::normal());
        },
    };
  }, child);
}

}  // namespace eam::otp::detail
