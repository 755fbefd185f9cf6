// Savina "apsp" on CAF: all-pairs shortest paths by Floyd-Warshall on an n-node graph, in
// blocks of b x b owned by one actor each. In step k every block needs row k and column k: the
// blocks holding them send their segments to their row and column neighbours, each block
// updates once it has both, then moves to step k + 1. The check runs Floyd-Warshall
// sequentially.
#include "../savina.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <atomic>
#include <map>
#include <stdexcept>
#include <vector>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;

using segment = std::vector<std::int64_t>;
using row_atom = caf::atom_constant<caf::atom("row")>;        // step k's D[k][j] for the block's columns
using column_atom = caf::atom_constant<caf::atom("column")>;  // step k's D[i][k] for the block's rows
using peers_atom = caf::atom_constant<caf::atom("peers")>;    // start -> block: the grid, row-major

// What the blocks share with the timing thread (no actor handles: it outlives the system).
struct shared_run {
  std::vector<std::int64_t> graph, result;  // n x n, row-major; each block writes its own cells
  std::int64_t n = 0, b = 0, blocks = 0;
  std::atomic<std::int64_t> finished{0};
  done_latch done;
};

struct block_state {
  std::int64_t bi = 0, bj = 0, k = 0;
  std::vector<std::int64_t> d;  // b x b, row-major
  std::vector<caf::actor> grid;
  std::map<std::int64_t, segment> rows, columns;  // segments that arrived, by step
};
using block_actor = caf::stateful_actor<block_state>;

// Sends step k's row (for this block's columns) and/or column (for its rows), if this block holds them.
void publish(block_actor* self, const shared_run* run) {
  auto& st = self->state;
  const std::int64_t b = run->b, blocks = run->blocks, k = st.k, kb = k / b, local = k % b;
  if (st.bi == kb) {
    const segment r(st.d.begin() + local * b, st.d.begin() + (local + 1) * b);
    for (std::int64_t i = 0; i < blocks; ++i) self->send(st.grid[static_cast<std::size_t>(i * blocks + st.bj)], row_atom::value, k, r);
  }
  if (st.bj == kb) {
    segment c(static_cast<std::size_t>(b));
    for (std::int64_t i = 0; i < b; ++i) c[static_cast<std::size_t>(i)] = st.d[static_cast<std::size_t>(i * b + local)];
    for (std::int64_t j = 0; j < blocks; ++j) self->send(st.grid[static_cast<std::size_t>(st.bi * blocks + j)], column_atom::value, k, c);
  }
}

// Runs every step whose segments are both here; once the last is done, writes the block out.
void advance(block_actor* self, shared_run* run) {
  auto& st = self->state;
  const std::int64_t b = run->b;
  while (st.k < run->n) {
    auto r = st.rows.find(st.k);
    auto c = st.columns.find(st.k);
    if (r == st.rows.end() || c == st.columns.end()) return;
    for (std::int64_t i = 0; i < b; ++i)
      for (std::int64_t j = 0; j < b; ++j) {
        auto& cell = st.d[static_cast<std::size_t>(i * b + j)];
        const std::int64_t via = c->second[static_cast<std::size_t>(i)] + r->second[static_cast<std::size_t>(j)];
        if (via < cell) cell = via;
      }
    st.rows.erase(r);
    st.columns.erase(c);
    if (++st.k < run->n) publish(self, run);
  }
  for (std::int64_t i = 0; i < b; ++i)
    for (std::int64_t j = 0; j < b; ++j)
      run->result[static_cast<std::size_t>((st.bi * b + i) * run->n + st.bj * b + j)] = st.d[static_cast<std::size_t>(i * b + j)];
  if (run->finished.fetch_add(1) + 1 == run->blocks * run->blocks) run->done.set(1);
}

caf::behavior block(block_actor* self, std::int64_t bi, std::int64_t bj, shared_run* run) {
  auto& st = self->state;
  const std::int64_t b = run->b, n = run->n;
  st.bi = bi, st.bj = bj;
  st.d.resize(static_cast<std::size_t>(b * b));
  for (std::int64_t i = 0; i < b; ++i)
    for (std::int64_t j = 0; j < b; ++j)
      st.d[static_cast<std::size_t>(i * b + j)] = run->graph[static_cast<std::size_t>((bi * b + i) * n + bj * b + j)];
  return {
      // Segments may arrive before this block knows its peers: it only advances once it does,
      // since advancing publishes the next step's segments.
      [=](row_atom, std::int64_t k, segment& values) {
        self->state.rows.emplace(k, std::move(values));
        if (!self->state.grid.empty()) advance(self, run);
      },
      [=](column_atom, std::int64_t k, segment& values) {
        self->state.columns.emplace(k, std::move(values));
        if (!self->state.grid.empty()) advance(self, run);
      },
      [=](peers_atom, std::vector<caf::actor>& grid) {
        self->state.grid = std::move(grid);
        publish(self, run);  // step 0
        advance(self, run);
      },
  };
}

outcome apsp(unsigned workers, const params& p) {
  const std::int64_t n = p["n"], b = p["block"];
  if (n % b != 0) throw std::invalid_argument("apsp: n must be a multiple of block");
  shared_run run;
  run.n = n, run.b = b, run.blocks = n / b;
  run.graph = savina::apsp::make_graph(n);
  run.result.resize(run.graph.size());
  caf_system c(workers);
  std::vector<caf::actor> grid;
  for (std::int64_t bi = 0; bi < run.blocks; ++bi)
    for (std::int64_t bj = 0; bj < run.blocks; ++bj) grid.push_back(c.sys.spawn(block, bi, bj, &run));
  const double s = seconds_of([&] {
    for (auto& blk : grid) caf::anon_send(blk, peers_atom::value, grid);
    run.done.wait();
  });
  shut_down(grid);
  const auto expected = savina::apsp::floyd_warshall(run.graph, n);
  return checked(s, n * n * n, static_cast<std::int64_t>(run.result == expected), 1);
}
EAM_SUITE_WORKLOAD("apsp", apsp);

}  // namespace
