// Multi-threaded throughput smoke for the gate: ping-pong and fan-in on a two-worker system,
// each beside a raw-threads program doing the same exchange without an actor library,
// measured interleaved in the same run. The raw programs spin (with yields) instead of
// sleeping on condition variables: futex hand-offs vary tenfold from run to run here, which
// would make the ratio useless. Prints the
// median ratio libeam / raw per workload as JSON. Timings are noisy on shared machines; the
// gate fails only when a ratio falls below half its baseline.
#include "../workloads/eam_workloads.hpp"

#include <algorithm>
#include <chrono>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace {

template <class F>
double per_second(std::int64_t items, F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return static_cast<double>(items) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "smoke: wrong result in %s\n", what);
    std::exit(1);
  }
}

// Two threads pass a counter back and forth through one atomic.
double raw_ping_pong(std::int64_t round_trips) {
  std::atomic<std::int64_t> ball{-1};  // even: A's turn to serve, odd: B's
  auto wait_for = [&](auto pred) {
    for (int spins = 0;; ++spins) {
      const std::int64_t v = ball.load(std::memory_order_acquire);
      if (pred(v)) return v;
      if (spins % 64 == 63) std::this_thread::yield();
    }
  };
  return per_second(round_trips, [&] {
    std::thread b([&] {
      for (std::int64_t i = 0; i < round_trips; ++i) {
        const std::int64_t v = wait_for([](std::int64_t x) { return x >= 0 && x % 2 == 0; });
        ball.store(v + 1, std::memory_order_release);
      }
    });
    for (std::int64_t i = 0; i < round_trips; ++i) {
      ball.store(2 * i, std::memory_order_release);
      check(wait_for([i](std::int64_t x) { return x == 2 * i + 1; }) == 2 * i + 1, "raw ping-pong");
    }
    b.join();
  });
}

double eam_ping_pong(std::int64_t round_trips) {
  eam::actor_system sys({.workers = 2});
  return per_second(round_trips, [&] { check(eam::bench::ping_pong(sys, round_trips) == 1, "ping-pong"); });
}

// Senders push into one mutex-protected queue; the receiver takes everything queued at once.
double raw_fan_in(int senders, std::int64_t per_sender) {
  std::mutex m;
  std::vector<std::int64_t> shared;
  return per_second(senders * per_sender, [&] {
    std::vector<std::thread> ts;
    for (int s = 0; s < senders; ++s)
      ts.emplace_back([&] {
        for (std::int64_t i = 0; i < per_sender; ++i) {
          std::lock_guard l(m);
          shared.push_back(1);
        }
      });
    std::int64_t sum = 0, seen = 0;
    std::vector<std::int64_t> mine;
    while (seen < senders * per_sender) {
      {
        std::lock_guard l(m);
        mine.swap(shared);
      }
      if (mine.empty()) {
        std::this_thread::yield();
        continue;
      }
      for (std::int64_t v : mine) sum += v;
      seen += static_cast<std::int64_t>(mine.size());
      mine.clear();
    }
    for (auto& t : ts) t.join();
    check(sum == senders * per_sender, "raw fan-in");
  });
}

double eam_fan_in(int senders, std::int64_t per_sender) {
  eam::actor_system sys({.workers = 2});
  return per_second(senders * per_sender,
                    [&] { check(eam::bench::fan_in(sys, senders, per_sender) == senders * per_sender, "fan-in"); });
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  constexpr int reps = 3;
  std::vector<double> ping_pong, fan_in;
  for (int r = 0; r < reps; ++r) {
    const double raw_pp = raw_ping_pong(200'000);
    ping_pong.push_back(eam_ping_pong(500'000) / raw_pp);
    const double raw_fi = raw_fan_in(20, 100'000);
    fan_in.push_back(eam_fan_in(20, 100'000) / raw_fi);
  }
  std::printf("{\"ping_pong\": %.2f, \"fan_in\": %.2f}\n", median(ping_pong), median(fan_in));
}
