#pragma once
// The messages the cluster tests exchange with their node program (node_program.cpp), and the
// wire names both register.
#include <eam/cluster.hpp>
#include <eam/distributed/gen_stage.hpp>
#include <eam/eam.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace eam::test::remote {

struct add {
  int n = 0;
  MSGPACK_DEFINE(n);
};
struct get {
  MSGPACK_DEFINE();
};
struct echo {
  std::string text;
  MSGPACK_DEFINE(text);
};
/// A numbered cast for the sink, which checks that they arrive in order.
struct seq {
  std::uint64_t n = 0;
  std::string padding;
  MSGPACK_DEFINE(n, padding);
};
struct sink_state {
  std::uint64_t count = 0;
  std::uint64_t sum = 0;
  bool in_order = true;
  MSGPACK_DEFINE(count, sum, in_order);
};
struct get_sink {
  MSGPACK_DEFINE();
};
/// A numbered cast from one of several senders, for the tally, which checks each sender's order.
struct tagged {
  std::uint32_t sender = 0;
  std::uint64_t n = 0;
  MSGPACK_DEFINE(sender, n);
};
struct get_tally {
  MSGPACK_DEFINE();
};
/// Asks the echo actor to call `target` with echo{text} and answer with what it got.
struct call_back {
  typed_ref<std::string(echo)> target;
  std::string text;
  MSGPACK_DEFINE(target, text);
};
/// The linker links to `target` (it traps exits) and answers true.
struct link_to {
  actor_ref target;
  MSGPACK_DEFINE(target);
};
/// A mortal takes back its link to `target` and answers true.
struct unlink_from {
  actor_ref target;
  MSGPACK_DEFINE(target);
};
/// The exit reasons the linker has received, as text ("moved to <node>" for a moved).
struct exits_seen {
  MSGPACK_DEFINE();
};
/// Spawns a fresh actor that ends with `reason` when it gets end_with (a cast); answers its ref.
struct spawn_mortal {
  MSGPACK_DEFINE();
};
struct end_with {
  exit_reason reason;
  MSGPACK_DEFINE(reason);
};
/// A call the hanger never answers (it stashes it): pending until the node goes away.
struct hang {
  MSGPACK_DEFINE();
};
/// Makes the node program shut down gracefully.
struct quit {
  MSGPACK_DEFINE();
};
/// How many actors the node's system runs (actor_system::actor_count).
struct count_actors {
  MSGPACK_DEFINE();
};
/// The node program's live members as it sees them, one "id|status|role,role|key=value,..."
/// per member (membership_line).
struct members_query {
  MSGPACK_DEFINE();
};

/// The registrar spawns a holder under the global name (answers false when the name is
/// refused: name_taken), ends it (release_name: true when it held one here), tells which node
/// holds a name as its node sees it ("" for none: name_query), and lists the exit reasons of
/// the holders it saw end (holder_ends).
struct claim_name {
  std::string name;
  /// When to claim, in ms since the epoch (0: at once): so that several nodes claim at the
  /// same instant, each before it can hear of the others.
  std::int64_t at_epoch_ms = 0;
  MSGPACK_DEFINE(name, at_epoch_ms);
};
struct release_name {
  std::string name;
  MSGPACK_DEFINE(name);
};
struct name_query {
  std::string name;
  MSGPACK_DEFINE(name);
};
struct holder_ends {
  MSGPACK_DEFINE();
};
/// A holder answers with its node's id.
struct whoami {
  MSGPACK_DEFINE();
};
/// The registrar spawns a group member (whoami, add, get) and joins it to the group (true when
/// joined); tells how many members of a group its node knows (group_size); stops its node's
/// members of a group, answering how many (stop_members).
struct join_with {
  std::string group;
  MSGPACK_DEFINE(group);
};
struct group_size {
  std::string group;
  MSGPACK_DEFINE(group);
};
struct stop_members {
  std::string group;
  MSGPACK_DEFINE(group);
};

using counter_ref = typed_ref<void(add), int(get)>;
using echo_ref = typed_ref<std::string(echo), std::string(call_back)>;
using sink_ref = typed_ref<void(seq), sink_state(get_sink)>;
using tally_ref = typed_ref<void(tagged), sink_state(get_tally)>;
using linker_ref = typed_ref<bool(link_to), std::vector<std::string>(exits_seen)>;
using mortal_ref = typed_ref<void(end_with), bool(link_to), bool(unlink_from)>;
using factory_ref = typed_ref<mortal_ref(spawn_mortal)>;
using hanger_ref = typed_ref<int(hang)>;
using control_ref = typed_ref<void(quit), std::uint64_t(count_actors)>;
using membership_ref = typed_ref<std::vector<std::string>(members_query)>;
using registrar_ref =
    typed_ref<bool(claim_name), bool(release_name), std::string(name_query), std::vector<std::string>(holder_ends),
              bool(join_with), std::uint64_t(group_size), int(stop_members)>;
using group_member_ref = typed_ref<std::string(whoami), void(add), int(get)>;
/// How many events the node program's producer ("numbers", int64 counting from 0) has made.
struct produced_query {
  MSGPACK_DEFINE();
};

/// What the spawnable test types answer: "test.counter" (a functional actor started from an
/// int) and "test.greeter" (a class actor started from a greeting).
using placed_counter_ref = typed_ref<std::string(whoami), void(add), int(get)>;
using greeter_ref = typed_ref<std::string(echo)>;
using produced_ref = typed_ref<std::uint64_t(produced_query)>;
using holder_ref = typed_ref<std::string(whoami)>;
/// A node program's "consumed" (--consume): what its consumer has received.
using consumed_ref = typed_ref<sink_state(get_sink)>;

/// Membership timings for tests that wait for failures and heals: a few times memberlist's
/// LAN defaults' pace (the same protocol, shorter intervals).
inline cluster::membership_config fast_membership() {
  cluster::membership_config m;
  m.probe_interval = std::chrono::milliseconds(400);
  m.probe_timeout = std::chrono::milliseconds(200);
  m.gossip_interval = std::chrono::milliseconds(100);
  m.push_pull_interval = std::chrono::milliseconds(5000);
  m.reconnect_interval = std::chrono::milliseconds(1000);
  return m;
}

inline std::string membership_line(const cluster::member& m) {
  std::string line = m.id + "|" + std::string(cluster::to_string(m.status)) + "|";
  for (std::size_t i = 0; i < m.roles.size(); ++i) line += (i ? "," : "") + m.roles[i];
  line += "|";
  bool first = true;
  for (const auto& [k, v] : m.metadata) {
    line += (first ? "" : ",") + k + "=" + v;
    first = false;
  }
  return line;
}

/// A migratable ledger (test_actors.hpp): counts seq casts and checks they came in order.
struct ledger_query {
  MSGPACK_DEFINE();
};
struct ledger_report {
  std::uint64_t count = 0;
  std::uint64_t last = 0;
  bool in_order = true;
  std::string node;
  std::uint64_t restored = 0;  // times it was rebuilt from saved state
  MSGPACK_DEFINE(count, last, in_order, node, restored);
};
struct ledger_state {
  std::uint64_t count = 0;
  std::uint64_t last = 0;
  bool in_order = true;
  std::uint64_t restored = 0;
  std::string blob;  // ballast: the state's size
  MSGPACK_DEFINE(count, last, in_order, restored, blob);
};

inline void register_messages() {
  cluster::register_message<add>("test.add");
  cluster::register_message<get>("test.get");
  cluster::register_message<echo>("test.echo");
  cluster::register_message<seq>("test.seq");
  cluster::register_message<sink_state>("test.sink_state");
  cluster::register_message<get_sink>("test.get_sink");
  cluster::register_message<tagged>("test.tagged");
  cluster::register_message<get_tally>("test.get_tally");
  cluster::register_message<call_back>("test.call_back");
  cluster::register_message<link_to>("test.link_to");
  cluster::register_message<unlink_from>("test.unlink_from");
  cluster::register_message<exits_seen>("test.exits_seen");
  cluster::register_message<std::vector<std::string>>("test.strings");
  cluster::register_message<spawn_mortal>("test.spawn_mortal");
  cluster::register_message<mortal_ref>("test.mortal_ref");
  cluster::register_message<end_with>("test.end_with");
  cluster::register_message<hang>("test.hang");
  cluster::register_message<quit>("test.quit");
  cluster::register_message<count_actors>("test.count_actors");
  cluster::register_message<members_query>("test.members_query");
  cluster::register_message<claim_name>("test.claim_name");
  cluster::register_message<release_name>("test.release_name");
  cluster::register_message<name_query>("test.name_query");
  cluster::register_message<holder_ends>("test.holder_ends");
  cluster::register_message<whoami>("test.whoami");
  cluster::register_message<ledger_query>("test.ledger_query");
  cluster::register_message<ledger_report>("test.ledger_report");
  cluster::register_message<join_with>("test.join_with");
  cluster::register_message<group_size>("test.group_size");
  cluster::register_message<stop_members>("test.stop_members");
  cluster::register_message<produced_query>("test.produced_query");
  distributed::register_gen_stage<std::int64_t>("test.i64");
  cluster::register_message<std::variant<int, eam::error>>("test.int_or_error");  // an alternative without an empty state
}

}  // namespace eam::test::remote
