// Savina "piprecision" on CAF: pi to `digits` decimal digits by the Bailey-Borwein-Plouffe
// series, each term computed by a worker actor in binary fixed point and summed by the master
// in term order. The check: the result equals the same sum done sequentially, and its first 50
// digits are pi's.
#include "../savina.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <map>
#include <vector>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using namespace eam::suite::savina::piprecision;
using eam::bench::done_latch;

using term_atom = caf::atom_constant<caf::atom("term")>;    // master -> worker: compute term k
using value_atom = caf::atom_constant<caf::atom("value")>;  // worker -> master: term k's value

struct master_state {
  std::map<std::uint64_t, fixed> early;  // terms that arrived before their predecessors
  std::uint64_t next = 0;
};
caf::behavior master(caf::stateful_actor<master_state>* self, fixed* sum, std::uint64_t terms, done_latch* done) {
  return {[=](value_atom, std::uint64_t k, fixed& value) {
    auto& st = self->state;
    st.early.emplace(k, std::move(value));
    for (auto it = st.early.begin(); it != st.early.end() && it->first == st.next; it = st.early.erase(it)) {
      add(*sum, it->second);
      ++st.next;
    }
    if (st.next == terms) done->set(1);
  }};
}

caf::behavior worker(caf::event_based_actor* self, caf::actor to, std::size_t limbs) {
  return {[=](term_atom, std::uint64_t k) { self->send(to, value_atom::value, k, bbp_term(k, limbs)); }};
}

outcome precise_pi(unsigned workers, const params& p) {
  const std::int64_t digits = p["digits"], n_workers = p["workers_n"];
  const precision pr(digits);
  done_latch done;
  fixed sum(pr.limbs, 0);
  caf_system c(workers);
  auto m = c.sys.spawn(master, &sum, pr.terms, &done);
  std::vector<caf::actor> pool;
  for (std::int64_t w = 0; w < n_workers; ++w) pool.push_back(c.sys.spawn(worker, m, pr.limbs));
  const double s = seconds_of([&] {
    for (std::uint64_t k = 0; k < pr.terms; ++k) caf::anon_send(pool[k % pool.size()], term_atom::value, k);
    done.wait();
  });
  shut_down(pool);
  caf::anon_send_exit(m, caf::exit_reason::user_shutdown);
  return checked(s, static_cast<std::int64_t>(pr.terms), static_cast<std::int64_t>(right_sum(sum, pr)), 1);
}
EAM_SUITE_WORKLOAD("precise-pi", precise_pi);

}  // namespace
