// Savina "piprecision": pi to `digits` decimal digits by the Bailey-Borwein-Plouffe series,
// each term computed by a worker actor in binary fixed point (so dividing by 16^k is a shift)
// and summed by the master in term order. The check: the result equals the same sum done
// sequentially, and its first 50 digits are pi's.
#include "../../workloads/done_latch.hpp"
#include "../savina.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <map>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

using namespace savina::piprecision;

struct term_request {
  std::uint64_t k;
};
struct term_value {
  std::uint64_t k;
  fixed value;
};

outcome precise_pi(unsigned workers, const params& p) {
  const std::int64_t digits = p["digits"], n_workers = p["workers_n"];
  const precision pr(digits);
  const std::size_t limbs = pr.limbs;
  const std::uint64_t terms = pr.terms;
  actor_system sys({.workers = workers});
  done_latch done;
  fixed sum(limbs, 0);
  auto master = sys.spawn([&sum, terms, &done](actor_context& ctx) {
    struct state {
      std::map<std::uint64_t, fixed> early;
      std::uint64_t next = 0;
    };
    auto& st = ctx.make_state<state>();
    return behavior{[&st, &sum, terms, &done](term_value t) {
      st.early.emplace(t.k, std::move(t.value));
      for (auto it = st.early.begin(); it != st.early.end() && it->first == st.next; it = st.early.erase(it)) {
        add(sum, it->second);
        ++st.next;
      }
      if (st.next == terms) done.set(1);
    }};
  });
  std::vector<typed_ref<void(term_request)>> pool;
  for (std::int64_t w = 0; w < n_workers; ++w)
    pool.push_back(sys.spawn([to = typed_ref<void(term_value)>(master), limbs](actor_context&) {
      return behavior{[to, limbs](term_request r) { to.cast(term_value{r.k, bbp_term(r.k, limbs)}); }};
    }));
  const double s = seconds_of([&] {
    for (std::uint64_t k = 0; k < terms; ++k) pool[k % pool.size()].cast(term_request{k});
    done.wait();
  });
  return checked(s, static_cast<std::int64_t>(terms), static_cast<std::int64_t>(right_sum(sum, pr)), 1);
}
EAM_SUITE_WORKLOAD("precise-pi", precise_pi);

}  // namespace
