// Ping-pong: n round trips between two actors.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

outcome ping_pong(unsigned workers, const params& p) {
  actor_system sys({.workers = workers});
  std::int64_t games = 0;
  const double s = seconds_of([&] { games = eam::bench::ping_pong(sys, p["n"]); });
  return checked(s, p["n"], games, 1);
}
EAM_SUITE_WORKLOAD("ping-pong", ping_pong);

}  // namespace
