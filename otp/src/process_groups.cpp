#include <eam/otp/process_groups.hpp>

#include <eam/engine/telemetry.hpp>

#include <algorithm>
#include <map>
#include <unordered_map>

namespace eam::otp::detail {

namespace {
void emit_undelivered(std::uint64_t server_id, std::uint64_t member_id, const std::string& group) {
  if (!telemetry::any_handlers()) return;
  telemetry::execute(groups_telemetry::broadcast_undelivered, {{"count", 1}},
                     {{"actor_id", std::to_string(server_id)}, {"member_id", std::to_string(member_id)}, {"group", group}});
}
}  // namespace

groups_ref start_groups_server(actor_system& system, const spawn_options& opts) {
  return system.spawn(opts, [](actor_context& ctx) {
    struct state {
      std::map<std::string, std::vector<actor_ref>, std::less<>> groups;
      // Each member is watched once, however many groups it is in.
      struct membership {
        watch_ref watch;
        std::size_t groups = 0;
      };
      std::unordered_map<std::uint64_t, membership> watched;
      std::uint64_t undelivered = 0;  // broadcast messages a member's mailbox refused
    };
    auto& st = ctx.make_state<state>();
    const std::uint64_t ctx_id = ctx.id();
    auto forget = [&st, &ctx](const actor_ref& member) {
      auto it = st.watched.find(member.id());
      if (it != st.watched.end() && --it->second.groups == 0) {
        ctx.unwatch(it->second.watch);
        st.watched.erase(it);
      }
    };
    return behavior{
        [&st, &ctx](join_group&& j) {
          auto& members = st.groups[j.group];
          if (std::find(members.begin(), members.end(), j.member) != members.end()) return;
          auto& m = st.watched[j.member.id()];
          if (m.groups++ == 0) m.watch = ctx.watch(j.member);
          members.push_back(std::move(j.member));
        },
        [&st, forget](leave_group&& l) {
          auto it = st.groups.find(l.group);
          if (it == st.groups.end()) return;
          if (std::erase(it->second, l.member) == 0) return;
          if (it->second.empty()) st.groups.erase(it);
          forget(l.member);
        },
        [&st](group_members&& g) {
          auto it = st.groups.find(g.group);
          return it == st.groups.end() ? std::vector<actor_ref>{} : it->second;
        },
        [&st, ctx_id](group_broadcast&& b) {
          auto it = st.groups.find(b.group);
          if (it == st.groups.end()) return;
          for (const auto& member : it->second) {
            try {
              b.send(member);
            } catch (const error&) {
              // A member whose bounded mailbox refuses (overflow error) misses this message, as
              // with any other full mailbox; the server and every group's membership live on.
              ++st.undelivered;
              emit_undelivered(ctx_id, member.id(), b.group);
            }
          }
        },
        [&st](groups_stats_request) { return groups_stats{st.undelivered}; },
        [&st](all_groups) {
          std::vector<std::string> names;
          for (const auto& [name, members] : st.groups) names.push_back(name);
          return names;
        },
        // A member that ends leaves every group.
        [&st](down d) {
          for (auto it = st.groups.begin(); it != st.groups.end();) {
            std::erase(it->second, d.actor);
            it = it->second.empty() ? st.groups.erase(it) : std::next(it);
          }
          st.watched.erase(d.actor.id());
        },
    };
  });
}

}  // namespace eam::otp::detail
