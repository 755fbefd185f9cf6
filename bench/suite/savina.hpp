#pragma once
// System-independent computations of the Savina concurrency and parallelism workloads: inputs,
// per-item work and the sequential reference each check compares with. The libeam and CAF
// versions (bench/suite/eam/, bench/suite/caf/) both include this, so they generate the same
// inputs, do the same work per message and are checked against the same answers; only the
// messaging around it differs. One namespace per workload, named after Savina's short name.
#include "common.hpp"
#include "workload.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace eam::suite::savina {

namespace concdict {
/// Keys are drawn from [0, key_space).
constexpr std::int64_t key_space = 10000;
/// Fails `o` unless the dictionary ended with one key per distinct key written.
inline void check_size(outcome& o, std::int64_t held, std::size_t written) {
  if (held == static_cast<std::int64_t>(written)) return;
  o.ok = false;
  o.detail = "dictionary holds " + std::to_string(held) + " keys, expected " + std::to_string(written);
}
}  // namespace concdict

namespace banking {
/// Every account's balance at the start; transfers conserve the total.
constexpr std::int64_t initial_balance = 1'000'000;
/// Fails `o` unless the balances still add up to what the accounts started with.
inline void check_conserved(outcome& o, std::int64_t total, std::int64_t accounts) {
  if (total == accounts * initial_balance) return;
  o.ok = false;
  o.detail = "money not conserved: " + std::to_string(total) + " != " + std::to_string(accounts * initial_balance);
}
}  // namespace banking

namespace logmap {
inline double start_term(std::int64_t i) { return 0.0001 * static_cast<double>(i + 1); }
inline double rate_of(std::int64_t i) { return 3.46 + 0.0025 * static_cast<double>(i); }
/// One step x <- r x (1 - x): the rate computer's answer and the check's recurrence, written
/// once so both round identically.
inline double next_term(double r, double x) { return r * x * (1 - x); }
}  // namespace logmap

namespace trapezoid {
inline double f(double x) { return (x + 1) / std::sqrt(x * x + 1) * std::exp(-0.1 * x) * std::sin(x) + 2; }

/// The trapezoid rule for f over [left, right] in `pieces` pieces.
inline double area(double left, double right, std::int64_t pieces) {
  const double h = (right - left) / static_cast<double>(pieces);
  double sum = 0;
  for (std::int64_t i = 0; i < pieces; ++i) {
    const double a = left + static_cast<double>(i) * h;
    sum += (f(a) + f(a + h)) * h / 2;
  }
  return sum;
}
}  // namespace trapezoid

namespace piprecision {
// Unsigned fixed point: limb 0 is the integer part, limbs 1.. the fraction, base 2^32.
using fixed = std::vector<std::uint32_t>;

inline fixed divide(std::uint64_t numerator, std::uint64_t divisor, std::size_t limbs) {
  fixed out(limbs);
  std::uint64_t rem = numerator;
  for (std::size_t i = 0; i < limbs; ++i) {
    out[i] = static_cast<std::uint32_t>(rem / divisor);
    rem = (rem % divisor) << 32;
  }
  return out;
}
inline void add(fixed& a, const fixed& b) {
  std::uint64_t carry = 0;
  for (std::size_t i = a.size(); i-- > 0;) {
    const std::uint64_t s = std::uint64_t{a[i]} + b[i] + carry;
    a[i] = static_cast<std::uint32_t>(s);
    carry = s >> 32;
  }
}
inline void subtract(fixed& a, const fixed& b) {
  std::int64_t borrow = 0;
  for (std::size_t i = a.size(); i-- > 0;) {
    std::int64_t d = std::int64_t{a[i]} - b[i] - borrow;
    borrow = d < 0;
    a[i] = static_cast<std::uint32_t>(d + (borrow << 32));
  }
}
inline fixed shift_right(const fixed& a, std::uint64_t bits) {
  fixed out(a.size(), 0);
  const std::size_t limb_shift = bits / 32, bit_shift = bits % 32;
  for (std::size_t i = a.size(); i-- > limb_shift;) {
    std::uint64_t v = std::uint64_t{a[i - limb_shift]} >> bit_shift;
    if (bit_shift != 0 && i - limb_shift >= 1) v |= (std::uint64_t{a[i - limb_shift - 1]} << (32 - bit_shift)) & 0xffffffffu;
    out[i] = static_cast<std::uint32_t>(v);
  }
  return out;
}

/// Term k of the Bailey-Borwein-Plouffe series.
inline fixed bbp_term(std::uint64_t k, std::size_t limbs) {
  fixed t = divide(4, 8 * k + 1, limbs);
  subtract(t, divide(2, 8 * k + 4, limbs));
  subtract(t, divide(1, 8 * k + 5, limbs));
  subtract(t, divide(1, 8 * k + 6, limbs));
  return shift_right(t, 4 * k);
}

inline std::string decimal(fixed x, std::size_t digits) {
  std::string out = std::to_string(x[0]) + ".";
  x[0] = 0;
  while (out.size() < digits + 2) {
    std::uint64_t carry = 0;  // multiply the fraction by 10^9
    for (std::size_t i = x.size(); i-- > 1;) {
      const std::uint64_t v = std::uint64_t{x[i]} * 1'000'000'000u + carry;
      x[i] = static_cast<std::uint32_t>(v);
      carry = v >> 32;
    }
    std::string chunk = std::to_string(carry);
    out += std::string(9 - chunk.size(), '0') + chunk;
  }
  return out.substr(0, digits + 2);
}

/// The precision `digits` decimal digits take: bits of fraction, limbs, and series terms.
struct precision {
  std::uint64_t bits;
  std::size_t limbs;
  std::uint64_t terms;
  explicit precision(std::int64_t digits)
      : bits(static_cast<std::uint64_t>(std::ceil(static_cast<double>(digits) * 3.3219280948873622)) + 64),
        limbs(bits / 32 + 2),
        terms(bits / 4 + 2) {}
};

/// The check: `sum` equals the series summed sequentially in term order, and starts with pi.
inline bool right_sum(const fixed& sum, const precision& pr) {
  fixed expected(pr.limbs, 0);
  for (std::uint64_t k = 0; k < pr.terms; ++k) add(expected, bbp_term(k, pr.limbs));
  const std::string pi50 = "3.14159265358979323846264338327950288419716939937510";
  return sum == expected && decimal(sum, 50) == pi50;
}
}  // namespace piprecision

namespace quicksort {
inline std::vector<std::int64_t> input(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  lcg rng{2024};
  for (auto& x : v) x = static_cast<std::int64_t>(rng.next() % 100'000'000);
  return v;
}
}  // namespace quicksort

namespace radixsort {
/// n random values of `bits` bits.
inline std::vector<std::int64_t> input(std::int64_t n, std::int64_t bits) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  lcg rng{77};
  for (auto& x : v) x = static_cast<std::int64_t>((rng.next() << 31 | rng.next()) & ((std::int64_t{1} << bits) - 1));
  return v;
}
}  // namespace radixsort

namespace recmatmul {
struct matrices {
  std::int64_t n;
  std::vector<double> a, b, c;  // row-major n x n; c starts at zero
};

inline matrices make(std::int64_t n) {
  matrices m{n, std::vector<double>(static_cast<std::size_t>(n * n)), std::vector<double>(static_cast<std::size_t>(n * n)),
             std::vector<double>(static_cast<std::size_t>(n * n), 0.0)};
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      m.a[static_cast<std::size_t>(i * n + j)] = static_cast<double>((i + j) % 7);
      m.b[static_cast<std::size_t>(i * n + j)] = static_cast<double>((i * j) % 5);
    }
  return m;
}

/// A leaf's work: the size x size block of C at (row, col), written only by its owner.
inline void multiply_block(matrices& m, std::int64_t row, std::int64_t col, std::int64_t size) {
  const std::int64_t n = m.n;
  for (std::int64_t i = row; i < row + size; ++i)
    for (std::int64_t k = 0; k < n; ++k) {
      const double aik = m.a[static_cast<std::size_t>(i * n + k)];
      for (std::int64_t j = col; j < col + size; ++j)
        m.c[static_cast<std::size_t>(i * n + j)] += aik * m.b[static_cast<std::size_t>(k * n + j)];
    }
}

/// The check: how many of 64 pseudo-random entries of C equal their direct computation.
inline std::int64_t spot_check(const matrices& m) {
  const std::int64_t n = m.n;
  std::int64_t right = 0;
  lcg rng{5};
  for (int t = 0; t < 64; ++t) {
    const auto i = static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(n));
    const auto j = static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(n));
    double want = 0;
    for (std::int64_t k = 0; k < n; ++k) want += m.a[static_cast<std::size_t>(i * n + k)] * m.b[static_cast<std::size_t>(k * n + j)];
    right += want == m.c[static_cast<std::size_t>(i * n + j)];
  }
  return right;
}
}  // namespace recmatmul

namespace nqueens {
/// Solution counts for n = 0..15.
inline constexpr std::int64_t known[] = {1, 1, 0, 0, 2, 10, 4, 40, 92, 352, 724, 2680, 14200, 73712, 365596, 2279184};

/// Whether a queen in column `col` of the next row is safe from the queens in `rows`.
inline bool safe(const std::vector<int>& rows, int col) {
  const int r = static_cast<int>(rows.size());
  for (int i = 0; i < r; ++i) {
    const int c = rows[static_cast<std::size_t>(i)];
    if (c == col || c - col == r - i || col - c == r - i) return false;
  }
  return true;
}

/// The solutions that extend `rows`, counted sequentially.
inline std::int64_t count_from(std::vector<int>& rows, int n) {
  if (static_cast<int>(rows.size()) == n) return 1;
  std::int64_t total = 0;
  for (int c = 0; c < n; ++c) {
    if (!safe(rows, c)) continue;
    rows.push_back(c);
    total += count_from(rows, n);
    rows.pop_back();
  }
  return total;
}
}  // namespace nqueens

namespace fib {
inline std::int64_t value(std::int64_t n) { return n <= 2 ? 1 : value(n - 1) + value(n - 2); }
/// How many calls (actors) the naive recursion makes.
inline std::int64_t calls(std::int64_t n) { return n <= 2 ? 1 : 1 + calls(n - 1) + calls(n - 2); }
}  // namespace fib

namespace sieve {
inline std::int64_t primes_below(std::int64_t limit) {
  std::vector<bool> composite(static_cast<std::size_t>(limit + 1), false);
  std::int64_t count = 0;
  for (std::int64_t i = 2; i <= limit; ++i) {
    if (composite[static_cast<std::size_t>(i)]) continue;
    ++count;
    for (std::int64_t j = i * i; j <= limit; j += i) composite[static_cast<std::size_t>(j)] = true;
  }
  return count;
}
}  // namespace sieve

namespace apsp {
constexpr std::int64_t unreachable = std::int64_t{1} << 40;

/// A random directed graph's n x n distance matrix, row-major (about 3/4 of the edges exist).
inline std::vector<std::int64_t> make_graph(std::int64_t n) {
  std::vector<std::int64_t> d(static_cast<std::size_t>(n * n), unreachable);
  lcg rng{11};
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      if (i == j)
        d[static_cast<std::size_t>(i * n + j)] = 0;
      else if (rng.next() % 4 != 0)
        d[static_cast<std::size_t>(i * n + j)] = static_cast<std::int64_t>(rng.next() % 100) + 1;
    }
  return d;
}

/// The check: Floyd-Warshall sequentially.
inline std::vector<std::int64_t> floyd_warshall(std::vector<std::int64_t> d, std::int64_t n) {
  for (std::int64_t k = 0; k < n; ++k)
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        auto& cell = d[static_cast<std::size_t>(i * n + j)];
        const std::int64_t via = d[static_cast<std::size_t>(i * n + k)] + d[static_cast<std::size_t>(k * n + j)];
        if (via < cell) cell = via;
      }
  return d;
}
}  // namespace apsp

namespace uct {
constexpr std::uint64_t root_seed = 12345;

inline std::uint64_t child_seed(std::uint64_t seed, std::int64_t i) {
  lcg g{seed * 31 + static_cast<std::uint64_t>(i) + 1};
  return g.next();
}
/// How many children the node with `seed` at `level` has (the tree's shape, fixed by seeds).
inline std::int64_t children_of(std::uint64_t seed, std::int64_t level, std::int64_t depth, std::int64_t breadth) {
  if (level >= depth) return 0;
  lcg g{seed};
  if (level == 0) return breadth;  // the root always branches
  if (g.next() % 4 == 0) return 0;
  return 1 + static_cast<std::int64_t>(g.next() % static_cast<std::uint64_t>(breadth));
}
/// The check: the tree's size, regenerated sequentially.
inline std::int64_t count_nodes(std::uint64_t seed, std::int64_t level, std::int64_t depth, std::int64_t breadth) {
  std::int64_t total = 1;
  const std::int64_t c = children_of(seed, level, depth, breadth);
  for (std::int64_t i = 0; i < c; ++i) total += count_nodes(child_seed(seed, i), level + 1, depth, breadth);
  return total;
}
/// A node's own computation.
inline std::uint64_t node_work(std::uint64_t seed) {
  lcg g{seed};
  std::uint64_t work = 0;
  for (int i = 0; i < 200; ++i) work += g.next();
  return work;
}
}  // namespace uct

}  // namespace eam::suite::savina
