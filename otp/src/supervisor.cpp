// A supervisor is a functional actor on the engine's public API whose only job is a
// supervised_children: it starts its children one at a time from its init on, and until they
// have all started it sets aside what it is asked (await_started, which_children,
// count_children), so an answer always describes a started supervisor. When a child fails to
// start, it answers those with the error, then ends with reason "failed_to_start_child".
//
// start_supervisor from a thread learns the outcome through a promise the supervisor keeps,
// not through a call: a first child whose spawn fails at once fails the supervisor inside its
// init, and the call could arrive after the supervisor has ended, with only actor_not_found
// to say so.
#include <eam/otp/supervisor.hpp>

#include <eam/otp/stop.hpp>

#include <future>
#include <memory>

namespace eam::otp {

namespace {

struct give_up {};

using start_outcome = std::promise<std::optional<error>>;

// `outcome`, when given, is fulfilled once the children have started or failed to; if the
// supervisor ends before that, the promise breaks (its owner, the state, is destroyed).
auto supervisor_factory(supervisor_options options, std::vector<child_spec> specs,
                        std::shared_ptr<start_outcome> outcome = nullptr) {
  return [options, specs = std::move(specs), outcome](actor_context& ctx) mutable {
    struct state {
      state(actor_context& ctx, supervisor_options o) : kids(ctx, o) {}
      supervised_children kids;
      bool started = false;
      std::optional<error> failure;
      std::shared_ptr<start_outcome> outcome;
    };
    auto& st = ctx.make_state<state>(ctx, options);
    st.outcome = std::move(outcome);
    st.kids.start_children(specs, [&st, &ctx](std::optional<error> failure) {
      st.started = true;
      st.failure = std::move(failure);
      if (st.outcome) std::exchange(st.outcome, nullptr)->set_value(st.failure);
      ctx.unstash_all();
      if (st.failure) eam::unchecked_typed_ref_cast<typed_ref<void(give_up)>>(ctx.self()).cast(give_up{});
    });
    return behavior{
        [&st, &ctx](detail::await_started) -> std::optional<error> {
          if (!st.started) ctx.stash();
          return st.failure;
        },
        [&st, &ctx](detail::which_children) {
          if (!st.started) ctx.stash();
          return st.kids.which_children();
        },
        [&st, &ctx](detail::count_children) {
          if (!st.started) ctx.stash();
          return st.kids.count_children();
        },
        [&st, &ctx](give_up) { ctx.exit(ctx.self(), exit_reason::custom("failed_to_start_child: " + st.failure->context())); },
    };
  };
}

}  // namespace

bool supervisor::stop(std::chrono::milliseconds timeout) const { return stop_and_wait(ref_, timeout); }

result<supervisor> start_supervisor(actor_system& system, supervisor_options options, std::vector<child_spec> children,
                                    spawn_options opts) {
  if (inside_actor())
    return error(errc::blocking_call_on_worker, "start_supervisor(system, ...) inside a handler: use start_supervisor(ctx, ...)");
  auto outcome = std::make_shared<start_outcome>();
  auto started = outcome->get_future();
  supervisor_ref ref;
  try {
    ref = system.spawn(opts, supervisor_factory(options, std::move(children), std::move(outcome)));
  } catch (const error& e) {
    return e;
  }
  // Known once every child has started, however long their inits take (as Erlang's
  // supervisor:start_link waits).
  try {
    if (auto failure = started.get()) return *failure;
  } catch (const std::future_error&) {  // it ended first (stopped, or the system shut down)
    return error(errc::actor_not_found, "the supervisor ended before its children had started");
  }
  return supervisor(std::move(ref));
}

supervisor start_supervisor(actor_context& parent, supervisor_options options, std::vector<child_spec> children,
                            spawn_options opts) {
  return supervisor(parent.spawn(opts, supervisor_factory(options, std::move(children))));
}

child_spec supervisor_child(std::string id, supervisor_options options, std::vector<child_spec> children, spawn_options opts) {
  std::string label = opts.name;  // empty: "supervisor"
  // Shared, not held by value: a spec is copied at every level above it (into its parent's
  // spec, factory and start list), and each copy of a held list copied the whole subtree below,
  // so a chain of supervisors cost time and memory quadratic in its depth (1.6 GB at 4,000).
  // Starting copies this level's list only.
  auto shared = std::make_shared<const std::vector<child_spec>>(std::move(children));
  return {std::move(id),
          [options, shared = std::move(shared), opts](actor_context& ctx) -> actor_ref {
            return start_supervisor(ctx, options, *shared, opts).ref();
          },
          restart_policy::permanent, child_type::supervisor, std::move(label)};
}

}  // namespace eam::otp
