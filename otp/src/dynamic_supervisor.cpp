// The dynamic supervisor: a functional actor driven by downs from watches with handlers of
// their own: a child's, and the start-watch helper's (start_watch.hpp) that reports when a new
// child's init has run; and by the engine's report that a worker child's init has returned
// (actor_context::on_child_init), which comes first, before the child's continue and queued
// messages. start_child answers then, terminate_child after the child's end.
#include <eam/otp/dynamic_supervisor.hpp>

#include "start_watch.hpp"

#include <eam/otp/otp_errc.hpp>
#include <eam/otp/stop.hpp>

#include <deque>
#include <iterator>
#include <list>
#include <unordered_map>
#include <utility>

namespace eam::otp::detail {

namespace {

struct dynamic_child {
  child_spec spec;
  restart_limit limit;
  actor_ref ref;
  std::uint64_t watch = 0;
  std::uint64_t start_watch = 0;                             // while its first init is awaited
  bool init_awaited = false;                                 // its start_child is not answered yet
  reply_handle start_reply;                                  // that call, answered once the init has run
  std::vector<reply_handle> terminate_replies;               // terminate_child calls waiting for its end
  std::deque<std::chrono::steady_clock::time_point> recent;  // this child's restarts in the period
  bool terminating = false;                                  // terminate_child waits for its down
};

// What start_child returns once it has taken its call's reply (actor_context::take_reply): never
// sent, the handle answers once the child's init has run.
result<actor_ref> answered_later() { return error(errc::timeout, "answered later"); }

// The supervisor's state. Calls that wait (start_child until the init has run, terminate_child
// until the end) take their reply handles, and the event that settles one answers it. They
// were stashed before, and every settle unstashed them all to look again: n starts at once cost
// n^2 handler runs (4,000 concurrent starts took 171 us each, 250 took 25 us).
//
// Children are a list in start order, found through hash indexes by what each event names (a
// watch's id, a child's actor id): a supervisor may hold a great many children, and a scan per
// event made their starts and ends quadratic (20,000 temporary children took 147 us each to
// start and 357 us each to end).
struct dynamic_state {
  using child_it = std::list<dynamic_child>::iterator;

  dynamic_state(actor_context& c, dynamic_supervisor_options o) : ctx(c), options(o) {}

  actor_context& ctx;
  dynamic_supervisor_options options;
  std::list<dynamic_child> children;
  // A child's watch and the watch on its start helper: both ids of this actor's own watches, so
  // one index tells them apart by id alone (on_child_down and on_start_watch_down compare).
  std::unordered_map<std::uint64_t, child_it> by_watch;
  std::unordered_map<std::uint64_t, child_it> by_actor;  // by actor id: the running instance of each child

  child_it find(const std::unordered_map<std::uint64_t, child_it>& index, std::uint64_t key) {
    const auto at = index.find(key);
    return at == index.end() ? children.end() : at->second;
  }

  // Spawns (again) and watches; throws what the spawn throws, with the child as it was.
  void spawn(child_it it) {
    actor_ref ref = it->spec.start(ctx);
    const std::uint64_t watch = ctx.watch(ref, [this](const down& d) { on_child_down(d); }).id;
    try {
      by_watch.emplace(watch, it);
      by_actor.emplace(ref.id(), it);
    } catch (...) {
      by_watch.erase(watch);  // no index may outlive a child the caller then drops
      throw;
    }
    it->ref = std::move(ref);
    it->watch = watch;
  }
  // Forgets the instance that ended (its watch has fired), before a restart or the removal.
  // Watch ids and actor ids are never 0, so a child with no instance erases nothing here.
  void forget_instance(child_it it) {
    by_watch.erase(it->watch);
    by_actor.erase(it->ref.id());
    it->watch = 0;
  }
  void remove(child_it it) {
    forget_instance(it);
    if (it->start_watch != 0) by_watch.erase(it->start_watch);
    children.erase(it);
  }

  result<actor_ref> start_child(start_child_msg& m) {
    if (options.max_children != 0 && children.size() >= options.max_children)
      return error(errc::max_children, "the dynamic supervisor runs " + std::to_string(children.size()) + " children");
    auto& added = children.emplace_back();
    const child_it it = std::prev(children.end());
    added.spec = std::move(m.spec);
    added.limit = m.limit.value_or(restart_limit{options.max_restarts, options.period});
    try {
      spawn(it);
    } catch (const error& e) {
      children.erase(it);
      return e;  // e.g. name_taken: the caller's mistake, not the supervisor's crash
    } catch (const std::exception& e) {
      std::string id = std::move(it->spec.id);
      children.erase(it);
      return error(errc::actor_crashed, "failed to start child '" + id + "': " + e.what());
    }
    it->init_awaited = true;
    it->start_watch = watch_start(ctx, it->ref, [this](const down& d) { on_start_watch_down(d); });
    by_watch.emplace(it->start_watch, it);
    it->start_reply = ctx.take_reply();  // answered once the child's init has run
    return answered_later();
  }

  bool terminate_child(const actor_ref& ref) {
    if (!ref) return false;
    const auto at = by_actor.find(ref.id());
    if (at == by_actor.end() || at->second->ref != ref) return false;
    dynamic_child& c = *at->second;
    if (!c.terminating) {
      c.terminating = true;
      if (c.start_watch != 0) settle_start(c, c.ref);  // ends its start_child wait too
      // shutdown, as OTP's supervisors: abnormal, so the actors linked to the child end too.
      ctx.system().stop(c.ref, exit_reason::shutdown());
    }
    // Answered after the child's down. The place first: making it may throw, the take may not.
    c.terminate_replies.emplace_back() = ctx.take_reply();
    return false;  // never sent: the handle answers
  }

  void settle_start(dynamic_child& c, result<actor_ref> answer) {
    if (c.start_watch != 0) {
      ctx.unwatch({c.start_watch, ctx.id(), 0});
      by_watch.erase(c.start_watch);
    }
    c.start_watch = 0;
    c.init_awaited = false;
    if (c.start_reply) c.start_reply.reply(std::move(answer));
  }

  // A worker has started once its init has returned, as in OTP; a nested supervisor only once
  // its own children have, which its start helper's answer says.
  void on_child_init(const actor_ref& ref) {
    const child_it it = find(by_actor, ref.id());
    if (it == children.end() || !it->init_awaited || it->ref != ref || it->spec.type != child_type::worker) return;
    settle_start(*it, it->ref);
  }

  void on_start_watch_down(const down& d) {
    const child_it it = find(by_watch, d.ref.id);
    if (it == children.end() || it->start_watch != d.ref.id) return;
    if (d.reason.text() == start_watch_ended) {  // the child's own down says how
      by_watch.erase(it->start_watch);
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
    remove(it);
  }

  void on_child_down(const down& d) {
    const child_it it = find(by_watch, d.ref.id);
    if (it == children.end() || it->watch != d.ref.id) return;
    const bool abnormal = !d.reason.is_normal();
    if (it->init_awaited) {
      if (abnormal) {  // its init failed: the caller's error, and it is not kept
        settle_start(*it, error(errc::actor_crashed, "failed to start child '" + it->spec.id + "': " + d.reason.to_string()));
        // A terminate_child can only have come after its start helper saw it end (a terminate
        // before that settles the start with the child): it had ended by itself, not by it.
        for (auto& r : it->terminate_replies) r.reply(false);
        remove(it);
        return;
      }
      settle_start(*it, it->ref);  // its init ran, then it stopped normally: a start, then an end
    }
    if (it->terminating) {
      // The call that stopped it terminated it; any that came while it was ending found it
      // already on its way out, as a later call finds it gone in OTP (the supervisor there
      // waits the child's end out inside the first call): false, also answered at its end.
      bool first = true;
      for (auto& r : it->terminate_replies) r.reply(std::exchange(first, false));
      remove(it);
      return;
    }
    const auto policy = it->spec.restart;
    // As in OTP, a transient child that ended with shutdown (stopped from outside) stays stopped.
    if (policy == restart_policy::temporary || (policy == restart_policy::transient && !d.reason.is_failure())) {
      remove(it);
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    it->recent.push_back(now);
    while (!it->recent.empty() && now - it->recent.front() > it->limit.period) it->recent.pop_front();
    if (static_cast<int>(it->recent.size()) > it->limit.max_restarts) {  // this child's limit: gone for good
      remove(it);
      return;
    }
    forget_instance(it);
    try {
      spawn(it);
    } catch (const std::exception&) {  // e.g. its name was taken meanwhile: it cannot come back
      remove(it);
    }
  }

  child_counts counts() const {
    child_counts n;
    n.specs = children.size();
    for (const auto& c : children) {
      if (!c.init_awaited) ++n.active;  // started (a child whose init is awaited is not yet)
      ++(c.spec.type == child_type::supervisor ? n.supervisors : n.workers);
    }
    return n;
  }
};

}  // namespace

dynamic_ref start_dynamic_supervisor(actor_system& system, dynamic_supervisor_options options, const spawn_options& opts) {
  return system.spawn(opts, [options](actor_context& ctx) {
    auto& st = ctx.make_state<dynamic_state>(ctx, options);
    ctx.on_child_init([&st](const actor_ref& child) { st.on_child_init(child); });
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
