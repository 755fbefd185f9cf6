// Savina "uct" (unbalanced cobwebbed tree), simplified: every node is an actor that decides
// from its own seed how many children it has (the root: breadth; others none with probability
// 1/4, else 1..breadth, up to `depth` levels), spawns them, does a little work, and reports
// its subtree's size upward. The shape is random but fixed by the seeds, so the check
// regenerates it sequentially. Savina's version also lets nodes message random other nodes
// ("cobwebs"); this one does not.
#include "../../workloads/done_latch.hpp"
#include "../common.hpp"
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

std::uint64_t child_seed(std::uint64_t seed, std::int64_t i) {
  lcg g{seed * 31 + static_cast<std::uint64_t>(i) + 1};
  return g.next();
}
std::int64_t children_of(std::uint64_t seed, std::int64_t level, std::int64_t depth, std::int64_t breadth) {
  if (level >= depth) return 0;
  lcg g{seed};
  if (level == 0) return breadth;  // the root always branches
  if (g.next() % 4 == 0) return 0;
  return 1 + static_cast<std::int64_t>(g.next() % static_cast<std::uint64_t>(breadth));
}
std::int64_t count_nodes(std::uint64_t seed, std::int64_t level, std::int64_t depth, std::int64_t breadth) {
  std::int64_t total = 1;
  const std::int64_t c = children_of(seed, level, depth, breadth);
  for (std::int64_t i = 0; i < c; ++i) total += count_nodes(child_seed(seed, i), level + 1, depth, breadth);
  return total;
}

struct tree_node : actor<void(subtree)> {
  node_ref parent;
  done_latch* done = nullptr;
  std::int64_t total = 1, expected = 0, reports = 0;
  std::uint64_t work = 0;
  void init(std::uint64_t seed, std::int64_t level, std::int64_t depth, std::int64_t breadth, node_ref p, done_latch* d) {
    parent = std::move(p);
    done = d;
    lcg g{seed};
    for (int i = 0; i < 200; ++i) work += g.next();  // the node's own computation
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
  constexpr std::uint64_t root_seed = 12345;
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
