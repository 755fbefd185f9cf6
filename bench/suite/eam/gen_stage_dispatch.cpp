// GenStage: one producer fanning out to several consumers through the demand, broadcast or
// partition dispatcher. Items are events delivered (broadcast delivers each to every consumer).
#include "../../workloads/gen_stage_workloads.hpp"
#include "../workload.hpp"

namespace {
using namespace eam::suite;

outcome fan_out(eam::otp::dispatcher_kind kind, unsigned workers, const params& p) {
  const std::int64_t events = p["events"], consumers = p["consumers"];
  eam::actor_system sys({.workers = workers});
  std::int64_t sum = 0;
  const double s = seconds_of([&] {
    sum = eam::bench::stage_fan_out(sys, kind, static_cast<int>(consumers), events,
                                    static_cast<std::size_t>(p["max_demand"]));
  });
  const std::int64_t copies = kind == eam::otp::dispatcher_kind::broadcast ? consumers : 1;
  return checked(s, events * copies, sum, eam::bench::sum_below(events) * copies);
}
outcome demand(unsigned w, const params& p) { return fan_out(eam::otp::dispatcher_kind::demand, w, p); }
outcome broadcast(unsigned w, const params& p) { return fan_out(eam::otp::dispatcher_kind::broadcast, w, p); }
outcome partition(unsigned w, const params& p) { return fan_out(eam::otp::dispatcher_kind::partition, w, p); }
EAM_SUITE_WORKLOAD("stage-demand", demand);
EAM_SUITE_WORKLOAD("stage-broadcast", broadcast);
EAM_SUITE_WORKLOAD("stage-partition", partition);

}  // namespace
