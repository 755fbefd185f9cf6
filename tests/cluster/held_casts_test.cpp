// A handler's casts to one node after its first are held on its thread and queued together
// (cluster/src/held_casts.hpp). Two nodes in this process over 127.0.0.1: what the sending
// actors' handlers cast must arrive whole and in each sender's order, before a call the same
// handler makes afterwards, in frames the receiver accepts, and a node gone before the handler
// ends must count what was held for it as dropped.
#include "test_actors.hpp"

#include "../support/eventually.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace eam::test::remote;
using eam::test::eventually;
using namespace std::chrono_literals;

namespace {

const std::string cookie = "a-test-cookie-of-enough-length";

#ifdef EAM_TEST_SANITIZED
constexpr std::uint64_t long_burst = 8'000;  // still past a batch's 64 KiB at 12 bytes a cast
#else
constexpr std::uint64_t long_burst = 20'000;
#endif

// Two nodes, `b` serving the test actors (sink, tally, ...).
struct two_nodes {
  std::atomic<bool> quit{false};
  std::unique_ptr<eam::cluster::node> b, a;

  explicit two_nodes(std::size_t max_frame_bytes = 16u << 20) {
    register_messages();
    eam::cluster::node_config config;
    config.cookie = cookie;
    config.system.workers = 2;
    config.max_frame_bytes = max_frame_bytes;
    config.node_id = "held-b";
    b = eam::cluster::start_node(config).value();
    spawn_test_actors(b->system(), quit);
    config.node_id = "held-a";
    config.seeds = {b->address()};
    a = eam::cluster::start_node(config).value();
    REQUIRE(a->wait_for_peer("held-b", 30s));
  }
  ~two_nodes() {
    a->shutdown();
    b->shutdown();
  }
};

// To a sender: cast `count` numbered casts to the tally in one handler.
struct burst {
  std::uint64_t count;
};
// To a sender: cast `count` casts, then call the tally in the same handler and keep its count.
struct burst_then_call {
  std::uint64_t count;
};

template <class M>
void cast_to(const eam::actor_ref& to, M m) {
  eam::message message = eam::message::of(std::move(m));
  REQUIRE(eam::send(to, message) == eam::cast_result::sent);
}

}  // namespace

TEST_SUITE("cluster.held_casts") {
  TEST_CASE(
      "casts that actors send many a handler all arrive, in each sender's order, and before the sender's later call") {
    two_nodes nodes;
    auto tally = nodes.a->whereis<tally_ref>("held-b", "tally").value();
    const std::uint64_t out_before = nodes.a->stats().messages_out;

    // One sender alone first: its call must find every cast the handler sent before it counted,
    // the held ones too (they are queued before the call: peer::enqueue_call).
    std::atomic<std::uint64_t> counted_at_call{0};
    auto lone = nodes.a->system().spawn([&counted_at_call, tally](eam::actor_context&) {
      return eam::behavior{
          [&counted_at_call, tally, n = std::make_shared<std::uint64_t>(0)](burst_then_call b) -> eam::task<void> {
            for (std::uint64_t i = 0; i < b.count; ++i) tally.cast(tagged{99, (*n)++});
            auto r = co_await tally.call(get_tally{}, 30s);
            counted_at_call = r ? r.value().count : 0;
          }};
    });
    cast_to(lone, burst_then_call{100});
    REQUIRE(eventually([&] { return counted_at_call.load() != 0; }, 30s));
    CHECK(counted_at_call.load() == 100);

    // Then four senders at once on two workers, bursts short and long (past one batch).
    constexpr std::uint32_t senders = 4;
    const std::vector<std::uint64_t> bursts{1, 2, 3, long_burst, 1, 64, 7, long_burst / 3};
    std::uint64_t per_sender = 0;
    for (const auto n : bursts) per_sender += n;
    std::vector<eam::actor_ref> refs;
    for (std::uint32_t s = 0; s < senders; ++s)
      refs.push_back(nodes.a->system().spawn([tally, s](eam::actor_context&) {
        return eam::behavior{[tally, s, n = std::make_shared<std::uint64_t>(0)](burst b) {
          for (std::uint64_t i = 0; i < b.count; ++i) tally.cast(tagged{s, (*n)++});
        }};
      }));
    for (const auto n : bursts)
      for (auto& r : refs) cast_to(r, burst{n});

    // Nothing more is sent: every held cast must leave by itself when its handler ends.
    const std::uint64_t expected = 100 + senders * per_sender;
    sink_state state;
    const bool all = eventually(
        [&] {
          state = tally.call(get_tally{}, 30s).get().value();
          return state.count >= expected;
        },
        60s);
    CHECK(all);
    CHECK(state.count == expected);
    CHECK(state.in_order);
    CHECK(state.sum == 100 * 99 / 2 + senders * (per_sender * (per_sender - 1) / 2));
    CHECK(nodes.a->stats().messages_out - out_before >= expected + 1);  // the held casts are counted too
    CHECK(nodes.b->stats().bad_frames == 0);
    CHECK(nodes.a->stats().dropped_casts == 0);
  }

  TEST_CASE("casts are cut into frames the receiver accepts, and one too large for any frame is dropped and counted") {
    // 4 KiB frames on both sides and 1.5 KB casts: two fit a frame. Queued as one batch, a
    // handler's casts made a frame the receiver counted as bad and lost. From a plain thread,
    // a cast that found the frame being filled too full to take it was refused (dropped) where
    // it fitted a frame of its own.
    two_nodes nodes(4096);
    auto sink = nodes.a->whereis<sink_ref>("held-b", "sink").value();
    const std::string padding(1500, 'p');
    for (std::uint64_t i = 0; i < 200; ++i) sink.cast(seq{i, padding});
    CHECK(sink.call(get_sink{}, 30s).get().value().count == 200);  // behind the casts on the connection
    CHECK(nodes.a->stats().dropped_casts == 0);

    struct go {};
    auto sender = nodes.a->system().spawn([sink](eam::actor_context&) {
      return eam::behavior{[sink](go) {
        const std::string padding(1500, 'p');
        for (std::uint64_t i = 200; i < 400; ++i) sink.cast(seq{i, padding});
        sink.cast(seq{400, std::string(5000, 'x')});  // larger than a frame: refused at the send
        sink.cast(seq{400, padding});
      }};
    });
    cast_to(sender, go{});
    sink_state state;
    const bool all = eventually(
        [&] {
          state = sink.call(get_sink{}, 30s).get().value();
          return state.count >= 401;
        },
        60s);
    CHECK(all);
    CHECK(state.count == 401);
    CHECK(state.in_order);
    CHECK(nodes.b->stats().bad_frames == 0);
    CHECK(nodes.a->stats().dropped_casts == 1);
  }

  TEST_CASE("casts held for a node that goes away before the handler ends are counted as dropped") {
    two_nodes nodes;
    auto sink = nodes.a->whereis<sink_ref>("held-b", "sink").value();
    std::atomic<bool> cast{false}, gone_seen{false};
    struct go {};
    auto sender = nodes.a->system().spawn([&, sink](eam::actor_context&) {
      return eam::behavior{[&, sink](go) {
        sink.cast(seq{0, {}});  // leaves at once
        sink.cast(seq{1, {}});  // held until this handler ends
        sink.cast(seq{2, {}});
        cast = true;
        // Holds its worker until this node has seen the other go (bounded).
        gone_seen = eventually([&] { return nodes.a->peers().empty(); }, 30s);
      }};
    });
    cast_to(sender, go{});
    REQUIRE(eventually([&] { return cast.load(); }, 30s));
    nodes.b->shutdown();
    CHECK(eventually([&] { return nodes.a->stats().dropped_casts >= 2; }, 30s));
    CHECK(gone_seen.load());
    CHECK(nodes.a->stats().dropped_casts == 2);
  }
}
