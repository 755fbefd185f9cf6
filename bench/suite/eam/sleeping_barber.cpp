// Savina "barber": customers arrive at a waiting room with `room` chairs; the barber cuts one
// at a time and sleeps when nobody waits; a customer who finds the room full goes back to the
// factory, which sends them again. The check counts every customer served exactly once.
#include "../../workloads/done_latch.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <deque>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct room_full {};
struct haircut_done {};
using customer_ref = typed_ref<void(room_full), void(haircut_done)>;
struct arrive {
  customer_ref who;
};
struct next_please {};
struct cut {
  customer_ref who;
};
using barber_ref = typed_ref<void(cut)>;
struct hire {
  barber_ref barber;
};
using room_ref = typed_ref<void(arrive), void(next_please), void(hire)>;
struct returned {
  customer_ref who;
};
struct served {};
struct open_shop {
  std::int64_t customers;
};
using factory_ref = typed_ref<void(returned), void(served), void(open_shop)>;

outcome sleeping_barber(unsigned workers, const params& p) {
  const std::int64_t customers = p["customers"], chairs = p["room"], cost = p["cost"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto room = sys.spawn([](actor_context& ctx, std::int64_t capacity) {
    struct state {
      std::deque<customer_ref> waiting;
      barber_ref barber;
      bool asleep = true;
    };
    auto& st = ctx.make_state<state>();
    return behavior{
        [&st, capacity](arrive a) {
          if (static_cast<std::int64_t>(st.waiting.size()) == capacity) {
            a.who.cast(room_full{});
          } else if (st.asleep) {
            st.asleep = false;
            st.barber.cast(cut{std::move(a.who)});
          } else {
            st.waiting.push_back(std::move(a.who));
          }
        },
        [&st](next_please) {
          if (st.waiting.empty()) {
            st.asleep = true;
            return;
          }
          st.barber.cast(cut{std::move(st.waiting.front())});
          st.waiting.pop_front();
        },
        [&st](hire h) { st.barber = std::move(h.barber); },
    };
  }, chairs);
  auto barber = sys.spawn([](actor_context& ctx, room_ref r, std::int64_t c) {
    auto& sink = ctx.make_state<std::int64_t>(0);
    return behavior{[&sink, r, c](cut x) {
      sink += busy_work(c, static_cast<std::uint64_t>(sink) + 1);
      x.who.cast(haircut_done{});
      r.cast(next_please{});
    }};
  }, room_ref(room), cost);
  room.cast(hire{barber});
  auto factory = sys.spawn([](actor_context& ctx, room_ref r, std::int64_t c, done_latch* d) {
    struct state {
      std::int64_t expected = 0, served = 0, retries = 0, sink = 0;
    };
    auto& st = ctx.make_state<state>();
    auto self = eam::unchecked_typed_ref_cast<factory_ref>(ctx.self());
    return behavior{
        [&st, &ctx, r, c, self](open_shop o) {
          st.expected = o.customers;
          for (std::int64_t i = 0; i < o.customers; ++i) {
            auto customer = ctx.spawn([self](actor_context& cctx) {
              auto me = eam::unchecked_typed_ref_cast<customer_ref>(cctx.self());
              return behavior{
                  [self, me](room_full) { self.cast(returned{me}); },
                  [self, &cctx](haircut_done) {
                    self.cast(served{});
                    cctx.stop();
                  },
              };
            });
            st.sink += busy_work(c, static_cast<std::uint64_t>(i) + 1);  // time between arrivals
            r.cast(arrive{customer});
          }
        },
        [&st, r](returned x) {
          ++st.retries;
          r.cast(arrive{std::move(x.who)});
        },
        [&st, d](served) {
          if (++st.served == st.expected) d->set(st.served);
        },
    };
  }, room_ref(room), cost, &done);
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    factory.cast(open_shop{customers});
    got = done.wait();
  });
  return checked(s, customers, got, customers);
}
EAM_SUITE_WORKLOAD("sleeping-barber", sleeping_barber);

}  // namespace
