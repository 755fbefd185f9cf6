#pragma once
/// A consumer supervisor: subscribes to producers and starts one worker per event, as a child
/// it supervises. A subscription's max_demand is the most workers running for it at once: a
/// slot is freed when a worker ends (normally or not), and freed slots are asked for again
/// once the running and outstanding events fall to min_demand.
///
///   auto jobs = eam::otp::consumer_supervisor<job>::start(system,
///       [](eam::actor_context& ctx, job j) {          // the worker: a functional actor
///         ctx.continue_with([&ctx, j] { run(j); ctx.stop(); });
///         return eam::behavior{[](ping) {}};
///       });
///   jobs.subscribe(queue.ref(), {.max_demand = 10}).value();
///
/// The worker is a factory (actor_context&, T) -> behavior, or a function (actor_context&, T)
/// that spawns the worker itself (e.g. `ctx.spawn<job_actor>(j)`) and returns its ref.
///
/// Restarts: `temporary` workers (the default) are never restarted, so each event is handed
/// to exactly one worker; `transient` (and `permanent`, which means the same here: a worker
/// that finished its event is done) restarts a worker that crashed with the same event,
/// holding its slot. More than `max_restarts` restarts within `period` and the supervisor
/// ends with reason "max_restarts", as a supervisor does.

#include <eam/otp/otp_errc.hpp>
#include <eam/otp/gen_stage/consuming_stage.hpp>
#include <eam/otp/supervisor.hpp>
#include <eam/engine/log.hpp>

#include <chrono>
#include <deque>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace eam::otp {

struct consumer_supervisor_options {
  restart_policy restart = restart_policy::temporary;
  int max_restarts = 3;
  std::chrono::milliseconds period{5000};
};

namespace detail {
template <class T>
using consumer_supervisor_ref = typed_ref<result<subscription>(stage_subscribe_to<T>), bool(stage_unsubscribe),
                                          std::vector<subscription>(stage_list_subscriptions), void(stage_events<T>),
                                          std::vector<child_info>(which_children), child_counts(count_children)>;

/// Starts one worker for `event` as a child of `ctx`.
template <class Worker, class T>
actor_ref start_worker(actor_context& ctx, Worker& worker, T event) {
  if constexpr (is_behavior_v<std::invoke_result_t<Worker&, actor_context&, T&&>>)
    return ctx.spawn(worker, std::move(event));
  else
    return actor_ref(worker(ctx, std::move(event)));
}
}  // namespace detail

template <class T>
class consumer_supervisor : public detail::consuming_stage<T, detail::consumer_supervisor_ref<T>> {
 public:
  using ref_type = detail::consumer_supervisor_ref<T>;

  template <class Where, class Worker>
  static consumer_supervisor start(Where& where, Worker worker, consumer_supervisor_options options = {},
                                   spawn_options opts = {}) {
    if (options.restart != restart_policy::temporary && !std::is_copy_constructible_v<T>)
      throw error(otp_errc::invalid_subscription, "restarting workers needs events that can be copied");
    return consumer_supervisor(where.spawn(
        opts,
        [](actor_context& ctx, Worker worker, consumer_supervisor_options options) {
          struct running {
            std::uint64_t tag;
            actor_ref ref;
            std::optional<T> event;  // kept only when a crashed worker is restarted with it
          };
          struct stage {
            stage(actor_context& c, Worker&& w, consumer_supervisor_options o)
                : ctx(c), worker(std::move(w)), options(o), up(c) {}
            actor_context& ctx;
            Worker worker;
            consumer_supervisor_options options;
            detail::upstream up;
            std::unordered_map<std::uint64_t, running> workers;  // by watch id
            std::deque<std::chrono::steady_clock::time_point> restarts;

            void start(std::uint64_t tag, T&& event) {
              running r{tag, {}, std::nullopt};
              if constexpr (std::is_copy_constructible_v<T>)
                if (options.restart != restart_policy::temporary) r.event.emplace(event);
              try {
                r.ref = detail::start_worker(ctx, worker, std::move(event));
              } catch (const std::exception& e) {
                // A worker that cannot even be spawned (a name another actor holds, a shutdown)
                // fails its event and frees its slot: the stage and its other workers run on.
                log::logger("eam.otp.consumer_supervisor").error("a worker could not start: {}", e.what());
                up.done(tag, 1);
                return;
              }
              const watch_ref w = ctx.watch(r.ref);
              workers.emplace(w.id, std::move(r));
            }
            // A crashed worker is restarted with its event, within the restart limit.
            bool restart(running& r) {
              const auto now = std::chrono::steady_clock::now();
              restarts.push_back(now);
              while (!restarts.empty() && now - restarts.front() > options.period) restarts.pop_front();
              if (static_cast<int>(restarts.size()) > options.max_restarts) {
                ctx.exit(ctx.self(), exit_reason::custom("max_restarts"));
                return false;
              }
              if constexpr (std::is_copy_constructible_v<T>) start(r.tag, T(*r.event));
              return true;
            }
            void on_worker_down(const down& d) {
              auto it = workers.find(d.ref.id);
              if (it == workers.end()) return;
              running r = std::move(it->second);
              workers.erase(it);
              if (options.restart != restart_policy::temporary && d.reason.is_failure() && restart(r)) return;
              up.done(r.tag, 1);  // a slot is free
            }
          };
          auto& st = ctx.make_state<stage>(ctx, std::move(worker), options);
          return behavior{
              [&st, &ctx](detail::stage_subscribe_to<T>&& m) {
                return detail::subscribe_upstream<T>(ctx.self(), st.up, std::move(m));
              },
              [&st](const detail::stage_unsubscribe& m) { return st.up.cancel(m.tag, m.reason); },
              [&st](detail::stage_list_subscriptions) { return st.up.subscriptions(); },
              [&st](detail::stage_events<T>&& m) {
                if (st.up.received(m.tag, m.events.size()) == nullptr) return;
                for (auto& event : m.events) st.start(m.tag, std::move(event));
              },
              [&st](detail::which_children) {
                std::vector<child_info> out;
                out.reserve(st.workers.size());
                for (const auto& [watch, r] : st.workers) out.push_back({"worker", r.ref, "worker", child_type::worker});
                return out;
              },
              [&st](detail::stage_retry_sends) { st.up.retry(); },
              [&st](detail::count_children) {
                return child_counts{st.workers.size(), st.workers.size(), 0, st.workers.size()};
              },
              [&st](down d) {
                if (!st.up.on_down(d)) st.on_worker_down(d);
              },
          };
        },
        std::move(worker), options));
  }

  explicit consumer_supervisor(ref_type ref) : detail::consuming_stage<T, ref_type>(std::move(ref)) {}

  /// The running workers (a blocking call: from outside actors).
  [[nodiscard]] result<std::vector<child_info>> which_children(std::chrono::milliseconds timeout = default_call_timeout) const {
    return this->ref_.call(detail::which_children{}, timeout).get();
  }
  /// Erlang's counts: every running worker is a spec, active, and a worker.
  [[nodiscard]] result<child_counts> count_children(std::chrono::milliseconds timeout = default_call_timeout) const {
    return this->ref_.call(detail::count_children{}, timeout).get();
  }
};

}  // namespace eam::otp
