// Savina "fib": fib(n) by naive recursion where every call is an actor that spawns two children.
#include "../../workloads/done_latch.hpp"
#include "../savina.hpp"
#include "../workload.hpp"

#include <eam/eam.hpp>

namespace {
using namespace eam;
using namespace eam::suite;
using eam::bench::done_latch;

struct result {
  std::int64_t value;
};
using fib_ref = typed_ref<void(result)>;

struct fib_actor : actor<void(result)> {
  fib_ref parent;
  done_latch* done = nullptr;
  std::int64_t sum = 0;
  int reports = 0;
  void init(std::int64_t n, fib_ref p, done_latch* d) {
    parent = std::move(p);
    done = d;
    if (n <= 2) {
      report(1);
      return;
    }
    auto self = eam::unchecked_typed_ref_cast<fib_ref>(context().self());
    context().spawn<fib_actor>(n - 1, self, done);
    context().spawn<fib_actor>(n - 2, self, done);
  }
  void handle_cast(result r) {
    sum += r.value;
    if (++reports == 2) report(sum);
  }
  void report(std::int64_t v) {
    if (parent)
      parent.cast(result{v});
    else
      done->set(v);
    context().stop();
  }
};

outcome fibonacci(unsigned workers, const params& p) {
  const std::int64_t n = p["n"];
  actor_system sys({.workers = workers});
  done_latch done;
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    (void)sys.spawn<fib_actor>(n, fib_ref{}, &done);
    got = done.wait();
  });
  return checked(s, savina::fib::calls(n), got, savina::fib::value(n));
}
EAM_SUITE_WORKLOAD("fibonacci", fibonacci);

}  // namespace
