// A worker's loop (engine/src/worker.hpp): where an actor goes when its turn ends.
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "worker.hpp"

#include <chrono>
#include <cstdint>
#include <future>

using namespace eam;

namespace {
struct item {
  std::int64_t v;
};
struct fill {
  std::int64_t n;
};
}  // namespace

TEST_SUITE("engine.worker") {
  TEST_CASE(
      "an actor that spends its budget with nothing else runnable runs on where it is: no idle worker is woken to take "
      "it") {
    // Sent to the back of its worker's queue, the actor was the one runnable actor there, and
    // the push woke the idle worker, which took it from the queue: it moved between the cores
    // and its worker parked (a fan-in's receiver with its senders waiting on it). Two workers
    // that always run; 10,000 turns of 100 messages.
    constexpr std::int64_t messages = 1'000'000;
    actor_system sys({.workers = 2, .adaptive_workers = false});
    std::promise<std::int64_t> moves;
    auto drainer = sys.spawn([&moves](actor_context& ctx) {
      struct state {
        std::int64_t handled = 0, moves = 0;
        unsigned last_worker = ~0u;
      };
      auto& st = ctx.make_state<state>();
      return behavior{[&st, &moves](item) {
        const unsigned w = internal::current_worker()->index();
        if (st.last_worker != ~0u && w != st.last_worker) ++st.moves;
        st.last_worker = w;
        if (++st.handled == messages) moves.set_value(st.moves);
      }};
    });
    auto feeder = sys.spawn([to = typed_ref<void(item)>(drainer)](actor_context&) {
      return behavior{[to](fill f) {
        for (std::int64_t i = 0; i < f.n; ++i) to.cast(item{i});
      }};
    });
    const auto start = std::chrono::steady_clock::now();
    feeder.cast(fill{messages});  // one turn: then the drainer is the only runnable actor
    const std::int64_t moved = moves.get_future().get();
    // Only the watch of a worker that finds this one ran no turn for a whole interval (10 ms)
    // while the actor sat in its slot takes it (worker.hpp): a loaded machine may stall a
    // worker that long, at most once per interval of the run. Before, the actor moved 35 to
    // 512 times in runs of about 40 ms (8 of 8 runs failed).
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(moved <= 1 + elapsed / std::chrono::milliseconds(10));
  }
}
