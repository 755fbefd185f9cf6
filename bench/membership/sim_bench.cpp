// The membership protocol's figures at scale, from the deterministic simulation
// (tests/cluster/membership_sim.hpp): virtual time, so they measure the protocol, not this
// machine. Prints one JSON object per line (tools/membership_bench.py reads them):
//   formation        N nodes join through one seed at once: until all agree (virtual_ms)
//   convergence      one node joins a converged N-node cluster: until every node has it and it
//                    has every node (convergence_ms, gossip_rounds); also what the joiner sent in
//                    its first minute (it re-gossips every member it learned from the seed)
//   detection        a node is killed: until every live node has declared it failed (the last
//                    node's time, the max over nodes), median (detection_ms) and max over several
//                    kills, and until the first suspicion
//   false_positives  100 nodes at 10% datagram loss: live nodes declared failed per node-hour
//   gossip_bytes     a quiet cluster: datagram bytes (gossip_bytes_per_node_s) and push-pull
//                    bytes sent per node per second, over at least one push-pull period
// for N in {10, 100, 1000} (--quick: {10, 100, 200}, shorter runs), gossip bytes at N = 16 and
// the largest. Options: --seed S, --quick. "wall_s": the wall seconds spent up to that line.
#include "membership_sim.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace eam::cluster;
using namespace eam::cluster::sim;
using namespace std::chrono_literals;

struct options {
  std::uint64_t seed = 1;
  bool quick = false;
};

struct wall_clock {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  [[nodiscard]] double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
};

long long ms(vtime t) { return static_cast<long long>(t.count()); }

/// Node 0, then the rest at once through it; false when it did not converge in `limit`.
bool form(simulated_cluster& c, int nodes, vtime limit = 300s) {
  c.add_node();
  for (int i = 1; i < nodes; ++i) c.add_node({0});
  return c.run_until([&] { return c.converged(); }, limit, 100ms).satisfied;
}

/// The push-pull period swim uses for n members (push_pull_interval, scaled up beyond 32).
vtime push_pull_period(const membership_config& config, int n) {
  const double scale = n <= 32 ? 1.0 : std::ceil(std::log2(static_cast<double>(n)) - std::log2(32.0)) + 1.0;
  return vtime(static_cast<std::int64_t>(static_cast<double>(config.push_pull_interval.count()) * scale));
}

/// Datagram and state bytes sent by every node over `window` of a quiet cluster; the window is
/// at least one push-pull period, so that each node's exchange is in it once.
void gossip_bytes(simulated_cluster& c, int nodes, vtime settle, vtime window, std::uint64_t seed,
                  const wall_clock& wall) {
  window = std::max(window, push_pull_period(c.config(), nodes));
  c.run_for(settle);  // what the formation queued has been sent
  const auto before = c.total_traffic();
  c.run_for(window);
  const auto after = c.total_traffic();
  const double node_seconds = static_cast<double>(nodes) * static_cast<double>(window.count()) / 1000.0;
  std::printf(
      "{\"metric\":\"gossip_bytes\",\"nodes\":%d,\"seed\":%llu,\"window_ms\":%lld,"
      "\"gossip_bytes_per_node_s\":%.1f,\"datagrams_per_node_s\":%.2f,\"push_pull_bytes_per_node_s\":%.1f,"
      "\"wall_s\":%.2f}\n",
      nodes, static_cast<unsigned long long>(seed), ms(window),
      static_cast<double>(after.datagram_bytes_sent - before.datagram_bytes_sent) / node_seconds,
      static_cast<double>(after.datagrams_sent - before.datagrams_sent) / node_seconds,
      static_cast<double>(after.state_bytes_sent - before.state_bytes_sent) / node_seconds, wall.seconds());
  std::fflush(stdout);
}

/// One more node joins through node 0.
void convergence(simulated_cluster& c, int nodes, std::uint64_t seed, const wall_clock& wall) {
  const vtime asked_at = c.now();
  const int newcomer = c.add_node({0});
  const run_result seen = c.run_until(
      [&] {
        return c.all_see_status(newcomer, member_status::alive) &&
               c.protocol(newcomer).live_count() == static_cast<std::size_t>(nodes + 1);
      },
      120s, 1ms);
  const auto all_had_it =
      c.all_observed_at(newcomer, asked_at, [](const recorded_event& e) { return e.kind == member_event_kind::join; });
  const long long took = seen.satisfied && all_had_it ? ms(std::max(*all_had_it, seen.at) - asked_at) : -1;
  const long long interval = c.config().gossip_interval.count();
  c.run_for(asked_at + 60s - c.now());
  std::printf(
      "{\"metric\":\"convergence\",\"nodes\":%d,\"seed\":%llu,\"convergence_ms\":%lld,\"gossip_rounds\":%lld,"
      "\"seen_by_all_ms\":%lld,\"joiner_datagram_bytes_first_60s\":%llu,\"wall_s\":%.2f}\n",
      nodes, static_cast<unsigned long long>(seed), took, took < 0 ? -1 : (took + interval - 1) / interval,
      all_had_it ? ms(*all_had_it - asked_at) : -1LL,
      static_cast<unsigned long long>(c.traffic_of(newcomer).datagram_bytes_sent), wall.seconds());
  std::fflush(stdout);
}

/// `kills` nodes killed one after another, each on a converged cluster.
void detection(simulated_cluster& c, int kills, std::uint64_t seed, const wall_clock& wall) {
  const std::size_t nodes = c.up_nodes().size();
  std::mt19937_64 pick(seed ^ 0x5eedull);
  std::vector<long long> took, first_suspicion;
  for (int k = 0; k < kills; ++k) {
    const std::vector<int> up = c.up_nodes();
    const int victim = up[1 + pick() % (up.size() - 1)];  // never node 0, the seed
    const vtime killed_at = c.now();
    c.kill(victim);
    const run_result declared = c.run_until([&] { return c.all_see_status(victim, member_status::dead); }, 300s, 10ms);
    const auto last = c.all_observed_at(
        victim, killed_at, [&](const recorded_event& e) { return e.kind == member_event_kind::leave && e.failed; });
    took.push_back(declared.satisfied && last ? ms(*last - killed_at) : -1);
    std::int64_t suspected = never;
    for (const recorded_event& e : c.events())
      if (e.subject == victim && e.kind == member_event_kind::suspect && e.at_ms >= killed_at.count())
        suspected = std::min(suspected, e.at_ms);
    first_suspicion.push_back(suspected == never ? -1 : suspected - killed_at.count());
    c.run_until([&] { return c.converged(); }, 60s, 100ms);
  }
  std::vector<long long> sorted = took;
  std::sort(sorted.begin(), sorted.end());
  std::sort(first_suspicion.begin(), first_suspicion.end());
  std::printf(
      "{\"metric\":\"detection\",\"nodes\":%zu,\"seed\":%llu,\"kills\":%d,\"detection_ms\":%lld,"
      "\"detection_ms_median\":%lld,\"detection_ms_max\":%lld,\"detection_ms_min\":%lld,"
      "\"first_suspicion_ms_median\":%lld,\"suspicion_min_ms\":%lld,\"suspicion_max_ms\":%lld,\"wall_s\":%.2f}\n",
      nodes, static_cast<unsigned long long>(seed), kills, sorted[sorted.size() / 2], sorted[sorted.size() / 2],
      sorted.back(), sorted.front(), first_suspicion[first_suspicion.size() / 2],
      ms(c.protocol(0).suspicion_bounds().first), ms(c.protocol(0).suspicion_bounds().second), wall.seconds());
  std::fflush(stdout);
}

void false_positives(int nodes, vtime duration, std::uint64_t seed) {
  const wall_clock wall;
  simulated_cluster c(seed);
  if (!form(c, nodes)) std::fprintf(stderr, "the %d-node cluster did not converge\n", nodes);
  c.set_loss(0.10);
  const std::int64_t from = c.now().count();
  c.run_for(duration);
  std::uint64_t suspicions = 0;
  for (int i = 0; i < nodes; ++i) suspicions += c.protocol(i).stats().suspicions_raised;
  const double node_hours = static_cast<double>(nodes) * static_cast<double>(duration.count()) / 3'600'000.0;
  const std::size_t declared = c.false_failures(from);
  std::printf(
      "{\"metric\":\"false_positives\",\"nodes\":%d,\"seed\":%llu,\"loss\":0.10,\"virtual_s\":%lld,"
      "\"declarations\":%zu,\"per_node_hour\":%.4f,\"suspicions_per_node_hour\":%.1f,\"wall_s\":%.2f}\n",
      nodes, static_cast<unsigned long long>(seed), ms(duration) / 1000, declared,
      static_cast<double>(declared) / node_hours, static_cast<double>(suspicions) / node_hours, wall.seconds());
  std::fflush(stdout);
}

int usage(const char* program) {
  std::fprintf(stderr, "usage: %s [--seed S] [--quick]\n", program);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      opt.quick = true;
    } else if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      opt.seed = std::strtoull(argv[++i], nullptr, 0);
    } else {
      return usage(argv[0]);
    }
  }
  const int largest = opt.quick ? 200 : 1000;
  const vtime settle = opt.quick ? 30s : 60s, window = opt.quick ? 30s : 120s;

  // A quiet small cluster's gossip bytes.
  {
    const wall_clock wall;
    simulated_cluster c(opt.seed);
    if (!form(c, 16)) std::fprintf(stderr, "the 16-node cluster did not converge\n");
    gossip_bytes(c, 16, settle, window, opt.seed, wall);
  }
  for (const int nodes : {10, 100, largest}) {
    const wall_clock wall;
    simulated_cluster c(opt.seed + static_cast<std::uint64_t>(nodes));
    if (!form(c, nodes)) std::fprintf(stderr, "the %d-node cluster did not converge\n", nodes);
    std::printf("{\"metric\":\"formation\",\"nodes\":%d,\"seed\":%llu,\"virtual_ms\":%lld,\"wall_s\":%.2f}\n", nodes,
                static_cast<unsigned long long>(opt.seed + static_cast<std::uint64_t>(nodes)), ms(c.now()),
                wall.seconds());
    std::fflush(stdout);
    if (nodes == largest)
      gossip_bytes(c, nodes, settle, window, opt.seed + static_cast<std::uint64_t>(nodes), wall);
    else
      c.run_for(settle);
    convergence(c, nodes, opt.seed + static_cast<std::uint64_t>(nodes), wall);
    detection(c, nodes == largest ? 2 : 5, opt.seed + static_cast<std::uint64_t>(nodes), wall);
  }
  false_positives(100, opt.quick ? vtime(5min) : vtime(30min), opt.seed);
  return 0;
}
