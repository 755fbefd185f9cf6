// Savina "uct" (unbalanced cobwebbed tree), simplified: every node is an actor that decides
// from its own seed how many children it has (the root: breadth; others none with probability
// 1/4, else 1..breadth, up to `depth` levels), spawns them, does a little work, and reports
// its subtree's size upward. The shape is random but fixed by the seeds, so the check
// regenerates it sequentially. Savina's version also lets nodes message random other nodes
// ("cobwebs"); this one does not.
#include "../../workloads/done_latch.hpp"
#include "../common.hpp"
#include "../savina.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct subtree {
  std::int64_t nodes;
};
using node_ref = typed_ref<void(subtree)>;

using namespace savina::uct;

struct tree_node : actor<void(subtree)> {
  node_ref parent;
  done_latch* done = nullptr;
  std::int64_t total = 1, expected = 0, reports = 0;
  std::uint64_t work = 0;
  void init(std::uint64_t seed, std::int64_t level, std::int64_t depth, std::int64_t breadth, node_ref p, done_latch* d) {
    parent = std::move(p);
    done = d;
    work = node_work(seed);  // the node's own computation
    expected = children_of(seed, level, depth, breadth);
    if (expected == 0) {
      report();
      return;
    }
    auto self = eam::unchecked_typed_ref_cast<node_ref>(context().self());
    for (std::int64_t i = 0; i < expected; ++i)
      context().spawn<tree_node>(child_seed(seed, i), level + 1, depth, breadth, self, done);
  }
  void handle_cast(subtree s) {
    total += s.nodes;
    if (++reports == expected) report();
  }
  void report() {
    if (parent)
      parent.cast(subtree{total});
    else
      done->set(total);
    context().stop();
  }
};

outcome unbalanced_tree(unsigned workers, const params& p) {
  const std::int64_t depth = p["depth"], breadth = p["breadth"];
  const std::int64_t expected = count_nodes(root_seed, 0, depth, breadth);
  actor_system sys({.workers = workers});
  done_latch done;
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    (void)sys.spawn<tree_node>(root_seed, std::int64_t{0}, depth, breadth, node_ref{}, &done);
    got = done.wait();
  });
  return checked(s, expected, got, expected);
}
EAM_SUITE_WORKLOAD("unbalanced-tree", unbalanced_tree);

}  // namespace
