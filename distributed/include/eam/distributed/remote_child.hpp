#pragma once
/// A supervisor's child on another node: the spec starts a local stand-in, a real child of the
/// supervisor, which has the actor spawned where a placement puts it (node::spawn_async, so the
/// supervisor never blocks) and watches it. The remote actor's end is the stand-in's end, with
/// the same reason (`noconnection` when its node goes), so the supervisor restarts it by its
/// strategy, and a new one is placed again. Stopping the stand-in (the supervisor stopping or
/// restarting the child) ends the remote actor with reason "shutdown".
///
///   eam::otp::start_supervisor(node->system(), {},
///       {eam::distributed::remote_child(*node, "worker", "app.worker",
///                                       {.placement = eam::cluster::placement::round_robin,
///                                        .role = "worker", .name = "worker-1", .global = true},
///                                       42)});
///
/// Reach the child by its name (a global one resolves everywhere), not through the stand-in's
/// ref, which only stands for its life. A placement that fails (no node with the role, a node
/// without the type) crashes the stand-in with the error: a failed start, as OTP counts it.
///
/// This header sits above both the OTP and the cluster layers (neither knows the other).
#include <eam/cluster/node.hpp>
#include <eam/engine/any_message.hpp>
#include <eam/engine/forwarding.hpp>
#include <eam/otp/supervisor.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace eam::distributed {

namespace detail {
// Shared by the stand-in and the spawn's callback, which runs on the node's spawn thread and
// may come after the stand-in has ended (the new actor is then ended at once).
struct remote_child_link {
  std::mutex lock;
  bool ended = false;
  actor_ref remote;
};
struct remote_child_started {
  actor_ref remote;
};
struct remote_child_failed {
  error why;
};

inline exit_reason remote_shutdown() { return exit_reason::custom("shutdown"); }
}  // namespace detail

/// A child spec whose child runs on the node `config` places it: `type` is a registered actor
/// type (cluster/placement.hpp), `args` its arguments. `node` must outlive the supervisor.
template <class... A>
otp::child_spec remote_child(cluster::node& node, std::string id, std::string type, cluster::spawn_config config,
                             A... args) {
  std::string label = type;
  auto start = [&node, type = std::move(type), config = std::move(config), args...](actor_context& ctx) -> actor_ref {
    return ctx.spawn([&node, type, config, args...](actor_context& self) {
      auto link = std::make_shared<detail::remote_child_link>();
      const actor_ref me = self.self();
      node.spawn_async(
          type, config,
          [link, me](result<actor_ref> spawned) {
            std::lock_guard guard(link->lock);
            if (!spawned) {
              message failed = message::of(detail::remote_child_failed{spawned.error_value()});
              if (!link->ended) (void)send(me, failed);
              return;
            }
            if (link->ended) {  // the stand-in is gone: so must be what it stood for
              send_exit(me, spawned.value(), detail::remote_shutdown());
              return;
            }
            link->remote = spawned.value();
            message started = message::of(detail::remote_child_started{spawned.value()});
            (void)send(me, started);
          },
          args...);
      self.on_terminate([link, me](const exit_reason&) {
        std::lock_guard guard(link->lock);
        link->ended = true;
        if (link->remote) send_exit(me, link->remote, detail::remote_shutdown());
      });
      return behavior{[&self](const detail::remote_child_started& s) {
                        self.watch(s.remote, [&self](const down& d) {
                          if (d.reason.is_normal())
                            self.stop();
                          else
                            self.exit(self.self(), d.reason);
                        });
                      },
                      [](const detail::remote_child_failed& f) -> void { throw f.why; }};
    });
  };
  return {std::move(id), std::move(start), otp::restart_policy::permanent, otp::child_type::worker, std::move(label)};
}

}  // namespace eam::distributed
