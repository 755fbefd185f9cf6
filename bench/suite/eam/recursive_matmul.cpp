// Savina "recmatmul": C = A x B for n x n matrices; an actor owning a block of C splits it into
// four child actors until a block holds at most `threshold` elements, which a leaf computes.
// Blocks of C are disjoint, so leaves write the shared result without synchronisation. The
// check recomputes 64 entries directly (integer-valued doubles: exact).
#include "../../workloads/done_latch.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct matrices {
  std::int64_t n;
  std::vector<double> a, b, c;
};
struct block_done {};
using block_ref = typed_ref<void(block_done)>;

struct block : actor<void(block_done)> {
  block_ref parent;
  done_latch* done = nullptr;
  int reports = 0;
  void init(matrices* m, std::int64_t row, std::int64_t col, std::int64_t size, std::int64_t threshold, block_ref p,
            done_latch* d) {
    parent = std::move(p);
    done = d;
    if (size * size <= threshold || size == 1) {
      const std::int64_t n = m->n;
      for (std::int64_t i = row; i < row + size; ++i)
        for (std::int64_t k = 0; k < n; ++k) {
          const double aik = m->a[static_cast<std::size_t>(i * n + k)];
          for (std::int64_t j = col; j < col + size; ++j)
            m->c[static_cast<std::size_t>(i * n + j)] += aik * m->b[static_cast<std::size_t>(k * n + j)];
        }
      finish();
      return;
    }
    const std::int64_t h = size / 2;
    auto self = eam::unchecked_typed_ref_cast<block_ref>(context().self());
    for (std::int64_t q = 0; q < 4; ++q)
      context().spawn<block>(m, row + (q / 2) * h, col + (q % 2) * h, h, threshold, self, done);
  }
  void handle_cast(block_done) {
    if (++reports == 4) finish();
  }
  void finish() {
    if (parent)
      parent.cast(block_done{});
    else
      done->set(1);
    context().stop();
  }
};

outcome recursive_matmul(unsigned workers, const params& p) {
  const std::int64_t n = p["n"], threshold = p["threshold"];
  if ((n & (n - 1)) != 0) throw std::invalid_argument("recursive-matmul: n must be a power of two");
  matrices m{n, std::vector<double>(static_cast<std::size_t>(n * n)), std::vector<double>(static_cast<std::size_t>(n * n)),
             std::vector<double>(static_cast<std::size_t>(n * n), 0.0)};
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      m.a[static_cast<std::size_t>(i * n + j)] = static_cast<double>((i + j) % 7);
      m.b[static_cast<std::size_t>(i * n + j)] = static_cast<double>((i * j) % 5);
    }
  actor_system sys({.workers = workers});
  done_latch done;
  const double s = seconds_of([&] {
    (void)sys.spawn<block>(&m, std::int64_t{0}, std::int64_t{0}, n, threshold, block_ref{}, &done);
    done.wait();
  });
  std::int64_t right = 0;
  lcg rng{5};
  for (int t = 0; t < 64; ++t) {
    const auto i = static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(n));
    const auto j = static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(n));
    double want = 0;
    for (std::int64_t k = 0; k < n; ++k) want += m.a[static_cast<std::size_t>(i * n + k)] * m.b[static_cast<std::size_t>(k * n + j)];
    right += want == m.c[static_cast<std::size_t>(i * n + j)];
  }
  return checked(s, n * n * n, right, 64);
}
EAM_SUITE_WORKLOAD("recursive-matmul", recursive_matmul);

}  // namespace
