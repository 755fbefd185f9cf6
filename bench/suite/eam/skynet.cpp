// Skynet: every actor spawns 10 children down to `levels`; leaves return their number.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct sum_up {
  std::int64_t n;
};
using skynet_ref = typed_ref<void(sum_up)>;
struct skynet_node : actor<void(sum_up)> {
  skynet_ref parent;
  done_latch* done = nullptr;
  std::int64_t sum = 0;
  int reports = 0;
  void init(std::int64_t number, int level, skynet_ref p, done_latch* d) {
    parent = std::move(p);
    done = d;
    if (level == 0) {
      report(number);
      return;
    }
    auto self = eam::unchecked_typed_ref_cast<skynet_ref>(context().self());
    for (int i = 0; i < 10; ++i) context().spawn<skynet_node>(number * 10 + i, level - 1, self, done);
  }
  void handle_cast(sum_up s) {
    sum += s.n;
    if (++reports == 10) report(sum);
  }
  void report(std::int64_t n) {
    if (parent)
      parent.cast(sum_up{n});
    else
      done->set(n);
    context().stop();
  }
};
outcome skynet(unsigned workers, const params& p) {
  const int levels = static_cast<int>(p["levels"]);
  const skynet_shape shape(levels);
  actor_system sys({.workers = workers});
  done_latch done;
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    (void)sys.spawn<skynet_node>(std::int64_t{0}, levels, skynet_ref{}, &done);
    got = done.wait();
  });
  return checked(s, shape.actors, got, shape.leaf_sum());
}
EAM_SUITE_WORKLOAD("skynet", skynet);

}  // namespace
