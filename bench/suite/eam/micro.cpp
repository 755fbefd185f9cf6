// Savina's micro-benchmarks on libeam: ping-pong, counting actor, fork-join throughput and
// creation, thread ring, chameneos, big. Each checks its own result.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

// -- ping-pong: n round trips between two actors --------------------------------------------------
outcome ping_pong(unsigned workers, const params& p) {
  actor_system sys({.workers = workers});
  std::int64_t games = 0;
  const double s = seconds_of([&] { games = eam::bench::ping_pong(sys, p["n"]); });
  return checked(s, p["n"], games, 1);
}
EAM_SUITE_WORKLOAD("ping-pong", ping_pong);

// -- counting: a producer actor casts n increments to a counter, then asks for the count ------------
struct increment {};
struct get_count {};
struct produce {
  std::int64_t n;
};
outcome counting(unsigned workers, const params& p) {
  actor_system sys({.workers = workers});
  done_latch done;
  auto counter = sys.spawn([](actor_context& ctx) {
    auto& count = ctx.make_state<std::int64_t>(0);
    return behavior{[&count](increment) { ++count; }, [&count](get_count) { return count; }};
  });
  auto producer = sys.spawn([counter = typed_ref<void(increment), std::int64_t(get_count)>(counter), &done](actor_context&) {
    return behavior{[counter, &done](produce job) -> task<> {
      for (std::int64_t i = 0; i < job.n; ++i) counter.cast(increment{});
      done.set((co_await counter.call(get_count{}, std::chrono::minutes(10))).value());
    }};
  });
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    producer.cast(produce{p["n"]});
    got = done.wait();
  });
  return checked(s, p["n"], got, p["n"]);
}
EAM_SUITE_WORKLOAD("counting", counting);

// -- fork-join throughput: a driver casts n messages to each of `actors` workers, round robin ------
struct compute {
  double theta;
};
struct fan_out {
  std::int64_t n;
};
outcome fork_join_throughput(unsigned workers, const params& p) {
  const std::int64_t actors = p["actors"], n = p["n"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto finished = std::make_shared<std::atomic<std::int64_t>>(0);
  std::vector<typed_ref<void(compute)>> pool;
  for (std::int64_t a = 0; a < actors; ++a) {
    pool.push_back(sys.spawn(
        [](actor_context& ctx, std::int64_t expect, done_latch* d, std::shared_ptr<std::atomic<std::int64_t>> fin,
           std::int64_t actors_total) {
          struct state {
            std::int64_t seen = 0;
            double sum = 0;
          };
          auto& st = ctx.make_state<state>();
          return behavior{[&st, expect, d, fin, actors_total](compute c) {
            st.sum += fork_join_work(c.theta);
            if (++st.seen == expect && fin->fetch_add(1) + 1 == actors_total) d->set(actors_total * expect);
          }};
        },
        n, &done, finished, actors));
  }
  auto driver = sys.spawn([pool](actor_context&) {
    return behavior{[pool](fan_out f) {
      for (std::int64_t i = 0; i < f.n; ++i)
        for (const auto& w : pool) w.cast(compute{static_cast<double>(i)});
    }};
  });
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    driver.cast(fan_out{n});
    got = done.wait();
  });
  return checked(s, actors * n, got, actors * n);
}
EAM_SUITE_WORKLOAD("fork-join-throughput", fork_join_throughput);

// -- fork-join creation: n actors are spawned, each gets one message and reports back ----------------
struct report_in {};
struct create_all {
  std::int64_t n;
};
outcome fork_join_create(unsigned workers, const params& p) {
  const std::int64_t n = p["n"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto collector = sys.spawn([](actor_context& ctx, std::int64_t expect, done_latch* d) {
    auto& seen = ctx.make_state<std::int64_t>(0);
    return behavior{[&seen, expect, d](report_in) {
      if (++seen == expect) d->set(seen);
    }};
  }, n, &done);
  auto creator = sys.spawn([collector = typed_ref<void(report_in)>(collector)](actor_context& ctx) {
    return behavior{[&ctx, collector](create_all c) {
      for (std::int64_t i = 0; i < c.n; ++i) {
        auto w = ctx.spawn([collector](actor_context& wctx) {
          return behavior{[&wctx, collector](compute m) {
            (void)fork_join_work(m.theta);
            collector.cast(report_in{});
            wctx.stop();
          }};
        });
        w.cast(compute{static_cast<double>(i)});
      }
    }};
  });
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    creator.cast(create_all{n});
    got = done.wait();
  });
  return checked(s, n, got, n);
}
EAM_SUITE_WORKLOAD("fork-join-create", fork_join_create);

// -- thread ring: a token makes `hops` hops around a ring of `actors` --------------------------------
struct token {
  std::int64_t left;
};
struct link_to;
using ring_ref = typed_ref<void(token), void(link_to)>;
struct link_to {
  ring_ref next;
};
outcome thread_ring(unsigned workers, const params& p) {
  const std::int64_t actors = p["actors"], hops = p["hops"];
  actor_system sys({.workers = workers});
  done_latch done;
  std::vector<ring_ref> ring;
  for (std::int64_t i = 0; i < actors; ++i) {
    ring.push_back(sys.spawn([](actor_context& ctx, done_latch* d, std::int64_t total) {
      auto& next = ctx.make_state<ring_ref>();
      return behavior{
          [&next, d, total](token t) {
            if (t.left == 0) {
              d->set(total);
              return;
            }
            next.cast(token{t.left - 1});
          },
          [&next](link_to l) { next = std::move(l.next); },
      };
    }, &done, hops));
  }
  for (std::size_t i = 0; i < ring.size(); ++i) ring[i].cast(link_to{ring[(i + 1) % ring.size()]});
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    ring[0].cast(token{hops});
    got = done.wait();
  });
  return checked(s, hops, got, hops);
}
EAM_SUITE_WORKLOAD("thread-ring", thread_ring);

// -- chameneos: `chameneos` creatures meet in a mall until `meetings` meetings happened --------------
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
      auto self = creature_ref(ctx.self(), detail::adopt_t{});
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

// -- big: every actor pings random peers, one at a time, `pings` times -------------------------------
struct pong {};
struct big_ping;
struct peers;
using big_ref = typed_ref<void(big_ping), void(pong), void(peers)>;
struct big_ping {
  big_ref from;
};
struct peers {
  std::vector<big_ref> all;
};
outcome big(unsigned workers, const params& p) {
  const std::int64_t actors = p["actors"], pings = p["pings"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto finished = std::make_shared<std::atomic<std::int64_t>>(0);
  std::vector<big_ref> all;
  for (std::int64_t i = 0; i < actors; ++i) {
    all.push_back(sys.spawn([](actor_context& ctx, std::int64_t index, std::int64_t to_send, done_latch* d,
                               std::shared_ptr<std::atomic<std::int64_t>> fin, std::int64_t total_actors) {
      struct state {
        std::vector<big_ref> peers;
        lcg rng;
        std::int64_t sent = 0;
      };
      auto& st = ctx.make_state<state>(state{{}, lcg{static_cast<std::uint64_t>(index) + 1}});
      auto self = big_ref(ctx.self(), detail::adopt_t{});
      auto send_next = [&st, self] {
        ++st.sent;
        st.peers[st.rng.next() % st.peers.size()].cast(big_ping{self});
      };
      return behavior{
          [](big_ping b) { b.from.cast(pong{}); },
          [&st, send_next, to_send, d, fin, total_actors](pong) {
            if (st.sent < to_send) {
              send_next();
            } else if (fin->fetch_add(1) + 1 == total_actors) {
              d->set(total_actors * to_send);
            }
          },
          [&st, send_next](peers ps) {
            st.peers = std::move(ps.all);
            send_next();
          },
      };
    }, i, pings, &done, finished, actors));
  }
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    for (auto& a : all) a.cast(peers{all});
    got = done.wait();
  });
  return checked(s, actors * pings, got, actors * pings);
}
EAM_SUITE_WORKLOAD("big", big);

}  // namespace
