// Savina "barber" on CAF: customers arrive at a waiting room with `room` chairs; the barber
// cuts one at a time and sleeps when nobody waits; a customer who finds the room full goes back
// to the factory, which sends them again. The check counts every customer served exactly once.
#include "../common.hpp"
#include "../workload.hpp"
#include "caf_common.hpp"

#include <deque>
#include <vector>

namespace {
using namespace eam::suite;
using namespace eam::suite::caf_peer;
using eam::bench::done_latch;

using full_atom = caf::atom_constant<caf::atom("full")>;          // room -> customer
using cut_done_atom = caf::atom_constant<caf::atom("cutdone")>;   // barber -> customer
using arrive_atom = caf::atom_constant<caf::atom("arrive")>;      // factory -> room
using next_atom = caf::atom_constant<caf::atom("next")>;          // barber -> room: who is next?
using hire_atom = caf::atom_constant<caf::atom("hire")>;          // start -> room: its barber
using cut_atom = caf::atom_constant<caf::atom("cut")>;            // room -> barber
using returned_atom = caf::atom_constant<caf::atom("returned")>;  // customer -> factory: room was full
using served_atom = caf::atom_constant<caf::atom("served")>;      // customer -> factory
using open_atom = caf::atom_constant<caf::atom("open")>;          // start -> factory: send customers

struct room_state {
  std::deque<caf::actor> waiting;
  caf::actor barber;
  bool asleep = true;
};
caf::behavior waiting_room(caf::stateful_actor<room_state>* self, std::int64_t capacity) {
  return {
      [=](arrive_atom, caf::actor& who) {
        auto& st = self->state;
        if (static_cast<std::int64_t>(st.waiting.size()) == capacity) {
          self->send(who, full_atom::value);
        } else if (st.asleep) {
          st.asleep = false;
          self->send(st.barber, cut_atom::value, std::move(who));
        } else {
          st.waiting.push_back(std::move(who));
        }
      },
      [=](next_atom) {
        auto& st = self->state;
        if (st.waiting.empty()) {
          st.asleep = true;
          return;
        }
        self->send(st.barber, cut_atom::value, std::move(st.waiting.front()));
        st.waiting.pop_front();
      },
      [=](hire_atom, caf::actor& barber) { self->state.barber = std::move(barber); },
  };
}

struct barber_state {
  std::int64_t sink = 0;
};
caf::behavior barber(caf::stateful_actor<barber_state>* self, caf::actor room, std::int64_t cost) {
  return {[=](cut_atom, const caf::actor& who) {
    auto& sink = self->state.sink;
    sink += busy_work(cost, static_cast<std::uint64_t>(sink) + 1);
    self->send(who, cut_done_atom::value);
    self->send(room, next_atom::value);
  }};
}

caf::behavior customer(caf::event_based_actor* self, caf::actor factory) {
  return {
      [=](full_atom) { self->send(factory, returned_atom::value, caf::actor(self)); },
      [=](cut_done_atom) {
        self->send(factory, served_atom::value);
        self->quit();
      },
  };
}

struct factory_state {
  std::int64_t expected = 0, served = 0, retries = 0, sink = 0;
};
caf::behavior factory(caf::stateful_actor<factory_state>* self, caf::actor room, std::int64_t cost, done_latch* done) {
  return {
      [=](open_atom, std::int64_t customers) {
        auto& st = self->state;
        st.expected = customers;
        for (std::int64_t i = 0; i < customers; ++i) {
          auto who = self->spawn(customer, caf::actor(self));
          st.sink += busy_work(cost, static_cast<std::uint64_t>(i) + 1);  // time between arrivals
          self->send(room, arrive_atom::value, std::move(who));
        }
      },
      [=](returned_atom, caf::actor& who) {
        ++self->state.retries;
        self->send(room, arrive_atom::value, std::move(who));
      },
      [=](served_atom) {
        if (++self->state.served == self->state.expected) done->set(self->state.served);
      },
  };
}

outcome sleeping_barber(unsigned workers, const params& p) {
  const std::int64_t customers = p["customers"], chairs = p["room"], cost = p["cost"];
  done_latch done;
  caf_system c(workers);
  auto room = c.sys.spawn(waiting_room, chairs);
  auto cutter = c.sys.spawn(barber, room, cost);
  caf::anon_send(room, hire_atom::value, cutter);
  auto fac = c.sys.spawn(factory, room, cost, &done);
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    caf::anon_send(fac, open_atom::value, customers);
    got = done.wait();
  });
  shut_down(std::vector<caf::actor>{room, cutter, fac});
  return checked(s, customers, got, customers);
}
EAM_SUITE_WORKLOAD("sleeping-barber", sleeping_barber);

}  // namespace
