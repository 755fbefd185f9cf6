// Savina "banking" on CAF: a teller orders random transfers between accounts; the source
// account debits and passes the credit on to the destination, which confirms to the teller.
// Money is conserved: the check asks every account for its balance at the end.
#include "../common.hpp"
#include "../savina.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <caf/scoped_actor.hpp>

#include <vector>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;
using savina::banking::initial_balance;

using transfer_atom = caf::atom_constant<caf::atom("transfer")>;    // teller -> source account
using credit_atom = caf::atom_constant<caf::atom("credit")>;        // source -> destination account
using confirmed_atom = caf::atom_constant<caf::atom("confirmed")>;  // destination -> teller
using balance_atom = caf::atom_constant<caf::atom("balance")>;      // a request: the balance
using run_atom = caf::atom_constant<caf::atom("run")>;              // start -> teller

struct account_state {
  std::int64_t money = initial_balance;
};
caf::behavior account(caf::stateful_actor<account_state>* self) {
  return {
      [=](transfer_atom, std::int64_t amount, const caf::actor& to, caf::actor& teller) {
        self->state.money -= amount;
        self->send(to, credit_atom::value, amount, std::move(teller));
      },
      [=](credit_atom, std::int64_t amount, const caf::actor& teller) {
        self->state.money += amount;
        self->send(teller, confirmed_atom::value);
      },
      [=](balance_atom) { return self->state.money; },
  };
}

struct teller_state {
  std::int64_t expected = 0, confirmed = 0;
};
caf::behavior teller(caf::stateful_actor<teller_state>* self, std::vector<caf::actor> bank, done_latch* done) {
  return {
      [=](run_atom, std::int64_t n) {
        self->state.expected = n;
        lcg rng{99};
        const caf::actor me(self);
        for (std::int64_t i = 0; i < n; ++i) {
          const auto from = rng.next() % bank.size();
          auto to = rng.next() % bank.size();
          if (to == from) to = (to + 1) % bank.size();
          self->send(bank[from], transfer_atom::value, static_cast<std::int64_t>(rng.next() % 1000), bank[to], me);
        }
      },
      [=](confirmed_atom) {
        if (++self->state.confirmed == self->state.expected) done->set(self->state.confirmed);
      },
  };
}

outcome bank_transaction(unsigned workers, const params& p) {
  const std::int64_t accounts = p["accounts"], transactions = p["transactions"];
  done_latch done;
  caf_system c(workers);
  std::vector<caf::actor> bank;
  for (std::int64_t i = 0; i < accounts; ++i) bank.push_back(c.sys.spawn(account));
  auto t = c.sys.spawn(teller, bank, &done);
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    caf::anon_send(t, run_atom::value, transactions);
    got = done.wait();
  });
  std::int64_t total = 0;
  {
    caf::scoped_actor self{c.sys};
    for (auto& a : bank)
      self->request(a, caf::infinite, balance_atom::value).receive([&](std::int64_t b) { total += b; }, [](caf::error&) {});
  }
  shut_down(bank);
  caf::anon_send_exit(t, caf::exit_reason::user_shutdown);
  outcome o = checked(s, transactions, got, transactions);
  savina::banking::check_conserved(o, total, accounts);
  return o;
}
EAM_SUITE_WORKLOAD("bank-transaction", bank_transaction);

}  // namespace
