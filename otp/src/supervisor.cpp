// A supervisor is a functional actor on the engine's public API whose only job is a
// supervised_children: it starts its children one at a time from its init on, and until they
// have all started it sets aside what it is asked (await_started, which_children,
// count_children), so an answer always describes a started supervisor. When a child fails to
// start, it answers those with the error, then ends with reason "failed_to_start_child".
#include <eam/otp/supervisor.hpp>

#include <eam/otp/stop.hpp>

namespace eam::otp {

namespace {

struct give_up {};

auto supervisor_factory(supervisor_options options, std::vector<child_spec> specs) {
  return [options, specs = std::move(specs)](actor_context& ctx) {
    struct state {
      state(actor_context& ctx, supervisor_options o) : kids(ctx, o) {}
      supervised_children kids;
      bool started = false;
      std::optional<error> failure;
    };
    auto& st = ctx.make_state<state>(ctx, options);
    st.kids.start_children(specs, [&st, &ctx](std::optional<error> failure) {
      st.started = true;
      st.failure = std::move(failure);
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
  supervisor_ref ref;
  try {
    ref = system.spawn(opts, supervisor_factory(options, std::move(children)));
  } catch (const error& e) {
    return e;
  }
  // The supervisor answers once every child has started, however long their inits take (as
  // Erlang's supervisor:start_link); a day bounds a child that never returns from init.
  auto started = ref.call(detail::await_started{}, std::chrono::hours(24)).get();
  if (!started) return started.error_value();
  if (started.value()) return *started.value();
  return supervisor(std::move(ref));
}

supervisor start_supervisor(actor_context& parent, supervisor_options options, std::vector<child_spec> children,
                            spawn_options opts) {
  return supervisor(parent.spawn(opts, supervisor_factory(options, std::move(children))));
}

child_spec supervisor_child(std::string id, supervisor_options options, std::vector<child_spec> children, spawn_options opts) {
  std::string label = opts.name.empty() ? std::string("supervisor") : opts.name;
  return {std::move(id),
          [options, children = std::move(children), opts](actor_context& ctx) -> actor_ref {
            return start_supervisor(ctx, options, children, opts).ref();
          },
          restart_policy::permanent, child_type::supervisor, std::move(label)};
}

}  // namespace eam::otp
