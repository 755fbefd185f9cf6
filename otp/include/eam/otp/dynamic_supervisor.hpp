#pragma once
/// `dynamic_supervisor`: children started on demand, each restarted by its own policy with its
/// own restart limit (past it, that child stops for good), up to `max_children` at once.
/// Stopping the supervisor stops its children first.
///
///   eam::otp::dynamic_supervisor sup(system, {.max_children = 100});
///   auto worker = sup.start_child(eam::otp::child("job-7", {}, job, 7)).value();  // after its init
///   sup.terminate_child(worker);                                                   // after its end
///
/// Nothing a caller sends takes the supervisor down: a spawn that fails (a name another actor
/// holds: `name_taken`) or an init that throws (`actor_crashed`, with the init's error) is
/// returned to the caller, and the other children run on.

#include <eam/otp/supervisor.hpp>

#include <cstddef>
#include <optional>

namespace eam::otp {

/// How often one child may be restarted: more than `max_restarts` restarts within `period`
/// and it stops for good.
struct restart_limit {
  int max_restarts = 3;
  std::chrono::milliseconds period{5000};
  friend bool operator==(const restart_limit&, const restart_limit&) = default;
};

struct dynamic_supervisor_options {
  std::size_t max_children = 0;  ///< 0: no limit
  int max_restarts = 3;          ///< per child, within `period` (unless its start_child says otherwise)
  std::chrono::milliseconds period{5000};
  friend bool operator==(const dynamic_supervisor_options&, const dynamic_supervisor_options&) = default;
};

namespace detail {
struct start_child_msg {
  child_spec spec;
  std::optional<restart_limit> limit;  // nullopt: the supervisor's
};
struct terminate_child_msg {
  actor_ref ref;
};
struct supervisor_options_request {};
using dynamic_ref = typed_ref<result<actor_ref>(start_child_msg), bool(terminate_child_msg),
                              std::vector<child_info>(which_children), child_counts(count_children),
                              dynamic_supervisor_options(supervisor_options_request)>;
dynamic_ref start_dynamic_supervisor(actor_system& system, dynamic_supervisor_options options, const spawn_options& opts);
}  // namespace detail

class dynamic_supervisor {
 public:
  explicit dynamic_supervisor(actor_system& system, dynamic_supervisor_options options = {}, spawn_options opts = {})
      : ref_(detail::start_dynamic_supervisor(system, options, opts)) {}
  /// A handle to a running dynamic supervisor.
  explicit dynamic_supervisor(detail::dynamic_ref ref) : ref_(std::move(ref)) {}

  /// Starts a child and returns once its init has run: its ref, or why not (`max_children`
  /// when full, the spawn's error, `actor_crashed` when its init threw). Blocking: from
  /// outside actors. `limit` replaces the supervisor's restart limit for this child.
  result<actor_ref> start_child(child_spec spec, std::optional<restart_limit> limit = std::nullopt,
                                std::chrono::milliseconds timeout = default_call_timeout) const {
    auto r = ref_.call(detail::start_child_msg{std::move(spec), limit}, timeout).get();
    if (!r) return r.error_value();
    return std::move(r.value());
  }
  /// The same, as a typed ref, checked against the child's real signatures (typed_ref_cast:
  /// `unhandled_message` when the child does not handle Ref's; the child keeps running).
  template <class Ref>
    requires is_typed_ref_v<Ref>
  result<Ref> start_child_as(child_spec spec, std::optional<restart_limit> limit = std::nullopt,
                             std::chrono::milliseconds timeout = default_call_timeout) const {
    auto r = start_child(std::move(spec), limit, timeout);
    if (!r) return r.error_value();
    return typed_ref_cast<Ref>(std::move(r.value()));
  }
  /// Stops a child for good and returns once it has ended (its terminate has run). False when
  /// `ref` is not (or no longer) one of its children, and when another call stopped it first
  /// (this one then also returns at its end).
  bool terminate_child(const actor_ref& ref, std::chrono::milliseconds timeout = default_call_timeout) const {
    auto r = ref_.call(detail::terminate_child_msg{ref}, timeout).get();
    return r.has_value() && r.value();
  }
  [[nodiscard]] result<std::vector<child_info>> which_children(std::chrono::milliseconds timeout = default_call_timeout) const {
    return ref_.call(detail::which_children{}, timeout).get();
  }
  [[nodiscard]] result<child_counts> count_children(std::chrono::milliseconds timeout = default_call_timeout) const {
    return ref_.call(detail::count_children{}, timeout).get();
  }
  /// Stops the supervisor (its children first) and returns once it has ended; false when it
  /// still runs after `timeout`. From outside actors.
  bool stop(std::chrono::milliseconds timeout = default_call_timeout) const;
  [[nodiscard]] const detail::dynamic_ref& ref() const noexcept { return ref_; }

 private:
  detail::dynamic_ref ref_;
};

/// Root supervision, as the seed's ActorSystem supervision options: the restart limit that
/// `supervise` applies to each top-level actor it starts, unless that call names its own.
struct root_supervision_options {
  int max_restarts = 3;
  std::chrono::milliseconds period{5000};
  friend bool operator==(const root_supervision_options&, const root_supervision_options&) = default;
};

/// Sets `system`'s root supervision. Call it before the first `supervise` (or with the options
/// already in force, which is a no-op): once the root supervisor runs with other options it
/// fails with `otp_errc::root_supervision_conflict`. Blocking: from outside actors.
result<void> configure_root_supervision(actor_system& system, root_supervision_options options);

/// The root supervisor, once `supervise` or `configure_root_supervision` has started it
/// (`registry_lookup_failed` before).
result<dynamic_supervisor> root_supervisor(actor_system& system);

/// Starts a top-level actor under the system's root supervisor (a dynamic supervisor registered
/// as "eam.otp.root", started on first use with the configured or default options) and returns
/// once its init has run. It is restarted by its spec's policy, at most `limit` (default: the
/// root supervision's) times within the period, counted across its instances, so a crash loop
/// trips it; past that it stops for good. Blocking: from outside actors.
result<actor_ref> supervise(actor_system& system, child_spec spec, std::optional<restart_limit> limit = std::nullopt);

}  // namespace eam::otp
