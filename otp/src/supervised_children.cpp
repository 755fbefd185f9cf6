// The supervision machinery (supervisor.hpp). It is a state machine driven by downs, each from a
// watch with a handler of its own: a child's, or that of the helper that reports when a child
// has started (start_watch.hpp); and by the engine's report that a worker child's init has
// returned (actor_context::on_child_init), which comes first: the helper's probe is answered
// only after the child's continue and the messages queued for it, and a crash there is an
// ordinary crash, restarted, as in OTP. A restart is a sequence of steps, run one at a time: stop a
// sibling and wait for its down, then start a child and wait until its init has run. Every
// down is accounted for: one the sequence waits for, one of a child the sequence will restart
// anyway (counted against the restart limit), or a crash acted on once the sequence is done.
#include <eam/otp/supervisor.hpp>

#include "start_watch.hpp"

#include <eam/engine/telemetry.hpp>
#include <eam/otp/otp_errc.hpp>

#include <algorithm>
#include <deque>
#include <unordered_map>
#include <unordered_set>

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

void emit(std::string_view event, telemetry::measurements m, telemetry::metadata md) {
  if (telemetry::any_handlers()) telemetry::execute(event, m, md);
}

error start_error(const std::string& id, std::string why, error_code code = errc::actor_crashed) {
  return error(code, "failed to start child '" + id + "': " + why);
}

error duplicate_id(const std::string& id) {
  return error(otp::otp_errc::duplicate_child_id, "the supervisor already has a child with id '" + id + "'");
}

}  // namespace

namespace detail {
child_info child_info_of(const child_spec& spec, actor_ref ref) {
  std::string type = !spec.label.empty() ? spec.label : spec.type == child_type::supervisor ? "supervisor" : "worker";
  return {spec.id, std::move(ref), std::move(type), spec.type};
}

std::string short_class_name(std::string_view qualified) {
  const auto template_args = qualified.find('<');
  const auto scope = qualified.substr(0, template_args).rfind("::");
  return std::string(scope == std::string_view::npos ? qualified : qualified.substr(scope + 2));
}
}  // namespace detail

struct supervised_children::state {
  enum class phase : std::uint8_t {
    stopped,   // not running: ended, or waiting in a sequence to be started again
    starting,  // spawned; its init has not been seen to finish
    running,
    stopping,  // asked to stop by a sequence, which waits for its down
    removed,   // gone for good (a temporary child, or a failed first start); erased when idle
  };
  struct child {
    child_spec spec;
    actor_ref ref;
    std::uint64_t watch = 0;        // the watch on this instance; 0 when none
    std::uint64_t start_watch = 0;  // the watch on the helper reporting its start; 0 when none
    std::uint64_t last_id = 0;      // the id of the last instance, for telemetry
    phase at = phase::stopped;
    bool remove_when_stopped = false;  // a temporary sibling stopped by a sequence
    int restarts = 0;
    int starts_planned = 0;  // start steps of it in `steps`
  };
  struct step {
    bool stop;  // else start
    std::size_t index;
    bool restart;  // a start that is a restart (telemetry)
  };

  state(actor_context& c, supervisor_options o) : ctx(c), options(o) {}

  actor_context& ctx;
  supervisor_options options;
  std::vector<child> children;  // start order; indexes are stable while anything is under way
  // The ids of the children not removed, so that a start with one of them is refused without a
  // scan of every child (a supervision given thousands by start_child).
  std::unordered_set<std::string> live_ids;
  // A child's watch and the watch on its start helper (ids of this actor's own watches, so one
  // map tells them apart) to its index, so a down finds its child without a scan: a supervisor
  // given thousands of children by start_child heard each end in time proportional to them all.
  std::unordered_map<std::uint64_t, std::size_t> by_watch;
  std::size_t compactions_due = 0;  // compact() calls since the children were last compacted
  std::deque<step> steps;
  bool waiting = false;               // the first step is waiting for a down
  std::deque<std::size_t> crashes;    // children whose crash is acted on once the sequence is done
  std::deque<std::chrono::steady_clock::time_point> recent;  // restarts within the period
  bool gave_up = false;
  // The worker child being started, whose init's return is awaited (one start at a time).
  std::size_t init_awaited = static_cast<std::size_t>(-1);
  // start_children: the first start of a list of children.
  std::function<void(std::optional<error>)> on_started;
  std::optional<error> first_start_failure;

  [[nodiscard]] bool busy() const noexcept { return waiting || !steps.empty(); }

  // Steps are planned, taken and dropped only through these, which keep each child's count of
  // planned starts: a crash during a sequence asks it instead of scanning the steps (a
  // one_for_all supervisor whose N children all crashed at once scanned about 2N steps per
  // crash: 64,000 children took 52 us each, 512,000 did not finish in a minute).
  void plan(step s) {
    steps.push_back(s);
    if (!s.stop) ++children[s.index].starts_planned;
  }
  step take_step() {
    const step s = steps.front();
    steps.pop_front();
    if (!s.stop) --children[s.index].starts_planned;
    return s;
  }
  void drop_steps() noexcept {
    for (const step& s : steps)
      if (!s.stop) --children[s.index].starts_planned;
    steps.clear();
  }

  // -- events ---------------------------------------------------------------------------------

  // The child whose watch or start watch has this id, or null.
  child* by_watch_id(std::uint64_t id) {
    const auto at = by_watch.find(id);
    return at == by_watch.end() ? nullptr : &children[at->second];
  }
  void index_watch(std::uint64_t id, const child& c) { by_watch[id] = static_cast<std::size_t>(&c - children.data()); }

  void on_child_down(const down& d) {
    child* found = by_watch_id(d.ref.id);
    if (found == nullptr || found->watch != d.ref.id) return;
    const std::size_t i = static_cast<std::size_t>(found - children.data());
    child& c = *found;
    c.ref = {};
    by_watch.erase(c.watch);
    c.watch = 0;
    switch (c.at) {
      case phase::stopping:  // the sibling a sequence stopped (or one that ended just before)
        if (c.remove_when_stopped)
          remove(c);
        else
          c.at = phase::stopped;
        waiting = false;
        // A stop ends a child with shutdown (or normally, when it ended by itself just before):
        // another reason is a crash of its own (or of its terminate), which the restart under
        // way absorbs but the limit counts.
        if (d.reason.is_failure()) {
          report_crash(c, d.reason.to_string());
          if (!gave_up && !within_intensity()) return;
        }
        advance();
        return;
      case phase::starting:  // ended before its init was seen to finish
        if (!d.reason.is_normal()) {
          start_failed(i, d.reason.to_string());
          return;
        }
        drop_start_watch(c);  // init ran, then it stopped normally: a start, then an end
        c.at = phase::running;
        waiting = false;
        ended(i, d.reason);
        advance();
        return;
      case phase::running:
        ended(i, d.reason);
        return;
      case phase::stopped:
      case phase::removed:
        return;
    }
  }

  void on_child_init(const actor_ref& ref) {
    if (init_awaited >= children.size()) return;
    child& c = children[init_awaited];
    if (c.at != phase::starting || c.ref != ref) return;  // a child of the actor's own, or one stopped since
    init_awaited = static_cast<std::size_t>(-1);
    drop_start_watch(c);
    c.at = phase::running;
    waiting = false;
    advance();
  }

  void on_start_watch_down(const down& d) {
    child* it = by_watch_id(d.ref.id);
    if (it == nullptr || it->start_watch != d.ref.id) return;
    by_watch.erase(it->start_watch);
    it->start_watch = 0;
    if (d.reason.text() == detail::start_watch_ended) return;  // the child's own down says how
    if (!d.reason.is_normal()) {
      start_failed(static_cast<std::size_t>(it - children.data()), detail::start_watch_failure(d.reason));
      return;
    }
    it->at = phase::running;
    waiting = false;
    advance();
  }

  // Gone for good: its id is free again.
  void remove(child& c) {
    if (c.at != phase::removed) live_ids.erase(c.spec.id);
    c.at = phase::removed;
  }

  // -- acting on an end -------------------------------------------------------------------------

  // A running child ended by itself.
  void ended(std::size_t i, const exit_reason& reason) {
    child& c = children[i];
    c.at = phase::stopped;
    // As in OTP, shutdown is no crash: a transient child stopped from outside stays stopped.
    const bool crashed = reason.is_failure();
    if (crashed) report_crash(c, reason.to_string());
    const auto policy = c.spec.restart;
    if (policy == restart_policy::temporary) {
      remove(c);
      compact();
      return;
    }
    if (policy == restart_policy::transient && !crashed) return;
    restart_needed(i);
  }

  void report_crash(const child& c, const std::string& why) {
    emit("libeam.supervisor.crash", {},
         {{"actor_id", std::to_string(c.last_id)}, {"parent_id", std::to_string(ctx.id())}, {"child_id", c.spec.id},
          {"error", why}, {"strategy", std::string(to_string(options.strategy))}});
  }

  // Child i needs a restart: counted now, acted on now or after the sequence under way (unless
  // that sequence starts it again anyway).
  void restart_needed(std::size_t i) {
    if (gave_up || !within_intensity()) return;
    if (busy()) {
      if (children[i].starts_planned == 0) crashes.push_back(i);  // else the sequence starts it again anyway
      return;
    }
    act_on(i);
  }

  void start_failed(std::size_t i, std::string why) {
    child& c = children[i];
    drop_watches(c);
    c.ref = {};
    waiting = false;
    if (on_started) {  // the first start: give up the whole list
      remove(c);
      if (!first_start_failure) first_start_failure = start_error(c.spec.id, std::move(why));
      unwind_first_start();
      return;
    }
    c.at = phase::stopped;
    report_crash(c, why);
    if (c.spec.restart == restart_policy::temporary) {
      remove(c);
      advance();
      return;
    }
    if (!gave_up && within_intensity()) crashes.push_back(i);
    advance();
  }

  // Plans the restart of child i by the strategy: stop the siblings concerned, youngest first,
  // then start them again (and i) in start order.
  void act_on(std::size_t i) {
    std::size_t from = i;
    std::size_t to = i + 1;
    if (options.strategy == strategy::one_for_all) from = 0, to = children.size();
    if (options.strategy == strategy::rest_for_one) to = children.size();
    std::vector<std::size_t> again;
    for (std::size_t j = to; j-- > from;) {
      child& s = children[j];
      if (j == i) continue;
      if (s.at != phase::running && s.at != phase::starting) continue;
      plan({true, j, false});
      if (s.spec.restart == restart_policy::temporary)
        s.remove_when_stopped = true;  // Erlang never restarts a temporary child
      else
        again.push_back(j);
    }
    again.push_back(i);
    std::sort(again.begin(), again.end());
    for (std::size_t j : again) plan({false, j, true});
    advance();
  }

  // Counts one restart; past the limit, gives up and escalates.
  bool within_intensity() {
    const auto now = std::chrono::steady_clock::now();
    recent.push_back(now);
    while (!recent.empty() && now - recent.front() > options.period) recent.pop_front();
    if (static_cast<int>(recent.size()) <= options.max_restarts) return true;
    emit("libeam.supervisor.max_restarts", {{"count", static_cast<double>(recent.size())}},
         {{"actor_id", std::to_string(ctx.id())}, {"max_restarts", std::to_string(options.max_restarts)},
          {"period_ms", std::to_string(options.period.count())}});
    // Ending abnormally stops the children first (youngest first) and tells our own
    // supervisor, which applies its strategy in turn.
    gave_up = true;
    drop_steps();
    crashes.clear();
    ctx.exit(ctx.self(), exit_reason::custom("max_restarts"));
    return false;
  }

  // -- running the steps ----------------------------------------------------------------------

  void advance() {
    while (!waiting && !steps.empty() && !gave_up) {
      const step s = take_step();
      child& c = children[s.index];
      if (s.stop) {
        if (c.at == phase::running || c.at == phase::starting) {
          drop_start_watch(c);
          c.at = phase::stopping;
          // shutdown, as OTP's supervisors: abnormal, so the actors linked to the child end too.
          ctx.system().stop(c.ref, exit_reason::shutdown());
          waiting = true;
        } else if (c.remove_when_stopped) {
          remove(c);
        }
      } else if (c.at == phase::stopped) {
        start(s.index, s.restart);
      }
    }
    if (busy() || gave_up) return;
    if (on_started) {  // a first start is done: report it, then act on crashes seen meanwhile
      auto done = std::move(on_started);
      on_started = nullptr;
      auto failure = std::exchange(first_start_failure, std::nullopt);
      if (failure) crashes.clear();  // every child is stopped and gone
      done(std::move(failure));
    }
    while (!crashes.empty() && !busy()) {
      const std::size_t i = crashes.front();
      crashes.pop_front();
      if (children[i].at == phase::stopped) act_on(i);  // else a sequence started it again meanwhile
    }
    if (!busy()) compact();
  }

  // Spawns child i and waits until its init has run.
  void start(std::size_t i, bool restart) {
    child& c = children[i];
    actor_ref ref;
    try {
      ref = c.spec.start(ctx);
    } catch (const error& e) {
      fail_spawn(i, e);
      return;
    } catch (const std::exception& e) {
      fail_spawn(i, error(errc::actor_crashed, e.what()));
      return;
    }
    const std::uint64_t previous = c.last_id;
    adopt(c, std::move(ref));
    c.at = phase::starting;
    c.start_watch = detail::watch_start(ctx, c.ref, [this](const down& d) { on_start_watch_down(d); });
    index_watch(c.start_watch, c);
    // A worker has started once its init returns. A nested supervisor only once its own children
    // have: its probe's answer says so. A child the spec spawned outside this actor's children
    // never reports its init, and the probe's answer then says when it ran.
    if (c.spec.type == child_type::worker) init_awaited = i;
    waiting = true;
    if (restart) {
      ++c.restarts;
      emit("libeam.supervisor.restart", {},
           {{"actor_id", std::to_string(previous)}, {"new_actor_id", std::to_string(c.last_id)},
            {"parent_id", std::to_string(ctx.id())}, {"child_id", c.spec.id}, {"attempt", std::to_string(c.restarts)},
            {"strategy", std::string(to_string(options.strategy))}});
    }
  }

  void fail_spawn(std::size_t i, const error& e) {
    if (on_started) {
      remove(children[i]);
      if (!first_start_failure) first_start_failure = start_error(children[i].spec.id, e.context(), e.code());
      unwind_first_start();
      return;
    }
    start_failed(i, e.what());
  }

  void adopt(child& c, actor_ref ref) {
    c.ref = std::move(ref);
    c.last_id = c.ref.id();
    c.watch = ctx.watch(c.ref, [this](const down& d) { on_child_down(d); }).id;
    index_watch(c.watch, c);
  }

  // A first start failed: stop every child started so far, youngest first, then report.
  void unwind_first_start() {
    drop_steps();
    for (std::size_t j = children.size(); j-- > 0;) {
      if (children[j].at == phase::running || children[j].at == phase::starting) {
        children[j].remove_when_stopped = true;
        plan({true, j, false});
      } else {
        remove(children[j]);
      }
    }
    advance();
  }

  void drop_start_watch(child& c) {
    if (c.start_watch == 0) return;
    ctx.unwatch({c.start_watch, ctx.id(), 0});
    by_watch.erase(c.start_watch);
    c.start_watch = 0;
  }
  void drop_watches(child& c) {
    drop_start_watch(c);
    if (c.watch != 0) {
      ctx.unwatch({c.watch, ctx.id(), c.ref.id()});
      by_watch.erase(c.watch);
    }
    c.watch = 0;
  }

  // Erases children gone for good, once no step or crash refers to an index. Once in as many
  // calls as half the children, so that a run of temporary children's ends costs each a
  // constant share: erasing at every end moved all the later children each time. Until then
  // the ones gone wait, skipped by every walk (phase removed).
  void compact() {
    if (busy() || !crashes.empty()) return;
    if (++compactions_due <= children.size() / 2) return;
    compactions_due = 0;
    std::erase_if(children, [](const child& c) { return c.at == phase::removed; });
    by_watch.clear();
    for (const child& c : children) {
      if (c.watch != 0) index_watch(c.watch, c);
      if (c.start_watch != 0) index_watch(c.start_watch, c);
    }
  }

  // -- reports --------------------------------------------------------------------------------

  std::vector<child_info> which() const {
    std::vector<child_info> out;
    for (const auto& c : children) {
      if (c.at == phase::removed) continue;
      const bool live = c.at == phase::running || c.at == phase::starting;
      out.push_back(detail::child_info_of(c.spec, live ? c.ref : actor_ref{}));
    }
    return out;
  }
  child_counts counts() const {
    child_counts n;
    for (const auto& c : children) {
      if (c.at == phase::removed) continue;
      ++n.specs;
      if (c.at == phase::running || c.at == phase::starting) ++n.active;
      ++(c.spec.type == child_type::supervisor ? n.supervisors : n.workers);
    }
    return n;
  }
};

supervised_children::supervised_children(actor_context& ctx, supervisor_options options)
    : st_(std::make_unique<state>(ctx, options)) {
  ctx.on_child_init([st = st_.get()](const actor_ref& child) { st->on_child_init(child); });
}
supervised_children::~supervised_children() = default;

actor_ref supervised_children::start_child(child_spec spec) {
  if (st_->live_ids.contains(spec.id)) throw duplicate_id(spec.id);
  auto id = st_->live_ids.insert(spec.id).first;  // first: what throws comes before the spawn
  actor_ref ref;
  try {
    ref = spec.start(st_->ctx);
  } catch (...) {
    st_->live_ids.erase(id);  // nothing is recorded
    throw;
  }
  auto& c = st_->children.emplace_back();
  c.spec = std::move(spec);
  st_->adopt(c, std::move(ref));
  c.at = state::phase::running;
  return c.ref;
}

void supervised_children::start_children(std::vector<child_spec> specs, std::function<void(std::optional<error>)> done) {
  // Refused whole, before any child starts, as OTP refuses a child list with a duplicate id.
  std::unordered_set<std::string> ids;
  for (const auto& spec : specs) {
    if (st_->live_ids.contains(spec.id) || !ids.insert(spec.id).second) {
      done(duplicate_id(spec.id));
      return;
    }
  }
  st_->live_ids.merge(ids);
  st_->on_started = std::move(done);
  for (auto& spec : specs) {
    st_->children.emplace_back().spec = std::move(spec);
    st_->plan({false, st_->children.size() - 1, false});
  }
  st_->advance();
}

std::vector<child_info> supervised_children::which_children() const { return st_->which(); }
child_counts supervised_children::count_children() const { return st_->counts(); }
const supervisor_options& supervised_children::options() const noexcept { return st_->options; }

supervised_children& supervise_children(actor_context& ctx, supervisor_options options) {
  return ctx.make_state<supervised_children>(ctx, options);
}

}  // namespace eam::otp
