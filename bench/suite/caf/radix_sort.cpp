// Savina "radixsort" on CAF: values stream through a pipeline of one actor per bit, least
// significant first; each passes on values whose bit is 0 at once and holds those whose bit is
// 1 until the stream ends (a stable partition per bit), so the last stage emits them sorted.
#include "../savina.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <algorithm>
#include <vector>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;

using value_atom = caf::atom_constant<caf::atom("value")>;
using eos_atom = caf::atom_constant<caf::atom("eos")>;  // the end of the stream
using go_atom = caf::atom_constant<caf::atom("go")>;    // start -> source

caf::behavior sink(caf::event_based_actor*, std::vector<std::int64_t>* output, done_latch* done) {
  return {
      [=](value_atom, std::int64_t v) { output->push_back(v); },
      [=](eos_atom) { done->set(1); },
  };
}

struct stage_state {
  std::vector<std::int64_t> held;  // values whose bit is 1, passed on at the end
};
caf::behavior stage(caf::stateful_actor<stage_state>* self, caf::actor to, std::int64_t bit) {
  return {
      [=](value_atom, std::int64_t v) {
        if ((v >> bit) & 1)
          self->state.held.push_back(v);
        else
          self->send(to, value_atom::value, v);
      },
      [=](eos_atom) {
        for (std::int64_t v : self->state.held) self->send(to, value_atom::value, v);
        self->send(to, eos_atom::value);
      },
  };
}

caf::behavior source(caf::event_based_actor* self, caf::actor first, const std::vector<std::int64_t>* input) {
  return {[=](go_atom) {
    for (std::int64_t v : *input) self->send(first, value_atom::value, v);
    self->send(first, eos_atom::value);
  }};
}

outcome radix_sort(unsigned workers, const params& p) {
  const std::int64_t n = p["n"], bits = p["bits"];
  const std::vector<std::int64_t> input = savina::radixsort::input(n, bits);
  auto expected = input;
  std::sort(expected.begin(), expected.end());
  done_latch done;
  std::vector<std::int64_t> output;
  caf_system c(workers);
  std::vector<caf::actor> pipeline{c.sys.spawn(sink, &output, &done)};
  for (std::int64_t b = bits - 1; b >= 0; --b) pipeline.push_back(c.sys.spawn(stage, pipeline.back(), b));
  auto src = c.sys.spawn(source, pipeline.back(), &input);
  const double s = seconds_of([&] {
    caf::anon_send(src, go_atom::value);
    done.wait();
  });
  caf::anon_send_exit(src, caf::exit_reason::user_shutdown);
  shut_down(pipeline);
  return checked(s, n * bits, static_cast<std::int64_t>(output == expected), 1);
}
EAM_SUITE_WORKLOAD("radix-sort", radix_sort);

}  // namespace
