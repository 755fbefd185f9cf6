// A supervisor is a functional actor on the engine's public API: it spawns its children as
// engine children (so stopping it stops them, youngest first), watches each, and acts on the
// `down` of one that ends. A restart that must first stop siblings (one_for_all,
// rest_for_one) stops them and waits for their downs before it starts anything, so a restarted
// child never overlaps its predecessor.
#include <eam/otp/supervisor.hpp>

#include <eam/engine/telemetry.hpp>

#include <algorithm>
#include <deque>

namespace eam::otp {

namespace {

std::string_view to_string(strategy s) {
  switch (s) {
    case strategy::one_for_one: return "one_for_one";
    case strategy::one_for_all: return "one_for_all";
    case strategy::rest_for_one: return "rest_for_one";
  }
  return "one_for_one";
}

struct running_child {
  child_spec spec;
  actor_ref ref;        // empty while stopped for a restart, or gone for good
  watch_ref watch;
  int restarts = 0;
};

struct supervisor_state {
  supervisor_options options;
  std::vector<running_child> children;  // start order
  std::deque<std::chrono::steady_clock::time_point> recent;  // restarts within the period
  std::vector<std::uint64_t> awaiting;  // watch ids of siblings being stopped for a restart
  std::size_t restart_from = 0;         // first index to restart once `awaiting` is empty
  bool restarting = false;
};

void emit(std::string_view event, telemetry::measurements m, telemetry::metadata md) {
  if (telemetry::any_handlers()) telemetry::execute(event, m, md);
}

class supervisor_behavior {
 public:
  supervisor_behavior(actor_context& ctx, supervisor_state& st) : ctx_(ctx), st_(st) {}

  void start_all() {
    for (auto& c : st_.children) start(c);
  }

  void on_down(const down& d) {
    const auto it = std::find_if(st_.children.begin(), st_.children.end(),
                                 [&](const running_child& c) { return c.ref && c.watch == d.ref; });
    if (it == st_.children.end()) return;
    const std::size_t index = static_cast<std::size_t>(it - st_.children.begin());
    it->ref = {};

    if (st_.restarting) {  // a sibling we stopped for a restart
      std::erase(st_.awaiting, d.ref.id);
      if (st_.awaiting.empty()) finish_restart();
      return;
    }
    const bool abnormal = !d.reason.is_normal();
    if (abnormal)
      emit("libeam.supervisor.crash", {},
           {{"actor_id", std::to_string(d.actor.id())}, {"error", d.reason.to_string()},
            {"strategy", std::string(to_string(st_.options.strategy))}});
    const auto policy = it->spec.restart;
    if (policy == restart_policy::temporary || (policy == restart_policy::transient && !abnormal)) return;
    if (!within_intensity()) return;

    switch (st_.options.strategy) {
      case strategy::one_for_one:
        restart(st_.children[index]);
        break;
      case strategy::one_for_all:
        restart_from(0);
        break;
      case strategy::rest_for_one:
        restart_from(index);
        break;
    }
  }

  std::vector<child_info> which() const {
    std::vector<child_info> out;
    for (const auto& c : st_.children)
      if (c.ref) out.push_back({c.spec.id, c.ref});
    return out;
  }

 private:
  void start(running_child& c) {
    c.ref = c.spec.start(ctx_);
    c.watch = ctx_.watch(c.ref);
  }
  void restart(running_child& c) {
    ++c.restarts;
    start(c);
    emit("libeam.supervisor.restart", {},
         {{"actor_id", std::to_string(ctx_.id())}, {"new_actor_id", std::to_string(c.ref.id())},
          {"attempt", std::to_string(c.restarts)}, {"strategy", std::string(to_string(st_.options.strategy))}});
  }

  // Counts one restart; past the limit, gives up and escalates.
  bool within_intensity() {
    const auto now = std::chrono::steady_clock::now();
    st_.recent.push_back(now);
    while (!st_.recent.empty() && now - st_.recent.front() > st_.options.period) st_.recent.pop_front();
    if (static_cast<int>(st_.recent.size()) <= st_.options.max_restarts) return true;
    emit("libeam.supervisor.max_restarts", {{"count", static_cast<double>(st_.recent.size())}},
         {{"actor_id", std::to_string(ctx_.id())}, {"max_restarts", std::to_string(st_.options.max_restarts)},
          {"period_ms", std::to_string(st_.options.period.count())}});
    // Ending abnormally stops the children first (youngest first) and tells our own
    // supervisor, which applies its strategy in turn.
    ctx_.exit(ctx_.self(), exit_reason::custom("max_restarts"));
    return false;
  }

  // Stops the running children from `from` on, youngest first, then restarts them in order.
  void restart_from(std::size_t from) {
    st_.restart_from = from;
    st_.restarting = true;
    for (std::size_t i = st_.children.size(); i-- > from;) {
      auto& c = st_.children[i];
      if (!c.ref) continue;
      st_.awaiting.push_back(c.watch.id);
      ctx_.stop(c.ref);
    }
    if (st_.awaiting.empty()) finish_restart();
  }

  void finish_restart() {
    st_.restarting = false;
    for (std::size_t i = st_.restart_from; i < st_.children.size(); ++i) {
      auto& c = st_.children[i];
      if (c.spec.restart == restart_policy::temporary && i != st_.restart_from) continue;
      restart(c);
    }
  }

  actor_context& ctx_;
  supervisor_state& st_;
};

auto supervisor_factory(supervisor_options options, std::vector<child_spec> specs) {
  return [options, specs = std::move(specs)](actor_context& ctx) {
    auto& st = ctx.make_state<supervisor_state>();
    st.options = options;
    for (const auto& s : specs) st.children.push_back({s, {}, {}, 0});
    auto& sup = ctx.make_state<supervisor_behavior>(ctx, st);
    sup.start_all();
    return behavior{
        [&sup](down d) { sup.on_down(d); },
        [&sup](detail::which_children) { return sup.which(); },
        [&st](detail::count_children) {
          return static_cast<std::size_t>(std::count_if(st.children.begin(), st.children.end(),
                                                        [](const running_child& c) { return static_cast<bool>(c.ref); }));
        },
    };
  };
}

}  // namespace

supervisor_ref start_supervisor(actor_system& system, supervisor_options options, std::vector<child_spec> children,
                                spawn_options opts) {
  return system.spawn(opts, supervisor_factory(options, std::move(children)));
}

supervisor_ref start_supervisor(actor_context& parent, supervisor_options options, std::vector<child_spec> children,
                                spawn_options opts) {
  return parent.spawn(opts, supervisor_factory(options, std::move(children)));
}

child_spec supervisor_child(std::string id, supervisor_options options, std::vector<child_spec> children, spawn_options opts) {
  return {std::move(id), [options, children = std::move(children), opts](actor_context& ctx) -> actor_ref {
            return start_supervisor(ctx, options, children, opts);
          }};
}

}  // namespace eam::otp
