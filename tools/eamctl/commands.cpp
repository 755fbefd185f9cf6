#include "commands.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <system_error>
#include <thread>

namespace eamctl {
namespace ctl = eam::cluster::control;

namespace {

// A control call's answer, or command_error naming the node and what failed.
template <class Reply, class Request>
Reply ask(const ctl::control_ref& control, const std::string& node, Request request, std::chrono::milliseconds timeout) {
  auto answer = control.call(std::move(request), timeout).get();
  if (!answer) throw command_error{node + ": " + answer.error_value().what()};
  return std::move(answer).value();
}
template <class Reply, class Request>
Reply ask(operator_node& op, const std::string& node, Request request, std::chrono::milliseconds timeout) {
  return ask<Reply>(op.control_of(node), node, std::move(request), timeout);
}

// A migration's own timeout, and the call's wait a little longer than it, so that the node's
// answer (its error included) comes before the call gives up.
std::uint32_t migration_ms(const operator_node& op) { return static_cast<std::uint32_t>(op.timeout().count()); }
std::chrono::milliseconds past_migration(const operator_node& op) { return op.timeout() * 2 + std::chrono::seconds(5); }

// Waits until `node` is no longer a live member, or its record is of another life than
// `incarnation`, or its connection (the session asked it) closed with its leave: the session
// learns the rest by asking a member every second; true when it went within the timeout.
bool wait_gone(operator_node& op, const std::string& node, std::uint64_t incarnation, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  do {
    const auto m = op.member_named(node);
    if (!m || m->incarnation != incarnation || !op.node().wait_for_peer(node, std::chrono::milliseconds(0))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

// A lambda's type name carries its whole enclosing function: the column keeps its start.
std::string shortened(const std::string& text, std::size_t most) {
  return text.size() <= most ? text : text.substr(0, most - 3) + "...";
}

void print_actors(const ctl::actor_list& list) {
  std::size_t name_width = 4, type_width = 4;
  constexpr std::size_t type_most = 60;
  for (const auto& a : list.actors) {
    name_width = std::max(name_width, a.name.size());
    type_width = std::max(type_width, std::min(a.type.size(), type_most));
  }
  fmt::print("{:>8}  {:<{}}  {:<{}}  {:<5}  {:>8}  {:>8}\n", "ID", "NAME", name_width, "TYPE", type_width, "STATE",
             "QUEUED", "PARENT");
  for (const auto& a : list.actors)
    fmt::print("{:>8}  {:<{}}  {:<{}}  {:<5}  {:>8}  {:>8}\n", a.id, a.name, name_width, shortened(a.type, type_most), type_width,
               a.idle ? "idle" : "busy", a.queued ? std::to_string(*a.queued) : "-",
               a.parent_id == 0 ? "-" : std::to_string(a.parent_id));
  fmt::print("{} of {} actors{}\n", list.actors.size(), list.total,
             list.proxies == 0 ? "" : fmt::format(" (and {} proxies of remote actors, not listed)", list.proxies));
}

// One refresh of top: the node's heading and its busiest actors.
void show_top(const ctl::node_info& info, const ctl::actor_list& list, bool terminal) {
  if (terminal) fmt::print("\033[H\033[2J");  // a screen of its own each time
  fmt::print("{}  {}{}  up {:.0f} s  workers {}/{}  actors {} ({} busy)  queued {}  longest {}  peers {}\n",
             info.node_id, info.health, info.health_message.empty() ? "" : " (" + info.health_message + ")",
             info.uptime_seconds, info.active_workers, info.workers, info.actor_count, info.busy_actors,
             info.mailbox_backlog, info.largest_queue, info.peers.size());
  print_actors(list);
}

}  // namespace

int run_nodes(operator_node& op) {
  // As the seed sees the cluster, the dead and the departed included: an operator looks for
  // the node that failed, which this session, new to the cluster, never learns of.
  const std::string seed = op.seed_member().id;
  std::vector<ctl::member_row> members = ask<ctl::member_list>(op, seed, ctl::members_request{}, op.timeout()).members;
  std::erase_if(members, [](const ctl::member_row& m) {
    return std::find(m.roles.begin(), m.roles.end(), session_role) != m.roles.end();
  });
  std::size_t id_width = 4, address_width = 7;
  for (const auto& m : members) {
    id_width = std::max(id_width, m.id.size());
    address_width = std::max(address_width, m.address.size());
  }
  fmt::print("{:<{}}  {:<7}  {:<{}}  {}\n", "NODE", id_width, "STATUS", "ADDRESS", address_width, "ROLES");
  for (const auto& m : members)
    fmt::print("{:<{}}  {:<7}  {:<{}}  {}\n", m.id, id_width, m.status, m.address,
               address_width, fmt::join(m.roles, ","));
  return 0;
}

int run_info(operator_node& op, const std::string& node) {
  const auto info = ask<ctl::node_info>(op, node, ctl::info_request{}, op.timeout());
  fmt::print("node            {}\n", info.node_id);
  fmt::print("address         {}\n", info.address);
  fmt::print("pid             {}\n", info.pid);
  fmt::print("roles           {}\n", fmt::join(info.roles, ","));
  for (const auto& [key, value] : info.metadata) fmt::print("metadata        {}={}\n", key, value);
  fmt::print("health          {}{}\n", info.health, info.health_message.empty() ? "" : " (" + info.health_message + ")");
  fmt::print("draining        {}\n", info.draining ? "yes" : "no");
  fmt::print("uptime          {:.1f} s\n", info.uptime_seconds);
  fmt::print("workers         {} ({} active)\n", info.workers, info.active_workers);
  fmt::print("actors          {} ({} busy)\n", info.actor_count, info.busy_actors);
  fmt::print("queued          {} in bounded mailboxes; longest queue seen lately {}\n", info.mailbox_backlog,
             info.largest_queue);
  fmt::print("peers           {}\n", fmt::join(info.peers, ","));
  fmt::print("messages        {} in, {} out\n", info.messages_in, info.messages_out);
  fmt::print("refused         {} bad frames, {} auth failures, {} dropped casts\n", info.bad_frames, info.auth_failures,
             info.dropped_casts);
  return 0;
}

int run_actors(operator_node& op, const std::string& node, std::uint32_t limit) {
  print_actors(ask<ctl::actor_list>(op, node, ctl::actors_request{limit}, op.timeout()));
  return 0;
}

int run_drain(operator_node& op, const std::string& node, bool drain) {
  const auto reply = ask<ctl::drain_reply>(op, node, ctl::drain_request{drain}, op.timeout());
  fmt::print("{} {}\n", node, reply.draining ? "is draining" : "takes spawns and migrations");
  return 0;
}

int run_migrate(operator_node& op, const std::string& node, const std::string& name, const std::string& to) {
  (void)ask<ctl::migrate_reply>(op, node, ctl::migrate_request{name, to, migration_ms(op)}, past_migration(op));
  fmt::print("{} moved from {} to {}\n", name, node, to);
  return 0;
}

int run_evacuate(operator_node& op, const std::string& node, const std::string& to) {
  // A whole node's actors move one after another: the call waits for all of them.
  const auto reply = ask<ctl::migrate_all_reply>(op, node, ctl::migrate_all_request{to, true, migration_ms(op)},
                                                 std::chrono::hours(1));
  fmt::print("{}: {} actors moved to {}, {} failed\n", node, reply.migrated, to, reply.failed);
  for (const auto& why : reply.errors) fmt::print("  {}\n", why);
  return reply.failed == 0 && reply.errors.empty() ? 0 : 1;
}

int run_stop(operator_node& op, const std::string& node) {
  const auto before = op.member_named(node);
  (void)ask<ctl::stop_reply>(op, node, ctl::stop_request{}, op.timeout());
  if (before && !wait_gone(op, node, before->incarnation, op.timeout()))
    throw command_error{node + " said it stops, but is still a member"};
  fmt::print("{} stopped\n", node);
  return 0;
}

int run_top(operator_node& op, const std::string& node, std::uint32_t limit, std::chrono::milliseconds interval,
            std::uint32_t count) {
  const bool terminal = ::isatty(STDOUT_FILENO) != 0;
  const ctl::control_ref control = op.control_of(node);  // looked up once, asked every refresh
  for (std::uint32_t shown = 0; count == 0 || shown < count; ++shown) {
    if (shown != 0) std::this_thread::sleep_for(interval);
    std::optional<ctl::node_info> info;
    std::optional<ctl::actor_list> list;
    try {
      info = ask<ctl::node_info>(control, node, ctl::info_request{}, op.timeout());
      list = ask<ctl::actor_list>(control, node, ctl::actors_request{limit}, op.timeout());
    } catch (const command_error&) {
      // The node stopped while watched: say so, not that its control service ended.
      if (!op.member_named(node) || !op.node().wait_for_peer(node, std::chrono::milliseconds(0)))
        throw command_error{node + " is gone: it left the cluster or died"};
      throw;
    }
    try {
      show_top(*info, *list, terminal);
    } catch (const std::system_error&) {
      return 0;  // a write failed: its reader went away (below)
    }
    // Its reader went away (`eamctl top n | head`): done, with the session's leave.
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) return 0;
  }
  return 0;
}

int run_deploy(operator_node& op, const std::vector<std::string>& nodes, std::chrono::milliseconds rejoin_timeout,
               std::chrono::milliseconds forward_wait) {
  // A candidate that does not answer (killed a moment ago, paused) is passed over, as one that
  // drains is: the next one may take the actors.
  const auto takes_actors = [&](const std::string& id) {
    if (!op.member_named(id)) return false;
    try {
      return !ask<ctl::node_info>(op, id, ctl::info_request{}, op.timeout()).draining;
    } catch (const command_error& e) {
      fmt::print(stderr, "eamctl: passing over {}: {}\n", id, e.why);
      return false;
    }
  };
  // Every node named is a member before the first one stops: a misspelt last name is found
  // before the others were restarted.
  for (const std::string& node : nodes)
    if (!op.member_named(node)) throw command_error{op.not_a_member(node)};
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::string& node = nodes[i];
    const auto before = op.member_named(node);
    if (!before) throw command_error{node + " is not a member of the cluster"};
    // Its actors go to the next node of the list that is a member now and not draining, else to
    // any other such member.
    std::string target;
    for (std::size_t k = 1; k < nodes.size() && target.empty(); ++k)
      if (takes_actors(nodes[(i + k) % nodes.size()])) target = nodes[(i + k) % nodes.size()];
    for (const auto& m : op.members())
      if (target.empty() && m.id != node && takes_actors(m.id)) target = m.id;
    if (target.empty()) throw command_error{"no other member takes " + node + "'s actors (all draining?)"};
    if (run_evacuate(op, node, target) != 0)
      throw command_error{"stopped: not every actor of " + node + " moved; it stays draining (eamctl undrain " + node +
                          " takes spawns again)"};
    // The moved actors' old refs pass messages on from here for the migration's forward_for
    // (10 s): a sender that has not learnt the new ref loses what it sends once this node stops.
    std::this_thread::sleep_for(forward_wait);
    run_stop(op, node);
    // Its process manager starts it again (the new build); a new life has a higher incarnation.
    const auto deadline = std::chrono::steady_clock::now() + rejoin_timeout;
    for (;;) {
      const auto now = op.member_named(node);
      if (now && now->incarnation > before->incarnation && now->status == eam::cluster::member_status::alive &&
          op.node().wait_for_peer(node, std::chrono::milliseconds(0)))
        break;
      if (std::chrono::steady_clock::now() >= deadline)
        throw command_error{node + " did not come back within " + std::to_string(rejoin_timeout.count()) + " ms"};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    fmt::print("{} is back\n", node);
  }
  fmt::print("deployed {} nodes\n", nodes.size());
  return 0;
}

}  // namespace eamctl
