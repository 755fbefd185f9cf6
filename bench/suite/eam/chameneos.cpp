// Chameneos: `chameneos` creatures meet in a mall until `meetings` meetings happened.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

enum class colour : std::uint8_t { blue, red, yellow };
colour complement(colour a, colour b) {
  if (a == b) return a;
  return static_cast<colour>(3 - static_cast<int>(a) - static_cast<int>(b));
}
struct mate {
  colour other;
};
struct fade {};
using creature_ref = typed_ref<void(mate), void(fade)>;
struct meet {
  creature_ref who;
  colour c;
};
struct faded {
  std::int64_t meetings;
};
using mall_ref = typed_ref<void(meet), void(faded)>;

outcome chameneos(unsigned workers, const params& p) {
  const std::int64_t creatures = p["chameneos"], meetings = p["meetings"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto mall = sys.spawn([](actor_context& ctx, std::int64_t to_hold, std::int64_t creatures_total, done_latch* d) {
    struct state {
      std::int64_t left;
      std::int64_t faded = 0, total_meetings = 0;
      creature_ref waiting;
      colour waiting_colour = colour::blue;
    };
    auto& st = ctx.make_state<state>(state{to_hold});
    return behavior{
        [&st](meet m) {
          if (st.left == 0) {
            m.who.cast(fade{});
            return;
          }
          if (!st.waiting) {
            st.waiting = std::move(m.who);
            st.waiting_colour = m.c;
            return;
          }
          --st.left;
          st.waiting.cast(mate{m.c});
          m.who.cast(mate{st.waiting_colour});
          st.waiting = {};
        },
        [&st, creatures_total, d](faded f) {
          st.total_meetings += f.meetings;
          if (++st.faded == creatures_total) d->set(st.total_meetings);
        },
    };
  }, meetings, creatures, &done);
  std::vector<creature_ref> all;
  for (std::int64_t i = 0; i < creatures; ++i) {
    all.push_back(sys.spawn([](actor_context& ctx, mall_ref to, colour start) {
      struct state {
        colour c;
        std::int64_t meetings = 0;
      };
      auto& st = ctx.make_state<state>(state{start});
      auto self = eam::unchecked_typed_ref_cast<creature_ref>(ctx.self());
      return behavior{
          [&st, to, self](mate m) {
            st.c = complement(st.c, m.other);
            ++st.meetings;
            to.cast(meet{self, st.c});
          },
          [&st, to](fade) { to.cast(faded{st.meetings}); },
      };
    }, mall_ref(mall), static_cast<colour>(i % 3)));
  }
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    for (std::size_t i = 0; i < all.size(); ++i) mall.cast(meet{all[i], static_cast<colour>(i % 3)});
    got = done.wait();
  });
  return checked(s, meetings, got, 2 * meetings);
}
EAM_SUITE_WORKLOAD("chameneos", chameneos);

}  // namespace
