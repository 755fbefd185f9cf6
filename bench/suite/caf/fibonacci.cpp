// Savina "fib" on CAF: fib(n) by naive recursion where every call is an actor that spawns two
// children and adds their answers.
#include "../savina.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;

using result_atom = caf::atom_constant<caf::atom("result")>;  // child -> parent: its fib

struct fib_state {
  std::int64_t sum = 0;
  int reports = 0;
};
using fib_actor = caf::stateful_actor<fib_state>;

void report(fib_actor* self, const caf::actor& parent, std::int64_t v, done_latch* done) {
  if (parent)
    self->send(parent, result_atom::value, v);
  else
    done->set(v);
  self->quit();
}

caf::behavior fib(fib_actor* self, std::int64_t n, caf::actor parent, done_latch* done) {
  if (n <= 2) {
    report(self, parent, 1, done);
    return {};
  }
  self->spawn(fib, n - 1, caf::actor(self), done);
  self->spawn(fib, n - 2, caf::actor(self), done);
  return {[=](result_atom, std::int64_t v) {
    auto& st = self->state;
    st.sum += v;
    if (++st.reports == 2) report(self, parent, st.sum, done);
  }};
}

outcome fibonacci(unsigned workers, const params& p) {
  const std::int64_t n = p["n"];
  done_latch done;
  caf_system c(workers);
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    c.sys.spawn(fib, n, caf::actor{}, &done);
    got = done.wait();
  });
  return checked(s, savina::fib::calls(n), got, savina::fib::value(n));
}
EAM_SUITE_WORKLOAD("fibonacci", fibonacci);

}  // namespace
