// Savina "concdict" on CAF: clients make request/response put and get calls on one dictionary
// actor, 10 % writes, each waiting for the answer before the next (as the libeam version
// awaits its calls): request(...).then(...) chains one operation to the next.
#include "../common.hpp"
#include "../savina.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <caf/scoped_actor.hpp>

#include <atomic>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;
using savina::concdict::key_space;

using put_atom = caf::atom_constant<caf::atom("put")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using size_atom = caf::atom_constant<caf::atom("size")>;
using start_atom = caf::atom_constant<caf::atom("start")>;

struct dictionary_state {
  std::unordered_map<std::int64_t, std::int64_t> map;
};
caf::behavior dictionary(caf::stateful_actor<dictionary_state>* self) {
  return {
      [=](put_atom, std::int64_t key, std::int64_t value) { return self->state.map.insert_or_assign(key, value).second; },
      [=](get_atom, std::int64_t key) {
        auto it = self->state.map.find(key);
        return it == self->state.map.end() ? std::int64_t{-1} : it->second;
      },
      [=](size_atom) { return static_cast<std::int64_t>(self->state.map.size()); },
  };
}

// What every client shares with the timing thread (no actor handles: it outlives the system).
struct shared_run {
  std::int64_t clients = 0, ops = 0, write_percent = 0;
  std::atomic<std::int64_t> answered{0}, finished{0};
  done_latch done;
};

struct client_state {
  lcg rng{0};
  std::int64_t next = 0;  // index of the next operation
};
using client = caf::stateful_actor<client_state>;

// Issues operation `next`, or reports this client finished. Each reply (or error) issues the
// following one, so a client has one request in flight, like the libeam client's loop.
void next_operation(client* self, const caf::actor& dict, shared_run* run) {
  auto& st = self->state;
  if (st.next == run->ops) {
    if (run->finished.fetch_add(1) + 1 == run->clients) run->done.set(run->answered.load());
    return;
  }
  const bool write = static_cast<std::int64_t>(st.rng.next() % 100) < run->write_percent;
  const auto key = static_cast<std::int64_t>(st.rng.next() % key_space);
  const std::int64_t i = st.next++;
  auto answered = [=] {
    run->answered.fetch_add(1, std::memory_order_relaxed);
    next_operation(self, dict, run);
  };
  auto failed = [=](caf::error&) { next_operation(self, dict, run); };
  if (write)
    self->request(dict, caf::infinite, put_atom::value, key, i).then([=](bool) { answered(); }, failed);
  else
    self->request(dict, caf::infinite, get_atom::value, key).then([=](std::int64_t) { answered(); }, failed);
}

caf::behavior dictionary_client(client* self, caf::actor dict, std::int64_t index, shared_run* run) {
  self->state.rng = lcg{static_cast<std::uint64_t>(index) + 1};
  return {[=](start_atom) { next_operation(self, dict, run); }};
}

outcome concurrent_dictionary(unsigned workers, const params& p) {
  shared_run run;
  run.clients = p["clients"], run.ops = p["ops"], run.write_percent = p["write_percent"];
  std::unordered_set<std::int64_t> written;  // what the dictionary must hold at the end
  for (std::int64_t w = 0; w < run.clients; ++w) {
    lcg replay{static_cast<std::uint64_t>(w) + 1};
    for (std::int64_t i = 0; i < run.ops; ++i) {
      const bool write = static_cast<std::int64_t>(replay.next() % 100) < run.write_percent;
      const auto key = static_cast<std::int64_t>(replay.next() % key_space);
      if (write) written.insert(key);
    }
  }
  caf_system c(workers);
  auto dict = c.sys.spawn(dictionary);
  std::vector<caf::actor> pool;
  for (std::int64_t w = 0; w < run.clients; ++w) pool.push_back(c.sys.spawn(dictionary_client, dict, w, &run));
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    for (auto& cl : pool) caf::anon_send(cl, start_atom::value);
    got = run.done.wait();
  });
  std::int64_t size = -1;
  {
    caf::scoped_actor self{c.sys};
    self->request(dict, caf::infinite, size_atom::value).receive([&](std::int64_t n) { size = n; }, [](caf::error&) {});
  }
  shut_down(pool);
  caf::anon_send_exit(dict, caf::exit_reason::user_shutdown);
  outcome o = checked(s, run.clients * run.ops, got, run.clients * run.ops);
  savina::concdict::check_size(o, size, written.size());
  return o;
}
EAM_SUITE_WORKLOAD("concurrent-dictionary", concurrent_dictionary);

}  // namespace
