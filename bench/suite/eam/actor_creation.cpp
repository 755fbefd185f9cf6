// Actor creation: a binary tree of depth d; counts flow back to the root.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

outcome actor_creation(unsigned workers, const params& p) {
  const int depth = static_cast<int>(p["depth"]);
  actor_system sys({.workers = workers});
  std::int64_t leaves = 0;
  const double s = seconds_of([&] { leaves = eam::bench::spawn_tree(sys, depth); });
  return checked(s, (std::int64_t{2} << depth) - 1, leaves, std::int64_t{1} << depth);
}
EAM_SUITE_WORKLOAD("actor-creation", actor_creation);

}  // namespace
