// Savina "banking": a teller orders random transfers between accounts; the source account
// debits and passes the credit on to the destination, which confirms to the teller. Money is
// conserved: the check sums every balance at the end.
#include "../../workloads/done_latch.hpp"
#include "../common.hpp"
#include "../savina.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <utility>
#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct confirmed {};
using teller_ref = typed_ref<void(confirmed)>;
struct credit {
  std::int64_t amount;
  teller_ref teller;
};
struct balance {};
using destination_ref = typed_ref<void(credit)>;
struct transfer {
  std::int64_t amount;
  destination_ref to;
  teller_ref teller;
};
using account_ref = typed_ref<void(transfer), void(credit), std::int64_t(balance)>;
struct run_transfers {
  std::int64_t n;
};

using savina::banking::initial_balance;

outcome bank_transaction(unsigned workers, const params& p) {
  const std::int64_t accounts = p["accounts"], transactions = p["transactions"];
  actor_system sys({.workers = workers});
  done_latch done;
  std::vector<account_ref> bank;
  for (std::int64_t i = 0; i < accounts; ++i) {
    bank.push_back(sys.spawn([](actor_context& ctx) {
      auto& money = ctx.make_state<std::int64_t>(initial_balance);
      return behavior{
          [&money](transfer t) {
            money -= t.amount;
            t.to.cast(credit{t.amount, std::move(t.teller)});  // moved, as CAF's peer does: no count taken and dropped
          },
          [&money](credit c) {
            money += c.amount;
            c.teller.cast(confirmed{});
          },
          [&money](balance) { return money; },
      };
    }));
  }
  auto teller = sys.spawn([bank](actor_context& ctx, done_latch* d) {
    struct state {
      std::int64_t expected = 0, confirmed = 0;
    };
    auto& st = ctx.make_state<state>();
    auto self = eam::unchecked_typed_ref_cast<teller_ref>(ctx.self());
    return behavior{
        [&st, bank, self](run_transfers r) {
          st.expected = r.n;
          lcg rng{99};
          for (std::int64_t i = 0; i < r.n; ++i) {
            const auto from = rng.next() % bank.size();
            auto to = rng.next() % bank.size();
            if (to == from) to = (to + 1) % bank.size();
            bank[from].cast(transfer{static_cast<std::int64_t>(rng.next() % 1000), bank[to], self});
          }
        },
        [&st, d](confirmed) {
          if (++st.confirmed == st.expected) d->set(st.confirmed);
        },
    };
  }, &done);
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    teller.cast(run_transfers{transactions});
    got = done.wait();
  });
  std::int64_t total = 0;
  for (auto& a : bank) total += a.call(balance{}).get().value();
  outcome o = checked(s, transactions, got, transactions);
  savina::banking::check_conserved(o, total, accounts);
  return o;
}
EAM_SUITE_WORKLOAD("bank-transaction", bank_transaction);

}  // namespace
