// Savina "cigsmok": an arbiter hands ingredients to a random smoker each round; the smoker
// says it started and smokes (busy work) while the arbiter runs the next round.
#include "../../workloads/done_latch.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct started {};
struct smoked_total {
  std::int64_t n;
};
using arbiter_ref = typed_ref<void(started), void(smoked_total)>;
struct smoke {
  std::int64_t busy;
};
struct go_home {};
using smoker_ref = typed_ref<void(smoke), void(go_home)>;
struct table_set {
  std::vector<smoker_ref> smokers;
};

outcome cigarette_smokers(unsigned workers, const params& p) {
  const std::int64_t rounds = p["rounds"], smokers = p["smokers"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto arbiter = sys.spawn([](actor_context& ctx, std::int64_t total_rounds, done_latch* d) {
    struct state {
      std::vector<smoker_ref> smokers;
      lcg rng{42};
      std::int64_t rounds_left = 0, reported = 0, smoked = 0;
    };
    auto& st = ctx.make_state<state>();
    st.rounds_left = total_rounds;
    auto next_round = [&st] {
      --st.rounds_left;
      st.smokers[st.rng.next() % st.smokers.size()].cast(smoke{static_cast<std::int64_t>(st.rng.next() % 1000) + 10});
    };
    return behavior{
        [&st, next_round](table_set t) {
          st.smokers = std::move(t.smokers);
          next_round();
        },
        [&st, next_round](started) {
          if (st.rounds_left > 0) {
            next_round();
            return;
          }
          for (auto& s : st.smokers) s.cast(go_home{});
        },
        [&st, d](smoked_total t) {
          st.smoked += t.n;
          if (++st.reported == static_cast<std::int64_t>(st.smokers.size())) d->set(st.smoked);
        },
    };
  }, rounds, &done);
  std::vector<smoker_ref> all;
  for (std::int64_t i = 0; i < smokers; ++i) {
    all.push_back(sys.spawn([](actor_context& ctx, arbiter_ref arb) {
      struct state {
        std::int64_t smoked = 0, sink = 0;
      };
      auto& st = ctx.make_state<state>();
      return behavior{
          [&st, arb](smoke s) {
            arb.cast(started{});
            st.sink += busy_work(s.busy, static_cast<std::uint64_t>(s.busy) + 7);
            ++st.smoked;
          },
          [&st, arb](go_home) { arb.cast(smoked_total{st.smoked}); },
      };
    }, arbiter_ref(arbiter)));
  }
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    arbiter.cast(table_set{all});
    got = done.wait();
  });
  return checked(s, rounds, got, rounds);
}
EAM_SUITE_WORKLOAD("cigarette-smokers", cigarette_smokers);

}  // namespace
