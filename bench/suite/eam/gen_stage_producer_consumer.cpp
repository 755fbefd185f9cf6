// GenStage: one producer, one consumer, at a given max_demand.
#include "../../workloads/gen_stage_workloads.hpp"
#include "../workload.hpp"

namespace {
using namespace eam::suite;

outcome producer_consumer(unsigned workers, const params& p) {
  const std::int64_t events = p["events"];
  eam::actor_system sys({.workers = workers});
  std::int64_t sum = 0;
  const double s = seconds_of([&] {
    sum = eam::bench::stage_fan_out(sys, eam::otp::dispatcher_kind::demand, 1, events,
                                    static_cast<std::size_t>(p["max_demand"]));
  });
  return checked(s, events, sum, eam::bench::sum_below(events));
}
EAM_SUITE_WORKLOAD("stage-producer-consumer", producer_consumer);

}  // namespace
