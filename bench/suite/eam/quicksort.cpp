// Savina "quicksort": an actor partitions its slice around a pivot and hands both sides to new
// child actors until a slice is below `threshold`, which is sorted in place; sorted slices flow
// back up and are joined. The check compares with std::sort of the same input.
#include "../../workloads/done_latch.hpp"
#include "../common.hpp"
#include "../savina.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <algorithm>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

using values = std::vector<std::int64_t>;
struct sorted_part {
  values v;
  bool left;
};
using sorter_ref = typed_ref<void(sorted_part)>;

struct sorter : actor<void(sorted_part)> {
  sorter_ref parent;
  bool is_left = false;
  std::vector<values>* out = nullptr;
  done_latch* done = nullptr;
  values left, middle, right;
  int reports = 0;

  void init(values v, std::int64_t threshold, sorter_ref p, bool side, std::vector<values>* o, done_latch* d) {
    parent = std::move(p);
    is_left = side;
    out = o;
    done = d;
    if (static_cast<std::int64_t>(v.size()) <= threshold) {
      std::sort(v.begin(), v.end());
      report(std::move(v));
      return;
    }
    const std::int64_t pivot = v[v.size() / 2];
    values l, r;
    for (std::int64_t x : v) (x < pivot ? l : x > pivot ? r : middle).push_back(x);
    auto self = eam::unchecked_typed_ref_cast<sorter_ref>(context().self());
    context().spawn<sorter>(std::move(l), threshold, self, true, out, done);
    context().spawn<sorter>(std::move(r), threshold, self, false, out, done);
  }
  void handle_cast(sorted_part s) {
    (s.left ? left : right) = std::move(s.v);
    if (++reports < 2) return;
    left.insert(left.end(), middle.begin(), middle.end());
    left.insert(left.end(), right.begin(), right.end());
    report(std::move(left));
  }
  void report(values v) {
    if (parent) {
      parent.cast(sorted_part{std::move(v), is_left});
    } else {
      out->push_back(std::move(v));
      done->set(1);
    }
    context().stop();
  }
};

outcome quicksort(unsigned workers, const params& p) {
  const std::int64_t n = p["n"], threshold = p["threshold"];
  values input = savina::quicksort::input(n);
  values expected = input;
  std::sort(expected.begin(), expected.end());
  actor_system sys({.workers = workers});
  done_latch done;
  std::vector<values> out;
  const double s = seconds_of([&] {
    (void)sys.spawn<sorter>(std::move(input), threshold, sorter_ref{}, true, &out, &done);
    done.wait();
  });
  return checked(s, n, static_cast<std::int64_t>(!out.empty() && out[0] == expected), 1);
}
EAM_SUITE_WORKLOAD("quicksort", quicksort);

}  // namespace
