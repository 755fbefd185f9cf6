// Thread ring: a token makes `hops` hops around a ring of `actors`.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"
#include "token_ring.hpp"

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

outcome thread_ring(unsigned workers, const params& p) {
  const std::int64_t actors = p["actors"], hops = p["hops"];
  actor_system sys({.workers = workers});
  done_latch done;
  const auto ring = spawn_token_ring(sys, actors, [&done, hops] { done.set(hops); });
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    ring[0].cast(token{hops});
    got = done.wait();
  });
  return checked(s, hops, got, hops);
}
EAM_SUITE_WORKLOAD("thread-ring", thread_ring);

}  // namespace
