#pragma once
// The same workloads as eam_workloads.hpp, written idiomatically for the C++ Actor Framework
// 0.17 (Debian libcaf-dev): event-based and stateful actors on CAF's work-stealing scheduler,
// atoms as message tags, request(...).then(...) inside actors, scoped_actor for blocking calls.
#include "done_latch.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <vector>

namespace eam::bench::caf_peer {

using ball_atom = caf::atom_constant<caf::atom("ball")>;
using peer_atom = caf::atom_constant<caf::atom("peer")>;
using go_atom = caf::atom_constant<caf::atom("go")>;
using count_atom = caf::atom_constant<caf::atom("count")>;
using run_atom = caf::atom_constant<caf::atom("run")>;

struct player_state {
  caf::actor peer;
};
inline caf::behavior player(caf::stateful_actor<player_state>* self, done_latch* done) {
  return {
      [=](peer_atom, caf::actor p) { self->state.peer = std::move(p); },
      [=](ball_atom, std::int64_t left) {
        if (left == 0) {
          done->set(1);
          return;
        }
        self->send(self->state.peer, ball_atom::value, left - 1);
      },
  };
}

inline std::int64_t ping_pong(caf::actor_system& sys, std::int64_t round_trips) {
  done_latch done;
  auto a = sys.spawn(player, &done);
  auto b = sys.spawn(player, &done);
  caf::anon_send(a, peer_atom::value, b);
  caf::anon_send(b, peer_atom::value, a);
  caf::anon_send(a, ball_atom::value, 2 * round_trips);
  const auto r = done.wait();
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
  return r;
}

struct sink_state {
  std::int64_t count = 0, sum = 0;
};
inline caf::behavior sink(caf::stateful_actor<sink_state>* self, done_latch* d, std::int64_t expect) {
  return {[=](std::int64_t v) {
    self->state.sum += v;
    if (++self->state.count == expect) d->set(self->state.sum);
  }};
}
struct sender_state {
  std::int64_t sent = 0;
};
inline caf::behavior sender(caf::stateful_actor<sender_state>* self, caf::actor to, std::int64_t n) {
  return {[=](go_atom) {
    const std::int64_t end = std::min(n, self->state.sent + 1000);
    for (; self->state.sent < end; ++self->state.sent) self->send(to, std::int64_t{1});
    if (self->state.sent < n) self->send(self, go_atom::value);
  }};
}

inline std::int64_t fan_in(caf::actor_system& sys, int senders, std::int64_t per_sender) {
  done_latch done;
  auto s = sys.spawn(sink, &done, senders * per_sender);
  std::vector<caf::actor> refs;
  for (int i = 0; i < senders; ++i) refs.push_back(sys.spawn(sender, s, per_sender));
  for (auto& r : refs) caf::anon_send(r, go_atom::value);
  const auto sum = done.wait();
  for (auto& r : refs) caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  return sum;
}

struct node_state {
  std::int64_t sum = 0;
  int reports = 0;
};
inline caf::behavior tree_node(caf::stateful_actor<node_state>* self, int depth, caf::actor parent, done_latch* done) {
  auto finish = [=](std::int64_t n) {
    if (parent)
      self->send(parent, count_atom::value, n);
    else
      done->set(n);
    self->quit();
  };
  if (depth == 0) {
    finish(1);
    return {};
  }
  self->spawn(tree_node, depth - 1, caf::actor(self), done);
  self->spawn(tree_node, depth - 1, caf::actor(self), done);
  return {[=](count_atom, std::int64_t n) {
    self->state.sum += n;
    if (++self->state.reports == 2) finish(self->state.sum);
  }};
}

inline std::int64_t spawn_tree(caf::actor_system& sys, int depth) {
  done_latch done;
  sys.spawn(tree_node, depth, caf::actor{}, &done);
  return done.wait();
}

inline caf::behavior echo_server() {
  return {[](std::int64_t v) { return v; }};
}
struct client_state {
  std::int64_t left = 0, sum = 0;
};
inline void next_call(caf::stateful_actor<client_state>* self, const caf::actor& server, done_latch* d) {
  if (self->state.left == 0) {
    d->set(self->state.sum);
    return;
  }
  --self->state.left;
  self->request(server, caf::infinite, std::int64_t{1}).then([=](std::int64_t r) {
    self->state.sum += r;
    next_call(self, server, d);
  });
}
inline caf::behavior client(caf::stateful_actor<client_state>* self, caf::actor server, done_latch* d) {
  return {[=](run_atom, std::int64_t n) {
    self->state.left = n;
    next_call(self, server, d);
  }};
}

inline std::int64_t calls_inside(caf::actor_system& sys, int clients, std::int64_t calls) {
  std::vector<done_latch> done(static_cast<std::size_t>(clients));
  std::vector<caf::actor> all;
  for (int c = 0; c < clients; ++c) {
    auto server = sys.spawn(echo_server);
    auto cl = sys.spawn(client, server, &done[static_cast<std::size_t>(c)]);
    caf::anon_send(cl, run_atom::value, calls);
    all.push_back(server);
    all.push_back(cl);
  }
  std::int64_t sum = 0;
  for (auto& d : done) sum += d.wait();
  for (auto& a : all) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return sum;
}

inline std::int64_t calls_outside(caf::actor_system& sys, std::int64_t calls) {
  auto server = sys.spawn(echo_server);
  caf::scoped_actor self{sys};
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < calls; ++i)
    self->request(server, caf::infinite, std::int64_t{1}).receive([&](std::int64_t r) { sum += r; }, [](caf::error&) {});
  caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
  return sum;
}

}  // namespace eam::bench::caf_peer
