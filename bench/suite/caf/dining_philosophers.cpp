// Savina "philosopher" on CAF: philosophers ask an arbitrator for both forks, eat, and put
// them back.
#include "../workload.hpp"
#include "caf_common.hpp"

#include <vector>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;

using eat_atom = caf::atom_constant<caf::atom("eat")>;        // arbitrator -> philosopher: forks granted
using denied_atom = caf::atom_constant<caf::atom("denied")>;  // arbitrator -> philosopher: try again
using begin_atom = caf::atom_constant<caf::atom("begin")>;    // start -> philosopher
using hungry_atom = caf::atom_constant<caf::atom("hungry")>;  // philosopher -> arbitrator
using ate_atom = caf::atom_constant<caf::atom("ate")>;        // philosopher -> arbitrator: forks back
using leaving_atom = caf::atom_constant<caf::atom("leaving")>;  // philosopher -> arbitrator: done eating

struct arbitrator_state {
  std::vector<bool> fork_taken;
  std::int64_t left = 0, meals = 0;
};
caf::behavior arbitrator(caf::stateful_actor<arbitrator_state>* self, std::int64_t count, done_latch* done) {
  self->state.fork_taken.assign(static_cast<std::size_t>(count), false);
  self->state.left = count;
  return {
      [=](hungry_atom, std::int64_t id, const caf::actor& who) {
        auto& forks = self->state.fork_taken;
        const auto a = static_cast<std::size_t>(id), b = static_cast<std::size_t>((id + 1) % count);
        if (forks[a] || forks[b]) {
          self->send(who, denied_atom::value);
          return;
        }
        forks[a] = forks[b] = true;
        self->send(who, eat_atom::value);
      },
      [=](ate_atom, std::int64_t id) {
        self->state.fork_taken[static_cast<std::size_t>(id)] = false;
        self->state.fork_taken[static_cast<std::size_t>((id + 1) % count)] = false;
      },
      [=](leaving_atom, std::int64_t meals) {
        self->state.meals += meals;
        if (--self->state.left == 0) done->set(self->state.meals);
      },
  };
}

struct philosopher_state {
  std::int64_t meals = 0;
};
caf::behavior philosopher(caf::stateful_actor<philosopher_state>* self, std::int64_t id, std::int64_t to_eat,
                          caf::actor arb) {
  return {
      [=](eat_atom) {
        auto& meals = self->state.meals;
        ++meals;
        self->send(arb, ate_atom::value, id);
        if (meals < to_eat)
          self->send(arb, hungry_atom::value, id, caf::actor(self));
        else
          self->send(arb, leaving_atom::value, meals);
      },
      [=](denied_atom) { self->send(arb, hungry_atom::value, id, caf::actor(self)); },
      [=](begin_atom) { self->send(arb, hungry_atom::value, id, caf::actor(self)); },
  };
}

outcome dining_philosophers(unsigned workers, const params& p) {
  const std::int64_t n = p["philosophers"], rounds = p["rounds"];
  done_latch done;
  caf_system c(workers);
  auto arb = c.sys.spawn(arbitrator, n, &done);
  std::vector<caf::actor> table;
  for (std::int64_t i = 0; i < n; ++i) table.push_back(c.sys.spawn(philosopher, i, rounds, arb));
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    for (auto& ph : table) caf::anon_send(ph, begin_atom::value);
    got = done.wait();
  });
  shut_down(table);
  caf::anon_send_exit(arb, caf::exit_reason::user_shutdown);
  return checked(s, n * rounds, got, n * rounds);
}
EAM_SUITE_WORKLOAD("dining-philosophers", dining_philosophers);

}  // namespace
