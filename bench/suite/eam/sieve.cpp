// Savina "sieve": odd numbers flow down a pipeline of filter actors, each holding up to
// `per_filter` primes; a number no filter divides is a new prime, kept by the last filter or,
// when that one is full, by a new filter it spawns. The check counts the primes below `limit`.
#include "../../workloads/done_latch.hpp"
#include "../savina.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

#include <vector>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct candidate {
  std::int64_t n;
};
struct no_more {
  std::int64_t primes_before;
};
using filter_ref = typed_ref<void(candidate), void(no_more)>;

struct filter : actor<void(candidate), void(no_more)> {
  std::int64_t capacity = 0;
  done_latch* done = nullptr;
  std::vector<std::int64_t> primes;
  filter_ref next;

  void init(std::int64_t first_prime, std::int64_t cap, done_latch* d) {
    capacity = cap;
    done = d;
    primes.push_back(first_prime);
  }
  void handle_cast(candidate c) {
    for (std::int64_t p : primes)
      if (c.n % p == 0) return;
    if (next) {
      next.cast(c);
    } else if (static_cast<std::int64_t>(primes.size()) < capacity) {
      primes.push_back(c.n);
    } else {
      next = context().spawn<filter>(c.n, capacity, done);
    }
  }
  void handle_cast(no_more m) {
    const std::int64_t total = m.primes_before + static_cast<std::int64_t>(primes.size());
    if (next)
      next.cast(no_more{total});
    else
      done->set(total + 1);  // + the prime 2, which the generator never sends
  }
};

struct generate {
  std::int64_t limit;
};

outcome sieve(unsigned workers, const params& p) {
  const std::int64_t limit = p["limit"], per_filter = p["per_filter"];
  actor_system sys({.workers = workers});
  done_latch done;
  auto head = sys.spawn<filter>(std::int64_t{3}, per_filter, &done);
  auto generator = sys.spawn([head = filter_ref(head)](actor_context&) {
    return behavior{[head](generate g) {
      for (std::int64_t n = 5; n <= g.limit; n += 2) head.cast(candidate{n});
      head.cast(no_more{0});
    }};
  });
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    generator.cast(generate{limit});
    got = done.wait();
  });
  return checked(s, limit / 2, got, savina::sieve::primes_below(limit));
}
EAM_SUITE_WORKLOAD("sieve", sieve);

}  // namespace
