// Savina "recmatmul": C = A x B for n x n matrices; an actor owning a block of C splits it into
// four child actors until a block holds at most `threshold` elements, which a leaf computes.
// Blocks of C are disjoint, so leaves write the shared result without synchronisation. The
// check recomputes 64 entries directly (integer-valued doubles: exact).
#include "../../workloads/done_latch.hpp"
#include "../common.hpp"
#include "../savina.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

using savina::recmatmul::matrices;
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
      savina::recmatmul::multiply_block(*m, row, col, size);
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
  matrices m = savina::recmatmul::make(n);
  actor_system sys({.workers = workers});
  done_latch done;
  const double s = seconds_of([&] {
    (void)sys.spawn<block>(&m, std::int64_t{0}, std::int64_t{0}, n, threshold, block_ref{}, &done);
    done.wait();
  });
  return checked(s, n * n * n, savina::recmatmul::spot_check(m), 64);
}
EAM_SUITE_WORKLOAD("recursive-matmul", recursive_matmul);

}  // namespace
