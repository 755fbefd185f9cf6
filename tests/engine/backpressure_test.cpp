// Back-pressure between actors (engine/src/mute_table.hpp): a turn's budget counts what it
// sends, and actors that keep sending to an actor behind on its mailbox wait until it catches
// up. The bounds below are orders of magnitude apart from what they were without it, and the
// runs that check them use one worker, where the order of turns does not depend on timing.
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

using namespace eam;

namespace {
struct item {
  std::int64_t v;
};
struct go {};

// A sender that casts `per_step` items to `to` per step and sends itself the next step, as a
// producer written as a loop of steps does; `finished` is incremented after the last step.
actor_ref spawn_stepping_sender(actor_system& sys, typed_ref<void(item)> to, std::int64_t steps,
                                std::int64_t per_step, std::atomic<std::int64_t>* sent,
                                std::atomic<int>* finished) {
  auto sender = sys.spawn([to, steps, per_step, sent, finished](actor_context& ctx) {
    auto& done_steps = ctx.make_state<std::int64_t>(0);
    auto self = unchecked_typed_ref_cast<typed_ref<void(go)>>(ctx.self());
    return behavior{[&done_steps, to, steps, per_step, sent, finished, self](go) {
      for (std::int64_t i = 0; i < per_step; ++i) {
        sent->fetch_add(1, std::memory_order_relaxed);
        to.cast(item{1});
      }
      if (++done_steps < steps)
        self.cast(go{});
      else
        finished->fetch_add(1, std::memory_order_relaxed);
    }};
  });
  typed_ref<void(go)>(sender).cast(go{});
  return sender;
}

// A sink that counts what it receives and the most items ever sent to it and not yet handled
// (`sent` is counted by the senders before each cast).
auto spawn_in_flight_sink(actor_system& sys, std::atomic<std::int64_t>& sent, std::atomic<std::int64_t>& received,
                          std::atomic<std::int64_t>& most_in_flight) {
  return sys.spawn([&](actor_context&) {
    return behavior{[&](item it) {
      const std::int64_t got = received.fetch_add(it.v, std::memory_order_relaxed) + it.v;
      const std::int64_t in_flight = sent.load(std::memory_order_relaxed) - got;
      if (in_flight > most_in_flight.load(std::memory_order_relaxed))
        most_in_flight.store(in_flight, std::memory_order_relaxed);
    }};
  });
}

// Holds a one-worker system's only worker in a turn until let_go() (or its end), so that all
// the test queues meanwhile is there when the worker next looks: the turns that follow do not
// depend on how fast the test's thread is. Declared after the system, so that it lets go first.
class worker_hold {
 public:
  explicit worker_hold(actor_system& sys) : flags_(std::make_shared<flags>()) {
    typed_ref<void(go)> blocker(sys.spawn([f = flags_](actor_context&) {
      return behavior{[f](go) {
        f->held.store(true);
        while (!f->released.load()) std::this_thread::yield();
      }};
    }));
    blocker.cast(go{});
    const bool held = test::eventually([this] { return flags_->held.load(); });
    if (!held) let_go();
    REQUIRE(held);
  }
  worker_hold(const worker_hold&) = delete;
  worker_hold& operator=(const worker_hold&) = delete;
  ~worker_hold() { let_go(); }
  void let_go() { flags_->released.store(true); }

 private:
  struct flags {
    std::atomic<bool> held{false}, released{false};
  };
  std::shared_ptr<flags> flags_;
};
}  // namespace

TEST_SUITE("engine.backpressure") {
  TEST_CASE("a receiver fed by many busy senders is not buried: they wait while it catches up") {
    constexpr int senders = 20;
    constexpr std::int64_t steps = 100, per_step = 1000, total = senders * steps * per_step;
    std::atomic<std::int64_t> sent{0}, received{0}, most_in_flight{0};
    std::atomic<int> finished{0};
    {
      actor_system sys({.workers = 1});
      auto sink = spawn_in_flight_sink(sys, sent, received, most_in_flight);
      std::vector<actor_ref> all;
      for (int s = 0; s < senders; ++s)
        all.push_back(spawn_stepping_sender(sys, typed_ref<void(item)>(sink), steps, per_step, &sent, &finished));
      REQUIRE(test::eventually([&] { return received.load() == total; }, std::chrono::seconds(60)));
    }
    CHECK(finished.load() == senders);
    // Each sender queues one step while the sink is behind, then waits: about senders x
    // per_step (20,000). Without back-pressure a sender's turn ran 100 steps and the sink got
    // one turn in 21: nearly all 2,000,000 were queued at once.
    CHECK(most_in_flight.load() < 100'000);
  }

  TEST_CASE("a turn ends once it has sent four times its budget, so what it sent gets handled") {
    std::atomic<std::int64_t> received{0}, seen_before_second{-1};
    {
      actor_system sys({.workers = 1, .throughput = 100});
      auto sink = sys.spawn([&](actor_context&) {
        return behavior{[&](item) { received.fetch_add(1, std::memory_order_relaxed); }};
      });
      typed_ref<void(item)> to(sink);
      auto producer = sys.spawn([&, to](actor_context& ctx) {
        auto& steps = ctx.make_state<int>(0);
        return behavior{[&, to](go) {
          if (++steps == 2) seen_before_second.store(received.load(std::memory_order_relaxed));
          for (int i = 0; i < 1000; ++i) to.cast(item{1});
        }};
      });
      // Both steps queued before the producer runs: one turn could take both. Cast one after
      // the other to a running worker, the second could arrive after that turn and be taken
      // from the global queue ahead of the sink (the worker looks there first every few turns).
      typed_ref<void(go)> p(producer);
      worker_hold hold(sys);
      p.cast(go{});
      p.cast(go{});
      hold.let_go();
      REQUIRE(test::eventually([&] { return received.load() == 2000; }));
    }
    // 1,000 sends are past 4 x 100: the turn ended after the first step, and the sink ran
    // (it was next, in the LIFO slot) before the second. Before, the second step ran in the
    // same turn and the sink had handled nothing.
    CHECK(seen_before_second.load() >= 100);
  }

  TEST_CASE("actors muted on a receiver go on when it stops") {
    constexpr int senders = 20;
    std::atomic<std::int64_t> sent{0}, received{0};
    std::atomic<int> finished{0};
    {
      actor_system sys({.workers = 1});
      auto sink = sys.spawn([&](actor_context& ctx) {
        return behavior{[&](item) {
          if (received.fetch_add(1, std::memory_order_relaxed) + 1 == 30'000) ctx.stop();
        }};
      });
      for (int s = 0; s < senders; ++s)
        (void)spawn_stepping_sender(sys, typed_ref<void(item)>(sink), 20, 1000, &sent, &finished);
      // The sink stops while behind, with senders muted on it; its end lets them go, and the
      // rest of what they send is dropped.
      CHECK(test::eventually([&] { return finished.load() == senders; }));
    }
    CHECK(sent.load() == senders * 20 * 1000);
    CHECK(received.load() == 30'000);
  }

  TEST_CASE("an actor behind on its own mailbox still waits for a receiver it buries") {
    // A relay with a long backlog sends two items per item it handles, so its receiver falls
    // behind at the rate the relay catches up. Being behind itself once exempted the relay from
    // waiting: the receiver's backlog grew to the relay's whole output (sleeping-barber's retry
    // storm, where the factory, behind on its returned customers, buried the waiting room and
    // the barber's next_please waited behind every retry).
    constexpr std::int64_t backlog = 100'000;
    std::atomic<std::int64_t> sent{0}, received{0}, most_in_flight{0};
    {
      actor_system sys({.workers = 1});
      auto sink = spawn_in_flight_sink(sys, sent, received, most_in_flight);
      typed_ref<void(item)> to(sink);
      typed_ref<void(item)> relay(sys.spawn([&, to](actor_context&) {
        return behavior{[&, to](item) {
          sent.fetch_add(2, std::memory_order_relaxed);
          to.cast(item{1});
          to.cast(item{1});
        }};
      }));
      // The relay's first turn finds the whole backlog queued, so every run takes the same turns.
      worker_hold hold(sys);
      for (std::int64_t i = 0; i < backlog; ++i) relay.cast(item{1});
      hold.let_go();
      REQUIRE(test::eventually([&] { return received.load() == 2 * backlog; }, std::chrono::seconds(60)));
    }
    // The relay waits once the sink is behind: 299 waited at once at most. Before, the sink got
    // one turn of 100 per 200 the relay sent, and 100,099 waited at once.
    CHECK(most_in_flight.load() < 10'000);
  }

  TEST_CASE("actors flooding each other in a ring all finish") {
    // Each is behind on its mailbox and buries the next one: a muted actor that others wait on
    // must never wait on one of them in turn (mute_table.hpp).
    for (const int ring : {2, 3}) {
      for (const unsigned workers : {1u, 2u}) {
        CAPTURE(ring);
        CAPTURE(workers);
        std::atomic<std::int64_t> sent{0}, received{0};
        std::atomic<int> finished{0};
        constexpr std::int64_t steps = 200, per_step = 1000;
        {
          actor_system sys({.workers = workers});
          // Each is both a stepping sender and the previous one's receiver.
          auto make = [&](actor_context& ctx) {
            auto& state = ctx.make_state<std::pair<std::int64_t, typed_ref<void(item)>>>();
            auto self = unchecked_typed_ref_cast<typed_ref<void(go)>>(ctx.self());
            return behavior{
                [&state](typed_ref<void(item)> next) { state.second = next; },
                [&received](item it) { received.fetch_add(it.v, std::memory_order_relaxed); },
                [&state, &sent, &finished, self](go) {
                  for (std::int64_t i = 0; i < per_step; ++i) {
                    sent.fetch_add(1, std::memory_order_relaxed);
                    state.second.cast(item{1});
                  }
                  if (++state.first < steps)
                    self.cast(go{});
                  else
                    finished.fetch_add(1, std::memory_order_relaxed);
                },
            };
          };
          using peer_ref = typed_ref<void(typed_ref<void(item)>), void(item), void(go)>;
          std::vector<peer_ref> peers;
          for (int i = 0; i < ring; ++i) peers.emplace_back(sys.spawn(make));
          for (int i = 0; i < ring; ++i) peers[i].cast(typed_ref<void(item)>(peers[(i + 1) % ring]));
          for (auto& p : peers) p.cast(go{});
          CHECK(test::eventually([&] { return received.load() == ring * steps * per_step; },
                                 std::chrono::seconds(60)));
        }
        CHECK(finished.load() == ring);
        CHECK(sent.load() == ring * steps * per_step);
      }
    }
  }
}
