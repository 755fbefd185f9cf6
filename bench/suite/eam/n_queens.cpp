// Savina "nqueenk": counts the placements of n queens; above `threshold` placed queens every
// partial board is an actor that spawns one child per safe column, below it a child counts
// sequentially. The check is the known solution count.
#include "../../workloads/done_latch.hpp"
#include "../savina.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct solutions {
  std::int64_t n;
};
using board_ref = typed_ref<void(solutions)>;

using savina::nqueens::count_from;
using savina::nqueens::safe;

struct board : actor<void(solutions)> {
  board_ref parent;
  done_latch* done = nullptr;
  std::int64_t sum = 0;
  int expected = 0, reports = 0;
  void init(std::vector<int> rows, int n, int threshold, board_ref p, done_latch* d) {
    parent = std::move(p);
    done = d;
    if (static_cast<int>(rows.size()) >= threshold || static_cast<int>(rows.size()) == n) {
      report(count_from(rows, n));
      return;
    }
    auto self = eam::unchecked_typed_ref_cast<board_ref>(context().self());
    for (int c = 0; c < n; ++c) {
      if (!safe(rows, c)) continue;
      auto next = rows;
      next.push_back(c);
      ++expected;
      context().spawn<board>(std::move(next), n, threshold, self, done);
    }
    if (expected == 0) report(0);
  }
  void handle_cast(solutions s) {
    sum += s.n;
    if (++reports == expected) report(sum);
  }
  void report(std::int64_t v) {
    if (parent)
      parent.cast(solutions{v});
    else
      done->set(v);
    context().stop();
  }
};

outcome n_queens(unsigned workers, const params& p) {
  using savina::nqueens::known;
  const auto n = static_cast<int>(p["n"]), threshold = static_cast<int>(p["threshold"]);
  if (n < 1 || n > 15) throw std::invalid_argument("n-queens: n must be 1..15");
  actor_system sys({.workers = workers});
  done_latch done;
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    (void)sys.spawn<board>(std::vector<int>{}, n, threshold, board_ref{}, &done);
    got = done.wait();
  });
  return checked(s, known[n], got, known[n]);
}
EAM_SUITE_WORKLOAD("n-queens", n_queens);

}  // namespace
