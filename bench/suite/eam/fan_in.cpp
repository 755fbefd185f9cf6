// Mailbox fan-in: many senders, one receiver.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

outcome fan_in(unsigned workers, const params& p) {
  const std::int64_t senders = p["senders"], n = p["n"];
  actor_system sys({.workers = workers});
  std::int64_t sum = 0;
  const double s = seconds_of([&] { sum = eam::bench::fan_in(sys, static_cast<int>(senders), n); });
  return checked(s, senders * n, sum, senders * n);
}
EAM_SUITE_WORKLOAD("fan-in", fan_in);

}  // namespace
