// Savina "nqueenk" on CAF: counts the placements of n queens; above `threshold` placed queens
// every partial board is an actor that spawns one child per safe column, below it a child
// counts sequentially. The check is the known solution count.
#include "../savina.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <stdexcept>
#include <vector>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;
using savina::nqueens::count_from;
using savina::nqueens::known;
using savina::nqueens::safe;

using solutions_atom = caf::atom_constant<caf::atom("solutions")>;  // child -> parent: its count

struct board_state {
  std::int64_t sum = 0;
  int expected = 0, reports = 0;
};
using board_actor = caf::stateful_actor<board_state>;

void report(board_actor* self, const caf::actor& parent, std::int64_t v, done_latch* done) {
  if (parent)
    self->send(parent, solutions_atom::value, v);
  else
    done->set(v);
  self->quit();
}

caf::behavior board(board_actor* self, std::vector<int> rows, int n, int threshold, caf::actor parent, done_latch* done) {
  if (static_cast<int>(rows.size()) >= threshold || static_cast<int>(rows.size()) == n) {
    report(self, parent, count_from(rows, n), done);
    return {};
  }
  for (int c = 0; c < n; ++c) {
    if (!safe(rows, c)) continue;
    auto next = rows;
    next.push_back(c);
    ++self->state.expected;
    self->spawn(board, std::move(next), n, threshold, caf::actor(self), done);
  }
  if (self->state.expected == 0) {
    report(self, parent, 0, done);
    return {};
  }
  return {[=](solutions_atom, std::int64_t count) {
    auto& st = self->state;
    st.sum += count;
    if (++st.reports == st.expected) report(self, parent, st.sum, done);
  }};
}

outcome n_queens(unsigned workers, const params& p) {
  const auto n = static_cast<int>(p["n"]), threshold = static_cast<int>(p["threshold"]);
  if (n < 1 || n > 15) throw std::invalid_argument("n-queens: n must be 1..15");
  done_latch done;
  caf_system c(workers);
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    c.sys.spawn(board, std::vector<int>{}, n, threshold, caf::actor{}, &done);
    got = done.wait();
  });
  return checked(s, known[n], got, known[n]);
}
EAM_SUITE_WORKLOAD("n-queens", n_queens);

}  // namespace
