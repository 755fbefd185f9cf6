// Savina "uct" (unbalanced cobwebbed tree) on CAF, simplified as in the libeam version: every
// node is an actor that decides from its own seed how many children it has, spawns them, does
// a little work, and reports its subtree's size upward. The shape is random but fixed by the
// seeds, so the check regenerates it sequentially. No "cobweb" messages between random nodes.
#include "../savina.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using namespace eam::suite::savina::uct;
using eam::bench::done_latch;

using subtree_atom = caf::atom_constant<caf::atom("subtree")>;  // child -> parent: its subtree's size

struct node_state {
  std::int64_t total = 1, expected = 0, reports = 0;
  std::uint64_t work = 0;
};
using node_actor = caf::stateful_actor<node_state>;

void report(node_actor* self, const caf::actor& parent, done_latch* done) {
  if (parent)
    self->send(parent, subtree_atom::value, self->state.total);
  else
    done->set(self->state.total);
  self->quit();
}

caf::behavior tree_node(node_actor* self, std::uint64_t seed, std::int64_t level, std::int64_t depth,
                        std::int64_t breadth, caf::actor parent, done_latch* done) {
  auto& st = self->state;
  st.work = node_work(seed);  // the node's own computation
  st.expected = children_of(seed, level, depth, breadth);
  if (st.expected == 0) {
    report(self, parent, done);
    return {};
  }
  for (std::int64_t i = 0; i < st.expected; ++i)
    self->spawn(tree_node, child_seed(seed, i), level + 1, depth, breadth, caf::actor(self), done);
  return {[=](subtree_atom, std::int64_t nodes) {
    self->state.total += nodes;
    if (++self->state.reports == self->state.expected) report(self, parent, done);
  }};
}

outcome unbalanced_tree(unsigned workers, const params& p) {
  const std::int64_t depth = p["depth"], breadth = p["breadth"];
  const std::int64_t expected = count_nodes(root_seed, 0, depth, breadth);
  done_latch done;
  caf_system c(workers);
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    c.sys.spawn(tree_node, root_seed, std::int64_t{0}, depth, breadth, caf::actor{}, &done);
    got = done.wait();
  });
  return checked(s, expected, got, expected);
}
EAM_SUITE_WORKLOAD("unbalanced-tree", unbalanced_tree);

}  // namespace
