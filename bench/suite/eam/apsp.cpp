// Savina "apsp": all-pairs shortest paths by Floyd-Warshall on an n-node graph, in blocks of
// b x b owned by one actor each. In step k every block needs row k and column k: the blocks
// holding them send their segments to their row and column neighbours, each block updates once
// it has both, then moves to step k + 1. The check runs Floyd-Warshall sequentially.
#include "../../workloads/done_latch.hpp"
#include "../common.hpp"
#include "../savina.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

using segment = std::vector<std::int64_t>;
struct row_segment {
  std::int64_t k;
  segment values;  // D[k][j] for this block's columns
};
struct column_segment {
  std::int64_t k;
  segment values;  // D[i][k] for this block's rows
};
struct peers;
using block_ref = typed_ref<void(row_segment), void(column_segment), void(peers)>;
struct peers {
  std::vector<block_ref> grid;  // row-major, blocks x blocks
};

using savina::apsp::make_graph;

struct block_state {
  std::int64_t bi = 0, bj = 0, b = 0, n = 0, blocks = 0, k = 0;
  std::vector<std::int64_t> d;  // b x b, row-major
  std::vector<block_ref> grid;
  std::map<std::int64_t, segment> rows, columns;  // segments that arrived, by step
};

void publish(block_state& st) {
  // This block holds row k (for its columns) and/or column k (for its rows) of step k.
  const std::int64_t k = st.k, kb = k / st.b, local = k % st.b;
  if (st.bi == kb) {
    segment r(st.d.begin() + local * st.b, st.d.begin() + (local + 1) * st.b);
    for (std::int64_t i = 0; i < st.blocks; ++i) st.grid[static_cast<std::size_t>(i * st.blocks + st.bj)].cast(row_segment{k, r});
  }
  if (st.bj == kb) {
    segment c(static_cast<std::size_t>(st.b));
    for (std::int64_t i = 0; i < st.b; ++i) c[static_cast<std::size_t>(i)] = st.d[static_cast<std::size_t>(i * st.b + local)];
    for (std::int64_t j = 0; j < st.blocks; ++j) st.grid[static_cast<std::size_t>(st.bi * st.blocks + j)].cast(column_segment{k, c});
  }
}

// Runs every step whose segments are both here. True when the last step is done.
bool advance(block_state& st) {
  while (st.k < st.n) {
    auto r = st.rows.find(st.k);
    auto c = st.columns.find(st.k);
    if (r == st.rows.end() || c == st.columns.end()) return false;
    for (std::int64_t i = 0; i < st.b; ++i)
      for (std::int64_t j = 0; j < st.b; ++j) {
        auto& cell = st.d[static_cast<std::size_t>(i * st.b + j)];
        const std::int64_t via = c->second[static_cast<std::size_t>(i)] + r->second[static_cast<std::size_t>(j)];
        if (via < cell) cell = via;
      }
    st.rows.erase(r);
    st.columns.erase(c);
    if (++st.k < st.n) publish(st);
  }
  return true;
}

outcome apsp(unsigned workers, const params& p) {
  const std::int64_t n = p["n"], b = p["block"];
  if (n % b != 0) throw std::invalid_argument("apsp: n must be a multiple of block");
  const std::int64_t blocks = n / b;
  const auto graph = make_graph(n);
  actor_system sys({.workers = workers});
  done_latch done;
  auto finished = std::make_shared<std::atomic<std::int64_t>>(0);
  auto result = std::make_shared<std::vector<std::int64_t>>(graph.size());
  std::vector<block_ref> grid;
  for (std::int64_t bi = 0; bi < blocks; ++bi)
    for (std::int64_t bj = 0; bj < blocks; ++bj) {
      grid.push_back(sys.spawn([&graph, bi, bj, b, n, blocks, finished, result, &done](actor_context& ctx) {
        auto& st = ctx.make_state<block_state>();
        st.bi = bi, st.bj = bj, st.b = b, st.n = n, st.blocks = blocks;
        st.d.resize(static_cast<std::size_t>(b * b));
        for (std::int64_t i = 0; i < b; ++i)
          for (std::int64_t j = 0; j < b; ++j)
            st.d[static_cast<std::size_t>(i * b + j)] = graph[static_cast<std::size_t>((bi * b + i) * n + bj * b + j)];
        auto finish = [&st, finished, result, &done] {
          for (std::int64_t i = 0; i < st.b; ++i)
            for (std::int64_t j = 0; j < st.b; ++j)
              (*result)[static_cast<std::size_t>((st.bi * st.b + i) * st.n + st.bj * st.b + j)] =
                  st.d[static_cast<std::size_t>(i * st.b + j)];
          if (finished->fetch_add(1) + 1 == st.blocks * st.blocks) done.set(1);
        };
        return behavior{
            // Segments may arrive before this block knows its peers: it only advances once it
            // does, since advancing publishes the next step's segments.
            [&st, finish](row_segment r) {
              st.rows.emplace(r.k, std::move(r.values));
              if (!st.grid.empty() && advance(st)) finish();
            },
            [&st, finish](column_segment c) {
              st.columns.emplace(c.k, std::move(c.values));
              if (!st.grid.empty() && advance(st)) finish();
            },
            [&st, finish](peers g) {
              st.grid = std::move(g.grid);
              publish(st);  // step 0
              if (advance(st)) finish();
            },
        };
      }));
    }
  const double s = seconds_of([&] {
    for (auto& blk : grid) blk.cast(peers{grid});
    done.wait();
  });
  const auto expected = savina::apsp::floyd_warshall(graph, n);
  return checked(s, n * n * n, static_cast<std::int64_t>(*result == expected), 1);
}
EAM_SUITE_WORKLOAD("apsp", apsp);

}  // namespace
