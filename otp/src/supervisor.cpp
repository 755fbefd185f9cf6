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

}  // namespace

struct child_supervision::state {
  state(actor_context& c, supervisor_options o) : ctx_(c) { options = o; }
  supervisor_options options;
  std::vector<running_child> children;  // start order
  std::deque<std::chrono::steady_clock::time_point> recent;  // restarts within the period
  std::vector<std::uint64_t> awaiting;  // watch ids of siblings being stopped for a restart
  std::size_t restart_first = 0;        // first index to restart once `awaiting` is empty
  bool restarting = false;

void emit(std::string_view event, telemetry::measurements m, telemetry::metadata md) {
  if (telemetry::any_handlers()) telemetry::execute(event, m, md);
}

  bool on_down(const down& d) {
    const auto it = std::find_if(children.begin(), children.end(),
                                 [&](const running_child& c) { return c.ref && c.watch == d.ref; });
    if (it == children.end()) return false;
    const std::size_t index = static_cast<std::size_t>(it - children.begin());
    it->ref = {};

    if (restarting) {  // a sibling we stopped for a restart
      std::erase(awaiting, d.ref.id);
      if (awaiting.empty()) finish_restart();
      return true;
    }
    const bool abnormal = !d.reason.is_normal();
    if (abnormal)
      emit("libeam.supervisor.crash", {},
           {{"actor_id", std::to_string(d.actor.id())}, {"error", d.reason.to_string()},
            {"strategy", std::string(to_string(options.strategy))}});
    const auto policy = it->spec.restart;
    if (policy == restart_policy::temporary || (policy == restart_policy::transient && !abnormal)) return true;
    if (!within_intensity()) return true;

    switch (options.strategy) {
      case strategy::one_for_one:
        restart(children[index]);
        break;
      case strategy::one_for_all:
        restart_from(0);
        break;
      case strategy::rest_for_one:
        restart_from(index);
        break;
    }
    return true;
  }

  std::vector<child_info> which() const {
    std::vector<child_info> out;
    for (const auto& c : children)
      if (c.ref) out.push_back({c.spec.id, c.ref});
    return out;
  }

  void start(running_child& c) {
    c.ref = c.spec.start(ctx_);
    c.watch = ctx_.watch(c.ref);
  }
  void restart(running_child& c) {
    ++c.restarts;
    start(c);
    emit("libeam.supervisor.restart", {},
         {{"actor_id", std::to_string(ctx_.id())}, {"new_actor_id", std::to_string(c.ref.id())},
          {"attempt", std::to_string(c.restarts)}, {"strategy", std::string(to_string(options.strategy))}});
  }

  // Counts one restart; past the limit, gives up and escalates.
  bool within_intensity() {
    const auto now = std::chrono::steady_clock::now();
    recent.push_back(now);
    while (!recent.empty() && now - recent.front() > options.period) recent.pop_front();
    if (static_cast<int>(recent.size()) <= options.max_restarts) return true;
    emit("libeam.supervisor.max_restarts", {{"count", static_cast<double>(recent.size())}},
         {{"actor_id", std::to_string(ctx_.id())}, {"max_restarts", std::to_string(options.max_restarts)},
          {"period_ms", std::to_string(options.period.count())}});
    // Ending abnormally stops the children first (youngest first) and tells our own
    // supervisor, which applies its strategy in turn.
    ctx_.exit(ctx_.self(), exit_reason::custom("max_restarts"));
    return false;
  }

  // Stops the running children from `from` on, youngest first, then restarts them in order.
  void restart_from(std::size_t from) {
    restart_first = from;
    restarting = true;
    for (std::size_t i = children.size(); i-- > from;) {
      auto& c = children[i];
      if (!c.ref) continue;
      awaiting.push_back(c.watch.id);
      ctx_.stop(c.ref);
    }
    if (awaiting.empty()) finish_restart();
  }

  void finish_restart() {
    restarting = false;
    for (std::size_t i = restart_first; i < children.size(); ++i) {
      auto& c = children[i];
      if (c.spec.restart == restart_policy::temporary && i != restart_first) continue;
      restart(c);
    }
  }

  actor_context& ctx_;
};

child_supervision::child_supervision(actor_context& ctx, supervisor_options options)
    : st_(std::make_unique<state>(ctx, options)) {}
child_supervision::~child_supervision() = default;

actor_ref child_supervision::start_child(child_spec spec) {
  st_->children.push_back({std::move(spec), {}, {}, 0});
  st_->start(st_->children.back());
  return st_->children.back().ref;
}
bool child_supervision::handle(const down& d) { return st_->on_down(d); }
std::vector<child_info> child_supervision::children() const { return st_->which(); }
std::size_t child_supervision::count() const {
  return static_cast<std::size_t>(std::count_if(st_->children.begin(), st_->children.end(),
                                                [](const running_child& c) { return static_cast<bool>(c.ref); }));
}

namespace {

auto supervisor_factory(supervisor_options options, std::vector<child_spec> specs) {
  return [options, specs = std::move(specs)](actor_context& ctx) {
    auto& sup = ctx.make_state<child_supervision>(ctx, options);
    for (const auto& s : specs) sup.start_child(s);
    return behavior{
        [&sup](down&& d) { sup.handle(d); },
        [&sup](detail::which_children) { return sup.children(); },
        [&sup](detail::count_children) { return sup.count(); },
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
