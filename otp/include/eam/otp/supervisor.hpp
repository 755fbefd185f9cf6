#pragma once
/// Supervisors, as OTP's: an actor that starts children from specs, one at a time (each child's
/// init has run before the next one starts), and restarts them when they end, by one of three
/// strategies:
///   one_for_one   restart only the child that ended (the default);
///   one_for_all   stop the others one at a time, youngest first, then restart every child in
///                 start order (temporary children stopped this way are not restarted);
///   rest_for_one  the same for the child that ended and those started after it.
/// More than `max_restarts` restarts within `period` and the supervisor gives up: it stops its
/// children and ends with reason "max_restarts", which its own supervisor sees (escalation).
///
///   auto sup = eam::otp::start_supervisor(system, {.strategy = eam::otp::strategy::one_for_all},
///       {eam::otp::child("db", {.name = "db"}, db_factory, url),
///        eam::otp::child<cache_actor>("cache", {}, 1024)}).value();
///   for (const auto& c : sup.which_children().value()) ...;   // id, ref, type label
///   sup.stop();

#include <eam/engine/actor.hpp>
#include <eam/engine/system.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eam::otp {

enum class strategy : std::uint8_t { one_for_one, one_for_all, rest_for_one };

/// When a child that ended is restarted: always, only after a failure (an end other than normal
/// and shutdown, exit_reason::is_failure), or never. A supervisor stops its children with
/// shutdown, as OTP's do: abnormal, so the actors linked to a child end with it.
enum class restart_policy : std::uint8_t { permanent, transient, temporary };

/// Erlang's child type: what `count_children` counts a child as.
enum class child_type : std::uint8_t { worker, supervisor };

struct child_spec {
  std::string id;
  /// Spawns the child as a child of the supervising actor; called again for every restart,
  /// with the same arguments (they are copied into the spec).
  std::function<actor_ref(actor_context&)> start;
  restart_policy restart = restart_policy::permanent;
  child_type type = child_type::worker;
  /// What `which_children` reports as the child's type: the class name for `child<T>`, the
  /// spawn name for a named functional child; empty reports "worker" or "supervisor".
  std::string label;
};

namespace detail {
/// A class's name without its namespaces ("cache_actor" for "app::cache_actor").
std::string short_class_name(std::string_view qualified);
}  // namespace detail

/// A spec for a functional child: `factory(ctx, args...)`, spawned with `opts` (its name
/// survives restarts).
template <class F, class... A>
child_spec child(std::string id, spawn_options opts, F factory, A... args) {
  std::string label = opts.name;
  return {std::move(id),
          [opts = std::move(opts), factory = std::move(factory), args...](actor_context& ctx) -> actor_ref {
            return ctx.spawn(opts, factory, args...);
          },
          restart_policy::permanent, child_type::worker, std::move(label)};
}
/// A spec for a class child T, `init(args...)`.
template <class T, class... A>
child_spec child(std::string id, spawn_options opts, A... args) {
  return {std::move(id),
          [opts = std::move(opts), args...](actor_context& ctx) -> actor_ref { return ctx.spawn<T>(opts, args...); },
          restart_policy::permanent, child_type::worker, detail::short_class_name(eam::type_name<T>())};
}

struct supervisor_options {
  otp::strategy strategy = strategy::one_for_one;
  int max_restarts = 3;
  std::chrono::milliseconds period{5000};
};

/// What `which_children` reports about one child.
struct child_info {
  std::string id;
  actor_ref ref;       ///< empty while the child is not running (being restarted, or ended for good)
  std::string type;    ///< the spec's label, or "worker" / "supervisor"
  child_type kind = child_type::worker;
};

namespace detail {
/// What which_children reports for a child started from `spec` (its type label filled in).
child_info child_info_of(const child_spec& spec, actor_ref ref);
}  // namespace detail

/// What `count_children` reports, as Erlang's supervisor:count_children.
struct child_counts {
  std::size_t specs = 0;        ///< children the supervisor knows, running or not
  std::size_t active = 0;       ///< running now
  std::size_t supervisors = 0;  ///< specs of type supervisor
  std::size_t workers = 0;      ///< specs of type worker
  friend bool operator==(const child_counts&, const child_counts&) = default;
};

/// The supervision machinery, for any actor's own children: the strategy, the restart limit,
/// one-at-a-time starts and stops. It watches each child with a handler of its own, so the
/// actor never forwards downs to it. Past the restart limit it ends the actor with reason
/// "max_restarts", so the actor's own supervisor sees the crash.
///
/// Functional actors get one from `supervise_children(ctx, options)`; class actors derive from
/// `supervising_actor` and declare `child_supervision()`. Use it only from the actor's own
/// handlers (it is part of the actor's state).
class supervised_children {
 public:
  explicit supervised_children(actor_context& ctx, supervisor_options options = {});
  ~supervised_children();
  supervised_children(const supervised_children&) = delete;
  supervised_children& operator=(const supervised_children&) = delete;

  /// Starts a child from `spec` now and supervises it; returns its ref. Throws what the spawn
  /// throws (name_taken, system_shutting_down), and eam::error(otp_errc::duplicate_child_id)
  /// when a child here has its id (one gone for good frees it); nothing is recorded then.
  actor_ref start_child(child_spec spec);
  /// Starts `specs` one at a time, each once the previous one's init has run, then calls
  /// `done(nullopt)`. When one fails to start (its init throws, or its spawn does), stops the
  /// ones already started, youngest first and one at a time, then calls `done(why)`. Two specs
  /// with one id (or one id a child already has) start none: `done(duplicate_child_id)`.
  void start_children(std::vector<child_spec> specs, std::function<void(std::optional<error>)> done);

  [[nodiscard]] std::vector<child_info> which_children() const;
  [[nodiscard]] child_counts count_children() const;
  [[nodiscard]] const supervisor_options& options() const noexcept;

  struct state;

 private:
  std::unique_ptr<state> st_;
};

/// The functional option: `ctx`'s children started through the returned object are supervised
/// by `options` (the seed's childSupervision). It lives as the actor's state.
///
///   auto& kids = eam::otp::supervise_children(ctx, {.strategy = eam::otp::strategy::rest_for_one});
///   kids.start_child(eam::otp::child("db", {}, db));
supervised_children& supervise_children(actor_context& ctx, supervisor_options options = {});

/// The class option: derive from `supervising_actor<Sigs...>` instead of `actor<Sigs...>`,
/// override `child_supervision()` for other options than one_for_one / 3 / 5 s, and start
/// children with `start_child(spec)` (from init on).
///
///   struct pipeline : eam::otp::supervising_actor<int(status)> {
///     eam::otp::supervisor_options child_supervision() const override {
///       return {.strategy = eam::otp::strategy::rest_for_one};
///     }
///     void init() { start_child(eam::otp::child<db>("db", {})); }
///     int handle_call(status) { return static_cast<int>(count_children().active); }
///   };
template <class... Sigs>
class supervising_actor : public actor<Sigs...> {
 public:
  supervising_actor() = default;
  supervising_actor(const supervising_actor&) = delete;
  supervising_actor& operator=(const supervising_actor&) = delete;
  virtual ~supervising_actor() = default;

  /// How this actor's children are supervised.
  [[nodiscard]] virtual supervisor_options child_supervision() const { return {}; }

 protected:
  actor_ref start_child(child_spec spec) { return children().start_child(std::move(spec)); }
  [[nodiscard]] std::vector<child_info> which_children() { return children().which_children(); }
  [[nodiscard]] child_counts count_children() { return children().count_children(); }
  /// The supervision itself, made on first use from child_supervision().
  supervised_children& children() {
    if (!children_) children_ = std::make_unique<supervised_children>(this->context(), child_supervision());
    return *children_;
  }

 private:
  std::unique_ptr<supervised_children> children_;
};

namespace detail {
struct which_children {};
struct count_children {};
/// Answered once a supervisor's children have all started: nullopt, or why they could not.
/// Any other actor leaves it unhandled, which tells the asker its init has run.
struct await_started {};
}  // namespace detail

using supervisor_ref = typed_ref<std::vector<child_info>(detail::which_children), child_counts(detail::count_children),
                                 std::optional<error>(detail::await_started)>;

/// A handle to a running supervisor.
class supervisor {
 public:
  explicit supervisor(supervisor_ref ref) : ref_(std::move(ref)) {}

  /// The children in start order (a blocking call: from outside actors).
  [[nodiscard]] result<std::vector<child_info>> which_children(std::chrono::milliseconds timeout = default_call_timeout) const {
    return ref_.call(detail::which_children{}, timeout).get();
  }
  [[nodiscard]] result<child_counts> count_children(std::chrono::milliseconds timeout = default_call_timeout) const {
    return ref_.call(detail::count_children{}, timeout).get();
  }
  /// Stops the supervisor (its children first, youngest first) and returns once it has ended;
  /// false when it still runs after `timeout`. From outside actors.
  bool stop(std::chrono::milliseconds timeout = default_call_timeout) const;
  [[nodiscard]] const supervisor_ref& ref() const noexcept { return ref_; }

 private:
  supervisor_ref ref_;
};

/// Starts a top-level supervisor and returns once every child's init has run; when one fails
/// to start, the ones already started are stopped and this fails with its error (the spawn's,
/// e.g. name_taken, or actor_crashed with the init's; otp_errc::duplicate_child_id when two
/// specs share an id, before any child starts). Blocking: from outside actors.
result<supervisor> start_supervisor(actor_system& system, supervisor_options options, std::vector<child_spec> children,
                                    spawn_options opts = {});
/// Starts a supervisor as a child of the running actor (a supervision tree). It returns at once;
/// the children start in order meanwhile, and calls to the supervisor wait until they have.
supervisor start_supervisor(actor_context& parent, supervisor_options options, std::vector<child_spec> children,
                            spawn_options opts = {});
/// A spec that starts a nested supervisor (child type supervisor); its parent waits until its
/// children have started before starting the next sibling.
child_spec supervisor_child(std::string id, supervisor_options options, std::vector<child_spec> children,
                            spawn_options opts = {});

}  // namespace eam::otp
