// Casts from actors to an actor of another node: two nodes in this process over 127.0.0.1, the
// senders on one (two workers), a counting receiver on the other. Each sender's handler casts
// `burst` messages to the receiver (and one to itself, for its next handler), so burst:1 takes
// the send path once per handler and longer bursts show what a handler's casts to one node cost
// together (held_casts.hpp). Timed from the first handler to the receiver's last count.
#include <eam/cluster/node.hpp>
#include <eam/cluster/wire.hpp>
#include <eam/eam.hpp>

#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <vector>

namespace {

using namespace std::chrono_literals;

struct item {
  std::uint64_t n = 0;
  MSGPACK_DEFINE(n);
};
// To a sender: `handlers` more handlers to run, each casting `burst` items. Each handler passes
// the rest on to its own actor, so the driver floods no mailbox.
struct bursts {
  std::uint64_t handlers;
  std::uint64_t burst;
};
using receiver_ref = eam::typed_ref<void(item)>;
using sender_ref = eam::typed_ref<void(bursts)>;

// The receiver's count, and the promise it keeps once `target` items have arrived.
struct tally {
  std::uint64_t count = 0;
  std::uint64_t target = 0;
  std::promise<void> all;
};

struct two_nodes {
  std::unique_ptr<eam::cluster::node> receiving, sending;
  std::shared_ptr<tally> counted = std::make_shared<tally>();
  receiver_ref receiver;

  two_nodes() {
    eam::cluster::register_message<item>("send_bench.item");
    eam::cluster::node_config config;
    config.cookie = std::nullopt;
    config.system.workers = 2;
    config.node_id = "send-bench-receiving";
    receiving = eam::cluster::start_node(config).value();
    receiving->system().spawn({.name = "receiver"}, [counted = counted](eam::actor_context&) {
      return eam::behavior{[counted](item) {
        if (++counted->count == counted->target) counted->all.set_value();
      }};
    });
    config.node_id = "send-bench-sending";
    config.seeds = {receiving->address()};
    sending = eam::cluster::start_node(config).value();
    if (!sending->wait_for_peer("send-bench-receiving", 30s)) throw std::runtime_error("the nodes did not connect");
    receiver = sending->whereis<receiver_ref>("send-bench-receiving", "receiver").value();
  }
  ~two_nodes() {
    sending->shutdown();
    receiving->shutdown();
  }
};

// CPU time of the whole process (both nodes, every thread), in nanoseconds.
double process_cpu_ns() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  const auto ns = [](const timeval& t) { return t.tv_sec * 1e9 + t.tv_usec * 1e3; };
  return ns(u.ru_utime) + ns(u.ru_stime);
}

// args: senders, burst (casts per handler). Each sender sends per_sender casts in all.
void BM_remote_casts_from_actors(benchmark::State& state) {
  const auto senders = static_cast<std::size_t>(state.range(0));
  const auto burst_length = static_cast<std::uint64_t>(state.range(1));
  constexpr std::uint64_t per_sender = 200'000;
  two_nodes nodes;
  std::vector<sender_ref> refs;
  for (std::size_t s = 0; s < senders; ++s)
    refs.push_back(eam::unchecked_typed_ref_cast<sender_ref>(
        nodes.sending->system().spawn([to = nodes.receiver](eam::actor_context& ctx) {
          return eam::behavior{[to, self = eam::unchecked_typed_ref_cast<sender_ref>(ctx.self())](bursts b) {
            for (std::uint64_t i = 0; i < b.burst; ++i) to.cast(item{i});
            if (b.handlers > 1) self.cast(bursts{b.handlers - 1, b.burst});
          }};
        })));
  const std::uint64_t handlers = per_sender / burst_length;
  const double cpu_before = process_cpu_ns();
  for (auto _ : state) {
    // The receiver is idle between rounds: its count and promise are set before any cast.
    nodes.counted->count = 0;
    nodes.counted->target = senders * handlers * burst_length;
    nodes.counted->all = std::promise<void>();
    auto all = nodes.counted->all.get_future();
    for (auto& r : refs) r.cast(bursts{handlers, burst_length});
    if (all.wait_for(120s) != std::future_status::ready) {
      state.SkipWithError("the receiver did not count every cast");
      break;
    }
  }
  const auto items = static_cast<double>(state.iterations() * senders * handlers * burst_length);
  state.SetItemsProcessed(static_cast<std::int64_t>(items));
  // Both nodes' threads: the senders' side, the I/O threads and the receiver.
  state.counters["cpu_ns_per_cast"] = (process_cpu_ns() - cpu_before) / items;
}
BENCHMARK(BM_remote_casts_from_actors)
    ->ArgNames({"senders", "burst"})
    ->Args({1, 1})
    ->Args({1, 16})
    ->Args({1, 256})
    ->Args({4, 1})
    ->Args({4, 16})
    ->Args({4, 256})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
