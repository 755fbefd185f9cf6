// Savina "trapezoid" on CAF: the integral of f over [1, 5] by the trapezoid rule, split across
// worker actors; the partial areas are added in worker order, so the result is bit-identical
// to the same partition summed sequentially (the check).
#include "../savina.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <atomic>
#include <bit>
#include <vector>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;
using savina::trapezoid::area;

using integrate_atom = caf::atom_constant<caf::atom("integrate")>;

// What the workers share with the timing thread: each writes only its own slot.
struct shared_run {
  std::vector<double> partial;
  std::atomic<std::int64_t> finished{0};
  done_latch done;
};

caf::behavior worker(caf::event_based_actor*, shared_run* run) {
  return {[=](integrate_atom, double left, double right, std::int64_t pieces, std::int64_t index) {
    run->partial[static_cast<std::size_t>(index)] = area(left, right, pieces);
    const auto n = static_cast<std::int64_t>(run->partial.size());
    if (run->finished.fetch_add(1) + 1 == n) run->done.set(n);
  }};
}

outcome trapezoid(unsigned workers, const params& p) {
  const std::int64_t pieces = p["pieces"], n = p["workers_n"];
  constexpr double lo = 1, hi = 5;
  shared_run run;
  run.partial.resize(static_cast<std::size_t>(n));
  caf_system c(workers);
  std::vector<caf::actor> pool;
  for (std::int64_t w = 0; w < n; ++w) pool.push_back(c.sys.spawn(worker, &run));
  const double width = (hi - lo) / static_cast<double>(n);
  const double s = seconds_of([&] {
    for (std::int64_t w = 0; w < n; ++w)
      caf::anon_send(pool[static_cast<std::size_t>(w)], integrate_atom::value, lo + width * static_cast<double>(w),
                     lo + width * static_cast<double>(w + 1), pieces / n, w);
    run.done.wait();
  });
  shut_down(pool);
  double total = 0, expected = 0;
  for (std::int64_t w = 0; w < n; ++w) {
    total += run.partial[static_cast<std::size_t>(w)];
    expected += area(lo + width * static_cast<double>(w), lo + width * static_cast<double>(w + 1), pieces / n);
  }
  return checked(s, pieces, static_cast<std::int64_t>(std::bit_cast<std::uint64_t>(total) == std::bit_cast<std::uint64_t>(expected)), 1);
}
EAM_SUITE_WORKLOAD("trapezoid", trapezoid);

}  // namespace
