// Fork-join throughput: a driver casts n messages to each of `actors` workers, round robin.
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
struct fan_out {
  std::int64_t n;
};
outcome fork_join_throughput(unsigned workers, const params& p) {
  const std::int64_t actors = p["actors"], n = p["n"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto finished = std::make_shared<std::atomic<std::int64_t>>(0);
  std::vector<typed_ref<void(compute)>> pool;
  for (std::int64_t a = 0; a < actors; ++a) {
    pool.push_back(sys.spawn(
        [](actor_context& ctx, std::int64_t expect, done_latch* d, std::shared_ptr<std::atomic<std::int64_t>> fin,
           std::int64_t actors_total) {
          struct state {
            std::int64_t seen = 0;
            double sum = 0;
          };
          auto& st = ctx.make_state<state>();
          return behavior{[&st, expect, d, fin, actors_total](compute c) {
            st.sum += fork_join_work(c.theta);
            if (++st.seen == expect && fin->fetch_add(1) + 1 == actors_total) d->set(actors_total * expect);
          }};
        },
        n, &done, finished, actors));
  }
  auto driver = sys.spawn([pool](actor_context&) {
    return behavior{[pool](fan_out f) {
      for (std::int64_t i = 0; i < f.n; ++i)
        for (const auto& w : pool) w.cast(compute{static_cast<double>(i)});
    }};
  });
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    driver.cast(fan_out{n});
    got = done.wait();
  });
  return checked(s, actors * n, got, actors * n);
}
EAM_SUITE_WORKLOAD("fork-join-throughput", fork_join_throughput);

}  // namespace
