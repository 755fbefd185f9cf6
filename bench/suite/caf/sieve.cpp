// Savina "sieve" on CAF: odd numbers flow down a pipeline of filter actors, each holding up to
// `per_filter` primes; a number no filter divides is a new prime, kept by the last filter or,
// when that one is full, by a new filter it spawns. The check counts the primes below `limit`.
#include "../savina.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <vector>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;

using candidate_atom = caf::atom_constant<caf::atom("candidate")>;
using no_more_atom = caf::atom_constant<caf::atom("nomore")>;  // the end; carries the primes counted so far
using generate_atom = caf::atom_constant<caf::atom("generate")>;

struct filter_state {
  std::vector<std::int64_t> primes;
  caf::actor next;
};
caf::behavior filter(caf::stateful_actor<filter_state>* self, std::int64_t first_prime, std::int64_t capacity,
                     done_latch* done) {
  self->state.primes.push_back(first_prime);
  return {
      [=](candidate_atom, std::int64_t n) {
        auto& st = self->state;
        for (std::int64_t p : st.primes)
          if (n % p == 0) return;
        if (st.next)
          self->send(st.next, candidate_atom::value, n);
        else if (static_cast<std::int64_t>(st.primes.size()) < capacity)
          st.primes.push_back(n);
        else  // linked, so the shutdown of the head reaches the whole pipeline
          st.next = self->spawn<caf::linked>(filter, n, capacity, done);
      },
      [=](no_more_atom, std::int64_t primes_before) {
        auto& st = self->state;
        const std::int64_t total = primes_before + static_cast<std::int64_t>(st.primes.size());
        if (st.next)
          self->send(st.next, no_more_atom::value, total);
        else
          done->set(total + 1);  // + the prime 2, which the generator never sends
      },
  };
}

caf::behavior generator(caf::event_based_actor* self, caf::actor head) {
  return {[=](generate_atom, std::int64_t limit) {
    for (std::int64_t n = 5; n <= limit; n += 2) self->send(head, candidate_atom::value, n);
    self->send(head, no_more_atom::value, std::int64_t{0});
  }};
}

outcome sieve(unsigned workers, const params& p) {
  const std::int64_t limit = p["limit"], per_filter = p["per_filter"];
  done_latch done;
  caf_system c(workers);
  auto head = c.sys.spawn(filter, std::int64_t{3}, per_filter, &done);
  auto gen = c.sys.spawn(generator, head);
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    caf::anon_send(gen, generate_atom::value, limit);
    got = done.wait();
  });
  caf::anon_send_exit(gen, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(head, caf::exit_reason::user_shutdown);
  return checked(s, limit / 2, got, savina::sieve::primes_below(limit));
}
EAM_SUITE_WORKLOAD("sieve", sieve);

}  // namespace
