#include <eam/otp/process_groups.hpp>

#include <eam/engine/telemetry.hpp>

#include <iterator>
#include <list>
#include <map>
#include <unordered_map>
#include <vector>

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
    // Members are found by actor id, in their group and in what they joined, so a join, a leave
    // and a member's end cost the same in a group of thousands as in a group of two (a scan of
    // the group, and of every group on a member's end, made them quadratic), and for an actor
    // in thousands of groups as for one in two: each membership knows its place in the
    // member's list of groups (a scan of that list per leave, and a reservation of one more
    // place per join, which copied the list, made an actor's 64,000 joins cost 25 us each and
    // its leaves 26 us, against 0.6 us at 1,000).
    struct place {
      std::list<actor_ref>::iterator member;  // in the group's list
      std::size_t in_index = 0;               // in the member's membership::in
    };
    struct group {
      std::list<actor_ref> members;  // oldest first
      std::unordered_map<std::uint64_t, place> by_id;
    };
    using groups_map = std::map<std::string, group, std::less<>>;
    struct state {
      groups_map groups;
      // Each member is watched once, however many groups it is in. A group is erased only once
      // its last member has left, so no membership holds an erased group's iterator.
      struct membership {
        watch_ref watch;
        std::vector<groups_map::iterator> in;  // in no order: a leave moves the last into its place
      };
      std::unordered_map<std::uint64_t, membership> watched;
      std::uint64_t undelivered = 0;  // broadcast messages a member's mailbox refused
    };
    auto& st = ctx.make_state<state>();
    const std::uint64_t ctx_id = ctx.id();
    // Takes the member out of one group (erased once empty).
    auto remove_from = [&st](groups_map::iterator g, std::uint64_t member_id) {
      const auto at = g->second.by_id.find(member_id);
      g->second.members.erase(at->second.member);
      g->second.by_id.erase(at);
      if (g->second.members.empty()) st.groups.erase(g);
    };
    return behavior{
        [&st, &ctx](join_group&& j) {
          const std::uint64_t id = j.member.id();
          if (const auto g = st.groups.find(j.group); g != st.groups.end() && g->second.by_id.contains(id)) return;
          // Whatever may throw (out of memory) comes before the member is listed, or is undone.
          auto& m = st.watched[id];
          if (m.in.size() == m.in.capacity()) m.in.reserve(2 * m.in.size() + 4);  // push_back below cannot throw
          if (m.in.empty()) m.watch = ctx.watch(j.member);
          const auto g = st.groups.try_emplace(j.group).first;
          const auto slot = g->second.by_id.try_emplace(id).first;
          try {
            g->second.members.push_back(std::move(j.member));
          } catch (...) {
            g->second.by_id.erase(slot);
            if (g->second.members.empty()) st.groups.erase(g);
            throw;
          }
          slot->second = {std::prev(g->second.members.end()), m.in.size()};
          m.in.push_back(g);
        },
        [&st, &ctx, remove_from](leave_group&& l) {
          const auto g = st.groups.find(l.group);
          if (g == st.groups.end()) return;
          const std::uint64_t id = l.member.id();
          const auto place = g->second.by_id.find(id);
          if (place == g->second.by_id.end()) return;
          auto m = st.watched.find(id);
          std::vector<groups_map::iterator>& in = m->second.in;
          const std::size_t index = place->second.in_index;
          in[index] = in.back();  // the last membership takes the leaving one's place
          in[index]->second.by_id.find(id)->second.in_index = index;
          in.pop_back();
          if (in.empty()) {
            ctx.unwatch(m->second.watch);
            st.watched.erase(m);
          }
          remove_from(g, id);
        },
        [&st](group_members&& g) {
          auto it = st.groups.find(g.group);
          if (it == st.groups.end()) return std::vector<actor_ref>{};
          return std::vector<actor_ref>(it->second.members.begin(), it->second.members.end());
        },
        [&st, ctx_id](group_broadcast&& b) {
          auto it = st.groups.find(b.group);
          if (it == st.groups.end()) return;
          for (const auto& member : it->second.members) {
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
        // A member that ends leaves every group it is in.
        [&st, remove_from](down d) {
          const auto m = st.watched.find(d.actor.id());
          if (m == st.watched.end()) return;
          for (const auto g : m->second.in) remove_from(g, m->first);
          st.watched.erase(m);
        },
    };
  });
}

}  // namespace eam::otp::detail
