// The dynamic supervisor: a functional actor driven by downs from watches with handlers of
// their own: a child's, and the start-watch helper's (start_watch.hpp) that reports when a new
// child's init has run. start_child answers then, terminate_child after the child's end.
#include <eam/otp/dynamic_supervisor.hpp>

#include "start_watch.hpp"

#include <eam/otp/otp_errc.hpp>
#include <eam/otp/stop.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <unordered_map>

namespace eam::otp::detail {

std::uint64_t next_start_token() noexcept {
  // Relaxed: only uniqueness matters.
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

namespace {

struct dynamic_child {
  child_spec spec;
  restart_limit limit;
  actor_ref ref;
  std::uint64_t watch = 0;
  std::uint64_t start_watch = 0;                             // while its first init is awaited
  std::uint64_t start_token = 0;                             // the start_child call waiting for it
  std::deque<std::chrono::steady_clock::time_point> recent;  // this child's restarts in the period
  bool terminating = false;                                  // terminate_child waits for its down
};

// What a stashed start_child returns: never sent, the call is answered when it runs again.
result<actor_ref> stashed() { return error(errc::timeout, "not answered yet"); }

// The supervisor's state. Calls that wait (start_child until the init has run, terminate_child
// until the end) are stashed, and every event that settles one unstashes them all: each call
// then finds its answer, or stashes itself again.
struct dynamic_state {
  dynamic_state(actor_context& c, dynamic_supervisor_options o) : ctx(c), options(o) {}

  actor_context& ctx;
  dynamic_supervisor_options options;
  std::vector<dynamic_child> children;
  std::unordered_map<std::uint64_t, result<actor_ref>> started;  // answers for start_child, by token
  std::vector<actor_ref> terminated;                              // answers for terminate_child

  std::vector<dynamic_child>::iterator find_watch(std::uint64_t id) {
    return std::find_if(children.begin(), children.end(), [&](const dynamic_child& c) { return c.watch == id; });
  }

  // Spawns (again) and watches; throws what the spawn throws.
  void spawn(dynamic_child& c) {
    c.ref = c.spec.start(ctx);
    c.watch = ctx.watch(c.ref, [this](const down& d) { on_child_down(d); }).id;
  }

  result<actor_ref> start_child(start_child_msg& m) {
    if (auto done = started.find(m.token); done != started.end()) {
      auto answer = std::move(done->second);
      started.erase(done);
      return answer;
    }
    const bool waiting = std::any_of(children.begin(), children.end(), [&](const dynamic_child& c) { return c.start_token == m.token; });
    if (waiting) {
      ctx.stash();
      return stashed();
    }
    if (options.max_children != 0 && children.size() >= options.max_children)
      return error(errc::max_children, "the dynamic supervisor runs " + std::to_string(children.size()) + " children");
    dynamic_child c;
    c.spec = std::move(m.spec);
    c.limit = m.limit.value_or(restart_limit{options.max_restarts, options.period});
    try {
      spawn(c);
    } catch (const error& e) {
      return e;  // e.g. name_taken: the caller's mistake, not the supervisor's crash
    } catch (const std::exception& e) {
      return error(errc::actor_crashed, "failed to start child '" + c.spec.id + "': " + e.what());
    }
    c.start_token = m.token;
    c.start_watch = watch_start(ctx, c.ref, [this](const down& d) { on_start_watch_down(d); });
    children.push_back(std::move(c));
    ctx.stash();  // answered once the child's init has run
    return stashed();
  }

  bool terminate_child(const actor_ref& ref) {
    if (!ref) return false;
    if (auto done = std::find(terminated.begin(), terminated.end(), ref); done != terminated.end()) {
      terminated.erase(done);  // its end has come
      return true;
    }
    auto it = std::find_if(children.begin(), children.end(), [&](const dynamic_child& c) { return c.ref == ref; });
    if (it == children.end()) return false;
    if (!it->terminating) {
      it->terminating = true;
      if (it->start_watch != 0) settle_start(*it, it->ref);  // ends its start_child wait too
      ctx.stop(it->ref);
    }
    ctx.stash();  // answered after the child's down
    return false;
  }

  void settle_start(dynamic_child& c, result<actor_ref> answer) {
    if (c.start_watch != 0) ctx.unwatch({c.start_watch, ctx.id(), 0});
    c.start_watch = 0;
    started.emplace(std::exchange(c.start_token, 0), std::move(answer));
    ctx.unstash_all();
  }

  void on_start_watch_down(const down& d) {
    auto it = std::find_if(children.begin(), children.end(), [&](const dynamic_child& c) { return c.start_watch == d.ref.id; });
    if (it == children.end()) return;
    if (d.reason.text() == start_watch_ended) {  // the child's own down says how
      it->start_watch = 0;
      return;
    }
    if (d.reason.is_normal()) {
      settle_start(*it, it->ref);
      return;
    }
    // A nested supervisor refused: it ends by itself; forget it now.
    settle_start(*it, error(errc::actor_crashed, "failed to start child '" + it->spec.id + "': " + start_watch_failure(d.reason)));
    ctx.unwatch({it->watch, ctx.id(), it->ref.id()});
    children.erase(it);
  }

  void on_child_down(const down& d) {
    auto it = find_watch(d.ref.id);
    if (it == children.end()) return;
    const bool abnormal = !d.reason.is_normal();
    if (it->start_token != 0) {
      if (abnormal) {  // its init failed: the caller's error, and it is not kept
        settle_start(*it, error(errc::actor_crashed, "failed to start child '" + it->spec.id + "': " + d.reason.to_string()));
        children.erase(it);
        return;
      }
      settle_start(*it, it->ref);  // its init ran, then it stopped normally: a start, then an end
    }
    if (it->terminating) {
      terminated.push_back(it->ref);
      children.erase(it);
      ctx.unstash_all();
      return;
    }
    const auto policy = it->spec.restart;
    if (policy == restart_policy::temporary || (policy == restart_policy::transient && !abnormal)) {
      children.erase(it);
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    it->recent.push_back(now);
    while (!it->recent.empty() && now - it->recent.front() > it->limit.period) it->recent.pop_front();
    if (static_cast<int>(it->recent.size()) > it->limit.max_restarts) {  // this child's limit: gone for good
      children.erase(it);
      return;
    }
    try {
      spawn(*it);
    } catch (const std::exception&) {  // e.g. its name was taken meanwhile: it cannot come back
      children.erase(it);
    }
  }

  child_counts counts() const {
    child_counts n;
    n.specs = children.size();
    for (const auto& c : children) {
      if (c.start_token == 0) ++n.active;  // started (a child whose init is awaited is not yet)
      ++(c.spec.type == child_type::supervisor ? n.supervisors : n.workers);
    }
    return n;
  }
};

}  // namespace

dynamic_ref start_dynamic_supervisor(actor_system& system, dynamic_supervisor_options options, const spawn_options& opts) {
  return system.spawn(opts, [options](actor_context& ctx) {
    auto& st = ctx.make_state<dynamic_state>(ctx, options);
    return behavior{
        [&st](start_child_msg&& m) { return st.start_child(m); },
        [&st](terminate_child_msg&& m) { return st.terminate_child(m.ref); },
        [&st](which_children) {
          std::vector<child_info> out;
          out.reserve(st.children.size());
          for (const auto& c : st.children) out.push_back(child_info_of(c.spec, c.ref));
          return out;
        },
        [&st](count_children) { return st.counts(); },
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
