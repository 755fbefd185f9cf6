#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"

#include <array>
#include <atomic>
#include <thread>
#include <vector>

namespace {
struct item {
  int sender;
  int seq;
};
struct report {};
struct summary {
  long received = 0;
  bool in_order = true;
};
struct go {};

// The stealing test: tokens hop between relays `hops` times.
constexpr int relays = 200;
constexpr int tokens = 2000;
constexpr int hops = 20;

using sink_ref = eam::typed_ref<void(item), summary(report)>;

// Records the last sequence number seen from every sender.
auto sink(eam::actor_context& ctx, int senders) {
  struct state {
    std::vector<int> next;
    summary s;
  };
  auto& st = ctx.make_state<state>();
  st.next.assign(static_cast<std::size_t>(senders), 0);
  return eam::behavior{
      [&st](item m) {
        st.s.in_order = st.s.in_order && m.seq == st.next[static_cast<std::size_t>(m.sender)];
        st.next[static_cast<std::size_t>(m.sender)] = m.seq + 1;
        ++st.s.received;
      },
      [&st](report) { return st.s; },
  };
}

// Sends `total` numbered items in batches; between batches it casts itself `go`, so its turns
// end and other workers may steal it: the sender moves between threads mid-stream.
auto batch_sender(eam::actor_context& ctx, sink_ref to, int me, int total, int batch) {
  auto& next = ctx.make_state<int>(0);
  auto self = eam::typed_ref_cast<eam::typed_ref<void(go)>>(ctx.self()).value();
  return eam::behavior{[&next, to, me, total, batch, self](go) {
    for (int i = 0; i < batch && next < total; ++i) to.cast(item{me, next++});
    if (next < total) self.cast(go{});
  }};
}

void run_fifo_case(unsigned workers) {
  constexpr int actor_senders = 6;
  constexpr int thread_senders = 2;
  constexpr int per_sender = 20000;
  eam::actor_system system({.workers = workers, .throughput = 8});
  auto to = system.spawn(sink, actor_senders + thread_senders);
  std::vector<eam::typed_ref<void(go)>> senders;
  for (int s = 0; s < actor_senders; ++s) senders.push_back(system.spawn(batch_sender, sink_ref(to), s, per_sender, 7));
  for (auto& s : senders) s.cast(go{});
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_senders; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_sender; ++i) to.cast(item{actor_senders + t, i});
    });
  }
  for (auto& t : threads) t.join();
  const long expected = long{actor_senders + thread_senders} * per_sender;
  summary s;
  REQUIRE(eam::test::eventually([&] {
    s = to.call(report{}).get().value();
    return s.received >= expected;
  }));
  CHECK(s.received == expected);
  CHECK(s.in_order);
}

// One handler casts round robin to more receivers than the outbox keeps chains for (64), so
// receivers share chain slots and take them from each other; a run of 1 to 3 messages goes to
// each receiver in turn. Every receiver must see 0, 1, 2, ... and all of them.
void run_round_robin_case(unsigned workers) {
  struct burst {};
  static constexpr int receivers = 150;
  static constexpr int rounds = 40;
  static constexpr int bursts = 5;
  eam::actor_system system({.workers = workers});
  std::vector<sink_ref> pool;
  for (int r = 0; r < receivers; ++r) pool.push_back(system.spawn(sink, 1));
  auto sender = system.spawn([pool](eam::actor_context& ctx) {
    auto& next = ctx.make_state<std::vector<int>>(receivers, 0);
    return eam::behavior{[&next, pool](burst) {
      for (int round = 0; round < rounds; ++round)
        for (std::size_t r = 0; r < pool.size(); ++r)
          for (std::size_t k = 0; k <= (r + static_cast<std::size_t>(round)) % 3; ++k) pool[r].cast(item{0, next[r]++});
    }};
  });
  for (int b = 0; b < bursts; ++b) sender.cast(burst{});
  long expected = 0;  // what the sender's counters reach: the runs are 1, 2 or 3 long
  for (int round = 0; round < rounds; ++round)
    for (int r = 0; r < receivers; ++r) expected += 1 + (r + round) % 3;
  expected *= bursts;
  long received = 0;
  bool in_order = true;
  REQUIRE(eam::test::eventually([&] {
    received = 0;
    in_order = true;
    for (auto& p : pool) {
      const summary s = p.call(report{}).get().value();
      received += s.received;
      in_order = in_order && s.in_order;
    }
    return received >= expected;
  }));
  CHECK(received == expected);
  CHECK(in_order);
}
}  // namespace

TEST_SUITE("engine.cast") {
  TEST_CASE("messages from each sender arrive in order with 1 worker" * doctest::test_suite("concurrency")) {
    run_fifo_case(1);
  }
  TEST_CASE("messages from each sender arrive in order with 2 workers" * doctest::test_suite("concurrency")) {
    run_fifo_case(2);
  }
  TEST_CASE("messages from each sender arrive in order with 8 workers" * doctest::test_suite("concurrency")) {
    run_fifo_case(8);
  }

  TEST_CASE("under work stealing no message is lost or duplicated" * doctest::test_suite("concurrency")) {
    // Tokens hop through many relay actors spread over the workers; every token must reach the
    // collector exactly once.
    struct token {
      int id;
      int hops_left;
    };
    struct count {};
    eam::actor_system system({.workers = 4, .throughput = 4});
    auto collector = system.spawn([](eam::actor_context& ctx) {
      auto& seen = ctx.make_state<std::vector<int>>(tokens, 0);
      return eam::behavior{
          [&seen](token t) { ++seen[static_cast<std::size_t>(t.id)]; },
          [&seen](count) {
            int exactly_once = 0;
            for (int n : seen) exactly_once += n == 1;
            long total = 0;
            for (int n : seen) total += n;
            return std::pair<int, long>(exactly_once, total);
          },
      };
    });
    using relay_ref = eam::typed_ref<void(token), void(std::vector<eam::typed_ref<void(token)>>)>;
    std::vector<relay_ref> ring;
    for (int i = 0; i < relays; ++i) {
      ring.push_back(system.spawn([collector](eam::actor_context& ctx) {
        auto& next = ctx.make_state<std::vector<eam::typed_ref<void(token)>>>();
        return eam::behavior{
            [&next, collector](token t) {
              if (t.hops_left == 0) {
                collector.cast(t);
                return;
              }
              next[static_cast<std::size_t>(t.id) % next.size()].cast(token{t.id, t.hops_left - 1});
            },
            [&next](std::vector<eam::typed_ref<void(token)>> all) { next = std::move(all); },
        };
      }));
    }
    std::vector<eam::typed_ref<void(token)>> all(ring.begin(), ring.end());
    for (auto& r : ring) r.cast(all);
    // Each relay gets its peer list before any token: this thread sent the lists first, and a
    // forwarded token happens after the token that caused it.
    for (int i = 0; i < tokens; ++i) ring[static_cast<std::size_t>(i) % relays].cast(token{i, hops});
    std::pair<int, long> result;
    REQUIRE(eam::test::eventually([&] {
      result = collector.call(count{}).get().value();
      return result.second >= tokens;
    }));
    CHECK(result.first == tokens);
    CHECK(result.second == tokens);
  }
}

TEST_SUITE("engine.cast") {
  TEST_CASE("a handler casting round robin to 150 actors keeps each one's messages in order, 1 worker") {
    run_round_robin_case(1);
  }
  TEST_CASE("a handler casting round robin to 150 actors keeps each one's messages in order, 2 workers" *
            doctest::test_suite("concurrency")) {
    run_round_robin_case(2);
  }
  TEST_CASE("a handler that alternates between targets keeps each target's messages in order") {
    // A handler's sends to one target after its first are chained and pushed together, with a
    // chain pending for each target at once. Every receiver must still see 0, 1, 2, ... from
    // this sender.
    struct burst {};
    eam::actor_system system({.workers = 2});
    auto a = system.spawn(sink, 1);
    auto b = system.spawn(sink, 1);
    constexpr int rounds = 500;
    auto sender = system.spawn([a = sink_ref(a), b = sink_ref(b)](eam::actor_context& ctx) {
      auto& next = ctx.make_state<std::array<int, 2>>(std::array<int, 2>{0, 0});
      return eam::behavior{[&next, a, b](burst) {
        // A pattern of runs: a a a b a b b b b a ...
        for (int i = 0; i < rounds; ++i) {
          const bool to_a = (i % 7) < 3 || i % 11 == 0;
          auto& n = next[to_a ? 0 : 1];
          (to_a ? a : b).cast(item{0, n++});
        }
      }};
    });
    for (int i = 0; i < 20; ++i) sender.cast(burst{});
    summary sa, sb;
    REQUIRE(eam::test::eventually([&] {
      sa = a.call(report{}).get().value();
      sb = b.call(report{}).get().value();
      return sa.received + sb.received == 20 * rounds;
    }));
    CHECK(sa.in_order);
    CHECK(sb.in_order);
    CHECK(sa.received > 0);
    CHECK(sb.received > 0);
  }
}
