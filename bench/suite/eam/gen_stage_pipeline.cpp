// GenStage: producer -> `hops` producer-consumers -> consumer.
#include "../../workloads/gen_stage_workloads.hpp"
#include "../workload.hpp"

namespace {
using namespace eam::suite;

outcome pipeline(unsigned workers, const params& p) {
  const std::int64_t events = p["events"], hops = p["hops"];
  eam::actor_system sys({.workers = workers});
  std::int64_t sum = 0;
  const double s = seconds_of([&] {
    sum = eam::bench::stage_pipeline(sys, static_cast<int>(hops), events, static_cast<std::size_t>(p["max_demand"]));
  });
  return checked(s, events, sum, eam::bench::sum_below(events) + hops * events);
}
EAM_SUITE_WORKLOAD("stage-pipeline", pipeline);

}  // namespace
