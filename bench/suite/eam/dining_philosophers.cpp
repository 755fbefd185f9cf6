// Savina "philosopher": philosophers ask an arbitrator for both forks, eat, and put them back.
#include "../../workloads/done_latch.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct eat {};
struct denied {};
struct begin_meal {};
using philosopher_ref = typed_ref<void(eat), void(denied), void(begin_meal)>;
struct hungry {
  std::int64_t id;
  philosopher_ref who;
};
struct finished_eating {
  std::int64_t id;
};
struct leaving {
  std::int64_t meals;
};
using arbitrator_ref = typed_ref<void(hungry), void(finished_eating), void(leaving)>;

outcome dining_philosophers(unsigned workers, const params& p) {
  const std::int64_t n = p["philosophers"], rounds = p["rounds"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto arbitrator = sys.spawn([](actor_context& ctx, std::int64_t count, done_latch* d) {
    struct state {
      std::vector<bool> fork_taken;
      std::int64_t left = 0, meals = 0;
    };
    auto& st = ctx.make_state<state>(state{std::vector<bool>(static_cast<std::size_t>(count), false), count, 0});
    return behavior{
        [&st, count](hungry h) {
          const auto a = static_cast<std::size_t>(h.id), b = static_cast<std::size_t>((h.id + 1) % count);
          if (st.fork_taken[a] || st.fork_taken[b]) {
            h.who.cast(denied{});
            return;
          }
          st.fork_taken[a] = st.fork_taken[b] = true;
          h.who.cast(eat{});
        },
        [&st, count](finished_eating f) {
          st.fork_taken[static_cast<std::size_t>(f.id)] = false;
          st.fork_taken[static_cast<std::size_t>((f.id + 1) % count)] = false;
        },
        [&st, d](leaving l) {
          st.meals += l.meals;
          if (--st.left == 0) d->set(st.meals);
        },
    };
  }, n, &done);
  std::vector<philosopher_ref> table;
  for (std::int64_t i = 0; i < n; ++i) {
    table.push_back(sys.spawn([](actor_context& ctx, std::int64_t id, std::int64_t to_eat, arbitrator_ref arb) {
      auto& meals = ctx.make_state<std::int64_t>(0);
      auto self = eam::unchecked_typed_ref_cast<philosopher_ref>(ctx.self());
      return behavior{
          [&meals, id, to_eat, arb, self](eat) {
            ++meals;
            arb.cast(finished_eating{id});
            if (meals < to_eat)
              arb.cast(hungry{id, self});
            else
              arb.cast(leaving{meals});
          },
          [id, arb, self](denied) { arb.cast(hungry{id, self}); },
          [id, arb, self](begin_meal) { arb.cast(hungry{id, self}); },
      };
    }, i, rounds, arbitrator_ref(arbitrator)));
  }
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    for (auto& ph : table) ph.cast(begin_meal{});
    got = done.wait();
  });
  return checked(s, n * rounds, got, n * rounds);
}
EAM_SUITE_WORKLOAD("dining-philosophers", dining_philosophers);

}  // namespace
