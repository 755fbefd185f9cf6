#pragma once
// System-independent pieces of the suite's workloads, so libeam, CAF and the raw-thread
// versions compute exactly the same things.
#include <cmath>
#include <cstdint>
#include <utility>

namespace eam::suite {

/// Savina's per-message "computation" of the fork-join workloads.
inline double fork_join_work(double theta) {
  const double s = std::sin(theta), c = std::cos(theta);
  return s * s + c * c;  // 1.0, computed the long way
}

/// Trial-division factorisation of a semiprime (the mixed case's CPU load): the smaller factor.
inline std::uint64_t smallest_factor(std::uint64_t n) {
  if (n % 2 == 0) return 2;
  for (std::uint64_t d = 3; d * d <= n; d += 2)
    if (n % d == 0) return d;
  return n;
}

/// The mixed case's number: 1000003 x 1000033 (the CAF paper factorises a larger semiprime;
/// this one keeps a default run within the suite's time budget).
constexpr std::uint64_t mixed_case_semiprime = 1000003ull * 1000033ull;
constexpr std::uint64_t mixed_case_factor = 1000003ull;

/// A small deterministic generator for workloads that pick random peers (Big).
struct lcg {
  std::uint64_t state;
  std::uint64_t next() noexcept {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  }
};

/// Deterministic busy work of `iterations` steps (Savina's "cost" of producing, consuming,
/// smoking, cutting hair). Returns a bit of the result so the loop cannot be optimised away.
inline std::int64_t busy_work(std::int64_t iterations, std::uint64_t seed) {
  lcg g{seed};
  std::uint64_t acc = 0;
  for (std::int64_t i = 0; i < iterations; ++i) acc += g.next();
  return static_cast<std::int64_t>(acc & 1);
}

/// Skynet's tree: 10^levels leaves numbered from 0, and how many actors that takes in all.
struct skynet_shape {
  std::int64_t leaves = 1, actors = 0;
  explicit skynet_shape(int levels) {
    for (int i = 0; i <= levels; ++i) {
      actors += leaves;
      if (i < levels) leaves *= 10;
    }
  }
  [[nodiscard]] std::int64_t leaf_sum() const { return leaves * (leaves - 1) / 2; }
};

}  // namespace eam::suite
