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

}  // namespace eam::suite
