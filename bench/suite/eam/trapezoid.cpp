// Savina "trapezoid": the integral of f over [1, 5] by the trapezoid rule, split across worker
// actors; the master adds the partial areas in worker order, so the result is bit-identical to
// the same partition summed sequentially (the check).
#include "../../workloads/done_latch.hpp"
#include "../savina.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <atomic>
#include <bit>
#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

using savina::trapezoid::area;

struct integrate {
  double left, right;
  std::int64_t pieces;
  std::int64_t index;
};

outcome trapezoid(unsigned workers, const params& p) {
  const std::int64_t pieces = p["pieces"], n = p["workers_n"];
  constexpr double lo = 1, hi = 5;
  actor_system sys({.workers = workers});
  done_latch done;
  auto partial = std::make_shared<std::vector<double>>(static_cast<std::size_t>(n));
  auto finished = std::make_shared<std::atomic<std::int64_t>>(0);
  std::vector<typed_ref<void(integrate)>> pool;
  for (std::int64_t w = 0; w < n; ++w)
    pool.push_back(sys.spawn([partial, finished, n, &done](actor_context&) {
      return behavior{[partial, finished, n, &done](integrate job) {
        (*partial)[static_cast<std::size_t>(job.index)] = area(job.left, job.right, job.pieces);
        if (finished->fetch_add(1) + 1 == n) done.set(n);
      }};
    }));
  const double width = (hi - lo) / static_cast<double>(n);
  const double s = seconds_of([&] {
    for (std::int64_t w = 0; w < n; ++w)
      pool[static_cast<std::size_t>(w)].cast(integrate{lo + width * static_cast<double>(w), lo + width * static_cast<double>(w + 1), pieces / n, w});
    done.wait();
  });
  double total = 0, expected = 0;
  for (std::int64_t w = 0; w < n; ++w) {
    total += (*partial)[static_cast<std::size_t>(w)];
    expected += area(lo + width * static_cast<double>(w), lo + width * static_cast<double>(w + 1), pieces / n);
  }
  return checked(s, pieces, static_cast<std::int64_t>(std::bit_cast<std::uint64_t>(total) == std::bit_cast<std::uint64_t>(expected)), 1);
}
EAM_SUITE_WORKLOAD("trapezoid", trapezoid);

}  // namespace
