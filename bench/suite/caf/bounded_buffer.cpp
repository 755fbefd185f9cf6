// Savina "bndbuffer" on CAF: producers and consumers exchange items through a manager actor
// holding a bounded buffer. A producer makes its next item only once the manager accepted the
// last one, so a full buffer holds producers back. Items are numbered; the check sums them.
#include "../common.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <deque>
#include <utility>
#include <vector>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;

using more_atom = caf::atom_constant<caf::atom("more")>;         // manager -> producer: make the next item
using item_atom = caf::atom_constant<caf::atom("item")>;         // manager -> consumer: consume this
using stop_atom = caf::atom_constant<caf::atom("stop")>;         // manager -> consumer: report and stop
using data_atom = caf::atom_constant<caf::atom("data")>;         // producer -> manager: an item
using prod_exit_atom = caf::atom_constant<caf::atom("prodexit")>;  // producer -> manager: made all
using ready_atom = caf::atom_constant<caf::atom("ready")>;       // consumer -> manager: give me one
using total_atom = caf::atom_constant<caf::atom("total")>;       // consumer -> manager: its count and sum

struct manager_state {
  std::deque<std::int64_t> buffer;
  std::deque<caf::actor> idle;                              // consumers waiting for an item
  std::deque<std::pair<std::int64_t, caf::actor>> pending;  // items refused by a full buffer
  std::int64_t producers_left = 0, reports = 0, count = 0, sum = 0;
  bool stopping = false;
};
caf::behavior manager(caf::stateful_actor<manager_state>* self, std::int64_t capacity, std::int64_t producers,
                      std::int64_t consumers, done_latch* done) {
  self->state.producers_left = producers;
  // Every item consumed and every consumer idle: the consumers report their totals.
  auto maybe_finish = [=] {
    auto& st = self->state;
    if (st.stopping || st.producers_left != 0 || !st.buffer.empty() || !st.pending.empty() ||
        static_cast<std::int64_t>(st.idle.size()) != consumers)
      return;
    st.stopping = true;
    for (auto& c : st.idle) self->send(c, stop_atom::value);
  };
  return {
      [=](data_atom, std::int64_t value, caf::actor& from) {
        auto& st = self->state;
        if (!st.idle.empty()) {
          self->send(st.idle.front(), item_atom::value, value);
          st.idle.pop_front();
          self->send(from, more_atom::value);
        } else if (static_cast<std::int64_t>(st.buffer.size()) < capacity) {
          st.buffer.push_back(value);
          self->send(from, more_atom::value);
        } else {
          st.pending.emplace_back(value, std::move(from));
        }
      },
      [=](prod_exit_atom) {
        --self->state.producers_left;
        maybe_finish();
      },
      [=](ready_atom, caf::actor& who) {
        auto& st = self->state;
        if (st.buffer.empty()) {
          st.idle.push_back(std::move(who));
          maybe_finish();
          return;
        }
        self->send(who, item_atom::value, st.buffer.front());
        st.buffer.pop_front();
        if (!st.pending.empty()) {
          st.buffer.push_back(st.pending.front().first);
          self->send(st.pending.front().second, more_atom::value);
          st.pending.pop_front();
        }
      },
      [=](total_atom, std::int64_t count, std::int64_t sum) {
        auto& st = self->state;
        st.count += count;
        st.sum += sum;
        if (++st.reports == consumers) done->set(st.sum);
      },
  };
}

struct consumer_state {
  std::int64_t count = 0, sum = 0, sink = 0;
};
caf::behavior consumer(caf::stateful_actor<consumer_state>* self, caf::actor mgr, std::int64_t cost) {
  return {
      [=](item_atom, std::int64_t value) {
        auto& st = self->state;
        st.sink += busy_work(cost, static_cast<std::uint64_t>(value));
        ++st.count;
        st.sum += value;
        self->send(mgr, ready_atom::value, caf::actor(self));
      },
      [=](stop_atom) { self->send(mgr, total_atom::value, self->state.count, self->state.sum); },
  };
}

struct producer_state {
  std::int64_t made = 0, sink = 0;
};
caf::behavior producer(caf::stateful_actor<producer_state>* self, caf::actor mgr, std::int64_t first, std::int64_t count,
                       std::int64_t cost) {
  return {[=](more_atom) {
    auto& st = self->state;
    if (st.made == count) {
      self->send(mgr, prod_exit_atom::value);
      return;
    }
    const std::int64_t value = first + st.made++;
    st.sink += busy_work(cost, static_cast<std::uint64_t>(value));
    self->send(mgr, data_atom::value, value, caf::actor(self));
  }};
}

outcome bounded_buffer(unsigned workers, const params& p) {
  const std::int64_t capacity = p["buffer"], producers = p["producers"], consumers = p["consumers"], items = p["items"],
                     cost = p["cost"];
  done_latch done;
  caf_system c(workers);
  auto mgr = c.sys.spawn(manager, capacity, producers, consumers, &done);
  std::vector<caf::actor> all_consumers, all_producers;
  for (std::int64_t i = 0; i < consumers; ++i) all_consumers.push_back(c.sys.spawn(consumer, mgr, cost));
  for (std::int64_t i = 0; i < producers; ++i)
    all_producers.push_back(c.sys.spawn(producer, mgr, i * items + 1, items, cost));
  const std::int64_t n = producers * items;
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    for (auto& cs : all_consumers) caf::anon_send(mgr, ready_atom::value, cs);
    for (auto& pr : all_producers) caf::anon_send(pr, more_atom::value);
    got = done.wait();
  });
  shut_down(all_consumers);
  shut_down(all_producers);
  caf::anon_send_exit(mgr, caf::exit_reason::user_shutdown);
  return checked(s, n, got, n * (n + 1) / 2);
}
EAM_SUITE_WORKLOAD("bounded-buffer", bounded_buffer);

}  // namespace
