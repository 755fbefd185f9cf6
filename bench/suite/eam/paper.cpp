// The CAF paper's workloads on libeam (actor creation, mailbox fan-in, mixed case), plus a
// skynet tree and request/reply inside and from outside actors.
#include "../../workloads/eam_workloads.hpp"
#include "../common.hpp"
#include "../workload.hpp"

#include <memory>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

// -- actor creation: a binary tree of depth d; counts flow back to the root -------------------------
outcome actor_creation(unsigned workers, const params& p) {
  const int depth = static_cast<int>(p["depth"]);
  actor_system sys({.workers = workers});
  std::int64_t leaves = 0;
  const double s = seconds_of([&] { leaves = eam::bench::spawn_tree(sys, depth); });
  return checked(s, (std::int64_t{2} << depth) - 1, leaves, std::int64_t{1} << depth);
}
EAM_SUITE_WORKLOAD("actor-creation", actor_creation);

// -- mailbox fan-in: many senders, one receiver --------------------------------------------------------
outcome fan_in(unsigned workers, const params& p) {
  const std::int64_t senders = p["senders"], n = p["n"];
  actor_system sys({.workers = workers});
  std::int64_t sum = 0;
  const double s = seconds_of([&] { sum = eam::bench::fan_in(sys, static_cast<int>(senders), n); });
  return checked(s, senders * n, sum, senders * n);
}
EAM_SUITE_WORKLOAD("fan-in", fan_in);

// -- mixed case: rings pass tokens while each ring's worker factorises --------------------------------
struct token {
  std::int64_t left;
};
struct next_is;
using ring_ref = typed_ref<void(token), void(next_is)>;
struct next_is {
  ring_ref next;
};
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
    std::vector<ring_ref> ring;
    for (std::int64_t i = 0; i < ring_size; ++i) {
      ring.push_back(sys.spawn([finish_one](actor_context& ctx) {
        auto& next = ctx.make_state<ring_ref>();
        return behavior{
            [&next, finish_one](token t) {
              if (t.left == 0) {
                finish_one(true);
                return;
              }
              next.cast(token{t.left - 1});
            },
            [&next](next_is n) { next = std::move(n.next); },
        };
      }));
    }
    for (std::size_t i = 0; i < ring.size(); ++i) ring[i].cast(next_is{ring[(i + 1) % ring.size()]});
    firsts.push_back(ring[0]);
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

// -- skynet: every actor spawns 10 children down to `levels`; leaves return their number -----------
struct sum_up {
  std::int64_t n;
};
using skynet_ref = typed_ref<void(sum_up)>;
struct skynet_node : actor<void(sum_up)> {
  skynet_ref parent;
  done_latch* done = nullptr;
  std::int64_t sum = 0;
  int reports = 0;
  void init(std::int64_t number, int level, skynet_ref p, done_latch* d) {
    parent = std::move(p);
    done = d;
    if (level == 0) {
      report(number);
      return;
    }
    auto self = skynet_ref(context().self(), detail::adopt_t{});
    for (int i = 0; i < 10; ++i) context().spawn<skynet_node>(number * 10 + i, level - 1, self, done);
  }
  void handle_cast(sum_up s) {
    sum += s.n;
    if (++reports == 10) report(sum);
  }
  void report(std::int64_t n) {
    if (parent)
      parent.cast(sum_up{n});
    else
      done->set(n);
    context().stop();
  }
};
outcome skynet(unsigned workers, const params& p) {
  const int levels = static_cast<int>(p["levels"]);
  std::int64_t leaves = 1, actors = 0;
  for (int i = 0; i <= levels; ++i) {
    actors += leaves;
    if (i < levels) leaves *= 10;
  }
  actor_system sys({.workers = workers});
  done_latch done;
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    (void)sys.spawn<skynet_node>(std::int64_t{0}, levels, skynet_ref{}, &done);
    got = done.wait();
  });
  return checked(s, actors, got, leaves * (leaves - 1) / 2);
}
EAM_SUITE_WORKLOAD("skynet", skynet);

// -- request/reply: awaited calls between actors, and blocking calls from a thread ----------------------
outcome calls_inside(unsigned workers, const params& p) {
  const std::int64_t clients = p["clients"], calls = p["calls"];
  actor_system sys({.workers = workers});
  std::int64_t sum = 0;
  const double s = seconds_of([&] { sum = eam::bench::calls_inside(sys, static_cast<int>(clients), calls); });
  return checked(s, clients * calls, sum, clients * calls);
}
EAM_SUITE_WORKLOAD("calls-inside", calls_inside);

outcome calls_outside(unsigned workers, const params& p) {
  actor_system sys({.workers = workers});
  std::int64_t sum = 0;
  const double s = seconds_of([&] { sum = eam::bench::calls_outside(sys, p["calls"]); });
  return checked(s, p["calls"], sum, p["calls"]);
}
EAM_SUITE_WORKLOAD("calls-outside", calls_outside);

}  // namespace
