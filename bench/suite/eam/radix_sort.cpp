// Savina "radixsort": values stream through a pipeline of one actor per bit, least significant
// first; each passes on values whose bit is 0 at once and holds those whose bit is 1 until the
// stream ends (a stable partition per bit), so the last stage emits them sorted.
#include "../../workloads/done_latch.hpp"
#include "../common.hpp"
#include "../savina.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <algorithm>
#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct value {
  std::int64_t v;
};
struct end_of_stream {};
using stage_ref = typed_ref<void(value), void(end_of_stream)>;

outcome radix_sort(unsigned workers, const params& p) {
  const std::int64_t n = p["n"], bits = p["bits"];
  const std::vector<std::int64_t> input = savina::radixsort::input(n, bits);
  auto expected = input;
  std::sort(expected.begin(), expected.end());

  actor_system sys({.workers = workers});
  done_latch done;
  auto output = std::make_shared<std::vector<std::int64_t>>();
  stage_ref next = sys.spawn([output, &done](actor_context&) {
    return behavior{[output](value v) { output->push_back(v.v); }, [&done](end_of_stream) { done.set(1); }};
  });
  for (std::int64_t b = bits - 1; b >= 0; --b) {
    next = sys.spawn([](actor_context& ctx, stage_ref to, std::int64_t bit) {
      auto& held = ctx.make_state<std::vector<std::int64_t>>();
      return behavior{
          [&held, to, bit](value v) {
            if ((v.v >> bit) & 1)
              held.push_back(v.v);
            else
              to.cast(v);
          },
          [&held, to](end_of_stream e) {
            for (std::int64_t v : held) to.cast(value{v});
            to.cast(e);
          },
      };
    }, next, b);
  }
  auto source = sys.spawn([first = next, &input](actor_context&) {
    return behavior{[first, &input](end_of_stream) {
      for (std::int64_t v : input) first.cast(value{v});
      first.cast(end_of_stream{});
    }};
  });
  const double s = seconds_of([&] {
    source.cast(end_of_stream{});
    done.wait();
  });
  return checked(s, n * bits, static_cast<std::int64_t>(*output == expected), 1);
}
EAM_SUITE_WORKLOAD("radix-sort", radix_sort);

}  // namespace
