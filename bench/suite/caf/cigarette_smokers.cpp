// Savina "cigsmok" on CAF: an arbiter hands ingredients to a random smoker each round; the
// smoker says it started and smokes (busy work) while the arbiter runs the next round.
#include "../common.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <vector>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;

using table_atom = caf::atom_constant<caf::atom("table")>;      // start -> arbiter: the smokers
using started_atom = caf::atom_constant<caf::atom("started")>;  // smoker -> arbiter
using smoked_atom = caf::atom_constant<caf::atom("smoked")>;    // smoker -> arbiter: its total
using smoke_atom = caf::atom_constant<caf::atom("smoke")>;      // arbiter -> smoker
using home_atom = caf::atom_constant<caf::atom("gohome")>;      // arbiter -> smoker: report and stop

struct arbiter_state {
  std::vector<caf::actor> smokers;
  lcg rng{42};
  std::int64_t rounds_left = 0, reported = 0, smoked = 0;
};
caf::behavior arbiter(caf::stateful_actor<arbiter_state>* self, std::int64_t rounds, done_latch* done) {
  self->state.rounds_left = rounds;
  auto next_round = [=] {
    auto& st = self->state;
    --st.rounds_left;
    const auto who = st.rng.next() % st.smokers.size();  // the smoker first, then the time: as libeam draws them
    const auto busy = static_cast<std::int64_t>(st.rng.next() % 1000) + 10;
    self->send(st.smokers[who], smoke_atom::value, busy);
  };
  return {
      [=](table_atom, std::vector<caf::actor>& smokers) {
        self->state.smokers = std::move(smokers);
        next_round();
      },
      [=](started_atom) {
        if (self->state.rounds_left > 0) {
          next_round();
          return;
        }
        for (auto& s : self->state.smokers) self->send(s, home_atom::value);
      },
      [=](smoked_atom, std::int64_t n) {
        auto& st = self->state;
        st.smoked += n;
        if (++st.reported == static_cast<std::int64_t>(st.smokers.size())) done->set(st.smoked);
      },
  };
}

struct smoker_state {
  std::int64_t smoked = 0, sink = 0;
};
caf::behavior smoker(caf::stateful_actor<smoker_state>* self, caf::actor arb) {
  return {
      [=](smoke_atom, std::int64_t busy) {
        self->send(arb, started_atom::value);
        self->state.sink += busy_work(busy, static_cast<std::uint64_t>(busy) + 7);
        ++self->state.smoked;
      },
      [=](home_atom) { self->send(arb, smoked_atom::value, self->state.smoked); },
  };
}

outcome cigarette_smokers(unsigned workers, const params& p) {
  const std::int64_t rounds = p["rounds"], smokers = p["smokers"];
  done_latch done;
  caf_system c(workers);
  auto arb = c.sys.spawn(arbiter, rounds, &done);
  std::vector<caf::actor> all;
  for (std::int64_t i = 0; i < smokers; ++i) all.push_back(c.sys.spawn(smoker, arb));
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    caf::anon_send(arb, table_atom::value, all);
    got = done.wait();
  });
  shut_down(all);
  caf::anon_send_exit(arb, caf::exit_reason::user_shutdown);
  return checked(s, rounds, got, rounds);
}
EAM_SUITE_WORKLOAD("cigarette-smokers", cigarette_smokers);

}  // namespace
