#include <eam/otp/dynamic_supervisor.hpp>

#include <algorithm>
#include <deque>

namespace eam::otp::detail {

namespace {
struct dynamic_child {
  child_spec spec;
  actor_ref ref;
  watch_ref watch;
  std::deque<std::chrono::steady_clock::time_point> recent;  // this child's restarts in the period
};
}  // namespace

dynamic_ref start_dynamic_supervisor(actor_system& system, dynamic_supervisor_options options, const spawn_options& opts) {
  return system.spawn(opts, [options](actor_context& ctx) {
    auto& children = ctx.make_state<std::vector<dynamic_child>>();
    auto start = [&ctx](dynamic_child& c) {
      c.ref = c.spec.start(ctx);
      c.watch = ctx.watch(c.ref);
    };
    return behavior{
        [&children, options, start](start_child_msg&& m) -> result<actor_ref> {
          if (options.max_children != 0 && children.size() >= options.max_children)
            return error(errc::max_children, "the dynamic supervisor runs " + std::to_string(children.size()) + " children");
          children.push_back({std::move(m.spec), {}, {}, {}});
          start(children.back());
          return children.back().ref;
        },
        [&children, &ctx](terminate_child_msg&& m) {
          auto it = std::find_if(children.begin(), children.end(), [&](const dynamic_child& c) { return c.ref == m.ref; });
          if (it == children.end() || !m.ref) return false;
          ctx.unwatch(it->watch);
          ctx.stop(it->ref);
          children.erase(it);
          return true;
        },
        [&children, options, start](down d) {
          auto it = std::find_if(children.begin(), children.end(), [&](const dynamic_child& c) { return c.watch == d.ref; });
          if (it == children.end()) return;
          const bool abnormal = !d.reason.is_normal();
          const auto policy = it->spec.restart;
          if (policy == restart_policy::temporary || (policy == restart_policy::transient && !abnormal)) {
            children.erase(it);
            return;
          }
          const auto now = std::chrono::steady_clock::now();
          it->recent.push_back(now);
          while (!it->recent.empty() && now - it->recent.front() > options.period) it->recent.pop_front();
          if (static_cast<int>(it->recent.size()) > options.max_restarts) {  // this child's limit: gone for good
            children.erase(it);
            return;
          }
          start(*it);
        },
        [&children](which_children) {
          std::vector<child_info> out;
          for (const auto& c : children) out.push_back({c.spec.id, c.ref});
          return out;
        },
        [&children](count_children) { return children.size(); },
    };
  });
}

}  // namespace eam::otp::detail

namespace eam::otp {

result<actor_ref> supervise(actor_system& system, child_spec spec, dynamic_supervisor_options root_options) {
  constexpr std::string_view root_name = "eam.otp.root";
  auto root = system.whereis<detail::dynamic_ref>(root_name);
  if (!root) {
    try {
      root = detail::start_dynamic_supervisor(system, root_options, {.name = std::string(root_name)});
    } catch (const error& e) {
      if (e.code() != errc::name_taken) return e;
      root = system.whereis<detail::dynamic_ref>(root_name);  // another thread started it first
      if (!root) return root.error_value();
    }
  }
  return dynamic_supervisor(std::move(root.value())).start_child(std::move(spec));
}

}  // namespace eam::otp
