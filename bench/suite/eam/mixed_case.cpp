// Mixed case: rings pass tokens while each ring's worker factorises.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"
#include "token_ring.hpp"

#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct factorise {
  std::uint64_t n;
};

outcome mixed_case(unsigned workers, const params& p) {
  const std::int64_t rings = p["rings"], ring_size = p["ring_size"], hops = p["hops"], jobs = p["jobs"];
  actor_system sys({.workers = workers});
  done_latch done;
  // Each ring's token and each factorisation reports here; done after all of them.
  struct tally {
    std::atomic<std::int64_t> reports{0}, wrong{0};
  };
  auto t = std::make_shared<tally>();
  const std::int64_t reports = rings * (1 + jobs);
  auto finish_one = [t, reports, &done](bool ok) {
    if (!ok) t->wrong.fetch_add(1);
    if (t->reports.fetch_add(1) + 1 == reports) done.set(t->wrong.load() == 0 ? reports : -1);
  };
  std::vector<ring_ref> firsts;
  std::vector<typed_ref<void(factorise)>> factorisers;
  for (std::int64_t r = 0; r < rings; ++r) {
    firsts.push_back(spawn_token_ring(sys, ring_size, [finish_one] { finish_one(true); })[0]);
    factorisers.push_back(sys.spawn([finish_one](actor_context&) {
      return behavior{[finish_one](factorise f) { finish_one(smallest_factor(f.n) == mixed_case_factor); }};
    }));
  }
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    for (std::int64_t r = 0; r < rings; ++r) {
      firsts[static_cast<std::size_t>(r)].cast(token{hops});
      for (std::int64_t j = 0; j < jobs; ++j) factorisers[static_cast<std::size_t>(r)].cast(factorise{mixed_case_semiprime});
    }
    got = done.wait();
  });
  return checked(s, rings * hops, got, reports);
}
EAM_SUITE_WORKLOAD("mixed-case", mixed_case);

}  // namespace
