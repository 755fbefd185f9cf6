#pragma once
/// `dynamic_supervisor`: children started on demand, each restarted by its own policy with its
/// own restart limit (past it, that child stops for good), up to `max_children` at once.
/// Stopping the supervisor stops its children first.
///
///   eam::otp::dynamic_supervisor sup(system, {.max_children = 100});
///   auto worker = sup.start_child(eam::otp::child("job-7", {}, job, 7)).value();
///   sup.terminate_child(worker);

#include <eam/otp/supervisor.hpp>

#include <cstddef>

namespace eam::otp {

struct dynamic_supervisor_options {
  std::size_t max_children = 0;  ///< 0: no limit
  int max_restarts = 3;          ///< per child, within `period`
  std::chrono::milliseconds period{5000};
};

namespace detail {
struct start_child_msg {
  child_spec spec;
};
struct terminate_child_msg {
  actor_ref ref;
};
using dynamic_ref = typed_ref<result<actor_ref>(start_child_msg), bool(terminate_child_msg),
                              std::vector<child_info>(which_children), std::size_t(count_children)>;
dynamic_ref start_dynamic_supervisor(actor_system& system, dynamic_supervisor_options options, const spawn_options& opts);
}  // namespace detail

class dynamic_supervisor {
 public:
  explicit dynamic_supervisor(actor_system& system, dynamic_supervisor_options options = {}, spawn_options opts = {})
      : ref_(detail::start_dynamic_supervisor(system, options, opts)) {}
  /// A handle to a running dynamic supervisor.
  explicit dynamic_supervisor(detail::dynamic_ref ref) : ref_(std::move(ref)) {}

  /// Starts a child; `max_children` when full. Blocking: use from outside actors.
  result<actor_ref> start_child(child_spec spec, std::chrono::milliseconds timeout = default_call_timeout) const {
    auto r = ref_.call(detail::start_child_msg{std::move(spec)}, timeout).get();
    if (!r) return r.error_value();
    return std::move(r.value());
  }
  /// The same, as a typed ref, checked against the child's real signatures (typed_ref_cast:
  /// `unhandled_message` when the child does not handle Ref's; the child keeps running).
  template <class Ref>
    requires is_typed_ref_v<Ref>
  result<Ref> start_child_as(child_spec spec, std::chrono::milliseconds timeout = default_call_timeout) const {
    auto r = start_child(std::move(spec), timeout);
    if (!r) return r.error_value();
    return typed_ref_cast<Ref>(std::move(r.value()));
  }
  /// Stops a child for good. False when `ref` is not (or no longer) one of its children.
  bool terminate_child(const actor_ref& ref, std::chrono::milliseconds timeout = default_call_timeout) const {
    auto r = ref_.call(detail::terminate_child_msg{ref}, timeout).get();
    return r.has_value() && r.value();
  }
  [[nodiscard]] std::vector<child_info> which_children() const { return ref_.call(detail::which_children{}).get().value(); }
  [[nodiscard]] std::size_t count_children() const { return ref_.call(detail::count_children{}).get().value(); }
  [[nodiscard]] const detail::dynamic_ref& ref() const noexcept { return ref_; }

 private:
  detail::dynamic_ref ref_;
};

/// Root supervision: starts a top-level actor under the system's root dynamic supervisor
/// (created on first use, registered as "eam.otp.root"), so it is restarted by its spec's
/// policy, at most `max_restarts` times within `period` for that spec (counted across its
/// instances, so a crash loop does trip the limit); past that it stops for good. Blocking:
/// call from outside actors.
result<actor_ref> supervise(actor_system& system, child_spec spec, dynamic_supervisor_options root_options = {});

}  // namespace eam::otp
