// Savina "recmatmul" on CAF: C = A x B for n x n matrices; an actor owning a block of C splits
// it into four child actors until a block holds at most `threshold` elements, which a leaf
// computes. Blocks of C are disjoint, so leaves write the shared result without
// synchronisation. The check recomputes 64 entries directly (integer-valued doubles: exact).
#include "../savina.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <stdexcept>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;
using savina::recmatmul::matrices;

using block_done_atom = caf::atom_constant<caf::atom("blockdone")>;  // child -> parent

struct block_state {
  int reports = 0;
};
using block_actor = caf::stateful_actor<block_state>;

void finish(block_actor* self, const caf::actor& parent, done_latch* done) {
  if (parent)
    self->send(parent, block_done_atom::value);
  else
    done->set(1);
  self->quit();
}

caf::behavior block(block_actor* self, matrices* m, std::int64_t row, std::int64_t col, std::int64_t size,
                    std::int64_t threshold, caf::actor parent, done_latch* done) {
  if (size * size <= threshold || size == 1) {
    savina::recmatmul::multiply_block(*m, row, col, size);
    finish(self, parent, done);
    return {};
  }
  const std::int64_t h = size / 2;
  for (std::int64_t q = 0; q < 4; ++q)
    self->spawn(block, m, row + (q / 2) * h, col + (q % 2) * h, h, threshold, caf::actor(self), done);
  return {[=](block_done_atom) {
    if (++self->state.reports == 4) finish(self, parent, done);
  }};
}

outcome recursive_matmul(unsigned workers, const params& p) {
  const std::int64_t n = p["n"], threshold = p["threshold"];
  if ((n & (n - 1)) != 0) throw std::invalid_argument("recursive-matmul: n must be a power of two");
  matrices m = savina::recmatmul::make(n);
  done_latch done;
  caf_system c(workers);
  const double s = seconds_of([&] {
    c.sys.spawn(block, &m, std::int64_t{0}, std::int64_t{0}, n, threshold, caf::actor{}, &done);
    done.wait();
  });
  return checked(s, n * n * n, savina::recmatmul::spot_check(m), 64);
}
EAM_SUITE_WORKLOAD("recursive-matmul", recursive_matmul);

}  // namespace
