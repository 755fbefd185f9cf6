#include <eam/otp/process_groups.hpp>

#include <algorithm>
#include <map>
#include <unordered_map>

namespace eam::otp::detail {

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
    };
    auto& st = ctx.make_state<state>();
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
        [&st](group_broadcast&& b) {
          auto it = st.groups.find(b.group);
          if (it == st.groups.end()) return;
          for (const auto& member : it->second) b.send(member);
        },
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
