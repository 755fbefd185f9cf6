// Savina "logmap" on CAF: series actors each compute `terms` terms of the logistic map
// x <- r x (1 - x), asking their own rate-computer actor for every step: a request whose
// .then(...) asks for the next term. The check recomputes every series sequentially: the
// sums must be bit-identical.
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
using savina::logmap::next_term;
using savina::logmap::rate_of;
using savina::logmap::start_term;

using compute_atom = caf::atom_constant<caf::atom("compute")>;  // series -> rate computer: x -> next x
using run_atom = caf::atom_constant<caf::atom("run")>;          // start -> series

caf::behavior rate_computer(caf::event_based_actor*, double r) {
  return {[=](compute_atom, double x) { return next_term(r, x); }};
}

// What every series shares with the timing thread (no actor handles: it outlives the system).
struct shared_run {
  std::vector<double> results;
  std::atomic<std::int64_t> finished{0};
  done_latch done;
};

struct series_state {
  double x = 0;
  std::int64_t left = 0;
};
using series_actor = caf::stateful_actor<series_state>;

// One term per request; the answer asks for the next, so a series has one call in flight.
void next_step(series_actor* self, const caf::actor& rate, std::int64_t index, shared_run* run) {
  auto& st = self->state;
  if (st.left == 0) {
    run->results[static_cast<std::size_t>(index)] = st.x;
    if (run->finished.fetch_add(1) + 1 == static_cast<std::int64_t>(run->results.size()))
      run->done.set(static_cast<std::int64_t>(run->results.size()));
    return;
  }
  --st.left;
  self->request(rate, caf::infinite, compute_atom::value, st.x).then([=](double x) {
    self->state.x = x;
    next_step(self, rate, index, run);
  });
}

caf::behavior series(series_actor* self, caf::actor rate, std::int64_t index, shared_run* run) {
  return {[=](run_atom, std::int64_t terms) {
    self->state.x = start_term(index);
    self->state.left = terms;
    next_step(self, rate, index, run);
  }};
}

outcome logistic_map(unsigned workers, const params& p) {
  const std::int64_t n_series = p["series"], terms = p["terms"];
  shared_run run;
  run.results.resize(static_cast<std::size_t>(n_series));
  caf_system c(workers);
  std::vector<caf::actor> rates, all;
  for (std::int64_t i = 0; i < n_series; ++i) {
    rates.push_back(c.sys.spawn(rate_computer, rate_of(i)));
    all.push_back(c.sys.spawn(series, rates.back(), i, &run));
  }
  const double s = seconds_of([&] {
    for (auto& a : all) caf::anon_send(a, run_atom::value, terms);
    run.done.wait();
  });
  shut_down(all);
  shut_down(rates);
  std::int64_t matching = 0;
  for (std::int64_t i = 0; i < n_series; ++i) {
    double x = start_term(i);
    const double r = rate_of(i);
    for (std::int64_t t = 0; t < terms; ++t) x = next_term(r, x);
    matching += std::bit_cast<std::uint64_t>(x) == std::bit_cast<std::uint64_t>(run.results[static_cast<std::size_t>(i)]);
  }
  return checked(s, n_series * terms, matching, n_series);
}
EAM_SUITE_WORKLOAD("logistic-map", logistic_map);

}  // namespace
