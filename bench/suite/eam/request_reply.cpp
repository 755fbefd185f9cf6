// Request/reply: awaited calls between actors, and blocking calls from a thread.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

outcome calls_inside(unsigned workers, const params& p) {
  const std::int64_t clients = p["clients"], calls = p["calls"];
  actor_system sys({.workers = workers});
  std::int64_t sum = 0;
  const double s = seconds_of([&] { sum = eam::bench::calls_inside(sys, static_cast<int>(clients), calls); });
  return checked(s, clients * calls, sum, clients * calls);
}
EAM_SUITE_WORKLOAD("calls-inside", calls_inside);

outcome calls_outside(unsigned workers, const params& p) {
  actor_system sys({.workers = workers});
  std::int64_t sum = 0;
  const double s = seconds_of([&] { sum = eam::bench::calls_outside(sys, p["calls"]); });
  return checked(s, p["calls"], sum, p["calls"]);
}
EAM_SUITE_WORKLOAD("calls-outside", calls_outside);

}  // namespace
