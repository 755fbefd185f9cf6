// The suite's workloads on the C++ Actor Framework 0.17 (Debian libcaf-dev), written as CAF
// users write them: event-based and stateful actors, atoms as tags, request(...).then(...).
// Parameters and result checks match bench/suite/eam/.
#include "../../workloads/caf_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <atomic>
#include <memory>
#include <vector>

namespace {
using namespace eam::suite;
using eam::bench::done_latch;
using eam::suite::caf_peer::caf_system;
namespace cp = eam::bench::caf_peer;

using inc_atom = caf::atom_constant<caf::atom("inc")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using work_atom = caf::atom_constant<caf::atom("work")>;
using next_atom = caf::atom_constant<caf::atom("next")>;
using token_atom = caf::atom_constant<caf::atom("token")>;
using meet_atom = caf::atom_constant<caf::atom("meet")>;
using mate_atom = caf::atom_constant<caf::atom("mate")>;
using fade_atom = caf::atom_constant<caf::atom("fade")>;
using faded_atom = caf::atom_constant<caf::atom("faded")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using pong_atom = caf::atom_constant<caf::atom("pong")>;
using factor_atom = caf::atom_constant<caf::atom("factor")>;
using sum_atom = caf::atom_constant<caf::atom("sum")>;

outcome ping_pong(unsigned workers, const params& p) {
  caf_system c(workers);
  std::int64_t games = 0;
  const double s = seconds_of([&] { games = cp::ping_pong(c.sys, p["n"]); });
  return checked(s, p["n"], games, 1);
}
EAM_SUITE_WORKLOAD("ping-pong", ping_pong);

struct count_state {
  std::int64_t count = 0;
};
outcome counting(unsigned workers, const params& p) {
  caf_system c(workers);
  done_latch done;
  auto counter = c.sys.spawn([](caf::stateful_actor<count_state>* self) -> caf::behavior {
    return {[=](inc_atom) { ++self->state.count; }, [=](get_atom) { return self->state.count; }};
  });
  auto producer = c.sys.spawn([counter, &done](caf::event_based_actor* self) -> caf::behavior {
    return {[=, &done](std::int64_t n) {
      for (std::int64_t i = 0; i < n; ++i) self->send(counter, inc_atom::value);
      self->request(counter, caf::infinite, get_atom::value).then([&done](std::int64_t total) { done.set(total); });
    }};
  });
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    caf::anon_send(producer, p["n"]);
    got = done.wait();
  });
  caf::anon_send_exit(counter, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(producer, caf::exit_reason::user_shutdown);
  return checked(s, p["n"], got, p["n"]);
}
EAM_SUITE_WORKLOAD("counting", counting);

struct fj_state {
  std::int64_t seen = 0;
  double sum = 0;
};
outcome fork_join_throughput(unsigned workers, const params& p) {
  const std::int64_t actors = p["actors"], n = p["n"];
  caf_system c(workers);
  done_latch done;
  auto finished = std::make_shared<std::atomic<std::int64_t>>(0);
  std::vector<caf::actor> pool;
  for (std::int64_t a = 0; a < actors; ++a)
    pool.push_back(c.sys.spawn([n, actors, finished, &done](caf::stateful_actor<fj_state>* self) -> caf::behavior {
      return {[=, &done](work_atom, double theta) {
        self->state.sum += fork_join_work(theta);
        if (++self->state.seen == n && finished->fetch_add(1) + 1 == actors) done.set(actors * n);
      }};
    }));
  auto driver = c.sys.spawn([pool](caf::event_based_actor* self) -> caf::behavior {
    return {[=](std::int64_t count) {
      for (std::int64_t i = 0; i < count; ++i)
        for (const auto& w : pool) self->send(w, work_atom::value, static_cast<double>(i));
    }};
  });
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    caf::anon_send(driver, n);
    got = done.wait();
  });
  for (auto& w : pool) caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(driver, caf::exit_reason::user_shutdown);
  return checked(s, actors * n, got, actors * n);
}
EAM_SUITE_WORKLOAD("fork-join-throughput", fork_join_throughput);

outcome fork_join_create(unsigned workers, const params& p) {
  const std::int64_t n = p["n"];
  caf_system c(workers);
  done_latch done;
  auto collector = c.sys.spawn([n, &done](caf::stateful_actor<count_state>* self) -> caf::behavior {
    return {[=, &done](inc_atom) {
      if (++self->state.count == n) done.set(n);
    }};
  });
  auto creator = c.sys.spawn([collector](caf::event_based_actor* self) -> caf::behavior {
    return {[=](std::int64_t count) {
      for (std::int64_t i = 0; i < count; ++i) {
        auto w = self->spawn([collector](caf::event_based_actor* wself) -> caf::behavior {
          return {[=](work_atom, double theta) {
            (void)fork_join_work(theta);
            wself->send(collector, inc_atom::value);
            wself->quit();
          }};
        });
        self->send(w, work_atom::value, static_cast<double>(i));
      }
    }};
  });
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    caf::anon_send(creator, n);
    got = done.wait();
  });
  caf::anon_send_exit(collector, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(creator, caf::exit_reason::user_shutdown);
  return checked(s, n, got, n);
}
EAM_SUITE_WORKLOAD("fork-join-create", fork_join_create);

struct ring_state {
  caf::actor next;
};
caf::behavior ring_member(caf::stateful_actor<ring_state>* self, done_latch* done, std::int64_t total) {
  return {
      [=](next_atom, caf::actor n) { self->state.next = std::move(n); },
      [=](token_atom, std::int64_t left) {
        if (left == 0) {
          done->set(total);
          return;
        }
        self->send(self->state.next, token_atom::value, left - 1);
      },
  };
}
outcome thread_ring(unsigned workers, const params& p) {
  const std::int64_t actors = p["actors"], hops = p["hops"];
  caf_system c(workers);
  done_latch done;
  std::vector<caf::actor> ring;
  for (std::int64_t i = 0; i < actors; ++i) ring.push_back(c.sys.spawn(ring_member, &done, hops));
  for (std::size_t i = 0; i < ring.size(); ++i) caf::anon_send(ring[i], next_atom::value, ring[(i + 1) % ring.size()]);
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    caf::anon_send(ring[0], token_atom::value, hops);
    got = done.wait();
  });
  for (auto& r : ring) caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  return checked(s, hops, got, hops);
}
EAM_SUITE_WORKLOAD("thread-ring", thread_ring);

int complement(int a, int b) { return a == b ? a : 3 - a - b; }
struct mall_state {
  std::int64_t left = 0, faded = 0, total = 0;
  caf::actor waiting;
  int waiting_colour = 0;
};
struct creature_state {
  int colour = 0;
  std::int64_t meetings = 0;
};
outcome chameneos(unsigned workers, const params& p) {
  const std::int64_t creatures = p["chameneos"], meetings = p["meetings"];
  caf_system c(workers);
  done_latch done;
  auto mall = c.sys.spawn([meetings, creatures, &done](caf::stateful_actor<mall_state>* self) -> caf::behavior {
    self->state.left = meetings;
    return {
        [=](meet_atom, caf::actor who, int colour) {
          auto& st = self->state;
          if (st.left == 0) {
            self->send(who, fade_atom::value);
            return;
          }
          if (!st.waiting) {
            st.waiting = std::move(who);
            st.waiting_colour = colour;
            return;
          }
          --st.left;
          self->send(st.waiting, mate_atom::value, colour);
          self->send(who, mate_atom::value, st.waiting_colour);
          st.waiting = caf::actor{};
        },
        [=, &done](faded_atom, std::int64_t m) {
          self->state.total += m;
          if (++self->state.faded == creatures) done.set(self->state.total);
        },
    };
  });
  std::vector<caf::actor> all;
  for (std::int64_t i = 0; i < creatures; ++i)
    all.push_back(c.sys.spawn([mall, i](caf::stateful_actor<creature_state>* self) -> caf::behavior {
      self->state.colour = static_cast<int>(i % 3);
      return {
          [=](mate_atom, int other) {
            self->state.colour = complement(self->state.colour, other);
            ++self->state.meetings;
            self->send(mall, meet_atom::value, caf::actor(self), self->state.colour);
          },
          [=](fade_atom) { self->send(mall, faded_atom::value, self->state.meetings); },
      };
    }));
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    for (std::size_t i = 0; i < all.size(); ++i) caf::anon_send(mall, meet_atom::value, all[i], static_cast<int>(i % 3));
    got = done.wait();
  });
  for (auto& a : all) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(mall, caf::exit_reason::user_shutdown);
  return checked(s, meetings, got, 2 * meetings);
}
EAM_SUITE_WORKLOAD("chameneos", chameneos);

struct big_state {
  std::vector<caf::actor> peers;
  lcg rng{1};
  std::int64_t sent = 0;
};
outcome big(unsigned workers, const params& p) {
  const std::int64_t actors = p["actors"], pings = p["pings"];
  caf_system c(workers);
  done_latch done;
  auto finished = std::make_shared<std::atomic<std::int64_t>>(0);
  std::vector<caf::actor> all;
  for (std::int64_t i = 0; i < actors; ++i)
    all.push_back(c.sys.spawn([i, pings, actors, finished, &done](caf::stateful_actor<big_state>* self) -> caf::behavior {
      self->state.rng = lcg{static_cast<std::uint64_t>(i) + 1};
      auto send_next = [self] {
        ++self->state.sent;
        self->send(self->state.peers[self->state.rng.next() % self->state.peers.size()], ping_atom::value, caf::actor(self));
      };
      return {
          [=](ping_atom, caf::actor from) { self->send(from, pong_atom::value); },
          [=, &done](pong_atom) {
            if (self->state.sent < pings)
              send_next();
            else if (finished->fetch_add(1) + 1 == actors)
              done.set(actors * pings);
          },
          [=](std::vector<caf::actor> peers) {
            self->state.peers = std::move(peers);
            send_next();
          },
      };
    }));
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    for (auto& a : all) caf::anon_send(a, all);
    got = done.wait();
  });
  for (auto& a : all) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return checked(s, actors * pings, got, actors * pings);
}
EAM_SUITE_WORKLOAD("big", big);

outcome actor_creation(unsigned workers, const params& p) {
  const int depth = static_cast<int>(p["depth"]);
  caf_system c(workers);
  std::int64_t leaves = 0;
  const double s = seconds_of([&] { leaves = cp::spawn_tree(c.sys, depth); });
  return checked(s, (std::int64_t{2} << depth) - 1, leaves, std::int64_t{1} << depth);
}
EAM_SUITE_WORKLOAD("actor-creation", actor_creation);

outcome fan_in(unsigned workers, const params& p) {
  const std::int64_t senders = p["senders"], n = p["n"];
  caf_system c(workers);
  std::int64_t sum = 0;
  const double s = seconds_of([&] { sum = cp::fan_in(c.sys, static_cast<int>(senders), n); });
  return checked(s, senders * n, sum, senders * n);
}
EAM_SUITE_WORKLOAD("fan-in", fan_in);

outcome mixed_case(unsigned workers, const params& p) {
  const std::int64_t rings = p["rings"], ring_size = p["ring_size"], hops = p["hops"], jobs = p["jobs"];
  caf_system c(workers);
  done_latch done;
  struct tally {
    std::atomic<std::int64_t> reports{0}, wrong{0};
  };
  auto t = std::make_shared<tally>();
  const std::int64_t reports = rings * (1 + jobs);
  done_latch* d = &done;
  auto finish_one = [t, reports, d](bool ok) {
    if (!ok) t->wrong.fetch_add(1);
    if (t->reports.fetch_add(1) + 1 == reports) d->set(t->wrong.load() == 0 ? reports : -1);
  };
  struct member_state {
    caf::actor next;
  };
  std::vector<caf::actor> firsts, factorisers, everyone;
  for (std::int64_t r = 0; r < rings; ++r) {
    std::vector<caf::actor> ring;
    for (std::int64_t i = 0; i < ring_size; ++i)
      ring.push_back(c.sys.spawn([finish_one](caf::stateful_actor<member_state>* self) -> caf::behavior {
        return {
            [=](next_atom, caf::actor n) { self->state.next = std::move(n); },
            [=](token_atom, std::int64_t left) {
              if (left == 0) {
                finish_one(true);
                return;
              }
              self->send(self->state.next, token_atom::value, left - 1);
            },
        };
      }));
    for (std::size_t i = 0; i < ring.size(); ++i) caf::anon_send(ring[i], next_atom::value, ring[(i + 1) % ring.size()]);
    firsts.push_back(ring[0]);
    everyone.insert(everyone.end(), ring.begin(), ring.end());
    factorisers.push_back(c.sys.spawn([finish_one](caf::event_based_actor*) -> caf::behavior {
      return {[=](factor_atom, std::uint64_t n) { finish_one(smallest_factor(n) == mixed_case_factor); }};
    }));
  }
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    for (std::size_t r = 0; r < firsts.size(); ++r) {
      caf::anon_send(firsts[r], token_atom::value, hops);
      for (std::int64_t j = 0; j < jobs; ++j) caf::anon_send(factorisers[r], factor_atom::value, mixed_case_semiprime);
    }
    got = done.wait();
  });
  for (auto& a : everyone) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  for (auto& a : factorisers) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return checked(s, rings * hops, got, reports);
}
EAM_SUITE_WORKLOAD("mixed-case", mixed_case);

struct skynet_state {
  std::int64_t sum = 0;
  int reports = 0;
};
caf::behavior skynet_node(caf::stateful_actor<skynet_state>* self, std::int64_t number, int level, caf::actor parent,
                          done_latch* done) {
  auto report = [=](std::int64_t n) {
    if (parent)
      self->send(parent, sum_atom::value, n);
    else
      done->set(n);
    self->quit();
  };
  if (level == 0) {
    report(number);
    return {};
  }
  for (int i = 0; i < 10; ++i) self->spawn(skynet_node, number * 10 + i, level - 1, caf::actor(self), done);
  return {[=](sum_atom, std::int64_t n) {
    self->state.sum += n;
    if (++self->state.reports == 10) report(self->state.sum);
  }};
}
outcome skynet(unsigned workers, const params& p) {
  const int levels = static_cast<int>(p["levels"]);
  const skynet_shape shape(levels);
  caf_system c(workers);
  done_latch done;
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    c.sys.spawn(skynet_node, std::int64_t{0}, levels, caf::actor{}, &done);
    got = done.wait();
  });
  return checked(s, shape.actors, got, shape.leaf_sum());
}
EAM_SUITE_WORKLOAD("skynet", skynet);

outcome calls_inside(unsigned workers, const params& p) {
  const std::int64_t clients = p["clients"], calls = p["calls"];
  caf_system c(workers);
  std::int64_t sum = 0;
  const double s = seconds_of([&] { sum = cp::calls_inside(c.sys, static_cast<int>(clients), calls); });
  return checked(s, clients * calls, sum, clients * calls);
}
EAM_SUITE_WORKLOAD("calls-inside", calls_inside);

outcome calls_outside(unsigned workers, const params& p) {
  caf_system c(workers);
  std::int64_t sum = 0;
  const double s = seconds_of([&] { sum = cp::calls_outside(c.sys, p["calls"]); });
  return checked(s, p["calls"], sum, p["calls"]);
}
EAM_SUITE_WORKLOAD("calls-outside", calls_outside);

}  // namespace
