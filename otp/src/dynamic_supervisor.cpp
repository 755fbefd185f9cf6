// The dynamic supervisor: a functional actor. start_child awaits the child's start through the
// start-watch helper (start_watch.hpp), so it answers after the child's init; terminate_child
// sets its call aside until the child's down, so it answers after the child's end.
#include <eam/otp/dynamic_supervisor.hpp>

#include "start_watch.hpp"

#include <eam/engine/task.hpp>
#include <eam/otp/otp_errc.hpp>
#include <eam/otp/stop.hpp>

#include <algorithm>
#include <deque>

namespace eam::otp::detail {

namespace {

struct dynamic_child {
  child_spec spec;
  restart_limit limit;
  actor_ref ref;
  watch_ref watch;
  std::deque<std::chrono::steady_clock::time_point> recent;  // this child's restarts in the period
  bool terminating = false;                                  // terminate_child waits for its down
};

struct dynamic_state {
  std::vector<dynamic_child> children;
  std::vector<actor_ref> terminated;  // ended by terminate_child; its call not answered yet
};

child_info info_of(const dynamic_child& c) {
  std::string type = c.spec.label.empty() ? (c.spec.type == child_type::supervisor ? "supervisor" : "worker") : c.spec.label;
  return {c.spec.id, c.ref, std::move(type), c.spec.type};
}

}  // namespace

dynamic_ref start_dynamic_supervisor(actor_system& system, dynamic_supervisor_options options, const spawn_options& opts) {
  return system.spawn(opts, [options](actor_context& ctx) {
    auto& st = ctx.make_state<dynamic_state>();
    auto find = [&st](const actor_ref& ref) {
      return std::find_if(st.children.begin(), st.children.end(), [&](const dynamic_child& c) { return c.ref == ref; });
    };
    // Spawns (again) and watches; throws what the spawn throws.
    auto spawn = [&ctx](dynamic_child& c) {
      c.ref = c.spec.start(ctx);
      c.watch = ctx.watch(c.ref);
    };
    return behavior{
        [&st, &ctx, options, spawn, find](start_child_msg&& m) -> task<result<actor_ref>> {
          if (options.max_children != 0 && st.children.size() >= options.max_children)
            co_return error(errc::max_children, "the dynamic supervisor runs " + std::to_string(st.children.size()) + " children");
          dynamic_child c;
          c.spec = std::move(m.spec);
          c.limit = m.limit.value_or(restart_limit{options.max_restarts, options.period});
          // No temporaries in this coroutine's expressions: GCC 12 mishandles some (task.hpp).
          std::optional<error> refused;
          try {
            spawn(c);
          } catch (const error& e) {
            refused = e;  // e.g. name_taken: the caller's mistake, not the supervisor's crash
          } catch (const std::exception& e) {
            refused = error(errc::actor_crashed, "failed to start child '" + c.spec.id + "': " + e.what());
          }
          if (refused) co_return *refused;
          const actor_ref ref = c.ref;
          std::string why = "failed to start child '" + c.spec.id + "': ";
          st.children.push_back(std::move(c));
          const start_watch_ref watch = spawn_start_watch(ctx, ref);
          auto outcome = watch.call(start_outcome{}, std::chrono::hours(24));
          auto started = co_await outcome;
          if (started && !started.value()) co_return ref;
          // It ended during init: forget it (its down, if still queued, goes with the watch).
          if (auto it = find(ref); it != st.children.end()) {
            ctx.unwatch(it->watch);
            st.children.erase(it);
          }
          if (started)
            why += *started.value();
          else
            why += started.error_value().what();
          co_return error(errc::actor_crashed, why);
        },
        [&st, &ctx, find](terminate_child_msg&& m) {
          if (!m.ref) return false;
          if (auto done = std::find(st.terminated.begin(), st.terminated.end(), m.ref); done != st.terminated.end()) {
            st.terminated.erase(done);  // its end has come: answer now
            return true;
          }
          auto it = find(m.ref);
          if (it == st.children.end()) return false;
          if (!it->terminating) {
            it->terminating = true;
            ctx.stop(it->ref);
          }
          ctx.stash();  // answered after the child's down (which unstashes)
          return false;
        },
        [&st, &ctx, spawn](down&& d) {
          auto it = std::find_if(st.children.begin(), st.children.end(), [&](const dynamic_child& c) { return c.watch == d.ref; });
          if (it == st.children.end()) return;
          if (it->terminating) {
            st.terminated.push_back(it->ref);
            st.children.erase(it);
            ctx.unstash_all();
            return;
          }
          const bool abnormal = !d.reason.is_normal();
          const auto policy = it->spec.restart;
          if (policy == restart_policy::temporary || (policy == restart_policy::transient && !abnormal)) {
            st.children.erase(it);
            return;
          }
          const auto now = std::chrono::steady_clock::now();
          it->recent.push_back(now);
          while (!it->recent.empty() && now - it->recent.front() > it->limit.period) it->recent.pop_front();
          if (static_cast<int>(it->recent.size()) > it->limit.max_restarts) {  // this child's limit: gone for good
            st.children.erase(it);
            return;
          }
          try {
            spawn(*it);
          } catch (const error&) {  // e.g. its name was taken meanwhile: it cannot come back
            st.children.erase(it);
          }
        },
        [&st](which_children) {
          std::vector<child_info> out;
          out.reserve(st.children.size());
          for (const auto& c : st.children) out.push_back(info_of(c));
          return out;
        },
        [&st](count_children) {
          child_counts n;
          n.specs = n.active = st.children.size();
          for (const auto& c : st.children) ++(c.spec.type == child_type::supervisor ? n.supervisors : n.workers);
          return n;
        },
        [options](supervisor_options_request) { return options; },
    };
  });
}

}  // namespace eam::otp::detail

namespace eam::otp {

bool dynamic_supervisor::stop(std::chrono::milliseconds timeout) const { return stop_and_wait(ref_, timeout); }

namespace {

constexpr std::string_view root_name = "eam.otp.root";

// The root supervisor: found, or started with `options` (another thread may start it first).
result<detail::dynamic_ref> find_or_start_root(actor_system& system, const dynamic_supervisor_options& options) {
  auto root = system.whereis<detail::dynamic_ref>(root_name);
  if (root) return root;
  try {
    return detail::start_dynamic_supervisor(system, options, {.name = std::string(root_name)});
  } catch (const error& e) {
    if (e.code() != errc::name_taken) return e;
    return system.whereis<detail::dynamic_ref>(root_name);
  }
}

dynamic_supervisor_options root_options(const root_supervision_options& o) { return {0, o.max_restarts, o.period}; }

}  // namespace

result<dynamic_supervisor> root_supervisor(actor_system& system) {
  auto root = system.whereis<detail::dynamic_ref>(root_name);
  if (!root) return root.error_value();
  return dynamic_supervisor(std::move(root.value()));
}

result<void> configure_root_supervision(actor_system& system, root_supervision_options options) {
  auto root = find_or_start_root(system, root_options(options));
  if (!root) return root.error_value();
  auto in_force = root->call(detail::supervisor_options_request{}).get();
  if (!in_force) return in_force.error_value();
  if (in_force.value() != root_options(options))
    return error(otp::otp_errc::root_supervision_conflict,
                 "the root supervisor already runs with max_restarts " + std::to_string(in_force.value().max_restarts) +
                     " within " + std::to_string(in_force.value().period.count()) + " ms");
  return {};
}

result<actor_ref> supervise(actor_system& system, child_spec spec, std::optional<restart_limit> limit) {
  auto root = find_or_start_root(system, root_options({}));
  if (!root) return root.error_value();
  return dynamic_supervisor(std::move(root.value())).start_child(std::move(spec), limit);
}

}  // namespace eam::otp
