// The raw-threads baseline: the suite's message-passing workloads written without an actor
// library, one std::thread per actor and a mutex + condition-variable mailbox each, as a
// programmer would write them with the standard library. Only the workloads whose actor count
// a thread per actor can bear: ping-pong, counting, fork-join throughput, thread ring, fan-in.
//
// core-round-trip is not a suite row but a probe of the machine: two threads hand one flag back
// and forth through one cache line, the floor under any message that crosses between cores.
// tools/suite.py runs it at the start and the end of a run and reports it beside the rows; on
// a VM it moves with the host's placement of the virtual CPUs (130 to 610 ns on the one these
// figures came from), and so do the rows that cross cores on every message.
//
// Fan-in is the exception: its row is the limit an actor runtime's fan-in is held to, a raw
// lock-free MPSC queue (moodycamel's ConcurrentQueue, one producer token per sender) drained in
// batches by a receiver that spins while it is empty. A mutex + deque drained in batches, the
// standard-library version, ran at about the speed of libeam's actors (bench/README.md).
//
// mixed-case is the other: its 1,000 ring members would be 1,000 threads, so its row is the
// bound the factorisations set instead, the same factorisations on as many threads as the actor
// runtimes have workers and no token passed (libeam's hops cost 46 ns of CPU each run without
// the factorisations; each factorisation about a millisecond). No runtime can beat it.
#include "../common.hpp"
#include "../workload.hpp"

#include <concurrentqueue/concurrentqueue.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace {
using namespace eam::suite;

// A blocking mailbox. The receiver takes everything queued at once, which is how a thread
// program amortises its lock.
template <class T>
class mailbox {
 public:
  void push(T v) {
    bool was_empty;
    {
      std::lock_guard l(m_);
      was_empty = q_.empty();
      q_.push_back(std::move(v));
    }
    if (was_empty) cv_.notify_one();
  }
  void take_all(std::deque<T>& out) {
    std::unique_lock l(m_);
    cv_.wait(l, [&] { return !q_.empty(); });
    out.swap(q_);
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<T> q_;
};

outcome ping_pong(unsigned, const params& p) {
  const std::int64_t n = p["n"];
  mailbox<std::int64_t> to_ping, to_pong;
  std::int64_t games = 0;
  const double s = seconds_of([&] {
    std::thread pong([&] {
      std::deque<std::int64_t> batch;
      for (;;) {
        to_pong.take_all(batch);
        for (std::int64_t v : batch) {
          to_ping.push(v);
          if (v == 0) return;
        }
        batch.clear();
      }
    });
    std::deque<std::int64_t> batch;
    for (std::int64_t left = n - 1; left >= 0; --left) {
      to_pong.push(left);
      to_ping.take_all(batch);
      batch.clear();
    }
    pong.join();
    games = 1;
  });
  return checked(s, n, games, 1);
}
EAM_SUITE_WORKLOAD("ping-pong", ping_pong);

outcome counting(unsigned, const params& p) {
  const std::int64_t n = p["n"];
  mailbox<std::int64_t> counter_box;  // 1: increment, -1: report
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    std::thread counter([&] {
      std::deque<std::int64_t> batch;
      std::int64_t count = 0;
      for (;;) {
        counter_box.take_all(batch);
        for (std::int64_t v : batch) {
          if (v < 0) {
            got = count;
            return;
          }
          ++count;
        }
        batch.clear();
      }
    });
    std::thread producer([&] {
      for (std::int64_t i = 0; i < n; ++i) counter_box.push(1);
      counter_box.push(-1);
    });
    producer.join();
    counter.join();
  });
  return checked(s, n, got, n);
}
EAM_SUITE_WORKLOAD("counting", counting);

outcome fork_join_throughput(unsigned, const params& p) {
  const std::int64_t actors = p["actors"], n = p["n"];
  std::vector<std::unique_ptr<mailbox<double>>> boxes;
  for (std::int64_t a = 0; a < actors; ++a) boxes.push_back(std::make_unique<mailbox<double>>());
  std::atomic<std::int64_t> handled{0};
  const double s = seconds_of([&] {
    std::vector<std::thread> pool;
    for (auto& box : boxes)
      pool.emplace_back([&, b = box.get()] {
        std::deque<double> batch;
        std::int64_t seen = 0;
        double sum = 0;
        while (seen < n) {
          b->take_all(batch);
          for (double theta : batch) sum += fork_join_work(theta);
          seen += static_cast<std::int64_t>(batch.size());
          batch.clear();
        }
        handled.fetch_add(seen);
      });
    for (std::int64_t i = 0; i < n; ++i)
      for (auto& box : boxes) box->push(static_cast<double>(i));
    for (auto& t : pool) t.join();
  });
  return checked(s, actors * n, handled.load(), actors * n);
}
EAM_SUITE_WORKLOAD("fork-join-throughput", fork_join_throughput);

outcome thread_ring(unsigned, const params& p) {
  const std::int64_t actors = p["actors"], hops = p["hops"];
  std::vector<std::unique_ptr<mailbox<std::int64_t>>> boxes;
  for (std::int64_t a = 0; a < actors; ++a) boxes.push_back(std::make_unique<mailbox<std::int64_t>>());
  std::int64_t got = 0;
  const double s = seconds_of([&] {
    std::vector<std::thread> ring;
    for (std::int64_t a = 0; a < actors; ++a)
      ring.emplace_back([&, a] {
        auto& mine = *boxes[static_cast<std::size_t>(a)];
        auto& next = *boxes[static_cast<std::size_t>((a + 1) % actors)];
        std::deque<std::int64_t> batch;
        for (;;) {
          mine.take_all(batch);
          for (std::int64_t left : batch) {
            if (left < 0) {  // shutdown, passed on around the ring
              next.push(-1);
              return;
            }
            if (left == 0) {
              got = hops;
              next.push(-1);
              return;
            }
            next.push(left - 1);
          }
          batch.clear();
        }
      });
    boxes[0]->push(hops);
    for (auto& t : ring) t.join();
  });
  return checked(s, hops, got, hops);
}
EAM_SUITE_WORKLOAD("thread-ring", thread_ring);

outcome fan_in(unsigned, const params& p) {
  const std::int64_t senders = p["senders"], n = p["n"];
  moodycamel::ConcurrentQueue<std::int64_t> sink;
  std::int64_t sum = 0;
  const double s = seconds_of([&] {
    std::vector<std::thread> ts;
    for (std::int64_t t = 0; t < senders; ++t)
      ts.emplace_back([&] {
        moodycamel::ProducerToken token(sink);
        for (std::int64_t i = 0; i < n; ++i) sink.enqueue(token, 1);
      });
    constexpr std::size_t batch_size = 1024;
    std::vector<std::int64_t> batch(batch_size);
    std::int64_t seen = 0;
    while (seen < senders * n) {
      const std::size_t got = sink.try_dequeue_bulk(batch.begin(), batch_size);
      if (got == 0) {
        std::this_thread::yield();  // the senders share the cores with us
        continue;
      }
      for (std::size_t i = 0; i < got; ++i) sum += batch[i];
      seen += static_cast<std::int64_t>(got);
    }
    for (auto& t : ts) t.join();
  });
  return checked(s, senders * n, sum, senders * n);
}
EAM_SUITE_WORKLOAD("fan-in", fan_in);

outcome mixed_case(unsigned workers, const params& p) {
  const std::int64_t rings = p["rings"], jobs = p["jobs"], hops = p["hops"];
  std::atomic<std::int64_t> next_job{0}, right{0};
  // Read at every factorisation, as the actors read it from their message: a constant would let
  // the compiler factorise once.
  volatile std::uint64_t semiprime = mixed_case_semiprime;
  const double s = seconds_of([&] {
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < std::max(1u, workers); ++t)
      ts.emplace_back([&] {
        for (std::int64_t j = next_job.fetch_add(1); j < rings * jobs; j = next_job.fetch_add(1))
          if (smallest_factor(semiprime) == mixed_case_factor) right.fetch_add(1);
      });
    for (auto& t : ts) t.join();
  });
  // The actor versions' count: a report from each ring's token and from each factorisation.
  return checked(s, rings * hops, rings + right.load(), rings * (1 + jobs));
}
EAM_SUITE_WORKLOAD("mixed-case", mixed_case);

outcome core_round_trip(unsigned, const params& p) {
  const std::int64_t n = p["n"];
  alignas(64) std::atomic<std::int64_t> ball{0};  // odd: the echo thread's turn; even: ours
  std::int64_t returned = 0;
  // Both threads spin, as the two sides of a cross-core message do; a yield now and then lets
  // them through on a machine whose cores are taken.
  constexpr unsigned spins_per_yield = 1u << 16;
  const auto wait_for = [&](std::int64_t value) {
    for (unsigned spins = 1; ball.load(std::memory_order_acquire) != value; ++spins)
      if (spins % spins_per_yield == 0) std::this_thread::yield();
  };
  const double s = seconds_of([&] {
    std::thread echo([&] {
      for (std::int64_t i = 0; i < n; ++i) {
        wait_for(2 * i + 1);
        ball.store(2 * i + 2, std::memory_order_release);
      }
    });
    for (std::int64_t i = 0; i < n; ++i) {
      ball.store(2 * i + 1, std::memory_order_release);
      wait_for(2 * i + 2);
      ++returned;
    }
    echo.join();
  });
  return checked(s, n, returned, n);
}
EAM_SUITE_WORKLOAD("core-round-trip", core_round_trip);

}  // namespace
