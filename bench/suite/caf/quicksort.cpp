// Savina "quicksort" on CAF: an actor partitions its slice around a pivot and hands both sides
// to new child actors until a slice is below `threshold`, which is sorted in place; sorted
// slices flow back up and are joined. The check compares with std::sort of the same input.
#include "../savina.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <algorithm>
#include <vector>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;

using values = std::vector<std::int64_t>;
using sorted_atom = caf::atom_constant<caf::atom("sorted")>;  // child -> parent: its slice, sorted

// Where the root's sorted values go (no actor handles: it outlives the system).
struct shared_run {
  std::int64_t threshold = 0;
  values result;
  done_latch done;
};

struct sorter_state {
  caf::actor parent;
  bool is_left = false;
  values left, middle, right;
  int reports = 0;
};
using sorter_actor = caf::stateful_actor<sorter_state>;

void report(sorter_actor* self, values v, shared_run* run) {
  if (self->state.parent) {
    self->send(self->state.parent, sorted_atom::value, std::move(v), self->state.is_left);
  } else {
    run->result = std::move(v);
    run->done.set(1);
  }
  self->quit();
}

caf::behavior sorter(sorter_actor* self, values v, caf::actor parent, bool is_left, shared_run* run) {
  auto& st = self->state;
  st.parent = std::move(parent);
  st.is_left = is_left;
  if (static_cast<std::int64_t>(v.size()) <= run->threshold) {
    std::sort(v.begin(), v.end());
    report(self, std::move(v), run);
    return {};
  }
  const std::int64_t pivot = v[v.size() / 2];
  values l, r;
  for (std::int64_t x : v) (x < pivot ? l : x > pivot ? r : st.middle).push_back(x);
  self->spawn(sorter, std::move(l), caf::actor(self), true, run);
  self->spawn(sorter, std::move(r), caf::actor(self), false, run);
  return {[=](sorted_atom, values& part, bool left) {
    auto& s = self->state;
    (left ? s.left : s.right) = std::move(part);
    if (++s.reports < 2) return;
    s.left.insert(s.left.end(), s.middle.begin(), s.middle.end());
    s.left.insert(s.left.end(), s.right.begin(), s.right.end());
    report(self, std::move(s.left), run);
  }};
}

outcome quicksort(unsigned workers, const params& p) {
  const std::int64_t n = p["n"];
  shared_run run;
  run.threshold = p["threshold"];
  values input = savina::quicksort::input(n);
  values expected = input;
  std::sort(expected.begin(), expected.end());
  caf_system c(workers);
  const double s = seconds_of([&] {
    c.sys.spawn(sorter, std::move(input), caf::actor{}, true, &run);
    run.done.wait();
  });
  return checked(s, n, static_cast<std::int64_t>(run.result == expected), 1);
}
EAM_SUITE_WORKLOAD("quicksort", quicksort);

}  // namespace
