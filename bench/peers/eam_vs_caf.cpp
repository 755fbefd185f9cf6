// Runs each workload of bench/workloads on libeam and on CAF 0.17, interleaved, both on the
// same number of worker threads, and prints median throughput and libeam's ratio to CAF.
//   eam_vs_caf [--workers N] [--reps R] [--quick]
#include "../workloads/caf_workloads.hpp"
#include "../workloads/eam_workloads.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace {

struct workload {
  std::string name;
  std::int64_t items;     // work units per run (messages, round trips, actors, calls)
  std::int64_t expected;  // checksum both systems must return
  std::function<std::int64_t(eam::actor_system&)> on_eam;
  std::function<std::int64_t(caf::actor_system&)> on_caf;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class F>
double seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

[[noreturn]] void wrong(const std::string& who, const std::string& what, std::int64_t got, std::int64_t want) {
  std::fprintf(stderr, "%s %s: wrong result %lld, expected %lld\n", who.c_str(), what.c_str(),
               static_cast<long long>(got), static_cast<long long>(want));
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  unsigned workers = 2;
  int reps = 3;
  std::int64_t scale = 1;  // divisor for --quick
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--workers") && i + 1 < argc) workers = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--quick")) scale = 10;
    else {
      std::fprintf(stderr, "usage: eam_vs_caf [--workers N] [--reps R] [--quick]\n");
      return 2;
    }
  }
  namespace eb = eam::bench;
  namespace cb = eam::bench::caf_peer;
  const std::int64_t pp = 1'000'000 / scale, fan = 1'000'000 / scale, calls_in = 200'000 / scale,
                     calls_out = 100'000 / scale;
  const int depth = scale == 1 ? 20 : 16;
  const int clients = static_cast<int>(workers);
  std::vector<workload> all = {
      {"ping-pong (round trips)", pp, 1, [&](eam::actor_system& s) { return eb::ping_pong(s, pp); },
       [&](caf::actor_system& s) { return cb::ping_pong(s, pp); }},
      {"fan-in 20 -> 1 (messages)", 20 * fan, 20 * fan, [&](eam::actor_system& s) { return eb::fan_in(s, 20, fan); },
       [&](caf::actor_system& s) { return cb::fan_in(s, 20, fan); }},
      {"spawn tree 2^" + std::to_string(depth) + " (actors)", (std::int64_t{2} << depth) - 1, std::int64_t{1} << depth,
       [&](eam::actor_system& s) { return eb::spawn_tree(s, depth); },
       [&](caf::actor_system& s) { return cb::spawn_tree(s, depth); }},
      {"calls inside actors (calls)", clients * calls_in, clients * calls_in,
       [&](eam::actor_system& s) { return eb::calls_inside(s, clients, calls_in); },
       [&](caf::actor_system& s) { return cb::calls_inside(s, clients, calls_in); }},
      {"calls from a thread (calls)", calls_out, calls_out, [&](eam::actor_system& s) { return eb::calls_outside(s, calls_out); },
       [&](caf::actor_system& s) { return cb::calls_outside(s, calls_out); }},
  };

  std::printf("libeam vs CAF %d.%d.%d, %u worker threads each, median of %d runs (interleaved)\n",
              CAF_MAJOR_VERSION, CAF_MINOR_VERSION, CAF_PATCH_VERSION, workers, reps);
  std::printf("%-32s %14s %14s %8s\n", "workload", "libeam /s", "CAF /s", "ratio");
  for (const workload& w : all) {
    std::vector<double> eam_t, caf_t;
    for (int r = 0; r < reps; ++r) {
      {
        eam::actor_system sys({.workers = workers});
        std::int64_t got = 0;
        eam_t.push_back(seconds([&] { got = w.on_eam(sys); }));
        if (got != w.expected) wrong("libeam", w.name, got, w.expected);
      }
      {
        caf::actor_system_config cfg;
        cfg.set("scheduler.max-threads", static_cast<std::size_t>(workers));
        caf::actor_system sys{cfg};
        std::int64_t got = 0;
        caf_t.push_back(seconds([&] { got = w.on_caf(sys); }));
        if (got != w.expected) wrong("CAF", w.name, got, w.expected);
      }
    }
    const double e = static_cast<double>(w.items) / median(eam_t), c = static_cast<double>(w.items) / median(caf_t);
    std::printf("%-32s %14.0f %14.0f %7.2fx\n", w.name.c_str(), e, c, e / c);
    std::fflush(stdout);
  }
  return 0;
}
