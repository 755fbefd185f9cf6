// GenStage: a consumer supervisor starting one worker actor per event, max_demand at a time.
#include "../../workloads/gen_stage_workloads.hpp"
#include "../workload.hpp"

namespace {
using namespace eam::suite;

outcome consumer_supervisor(unsigned workers, const params& p) {
  const std::int64_t jobs = p["jobs"];
  eam::actor_system sys({.workers = workers});
  std::int64_t sum = 0;
  const double s = seconds_of(
      [&] { sum = eam::bench::stage_consumer_supervisor(sys, jobs, static_cast<std::size_t>(p["max_demand"])); });
  return checked(s, jobs, sum, eam::bench::sum_below(jobs));
}
EAM_SUITE_WORKLOAD("stage-consumer-supervisor", consumer_supervisor);

}  // namespace
