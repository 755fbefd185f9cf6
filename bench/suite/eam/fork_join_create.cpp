// Fork-join creation: n actors are spawned, each gets one message and reports back.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct compute {
  double theta;
};
struct report_in {};
struct create_all {
  std::int64_t n;
};
outcome fork_join_create(unsigned workers, const params& p) {
  const std::int64_t n = p["n"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto collector = sys.spawn([](actor_context& ctx, std::int64_t expect, done_latch* d) {
    auto& seen = ctx.make_state<std::int64_t>(0);
    return behavior{[&seen, expect, d](report_in) {
      if (++seen == expect) d->set(seen);
    }};
  }, n, &done);
  auto creator = sys.spawn([collector = typed_ref<void(report_in)>(collector)](actor_context& ctx) {
    return behavior{[&ctx, collector](create_all c) {
      for (std::int64_t i = 0; i < c.n; ++i) {
        auto w = ctx.spawn([collector](actor_context& wctx) {
          return behavior{[&wctx, collector](compute m) {
            (void)fork_join_work(m.theta);
            collector.cast(report_in{});
            wctx.stop();
          }};
        });
        w.cast(compute{static_cast<double>(i)});
      }
    }};
  });
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    creator.cast(create_all{n});
    got = done.wait();
  });
  return checked(s, n, got, n);
}
EAM_SUITE_WORKLOAD("fork-join-create", fork_join_create);

}  // namespace
