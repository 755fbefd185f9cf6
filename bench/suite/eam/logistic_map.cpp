// Savina "logmap": series actors each compute `terms` terms of the logistic map
// x <- r x (1 - x), asking their own rate-computer actor for every step (an awaited call).
// The check recomputes every series sequentially: the sums must be bit-identical.
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

struct compute {
  double x;
};
struct run_series {
  std::int64_t terms;
};

using savina::logmap::next_term;
using savina::logmap::rate_of;
using savina::logmap::start_term;

outcome logistic_map(unsigned workers, const params& p) {
  const std::int64_t series = p["series"], terms = p["terms"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto results = std::make_shared<std::vector<double>>(static_cast<std::size_t>(series));
  auto finished = std::make_shared<std::atomic<std::int64_t>>(0);
  std::vector<typed_ref<void(run_series)>> all;
  for (std::int64_t i = 0; i < series; ++i) {
    auto rate = sys.spawn([](actor_context&, double r) {
      return behavior{[r](compute c) { return next_term(r, c.x); }};
    }, rate_of(i));
    all.push_back(sys.spawn([](actor_context&, typed_ref<double(compute)> rc, std::int64_t index,
                               std::shared_ptr<std::vector<double>> out, std::shared_ptr<std::atomic<std::int64_t>> fin,
                               std::int64_t total, done_latch* d) {
      return behavior{[=](run_series r) -> task<> {
        double x = start_term(index);
        for (std::int64_t t = 0; t < r.terms; ++t) x = (co_await rc.call(compute{x})).value();
        (*out)[static_cast<std::size_t>(index)] = x;
        if (fin->fetch_add(1) + 1 == total) d->set(total);
      }};
    }, typed_ref<double(compute)>(rate), i, results, finished, series, &done));
  }
  const double s = seconds_of([&] {
    for (auto& a : all) a.cast(run_series{terms});
    done.wait();
  });
  std::int64_t matching = 0;
  for (std::int64_t i = 0; i < series; ++i) {
    double x = start_term(i);
    const double r = rate_of(i);
    for (std::int64_t t = 0; t < terms; ++t) x = next_term(r, x);
    matching += std::bit_cast<std::uint64_t>(x) == std::bit_cast<std::uint64_t>((*results)[static_cast<std::size_t>(i)]);
  }
  return checked(s, series * terms, matching, series);
}
EAM_SUITE_WORKLOAD("logistic-map", logistic_map);

}  // namespace
