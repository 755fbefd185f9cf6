#pragma once
/// Process groups, as Erlang's pg: named groups of actors, joined and left at will; a member
/// that ends leaves every group. A groups server is an actor, so joins, leaves and broadcasts
/// from one sender apply in the order sent.
///
///   eam::otp::process_groups groups(system);
///   groups.join("workers", worker);
///   groups.broadcast("workers", job{42});        // a cast to every member
///   std::vector<eam::actor_ref> all = groups.members("workers").value();

#include <eam/engine/system.hpp>
#include <eam/otp/stop.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace eam::otp {

/// What a groups server reports about itself.
struct groups_stats {
  std::uint64_t undelivered = 0;  ///< broadcast messages a member's full mailbox refused
};

namespace groups_telemetry {
/// A broadcast skipped a member whose bounded mailbox refused it (overflow `error`).
/// Measurement count; metadata actor_id (the server), member_id, group.
inline constexpr std::string_view broadcast_undelivered = "libeam.process_groups.broadcast_undelivered";
}  // namespace groups_telemetry

namespace detail {
struct groups_stats_request {};
struct join_group {
  std::string group;
  actor_ref member;
};
struct leave_group {
  std::string group;
  actor_ref member;
};
struct group_members {
  std::string group;
};
struct group_broadcast {
  std::string group;
  std::function<void(const actor_ref&)> send;  // casts the message to one member
};
struct all_groups {};
using groups_ref = typed_ref<void(join_group), void(leave_group), std::vector<actor_ref>(group_members),
                             void(group_broadcast), std::vector<std::string>(all_groups),
                             groups_stats(groups_stats_request)>;
groups_ref start_groups_server(actor_system& system, const spawn_options& opts);
}  // namespace detail

class process_groups {
 public:
  /// Starts a groups server (named `opts.name`, if given).
  explicit process_groups(actor_system& system, spawn_options opts = {})
      : server_(detail::start_groups_server(system, opts)) {}

  /// Adds `member` to `group`; joining twice is a no-op.
  void join(std::string group, const actor_ref& member) const { server_.cast(detail::join_group{std::move(group), member}); }
  void leave(std::string group, const actor_ref& member) const { server_.cast(detail::leave_group{std::move(group), member}); }
  /// The members of `group`, oldest first (empty for an unknown group).
  result<std::vector<actor_ref>> members(std::string group, std::chrono::milliseconds timeout = default_call_timeout) const {
    return server_.call(detail::group_members{std::move(group)}, timeout).get();
  }
  /// Every group with at least one member.
  result<std::vector<std::string>> groups(std::chrono::milliseconds timeout = default_call_timeout) const {
    return server_.call(detail::all_groups{}, timeout).get();
  }
  [[nodiscard]] result<groups_stats> stats(std::chrono::milliseconds timeout = default_call_timeout) const {
    return server_.call(detail::groups_stats_request{}, timeout).get();
  }
  /// Stops the server and returns once it has ended (false after `timeout`). From outside actors.
  bool stop(std::chrono::milliseconds timeout = default_call_timeout) const { return stop_and_wait(server_, timeout); }
  /// Casts `msg` to every member of `group` (members that do not handle M drop it; a member
  /// whose bounded mailbox refuses it misses it, counted in stats().undelivered).
  template <class M>
  void broadcast(std::string group, M msg) const {
    server_.cast(detail::group_broadcast{std::move(group), [msg = std::move(msg)](const actor_ref& member) {
                                           eam::unchecked_typed_ref_cast<typed_ref<void(M)>>(member).cast(msg);
                                         }});
  }
  [[nodiscard]] const detail::groups_ref& server() const noexcept { return server_; }

 private:
  detail::groups_ref server_;
};

}  // namespace eam::otp
