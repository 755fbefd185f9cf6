// The cluster's frame decoder (cluster/src/frame.cpp) on its own: what the I/O thread of a
// receiving node spends per inbound item before the item reaches its actor. One I/O thread
// decodes everything a node receives, so this cost bounds a node's inbound rate however many
// workers it has. And the encoder: what a sending thread spends per cast on the wire format.
#include "frame.hpp"

#include <eam/cluster/wire.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace eam::cluster::internal;

// A one-field payload; Kind tells two wire types apart.
template <int Kind>
struct count {
  std::int64_t n = 0;
  MSGPACK_DEFINE(n);
};

template <int Kind>
const wire_type& count_type() {
  static const wire_type& t = []() -> const wire_type& {
    const std::string name = "frame_bench.count" + std::to_string(Kind);
    eam::cluster::register_message<count<Kind>>(name);
    return *find_wire_type(name);
  }();
  return t;
}

// Counts the casts and sums their payloads; any other item fails the benchmark.
class summing_visitor final : public frame_visitor {
 public:
  std::uint64_t casts = 0;
  std::int64_t sum = 0;

  void on_cast(std::uint64_t target, eam::message&& m) override {
    ++casts;
    if (const auto* c = m.get_if<count<0>>()) {
      sum += static_cast<std::int64_t>(target) + c->n;
    } else if (const auto* o = m.get_if<count<1>>()) {
      sum += static_cast<std::int64_t>(target) + o->n;
    } else {
      unexpected();
    }
  }
  void on_hello(hello&&) override { unexpected(); }
  void on_heartbeat() override { unexpected(); }
  void on_leave() override { unexpected(); }
  void on_call(std::uint64_t, std::uint64_t, eam::message&&) override { unexpected(); }
  void on_reply(std::uint64_t, eam::message&&) override { unexpected(); }
  void on_monitor(std::uint64_t) override { unexpected(); }
  void on_down(std::uint64_t, eam::exit_reason&&) override { unexpected(); }
  void on_moved(std::uint64_t, eam::actor_ref&&, std::string&&) override { unexpected(); }
  void on_exit(std::uint64_t, eam::actor_ref&&, eam::exit_reason&&) override { unexpected(); }
  void on_lookup(std::uint64_t, std::string&&, std::vector<wire_signature>&&) override { unexpected(); }
  void on_lookup_reply(std::uint64_t, std::uint64_t, std::string&&) override { unexpected(); }
  void on_cancel(std::uint64_t) override { unexpected(); }
  void on_demonitor(std::uint64_t) override { unexpected(); }
  void on_link(std::uint64_t, eam::actor_ref&&, bool) override { unexpected(); }
  void on_where(std::string&&, std::uint64_t) override { unexpected(); }
  void on_node_at(std::string&&, std::uint64_t, std::string&&) override { unexpected(); }
  void on_undecodable_payload(item_kind, std::uint64_t, std::string_view, std::string_view) override { unexpected(); }
  void on_unknown_type(item_kind, std::uint64_t, std::string_view) override { unexpected(); }

 private:
  [[noreturn]] static void unexpected() { throw std::logic_error("an item that is not a cast"); }
};

// A data frame of `items` casts, as a sender packs them: target i + 1, payload i, of one type
// or of two in turn.
frame_buffer cast_frame(std::int64_t items, bool two_types) {
  frame_buffer f;
  write_header(f, frame_kind::data);
  packer pk(f);
  for (std::int64_t i = 0; i < items; ++i) {
    const auto target = static_cast<std::uint64_t>(i) + 1;
    if (two_types && i % 2 == 1) {
      const count<1> c{i};
      pack_cast(pk, target, count_type<1>(), &c);
    } else {
      const count<0> c{i};
      pack_cast(pk, target, count_type<0>(), &c);
    }
  }
  return f;
}

// Decodes one frame of N casts per iteration (of one type, or of two in turn: a receiver
// of several senders' protocols); items/s is the decoder's inbound rate.
void decode_casts(benchmark::State& state, bool two_types) {
  const std::int64_t items = state.range(0);
  const frame_buffer f = cast_frame(items, two_types);
  const std::span bytes(reinterpret_cast<const std::byte*>(f.data()), f.size());
  const std::int64_t expected = items * (items + 1) / 2 + items * (items - 1) / 2;
  for (auto _ : state) {
    summing_visitor v;
    const decode_outcome out = decode_frame(bytes, v);
    if (out.bad || out.items != static_cast<std::size_t>(items) || v.sum != expected) {
      state.SkipWithError("the frame did not decode to its casts");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * items);
}
// Encodes N casts into one frame per iteration, as a sender does into its peer's buffer (the
// buffer keeps its memory, as a peer's frame being filled does): what a sending worker spends
// per cast on the wire format.
void BM_encode_casts(benchmark::State& state) {
  const std::int64_t items = state.range(0);
  frame_buffer f;
  for (auto _ : state) {
    f.truncate(0);
    write_header(f, frame_kind::data);
    packer pk(f);
    for (std::int64_t i = 0; i < items; ++i) {
      const count<0> c{i};
      pack_cast(pk, static_cast<std::uint64_t>(i) + 1, count_type<0>(), &c);
    }
    benchmark::DoNotOptimize(f.data());
  }
  state.SetItemsProcessed(state.iterations() * items);
}
BENCHMARK(BM_encode_casts)->ArgName("items")->Arg(1024);

void BM_decode_casts(benchmark::State& state) { decode_casts(state, false); }
void BM_decode_casts_of_two_types(benchmark::State& state) { decode_casts(state, true); }
BENCHMARK(BM_decode_casts)->ArgName("items")->Arg(1)->Arg(64)->Arg(1024);
BENCHMARK(BM_decode_casts_of_two_types)->ArgName("items")->Arg(1024);

}  // namespace

BENCHMARK_MAIN();
