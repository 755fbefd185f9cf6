#pragma once
/// Supervisors, as OTP's: an actor that starts children from specs, in order, and restarts
/// them when they end, by one of three strategies:
///   one_for_one   restart only the child that ended (the default);
///   one_for_all   stop the others (youngest first), then restart every child in start order;
///   rest_for_one  the same for the child that ended and those started after it.
/// More than `max_restarts` restarts within `period` and the supervisor gives up: it stops its
/// children and ends with reason "max_restarts", which its own supervisor sees (escalation).
///
///   auto sup = eam::otp::start_supervisor(system, {.strategy = eam::otp::strategy::one_for_all},
///       {eam::otp::child("db", {.name = "db"}, db_factory, url),
///        eam::otp::child<cache_actor>("cache", {}, 1024)});

#include <eam/engine/system.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace eam::otp {

enum class strategy : std::uint8_t { one_for_one, one_for_all, rest_for_one };

/// When a child that ended is restarted: always, only after an abnormal end, or never.
enum class restart_policy : std::uint8_t { permanent, transient, temporary };

struct child_spec {
  std::string id;
  /// Spawns the child as a child of the supervisor; called again for every restart, with the
  /// same arguments (they are copied into the spec).
  std::function<actor_ref(actor_context&)> start;
  restart_policy restart = restart_policy::permanent;
};

/// A spec for a functional child: `factory(ctx, args...)`, spawned with `opts` (its name
/// survives restarts).
template <class F, class... A>
child_spec child(std::string id, spawn_options opts, F factory, A... args) {
  return {std::move(id), [opts = std::move(opts), factory = std::move(factory), args...](actor_context& ctx) -> actor_ref {
            return ctx.spawn(opts, factory, args...);
          }};
}
/// A spec for a class child T, `init(args...)`.
template <class T, class... A>
child_spec child(std::string id, spawn_options opts, A... args) {
  return {std::move(id), [opts = std::move(opts), args...](actor_context& ctx) -> actor_ref { return ctx.spawn<T>(opts, args...); }};
}

struct supervisor_options {
  otp::strategy strategy = strategy::one_for_one;
  int max_restarts = 3;
  std::chrono::milliseconds period{5000};
};

/// What `which_children` reports.
struct child_info {
  std::string id;
  actor_ref ref;
};

/// Supervision for any actor's own children, by the same strategies and limits as a supervisor:
/// create it in the actor (factory or init), start children through it, and pass it every
/// `down` the actor gets. Past the restart limit it ends the actor with reason "max_restarts",
/// so the actor's own supervisor sees the crash.
///
///   auto& kids = ctx.make_state<eam::otp::child_supervision>(ctx, eam::otp::supervisor_options{});
///   kids.start_child(eam::otp::child("worker", {}, worker));
///   return eam::behavior{[&kids](eam::down d) { kids.handle(d); }, ...};
class child_supervision {
 public:
  child_supervision(actor_context& ctx, supervisor_options options = {});
  ~child_supervision();
  child_supervision(const child_supervision&) = delete;
  child_supervision& operator=(const child_supervision&) = delete;

  /// Starts a child from `spec`, after the ones started before, and supervises it.
  actor_ref start_child(child_spec spec);
  /// True when `d` was about one of these children (and was acted on).
  bool handle(const down& d);
  [[nodiscard]] std::vector<child_info> children() const;
  [[nodiscard]] std::size_t count() const;

 private:
  struct state;
  std::unique_ptr<state> st_;
};

namespace detail {
struct which_children {};
struct count_children {};
}  // namespace detail

using supervisor_ref = typed_ref<std::vector<child_info>(detail::which_children), std::size_t(detail::count_children)>;

/// Starts a top-level supervisor.
supervisor_ref start_supervisor(actor_system& system, supervisor_options options, std::vector<child_spec> children,
                                spawn_options opts = {});
/// Starts a supervisor as a child of the running actor (a supervision tree).
supervisor_ref start_supervisor(actor_context& parent, supervisor_options options, std::vector<child_spec> children,
                                spawn_options opts = {});
/// A spec that starts a nested supervisor.
child_spec supervisor_child(std::string id, supervisor_options options, std::vector<child_spec> children,
                            spawn_options opts = {});

/// The children of a supervisor, in start order (a blocking call: not from inside an actor).
inline std::vector<child_info> which_children(const supervisor_ref& sup) {
  return sup.call(detail::which_children{}).get().value();
}

}  // namespace eam::otp
