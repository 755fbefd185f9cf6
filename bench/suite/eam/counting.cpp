// Counting: a producer actor casts n increments to a counter, then asks for the count.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct increment {};
struct get_count {};
struct produce {
  std::int64_t n;
};
outcome counting(unsigned workers, const params& p) {
  actor_system sys({.workers = workers});
  done_latch done;
  auto counter = sys.spawn([](actor_context& ctx) {
    auto& count = ctx.make_state<std::int64_t>(0);
    return behavior{[&count](increment) { ++count; }, [&count](get_count) { return count; }};
  });
  auto producer = sys.spawn([counter = typed_ref<void(increment), std::int64_t(get_count)>(counter), &done](actor_context&) {
    return behavior{[counter, &done](produce job) -> task<> {
      for (std::int64_t i = 0; i < job.n; ++i) counter.cast(increment{});
      done.set((co_await counter.call(get_count{}, std::chrono::minutes(10))).value());
    }};
  });
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    producer.cast(produce{p["n"]});
    got = done.wait();
  });
  return checked(s, p["n"], got, p["n"]);
}
EAM_SUITE_WORKLOAD("counting", counting);

}  // namespace
