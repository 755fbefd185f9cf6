// libeam's program of the remote group (system "libeam" in tools/suite.py): two libeam nodes,
// one per process, started with eam::cluster::start_node and talking through ordinary refs, as
// libeam users write distributed code. The server node ("server") spawns one actor registered
// as "server"; the client node ("client") finds it with a typed, remotely checked whereis and
// drives it from its main thread (casts, blocking calls) or from one actor of its own
// (ping-pong). The same contract as the other peers (remote_cli.hpp). Protocol, all msgpack
// structs registered on both nodes before start_node:
//   item{v}          cast: the server counts it and adds v to its sum
//   get_totals{}     call, answered totals{count, sum}; it leaves after every earlier cast of
//                    this sender (per sender->receiver order), so it sees all of them
//   echo{v}          call, answered v (an int64: a reply type the cluster registers already)
//   ping{from, v}    cast carrying the client actor's ref; answered by a cast pong{v} to it
//   stop{}           call: the server hands its state to its main thread and answers true
//   has_name{name}   call, answered true once this node resolves the global name
//   has_group{name}  call, answered true once this node lists a member of the pg group
// remote-cast-curve is remote-cast with --cookie on both sides (CurveZMQ: encryption and
// authentication); the plain rows run in open mode, LIBEAM_COOKIE notwithstanding.
// The cluster services' rows:
//   remote-spawn            the client spawns n actors of the type "bench.spawnee" on the
//                           server node (placement round robin over the role "server": a call
//                           to the server's spawner each), one after another
//   remote-gen-stage        a consumer on the client subscribes to the server's producer
//                           "numbers" (max_demand 1000) and takes n int64 events
//   registry-propagation    the client takes n global names one after another; each is timed
//                           until the server resolves it (asked by has_name calls, so within
//                           one round trip of when it does)
//   group-propagation       the client joins one actor to each of n process groups one after
//                           another; each is timed until the server lists the member (asked by
//                           has_group calls)
//   migration               n times: the client spawns a "bench.mover" (1 KB of state) here,
//                           queues 1,000 item casts in it and moves it to the server; timed
//                           from migrate() until a call sent through the old ref is answered
//                           by the moved actor, behind every queued cast. Items are slow to
//                           handle before the move (5 us each, so that they are still queued
//                           when the actor pauses) and cheap after it; the detail says how
//                           many were still queued at the fewest.
// The client's --idle-nodes K starts K more nodes in its process that join and stay idle: the
// rows then run in a cluster of K + 2 members (start_idle_nodes). --idle-seconds S lets that
// cluster idle S seconds before the row and prints the process's CPU time over them (stderr).
#include "../../workloads/done_latch.hpp"
#include "remote_cli.hpp"

#include <eam/cluster.hpp>
#include <eam/distributed/gen_stage.hpp>
#include <eam/eam.hpp>
#include <eam/otp/gen_stage/consumer.hpp>
#include <eam/otp/gen_stage/producer.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {
using namespace eam::remote;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// ---- the protocol ------------------------------------------------------------------------------

struct item {
  std::int64_t v = 0;
  MSGPACK_DEFINE(v);
};
struct get_totals {
  MSGPACK_DEFINE();
};
struct totals {
  std::int64_t count = 0, sum = 0;
  MSGPACK_DEFINE(count, sum);
};
struct echo {
  std::int64_t v = 0;
  MSGPACK_DEFINE(v);
};
struct pong {
  std::int64_t v = 0;
  MSGPACK_DEFINE(v);
};
using pong_ref = eam::typed_ref<void(pong)>;
struct ping {
  pong_ref from;
  std::int64_t v = 0;
  MSGPACK_DEFINE(from, v);
};
struct stop {
  MSGPACK_DEFINE();
};
struct has_name {
  std::string name;
  MSGPACK_DEFINE(name);
};
struct has_group {
  std::string name;
  MSGPACK_DEFINE(name);
};

using server_ref =
    eam::typed_ref<void(item), totals(get_totals), std::int64_t(echo), void(ping), bool(stop), bool(has_name),
                   bool(has_group)>;
using spawnee_ref = eam::typed_ref<std::int64_t(echo)>;

struct get_report {
  MSGPACK_DEFINE();
};
struct mover_report {
  std::int64_t count = 0, sum = 0, at_move = -1;  // at_move: items handled before the move
  MSGPACK_DEFINE(count, sum, at_move);
};
struct mover_state {
  std::string blob;
  std::int64_t count = 0, sum = 0, at_move = -1;
  MSGPACK_DEFINE(blob, count, sum, at_move);
};
std::atomic<std::int64_t> restored{0};  // movers rebuilt on this node

/// The migration row's actor: moves with 1 KB of state.
struct mover : eam::actor<void(item), mover_report(get_report)> {
  mover_state s;
  void init(std::string blob) { s.blob = std::move(blob); }
  void handle_cast(const item& i) {
    if (s.at_move < 0) {  // not moved yet: slow, so that the queue is still there at the pause
      const auto until = clock_type::now() + 5us;
      while (clock_type::now() < until) {
      }
    }
    ++s.count;
    s.sum += i.v;
  }
  mover_report handle_call(get_report) { return {s.count, s.sum, s.at_move}; }
  mover_state save_state() const { return s; }
  void restore_state(mover_state saved) {
    s = std::move(saved);
    s.at_move = s.count;
    restored.fetch_add(1, std::memory_order_relaxed);
  }
};
using mover_ref = eam::typed_ref<void(item), mover_report(get_report)>;

// What the server did for the services' rows (its spawner and producer are not its actor).
std::atomic<std::int64_t> spawned{0}, produced{0};

void register_messages() {
  eam::cluster::register_message<item>("bench.item");
  eam::cluster::register_message<get_totals>("bench.get_totals");
  eam::cluster::register_message<totals>("bench.totals");
  eam::cluster::register_message<echo>("bench.echo");
  eam::cluster::register_message<pong>("bench.pong");
  eam::cluster::register_message<ping>("bench.ping");
  eam::cluster::register_message<stop>("bench.stop");
  eam::cluster::register_message<has_name>("bench.has_name");
  eam::cluster::register_message<has_group>("bench.has_group");
  eam::distributed::register_gen_stage<std::int64_t>("bench.i64");
  eam::cluster::register_message<get_report>("bench.get_report");
  eam::cluster::register_message<mover_report>("bench.mover_report");
  eam::cluster::register_actor<mover, std::string>("bench.mover");
  eam::cluster::register_actor<>("bench.spawnee", [](eam::actor_context&) {
    spawned.fetch_add(1, std::memory_order_relaxed);
    return eam::behavior{[](const echo& m) { return m.v; }};
  });
}

bool is_cast_workload(const std::string& w) { return w == "remote-cast" || w == "remote-cast-curve"; }

/// The node of either role: open mode unless the row is the encrypted one.
std::unique_ptr<eam::cluster::node> start(const options& o, std::string id, std::vector<std::string> peers) {
  register_messages();
  eam::cluster::node_config config;
  config.node_id = std::move(id);
  config.port = o.server() ? static_cast<std::uint16_t>(o.port) : 0;
  config.seeds = std::move(peers);
  config.roles = {o.server() ? "server" : "client"};
  if (o.workload == "remote-cast-curve") {
    const std::string cookie = o.text("cookie");
    if (cookie.empty()) throw std::invalid_argument("remote-cast-curve needs --cookie");
    config.cookie = cookie;
  } else {
    config.cookie = std::nullopt;  // and LIBEAM_COOKIE is unset in main: open mode
  }
  config.system.workers = static_cast<unsigned>(o.number("workers", 2));
  auto started = eam::cluster::start_node(std::move(config));
  if (!started) throw std::runtime_error(std::string("start_node: ") + started.error_value().what());
  return std::move(started).value();
}

// ---- server ------------------------------------------------------------------------------------

struct server_state {
  std::int64_t count = 0, sum = 0, requests = 0;
  std::promise<server_state>* finished = nullptr;
};

int serve(const options& o) {
  auto node = start(o, "server", {});
  std::promise<server_state> finished;
  auto future = finished.get_future();
  eam::otp::producer<std::int64_t>::start(
      node->system(), [] { return std::int64_t{1}; },
      [](std::size_t demand, std::int64_t& next) {
        std::vector<std::int64_t> out(demand);
        for (auto& e : out) e = next++;
        produced.fetch_add(static_cast<std::int64_t>(demand), std::memory_order_relaxed);
        return out;
      },
      {}, {.name = "numbers"});
  eam::cluster::node* self = node.get();
  node->system().spawn({.name = "server"}, [&finished, self](eam::actor_context& ctx) {
    auto& st = ctx.make_state<server_state>();
    st.finished = &finished;
    return eam::behavior{
        [&st](const item& m) {
          ++st.count;
          st.sum += m.v;
        },
        [&st](get_totals) { return totals{st.count, st.sum}; },
        [&st](const echo& m) {
          ++st.requests;
          return m.v;
        },
        [&st](const ping& m) {
          ++st.requests;
          m.from.cast(pong{m.v});
        },
        [&st, self](const has_name& m) {
          ++st.requests;
          return self->name_owner(m.name).has_value();
        },
        [&st, self](const has_group& m) {
          ++st.requests;
          return !self->group_members(m.name).empty();
        },
        [&st](stop) {
          if (st.finished != nullptr) {
            server_state copy = st;
            copy.finished = nullptr;
            std::exchange(st.finished, nullptr)->set_value(copy);
          }
          return true;
        }};
  });
  print_ready(node->port());
  const server_state st = future.get();

  // The answer to stop is on its way: let the client take it and leave (it shuts its node down
  // once it has it; a leave is seen at once), boundedly, before this node goes.
  const auto deadline = clock_type::now() + 5s;
  while (clock_type::now() < deadline) {
    const auto peers = node->peers();
    if (std::find(peers.begin(), peers.end(), "client") == peers.end()) break;
    std::this_thread::sleep_for(2ms);
  }
  const auto stats = node->stats();
  node->shutdown();

  // The server's own check, where the work arrived.
  const std::int64_t n = o.number("n", -1);
  report r{o.workload, "server"};
  if (is_cast_workload(o.workload)) {
    r.items = st.count;
    r.ok = n < 0 || (st.count == n && st.sum == payload_sum(n));
    r.detail = "counted " + std::to_string(st.count) + ", sum " + std::to_string(st.sum);
  } else if (o.workload == "remote-spawn") {
    r.items = spawned.load();
    r.ok = n < 0 || r.items == n;
    r.detail = "spawned " + std::to_string(r.items);
  } else if (o.workload == "remote-gen-stage") {
    r.items = produced.load();
    r.ok = n < 0 || r.items >= n;  // at most max_demand more than taken, asked before the stop
    r.detail = "produced " + std::to_string(r.items);
  } else if (o.workload == "migration") {
    r.items = restored.load();
    r.ok = n < 0 || r.items == n;
    r.detail = "restored " + std::to_string(r.items) + " movers";
  } else if (o.workload == "registry-propagation" || o.workload == "group-propagation") {
    r.items = st.requests;
    r.ok = st.requests >= n;
    r.detail = "answered " + std::to_string(st.requests) + " lookups";
  } else {
    r.items = st.requests;
    r.ok = n < 0 || st.requests == n;
    r.detail = "served " + std::to_string(st.requests);
  }
  if (n >= 0) r.detail += " (expected " + std::to_string(n) + ")";
  r.detail += "; frames in " + std::to_string(stats.frames_in) + ", messages in " + std::to_string(stats.messages_in) +
              ", bad frames " + std::to_string(stats.bad_frames);
  if (stats.bad_frames != 0) r.ok = false;
  r.print();
  return r.ok ? 0 : 1;
}

// ---- client ------------------------------------------------------------------------------------

/// The client's actor of remote-ping-pong: one ping in flight, the next leaves when its pong came.
struct go {};
struct pinger_state {
  std::int64_t sum = 0;
};

/// The registry's and the groups' rows: n times, `publish(i)` makes one thing visible here (an
/// empty string, or why it failed), timed until `seen(i)` (a call to the server) says the
/// server sees it too.
template <class Publish, class Seen>
void time_propagation(report& r, std::int64_t n, const std::string& what, Publish publish, Seen seen) {
  latencies lat(n);
  std::string failure;
  const auto t0 = clock_type::now();
  for (std::int64_t i = 0; i < n && failure.empty(); ++i) {
    const auto c0 = clock_type::now();
    failure = publish(i);
    for (int polls = 0; failure.empty(); ++polls) {
      eam::result<bool> got = seen(i);
      if (got && got.value()) break;
      if (!got || polls > 1'000'000) failure = "the server never saw " + what + " number " + std::to_string(i);
    }
    lat.add(clock_type::now() - c0);
  }
  r.seconds = since(t0);
  lat.fill(r);
  r.ok = failure.empty();
  r.detail = failure.empty() ? std::to_string(n) + " " + what + " seen on the other node" : failure;
}

/// --idle-nodes K: K more nodes in the client's process join the cluster and do nothing, so
/// that the two measured nodes run among K + 2 members (a larger cluster's links, heartbeats
/// and gossip). Started before the row and each waited for until it sees every other member.
std::vector<std::unique_ptr<eam::cluster::node>> start_idle_nodes(const options& o, const std::string& seed,
                                                                  eam::cluster::node& client) {
  const auto count = static_cast<std::size_t>(o.number("idle-nodes", 0));
  std::vector<std::unique_ptr<eam::cluster::node>> idle;
  for (std::size_t i = 0; i < count; ++i) {
    eam::cluster::node_config config;
    config.node_id = "idle-" + std::to_string(i);
    config.seeds = {seed};
    config.cookie = o.workload == "remote-cast-curve" ? std::optional(o.text("cookie")) : std::nullopt;
    config.system.workers = 1;
    auto started = eam::cluster::start_node(std::move(config));
    if (!started) throw std::runtime_error(std::string("start_node (idle): ") + started.error_value().what());
    idle.push_back(std::move(started).value());
  }
  const auto deadline = clock_type::now() + 120s;
  const auto all_see_all = [&] {
    if (client.peers().size() < count + 1) return false;
    return std::all_of(idle.begin(), idle.end(), [&](const auto& n) { return n->peers().size() >= count + 1; });
  };
  while (!all_see_all()) {
    if (clock_type::now() > deadline) throw std::runtime_error("the idle nodes did not all connect within 120 s");
    std::this_thread::sleep_for(10ms);
  }
  return idle;
}

int client(const options& o) {
  const std::int64_t n = o.number("n");
  const std::string address = o.host + ":" + std::to_string(o.port);
  auto node = start(o, "client", {address});
  if (!node->wait_for_peer("server", 30s)) throw std::runtime_error("no connection to the server node at " + address);
  const auto idle = start_idle_nodes(o, address, *node);
  if (const auto hold = o.number("idle-seconds", 0); hold > 0) {  // what the idle cluster costs
    rusage a{}, b{};
    ::getrusage(RUSAGE_SELF, &a);
    std::this_thread::sleep_for(std::chrono::seconds(hold));
    ::getrusage(RUSAGE_SELF, &b);
    const auto secs = [](const rusage& r) {
      return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
    };
    std::fprintf(stderr, "idle: %.3f CPU seconds in %lld s for the %zu nodes of this process, %ld context switches\n",
                 secs(b) - secs(a), static_cast<long long>(hold), idle.size() + 1,
                 (b.ru_nvcsw + b.ru_nivcsw) - (a.ru_nvcsw + a.ru_nivcsw));
  }
  auto found = node->whereis<server_ref>("server", "server");
  if (!found) throw std::runtime_error(std::string("whereis server: ") + found.error_value().what());
  const server_ref srv = std::move(found).value();

  report r{o.workload, "client"};
  r.items = n;
  if (is_cast_workload(o.workload)) {
    const auto t0 = clock_type::now();
    for (std::int64_t i = 1; i <= n; ++i) srv.cast(item{i});
    // Behind the casts on the same connection: it is answered once all of them were counted.
    auto got = srv.call(get_totals{}, 600s).get();
    r.seconds = since(t0);
    const totals t = got ? got.value() : totals{-1, -1};
    r.ok = got && t.count == n && t.sum == payload_sum(n);
    r.detail = got ? "server counted " + std::to_string(t.count) + " sum " + std::to_string(t.sum) + ", expected " +
                         std::to_string(n) + " sum " + std::to_string(payload_sum(n))
                   : std::string("get_totals failed: ") + got.error_value().what();
  } else if (o.workload == "remote-call") {
    latencies lat(n);
    std::int64_t sum = 0;
    std::string failure;
    const auto t0 = clock_type::now();
    for (std::int64_t i = 1; i <= n; ++i) {
      const auto c0 = clock_type::now();
      auto got = srv.call(echo{i}, 60s).get();
      lat.add(clock_type::now() - c0);
      if (!got) {
        failure = std::string("call ") + std::to_string(i) + " failed: " + got.error_value().what();
        break;
      }
      sum += got.value();
    }
    r.seconds = since(t0);
    lat.fill(r);
    r.ok = failure.empty() && sum == payload_sum(n);
    r.detail = failure.empty() ? "sum of replies " + std::to_string(sum) + ", expected " + std::to_string(payload_sum(n))
                               : failure;
  } else if (o.workload == "remote-ping-pong") {
    eam::bench::done_latch done;
    auto pinger = node->system().spawn([srv, n, &done](eam::actor_context& ctx) {
      auto& st = ctx.make_state<pinger_state>();
      const pong_ref self = eam::unchecked_typed_ref_cast<pong_ref>(ctx.self());
      return eam::behavior{[srv, self](go) { srv.cast(ping{self, 1}); },
                           [srv, self, n, &st, &done](const pong& p) {
                             st.sum += p.v;
                             if (p.v == n)
                               done.set(st.sum);
                             else
                               srv.cast(ping{self, p.v + 1});
                           }};
    });
    const auto t0 = clock_type::now();
    pinger.cast(go{});
    const std::int64_t sum = done.wait();
    r.seconds = since(t0);
    r.ok = sum == payload_sum(n);
    r.detail = "sum of pongs " + std::to_string(sum) + ", expected " + std::to_string(payload_sum(n));
  } else if (o.workload == "remote-spawn") {
    std::string failure;
    latencies lat(n);
    spawnee_ref last;
    const auto t0 = clock_type::now();
    for (std::int64_t i = 0; i < n && failure.empty(); ++i) {
      const auto c0 = clock_type::now();
      auto got = node->spawn<spawnee_ref>("bench.spawnee",
                                          {.placement = eam::cluster::placement::round_robin, .role = "server"});
      lat.add(clock_type::now() - c0);
      if (!got) failure = std::string("spawn ") + std::to_string(i) + " failed: " + got.error_value().what();
      else last = std::move(got).value();
    }
    r.seconds = since(t0);
    lat.fill(r);
    // The last one answers: its ref reaches the actor on the other node.
    auto answer = failure.empty() ? last.call(echo{42}, 30s).get() : eam::result<std::int64_t>(eam::error(eam::errc::timeout));
    r.ok = failure.empty() && answer && answer.value() == 42;
    r.detail = failure.empty() ? "the last spawned actor answered " + (answer ? std::to_string(answer.value()) : "nothing")
                               : failure;
  } else if (o.workload == "remote-gen-stage") {
    auto source = node->whereis<eam::otp::source_ref<std::int64_t>>("server", "numbers");
    if (!source) throw std::runtime_error(std::string("whereis numbers: ") + source.error_value().what());
    eam::bench::done_latch done;
    struct taken {
      std::int64_t count = 0, sum = 0;
      bool finished = false;
    };
    auto state = std::make_shared<taken>();
    auto consumer = eam::otp::consumer<std::int64_t>::start(node->system(), [state, n, &done](std::vector<std::int64_t>& batch) {
      if (state->finished) return;
      for (const std::int64_t e : batch) {
        if (state->count == n) break;
        ++state->count;
        state->sum += e;
      }
      if (state->count == n) {
        state->finished = true;
        done.set(state->sum);
      }
    });
    const auto t0 = clock_type::now();
    if (!consumer.subscribe(source.value(), {.max_demand = 1000})) throw std::runtime_error("subscribe failed");
    const std::int64_t sum = done.wait();
    r.seconds = since(t0);
    consumer.stop();
    r.ok = sum == payload_sum(n);
    r.detail = "sum of events " + std::to_string(sum) + ", expected " + std::to_string(payload_sum(n));
  } else if (o.workload == "registry-propagation") {
    std::vector<eam::actor_ref> holders;
    time_propagation(r, n, "global names", [&](std::int64_t i) {
      holders.push_back(node->system().spawn({.name = "bench-name-" + std::to_string(i), .global = true},
                                             [](eam::actor_context&) {
                                               return eam::behavior{[](const echo& m) { return m.v; }};
                                             }));
      return std::string();
    }, [&](std::int64_t i) { return srv.call(has_name{"bench-name-" + std::to_string(i)}, 30s).get(); });
    for (auto& h : holders) node->system().stop(h);
  } else if (o.workload == "group-propagation") {
    std::vector<eam::actor_ref> members;
    time_propagation(r, n, "group members", [&](std::int64_t i) {
      members.push_back(node->system().spawn([](eam::actor_context&) {
        return eam::behavior{[](const echo& m) { return m.v; }};
      }));
      auto joined = node->join_group("bench-group-" + std::to_string(i), members.back());
      return joined ? std::string() : std::string("join: ") + joined.error_value().what();
    }, [&](std::int64_t i) { return srv.call(has_group{"bench-group-" + std::to_string(i)}, 30s).get(); });
    for (auto& m : members) node->system().stop(m);
  } else if (o.workload == "migration") {
    constexpr std::int64_t queued = 1000;
    latencies lat(n);
    std::string failure;
    std::int64_t fewest_queued = queued;
    const auto t0 = clock_type::now();
    for (std::int64_t i = 0; i < n && failure.empty(); ++i) {
      auto spawned = node->spawn<mover_ref>("bench.mover", {}, std::string(1024, 's'));
      if (!spawned) {
        failure = std::string("spawn: ") + spawned.error_value().what();
        break;
      }
      const mover_ref old = std::move(spawned).value();
      for (std::int64_t k = 1; k <= queued; ++k) old.cast(item{k});
      const auto c0 = clock_type::now();
      auto moved = node->migrate(old, "server", {.forward_for = 2s});
      auto got = moved ? old.call(get_report{}, 30s).get() : eam::result<mover_report>(moved.error_value());
      lat.add(clock_type::now() - c0);
      if (!got) {
        failure = "migration " + std::to_string(i) + ": " + got.error_value().what();
      } else if (got.value().count != queued || got.value().sum != payload_sum(queued) || got.value().at_move < 0) {
        failure = "migration " + std::to_string(i) + ": the moved actor counted " + std::to_string(got.value().count);
      } else {
        fewest_queued = std::min(fewest_queued, queued - got.value().at_move);
      }
    }
    r.seconds = since(t0);
    lat.fill(r);
    r.ok = failure.empty();
    r.detail = failure.empty() ? std::to_string(n) + " movers moved with every cast; at the fewest " +
                                     std::to_string(fewest_queued) + " of 1000 were still queued at the pause"
                               : failure;
  } else {
    throw std::invalid_argument("unknown workload " + o.workload);
  }

  // Tell the server to finish and wait for its answer, boundedly: the result above stands.
  (void)srv.call(stop{}, 5s).get();
  for (const auto& i : idle) i->shutdown();
  node->shutdown();
  r.print();
  return r.ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
      std::printf("remote-cast\nremote-call\nremote-ping-pong\nremote-cast-curve\nremote-spawn\nremote-gen-stage\n"
                  "registry-propagation\ngroup-propagation\nmigration\n");
      return 0;
    }
    // The rows decide encryption: a cookie from the environment must not turn it on.
    ::unsetenv("LIBEAM_COOKIE");
    const options o = parse(argc, argv);
    if (!is_cast_workload(o.workload) && o.workload != "remote-call" && o.workload != "remote-ping-pong" &&
        o.workload != "remote-spawn" && o.workload != "remote-gen-stage" && o.workload != "registry-propagation" &&
        o.workload != "group-propagation" && o.workload != "migration")
      throw std::invalid_argument("unknown workload " + o.workload);
    return o.server() ? serve(o) : client(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eam_remote_suite: %s\n", e.what());
    return 2;
  }
}
