#pragma once
// The actor workloads the microbenchmarks and the peer comparison share, written on libeam.
// Each returns a checksum the caller verifies, so a broken run cannot look fast.
#include "done_latch.hpp"

#include <eam/eam.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace eam::bench {

// -- ping-pong: two actors pass a ball back and forth ------------------------------------------
struct ball {
  std::int64_t left;
};
struct set_peer;
using player_ref = typed_ref<void(ball), void(set_peer)>;
struct set_peer {
  player_ref peer;
};

inline auto player(actor_context& ctx, done_latch* done) {
  auto& peer = ctx.make_state<player_ref>();
  return behavior{
      [&peer, done](ball b) {
        if (b.left == 0) {
          done->set(1);
          return;
        }
        peer.cast(ball{b.left - 1});
      },
      [&peer](set_peer p) { peer = std::move(p.peer); },
  };
}

/// `round_trips` round trips between two actors; returns the number of finished games (1).
inline std::int64_t ping_pong(actor_system& sys, std::int64_t round_trips) {
  done_latch done;
  auto a = sys.spawn(player, &done);
  auto b = sys.spawn(player, &done);
  a.cast(set_peer{b});
  b.cast(set_peer{a});
  a.cast(ball{2 * round_trips});
  const auto r = done.wait();
  sys.stop(a);
  sys.stop(b);
  return r;
}

// -- fan-in: many senders, one receiver ----------------------------------------------------------
struct tick {
  std::int64_t v;
};
struct go {};

/// `senders` actors each cast `per_sender` messages (in batches of 1000, re-casting themselves
/// between batches) to one sink; returns the sum the sink saw.
inline std::int64_t fan_in(actor_system& sys, int senders, std::int64_t per_sender) {
  done_latch done;
  const std::int64_t expected = senders * per_sender;
  auto sink = sys.spawn(
      [](actor_context& ctx, done_latch* d, std::int64_t expect) {
        struct state {
          std::int64_t count = 0, sum = 0;
        };
        auto& st = ctx.make_state<state>();
        return behavior{[&st, d, expect](tick t) {
          st.sum += t.v;
          if (++st.count == expect) d->set(st.sum);
        }};
      },
      &done, expected);
  std::vector<typed_ref<void(go)>> refs;
  for (int s = 0; s < senders; ++s) {
    refs.push_back(sys.spawn(
        [](actor_context& ctx, typed_ref<void(tick)> to, std::int64_t n) {
          auto& sent = ctx.make_state<std::int64_t>(0);
          auto self = eam::unchecked_typed_ref_cast<typed_ref<void(go)>>(ctx.self());
          return behavior{[&sent, to, n, self](go) {
            const std::int64_t end = std::min(n, sent + 1000);
            for (; sent < end; ++sent) to.cast(tick{1});
            if (sent < n) self.cast(go{});
          }};
        },
        typed_ref<void(tick)>(sink), per_sender));
  }
  for (auto& r : refs) r.cast(go{});
  const auto sum = done.wait();
  for (auto& r : refs) sys.stop(r);
  sys.stop(sink);
  return sum;
}

// -- fan-out: one driver, many receivers -------------------------------------------------------
struct drive {
  std::int64_t rounds;
};

/// A driver casts `rounds` messages to each of `receivers` actors in turn, from one handler
/// (fork-join throughput's shape, with handlers that only count); returns the messages counted.
/// On two workers that both run, the receivers run on the other worker: every message is
/// allocated on one worker and freed on the other.
inline std::int64_t fan_out(actor_system& sys, int receivers, std::int64_t rounds) {
  done_latch done;
  auto counted = std::make_shared<std::atomic<std::int64_t>>(0);
  std::vector<typed_ref<void(tick)>> pool;
  for (int r = 0; r < receivers; ++r)
    pool.push_back(sys.spawn(
        [](actor_context& ctx, std::int64_t expect, done_latch* d, std::shared_ptr<std::atomic<std::int64_t>> all,
           std::int64_t total) {
          auto& seen = ctx.make_state<std::int64_t>(0);
          return behavior{[&seen, expect, d, all, total](tick t) {
            if (++seen == expect && all->fetch_add(expect) + expect == total) d->set(total);
            (void)t;
          }};
        },
        rounds, &done, counted, receivers * rounds));
  auto driver = sys.spawn([pool](actor_context&) {
    return behavior{[pool](drive d) {
      for (std::int64_t i = 0; i < d.rounds; ++i)
        for (const auto& r : pool) r.cast(tick{i});
    }};
  });
  driver.cast(drive{rounds});
  const auto got = done.wait();
  sys.stop(driver);
  for (auto& r : pool) sys.stop(r);
  return got;
}

// -- spawn tree: every node spawns two children down to depth 0; counts flow back up -----------
struct count_up {
  std::int64_t n;
};
using tree_ref = typed_ref<void(count_up)>;

// A class actor: it spawns its own type, which a functional factory cannot name before its
// return type is deduced.
struct tree_node : actor<void(count_up)> {
  tree_ref parent;
  done_latch* done = nullptr;
  std::int64_t sum = 0;
  int reports = 0;

  void init(int depth, tree_ref p, done_latch* d) {
    parent = std::move(p);
    done = d;
    if (depth == 0) {
      finish(1);
      return;
    }
    auto self = eam::unchecked_typed_ref_cast<tree_ref>(context().self());
    context().spawn<tree_node>(depth - 1, self, done);
    context().spawn<tree_node>(depth - 1, self, done);
  }
  void handle_cast(count_up c) {
    sum += c.n;
    if (++reports == 2) finish(sum);
  }
  void finish(std::int64_t n) {
    if (parent)
      parent.cast(count_up{n});
    else
      done->set(n);
    context().stop();
  }
};

/// Spawns a binary tree of depth `depth` (2^(depth+1)-1 actors); returns the leaves counted (2^depth).
inline std::int64_t spawn_tree(actor_system& sys, int depth) {
  done_latch done;
  (void)sys.spawn<tree_node>(depth, tree_ref{}, &done);
  return done.wait();
}

// -- request/reply inside actors ----------------------------------------------------------------
struct request {
  std::int64_t v;
};
struct run_calls {
  std::int64_t n;
};

inline auto echo_server(actor_context&) {
  return behavior{[](request r) { return r.v; }};
}

/// `clients` actors each make `calls` sequential awaited calls to their own server; returns the
/// sum of all replies.
inline std::int64_t calls_inside(actor_system& sys, int clients, std::int64_t calls) {
  std::vector<done_latch> done(static_cast<std::size_t>(clients));
  std::vector<actor_ref> all;
  for (int c = 0; c < clients; ++c) {
    auto server = sys.spawn(echo_server);
    auto client = sys.spawn(
        [](actor_context&, typed_ref<std::int64_t(request)> to, done_latch* d) {
          return behavior{[to, d](run_calls r) -> task<> {
            std::int64_t sum = 0;
            for (std::int64_t i = 0; i < r.n; ++i) sum += (co_await to.call(request{1})).value();
            d->set(sum);
          }};
        },
        typed_ref<std::int64_t(request)>(server), &done[static_cast<std::size_t>(c)]);
    client.cast(run_calls{calls});
    all.push_back(server);
    all.push_back(client);
  }
  std::int64_t sum = 0;
  for (auto& d : done) sum += d.wait();
  for (auto& r : all) sys.stop(r);
  return sum;
}

/// `calls` blocking calls from this (non-worker) thread; returns the sum of the replies.
inline std::int64_t calls_outside(actor_system& sys, std::int64_t calls) {
  auto server = sys.spawn(echo_server);
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < calls; ++i) sum += server.call(request{1}).get().value();
  sys.stop(server);
  return sum;
}

}  // namespace eam::bench
