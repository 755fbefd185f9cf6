// Actor hot paths on a live system: cast throughput, ping-pong, fan-in (also on two workers that
// always run, and with a telemetry handler attached), fan-out across two workers, timers armed and cancelled on one and
// two workers, calls from outside (one thread and
// several at once) and inside actors,
// spawn + stop, one actor watching many, the 2^20 spawn tree, the bytes an idle actor costs, an idle system's CPU, a
// rescue after idling and one while busy, how late an awaited timeout fires when idle, and the CPU of a program
// woken every few milliseconds. Workloads come from bench/workloads/eam_workloads.hpp and verify their own results.
#include <benchmark/benchmark.h>

#include "../workloads/eam_workloads.hpp"

#include <eam/engine/telemetry.hpp>

#include <fstream>
#include <malloc.h>
#include <string>
#include <thread>
#include <sys/resource.h>
#include <unistd.h>

namespace {
using namespace eam::bench;

eam::system_config config_for(const benchmark::State& st) {
  return {.workers = static_cast<unsigned>(st.range(0))};
}

void check(benchmark::State& st, std::int64_t got, std::int64_t want) {
  if (got != want) st.SkipWithError(("wrong result: " + std::to_string(got) + " != " + std::to_string(want)).c_str());
}

// Casts from `threads` outside threads into one actor, until it has counted them all.
void BM_cast_throughput(benchmark::State& st) {
  const int threads = static_cast<int>(st.range(1));
  constexpr std::int64_t per_thread = 200'000;
  eam::actor_system sys(config_for(st));
  for (auto _ : st) {
    done_latch done;
    const std::int64_t expect = threads * per_thread;
    auto sink = sys.spawn(
        [](eam::actor_context& ctx, done_latch* d, std::int64_t n) {
          auto& count = ctx.make_state<std::int64_t>(0);
          return eam::behavior{[&count, d, n](tick) {
            if (++count == n) d->set(count);
          }};
        },
        &done, expect);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&] {
        for (std::int64_t i = 0; i < per_thread; ++i) sink.cast(tick{1});
      });
    for (auto& t : ts) t.join();
    check(st, done.wait(), expect);
    sys.stop(sink);
  }
  st.SetItemsProcessed(st.iterations() * threads * per_thread);
}
BENCHMARK(BM_cast_throughput)->ArgsProduct({{1, 2}, {1, 2}})->ArgNames({"workers", "threads"})->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ping_pong(benchmark::State& st) {
  constexpr std::int64_t round_trips = 500'000;
  eam::actor_system sys(config_for(st));
  for (auto _ : st) check(st, ping_pong(sys, round_trips), 1);
  st.SetItemsProcessed(st.iterations() * round_trips);
  st.counters["round_trips/s"] = benchmark::Counter(static_cast<double>(st.iterations() * round_trips), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ping_pong)->Arg(1)->Arg(2)->ArgName("workers")->UseRealTime()->Unit(benchmark::kMillisecond);

// 20 senders casting `per_sender` messages each into one actor, on `sys`.
void run_fan_in(benchmark::State& st, eam::actor_system& sys, std::int64_t per_sender) {
  constexpr int senders = 20;
  for (auto _ : st) check(st, fan_in(sys, senders, per_sender), senders * per_sender);
  st.SetItemsProcessed(st.iterations() * senders * per_sender);
}

void BM_fan_in(benchmark::State& st) {
  eam::actor_system sys(config_for(st));
  run_fan_in(st, sys, st.range(1));
}
BENCHMARK(BM_fan_in)->Args({2, 1'000'000})->ArgNames({"workers", "per_sender"})->UseRealTime()->Unit(benchmark::kMillisecond);

// Fan-in on 2 workers that always run (no adaptive count), as a program gets whose other work
// keeps both workers busy: the senders run on both workers, and most messages are written on
// one core and read on the other (engine/README.md, "Fan-in spread over two workers").
// The adaptive count keeps this workload on one worker; this row tracks the spread case.
void BM_fan_in_across_workers(benchmark::State& st) {
  eam::actor_system sys({.workers = 2, .adaptive_workers = false});
  run_fan_in(st, sys, st.range(0));
}
BENCHMARK(BM_fan_in_across_workers)->Arg(100'000)->ArgName("per_sender")->UseRealTime()->Unit(benchmark::kMillisecond);

// Fan-in (20 senders, 100,000 messages each) on 2 workers that always run, with one telemetry
// handler attached: to actor_spawn, which no message emits (observed:0, where messages should
// cost what they cost with no handler), or to handle_cast.stop, which every message emits
// (observed:1, from both workers at once).
void BM_fan_in_with_telemetry(benchmark::State& st) {
  namespace events = eam::telemetry::events;
  const bool observed = st.range(0) != 0;
  std::atomic<std::int64_t> seen{0};
  eam::telemetry::attach(
      "bench", {observed ? events::handle_cast_stop : events::actor_spawn},
      [&seen](std::string_view, const auto&, const auto&) { seen.fetch_add(1, std::memory_order_relaxed); });
  {
    eam::actor_system sys({.workers = 2, .adaptive_workers = false});
    run_fan_in(st, sys, 100'000);
  }
  eam::telemetry::detach("bench");
  st.counters["handler_calls"] = static_cast<double>(seen.load());
}
BENCHMARK(BM_fan_in_with_telemetry)->Arg(0)->Arg(1)->ArgName("observed")->UseRealTime()->Unit(benchmark::kMillisecond);

// Two workers that always run (no adaptive count): the receivers run on the worker the driver
// does not, so every message is allocated on one worker and freed on the other (the envelope
// blocks recycled between workers, engine/src/envelope_cache.hpp).
void BM_fan_out_across_workers(benchmark::State& st) {
  constexpr int receivers = 60;
  const std::int64_t rounds = st.range(0);
  eam::actor_system sys({.workers = 2, .adaptive_workers = false});
  for (auto _ : st) check(st, fan_out(sys, receivers, rounds), receivers * rounds);
  st.SetItemsProcessed(st.iterations() * receivers * rounds);
}
BENCHMARK(BM_fan_out_across_workers)->Arg(20'000)->ArgName("rounds")->UseRealTime()->Unit(benchmark::kMillisecond);

// 20 actors at once, each arming 100,000 timers an hour away and cancelling each at once (a
// request timeout that its answer beats), on W workers that always run: per arm and cancel.
// Each actor's timers go to the timer heap its id picks (engine/src/timer_service.hpp).
void BM_timers_across_workers(benchmark::State& st) {
  struct arm_and_cancel {
    std::int64_t n;
    std::atomic<std::int64_t>* left;
    done_latch* done;
  };
  struct never_fires {};
  constexpr int actors = 20;
  constexpr std::int64_t per_actor = 100'000;
  eam::actor_system sys({.workers = static_cast<unsigned>(st.range(0)), .adaptive_workers = false});
  std::vector<eam::typed_ref<void(arm_and_cancel)>> timers;
  for (int a = 0; a < actors; ++a)
    timers.push_back(sys.spawn([](eam::actor_context& ctx) {
      return eam::behavior{[&ctx](arm_and_cancel r) {
                             std::int64_t cancelled = 0;
                             for (std::int64_t i = 0; i < r.n; ++i)
                               cancelled +=
                                   ctx.cancel_timer(ctx.send_after(never_fires{}, std::chrono::hours(1))) ? 1 : 0;
                             if (r.left->fetch_sub(1) == 1) r.done->set(cancelled);
                           },
                           [](never_fires) {}};
    }));
  for (auto _ : st) {
    std::atomic<std::int64_t> left{actors};
    done_latch done;
    for (auto& t : timers) t.cast(arm_and_cancel{per_actor, &left, &done});
    check(st, done.wait(), per_actor);  // the last actor's count: every timer it armed was still armed
  }
  st.SetItemsProcessed(st.iterations() * actors * per_actor);
}
BENCHMARK(BM_timers_across_workers)->Arg(1)->Arg(2)->ArgName("workers")->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_call_outside(benchmark::State& st) {
  constexpr std::int64_t calls = 100'000;
  eam::actor_system sys(config_for(st));
  for (auto _ : st) check(st, calls_outside(sys, calls), calls);
  st.SetItemsProcessed(st.iterations() * calls);
}
BENCHMARK(BM_call_outside)->Arg(1)->Arg(2)->ArgName("workers")->UseRealTime()->Unit(benchmark::kMillisecond);

// T program threads, each making 100 k sequential blocking calls to its own actor, at once, on
// 2 workers. Each call runs its idle target's turn on the calling thread; the turns of
// different threads share no line (the caller-turn gate has a slot per thread, round robin).
void BM_calls_outside_threads(benchmark::State& st) {
  constexpr std::int64_t calls = 100'000;
  const int threads = static_cast<int>(st.range(0));
  eam::actor_system sys({.workers = 2});
  for (auto _ : st) {
    std::vector<std::int64_t> sums(static_cast<std::size_t>(threads));
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&sys, &sums, t] { sums[static_cast<std::size_t>(t)] = calls_outside(sys, calls); });
    for (auto& t : ts) t.join();
    for (const std::int64_t sum : sums) check(st, sum, calls);
  }
  st.SetItemsProcessed(st.iterations() * threads * calls);
}
BENCHMARK(BM_calls_outside_threads)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_call_inside(benchmark::State& st) {
  constexpr std::int64_t calls = 200'000;
  const int clients = static_cast<int>(st.range(0));
  eam::actor_system sys(config_for(st));
  for (auto _ : st) check(st, calls_inside(sys, clients, calls), clients * calls);
  st.SetItemsProcessed(st.iterations() * clients * calls);
}
BENCHMARK(BM_call_inside)->Arg(1)->Arg(2)->ArgName("workers")->UseRealTime()->Unit(benchmark::kMillisecond);

// Spawn an actor, let it initialise, stop it: one at a time, from outside.
void BM_spawn_stop(benchmark::State& st) {
  eam::actor_system sys(config_for(st));
  constexpr int batch = 10'000;
  for (auto _ : st) {
    for (int i = 0; i < batch; ++i) sys.stop(sys.spawn(echo_server));
    while (sys.actor_count() != 0) std::this_thread::yield();
  }
  st.SetItemsProcessed(st.iterations() * batch);
}
BENCHMARK(BM_spawn_stop)->Arg(1)->Arg(2)->ArgName("workers")->UseRealTime()->Unit(benchmark::kMillisecond);

// One actor watching `watched` others that all stop: spawn, watch, stop and down per watched
// actor. The time per actor stays flat from 1,024 to 65,536 only while an actor's watches are
// found and erased in constant time (engine/src/keyed_vector.hpp; a vector erased in place
// made one watcher of 80,000 take 20 s).
void BM_watch_many(benchmark::State& st) {
  struct watch_all {
    std::vector<eam::actor_ref> targets;
  };
  const auto watched = static_cast<std::size_t>(st.range(0));
  eam::actor_system sys({.workers = 1});
  for (auto _ : st) {
    done_latch done;
    std::vector<eam::actor_ref> targets;
    targets.reserve(watched);
    for (std::size_t i = 0; i < watched; ++i) targets.push_back(sys.spawn(echo_server));
    auto watcher = sys.spawn([&done, watched](eam::actor_context& ctx) {
      auto& downs = ctx.make_state<std::size_t>(0);
      return eam::behavior{[&ctx](const watch_all& w) {
                             for (const auto& t : w.targets) {
                               ctx.watch(t);
                               ctx.stop(t);
                             }
                           },
                           [&downs, &done, watched](const eam::down&) {
                             if (++downs == watched) done.set(static_cast<std::int64_t>(downs));
                           }};
    });
    watcher.cast(watch_all{std::move(targets)});
    check(st, done.wait(), static_cast<std::int64_t>(watched));
    sys.stop(watcher);
    while (sys.actor_count() != 0) std::this_thread::yield();
  }
  st.SetItemsProcessed(st.iterations() * static_cast<std::int64_t>(watched));
}
BENCHMARK(BM_watch_many)->Arg(1024)->Arg(65536)->ArgName("watched")->UseRealTime()->Unit(benchmark::kMillisecond);

// One actor watching one other `watches` times, as a monitor per request does: all the
// watches, then all the unwatches, oldest first. Per watch: a watch and an unwatch. Flat from
// 1,024 to 65,536 only while a watch is erased from its target's group in constant time (a
// multimap walked the group: 180 us an unwatch at 65,536).
void BM_watch_one_target(benchmark::State& st) {
  struct watch_and_forget {
    eam::actor_ref target;
  };
  const auto watches = static_cast<std::size_t>(st.range(0));
  eam::actor_system sys({.workers = 1});
  const auto target = sys.spawn(echo_server);
  for (auto _ : st) {
    done_latch done;
    auto watcher = sys.spawn([&done, watches](eam::actor_context& ctx) {
      return eam::behavior{[&ctx, &done, watches](const watch_and_forget& w) {
        std::vector<eam::watch_ref> refs;
        refs.reserve(watches);
        for (std::size_t i = 0; i < watches; ++i) refs.push_back(ctx.watch(w.target));
        for (const auto& r : refs) ctx.unwatch(r);
        done.set(static_cast<std::int64_t>(refs.size()));
      }};
    });
    watcher.cast(watch_and_forget{target});
    check(st, done.wait(), static_cast<std::int64_t>(watches));
    sys.stop(watcher);
    while (sys.actor_count() != 1) std::this_thread::yield();
  }
  st.SetItemsProcessed(st.iterations() * static_cast<std::int64_t>(watches));
}
BENCHMARK(BM_watch_one_target)->Arg(1024)->Arg(65536)->ArgName("watches")->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_spawn_tree(benchmark::State& st) {
  const int depth = static_cast<int>(st.range(1));
  eam::actor_system sys(config_for(st));
  for (auto _ : st) {
    check(st, spawn_tree(sys, depth), std::int64_t{1} << depth);
    while (sys.actor_count() != 0) std::this_thread::yield();
  }
  st.SetItemsProcessed(st.iterations() * ((std::int64_t{2} << depth) - 1));  // actors spawned
}
BENCHMARK(BM_spawn_tree)->Args({2, 20})->ArgNames({"workers", "depth"})->UseRealTime()->Unit(benchmark::kMillisecond);

long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// Resident memory per idle actor (cell, mailbox, behavior), measured over a million actors.
void BM_idle_actor_bytes(benchmark::State& st) {
  constexpr int actors = 1'000'000;
  eam::actor_system sys({.workers = 1});
  std::vector<eam::typed_ref<std::int64_t(request)>> refs;
  refs.reserve(actors);
  double per_actor = 0, allocated = 0;
  for (auto _ : st) {
    const long before = resident_bytes();
    for (int i = 0; i < actors; ++i) refs.push_back(sys.spawn(echo_server));
    (void)refs.back().call(request{1}).get();  // the last one has run init: all have (FIFO)
    per_actor = static_cast<double>(resident_bytes() - before) / actors;
    allocated = static_cast<double>(malloc_usable_size(refs.back().cell()));
    st.PauseTiming();
    for (auto& r : refs) sys.stop(r);
    refs.clear();
    while (sys.actor_count() != 0) std::this_thread::yield();
    st.ResumeTiming();
  }
  // Resident growth over the million (the allocator may reuse pages an earlier benchmark
  // freed, so run this one alone for the true figure) and the block one actor occupies.
  st.counters["rss_bytes_per_actor"] = per_actor;
  st.counters["allocated_bytes_per_actor"] = allocated;
}
BENCHMARK(BM_idle_actor_bytes)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
// User + system CPU of the whole process so far, in microseconds.
double process_cpu_us() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}
// CPU an idle system burns: two parked workers, measured over one second of wall time.
void BM_idle_cpu(benchmark::State& st) {
  eam::actor_system sys({.workers = 2});
  auto server = sys.spawn(echo_server);
  (void)server.call(request{1}).get();  // workers have run once and gone idle
  double percent = 0;
  for (auto _ : st) {
    const double before = process_cpu_us();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    percent = (process_cpu_us() - before) / 1e6 * 100;
  }
  st.counters["percent_of_a_core"] = percent;
}
BENCHMARK(BM_idle_cpu)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
struct wait_for_flag {};
struct set_flag {};

// One round of the rescue benchmarks: spawns a waiter, whose handler spins until a setter queued
// behind it has run (bounded at 20 s), and that setter; runs `before`; casts to both and waits
// for the waiter's end. The seconds from the casts to that end, or a negative value when the
// setter never ran.
template <class Before>
double held_back_round(eam::actor_system& sys, Before&& before) {
  auto flag = std::make_shared<std::atomic<bool>>(false);
  auto finished = std::make_shared<std::atomic<bool>>(false);
  auto waiter = sys.spawn([flag, finished](eam::actor_context&) {
    return eam::behavior{[flag, finished](wait_for_flag) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (!flag->load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
      finished->store(true);  // the setter ran, or the bound passed: the flag tells
    }};
  });
  auto setter = sys.spawn([flag](eam::actor_context&) { return eam::behavior{[flag](set_flag) { flag->store(true); }}; });
  before();
  const auto start = std::chrono::steady_clock::now();
  waiter.cast(wait_for_flag{});
  setter.cast(set_flag{});
  while (!finished->load()) std::this_thread::yield();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sys.stop(waiter);
  sys.stop(setter);
  return flag->load() ? seconds : -1;
}

void report_round(benchmark::State& st, double seconds) {
  st.SetIterationTime(seconds < 0 ? 20 : seconds);
  if (seconds < 0) st.SkipWithError("the setter never ran");
}

// How soon work held back behind a long handler runs when that handler starts after the system
// idled: the waiter spins until the setter, queued behind it on the one active worker, has run,
// which only the resting worker's rescue can arrange. An idle system's resting watch backs off
// to a second between looks; the worker that wakes brings it back (scheduler.hpp).
void BM_rescue_after_idle(benchmark::State& st) {
  for (auto _ : st) {
    eam::actor_system sys({.workers = 2});
    report_round(st, held_back_round(sys, [&st] { std::this_thread::sleep_for(std::chrono::milliseconds(st.range(0))); }));
  }
}
// 3 and 12 ms: idle long enough for the watch to back off past its busy interval, too short for
// a second's back-off. 50 iterations: where in its wait the watch is when the work comes decides
// each one.
BENCHMARK(BM_rescue_after_idle)->Arg(3)->Arg(12)->ArgName("idle_ms")->Iterations(50)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rescue_after_idle)->Arg(1500)->ArgName("idle_ms")->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
// How soon work held back behind a long handler runs while the system is busy, on N workers: a
// ping-pong pair keeps one worker running, so the resting watch looks every interval, and the
// long handler starts on that worker. One resting worker keeps the watch however many rest
// (scheduler::watches); with a watch on each, 15 on 16 workers, the first of them to look
// rescued sooner, at the cost of each waking at every epoch and interval.
void BM_rescue_while_busy(benchmark::State& st) {
  eam::actor_system sys(config_for(st));
  done_latch never;  // the game outlasts the benchmark, which stops both players
  auto a = sys.spawn(player, &never);
  auto b = sys.spawn(player, &never);
  a.cast(set_peer{b});
  b.cast(set_peer{a});
  a.cast(ball{std::int64_t{1} << 60});
  for (auto _ : st) {
    // The last rescue over and the count back where the pair keeps it (one worker).
    report_round(st, held_back_round(sys, [] { std::this_thread::sleep_for(std::chrono::milliseconds(20)); }));
  }
  sys.stop(a);
  sys.stop(b);
}
BENCHMARK(BM_rescue_while_busy)->Arg(2)->Arg(4)->Arg(16)->ArgName("workers")->Iterations(50)->UseManualTime()->Unit(benchmark::kMillisecond);
// How late an awaited call's timeout fires on an otherwise idle system: an actor awaits a call
// of 20 ms (the shortest timeout a worker holds back, held_call_timeouts.hpp) to an actor that
// keeps its reply handle and never answers. The time reported is the whole wait; `late_ms` is
// its mean past the timeout. A timeout never fires early.
struct never_answered {};
struct await_one {
  std::chrono::milliseconds timeout;
  done_latch* done;
};
void BM_awaited_timeout_when_idle(benchmark::State& st) {
  eam::actor_system sys(config_for(st));
  auto silent = sys.spawn([](eam::actor_context& ctx) {
    auto& kept = ctx.make_state<std::vector<eam::reply_handle>>();
    return eam::behavior{[&kept, &ctx](never_answered) {
      kept.push_back(ctx.take_reply());
      return 0;
    }};
  });
  auto waiter = sys.spawn([silent](eam::actor_context&) {
    return eam::behavior{[silent](await_one a) -> eam::task<void> {
      auto answer = co_await silent.call<never_answered>(eam::within{a.timeout});
      a.done->set(!answer && answer.code() == eam::errc::timeout ? 1 : 0);
    }};
  });
  constexpr auto timeout = std::chrono::milliseconds(20);
  double late_seconds = 0;
  for (auto _ : st) {
    done_latch done;
    const auto start = std::chrono::steady_clock::now();
    waiter.cast(await_one{timeout, &done});
    const bool timed_out = done.wait() == 1;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    st.SetIterationTime(seconds);
    late_seconds += seconds - std::chrono::duration<double>(timeout).count();
    if (!timed_out) st.SkipWithError("the call did not time out");
  }
  st.counters["late_ms"] = 1000 * late_seconds / static_cast<double>(st.iterations());
  sys.stop(waiter);
  sys.stop(silent);
}
BENCHMARK(BM_awaited_timeout_when_idle)->Arg(1)->Arg(2)->ArgName("workers")->Iterations(50)->UseManualTime()->Unit(benchmark::kMillisecond);
// CPU of a program woken every few milliseconds (a ticker, a poller): each period an outside
// thread casts to an actor that handles it at once, and the system goes idle again. What the
// resting worker's watch costs such a program: it backs off while the active worker sleeps and
// is woken by the worker that wakes once it backed off far enough (scheduler.hpp).
void BM_periodic_wake_cpu(benchmark::State& st) {
  eam::actor_system sys({.workers = 2});
  auto handled = std::make_shared<std::atomic<std::int64_t>>(0);
  auto ticker = sys.spawn([handled](eam::actor_context&) { return eam::behavior{[handled](tick) { handled->fetch_add(1); }}; });
  const auto period = std::chrono::microseconds(st.range(0));
  double percent = 0;
  for (auto _ : st) {
    const double before = process_cpu_us();
    const auto start = std::chrono::steady_clock::now();
    auto next = start;
    for (int i = 0; i < 500; ++i) {
      next += period;
      std::this_thread::sleep_until(next);
      ticker.cast(tick{});
    }
    const double wall_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    percent = (process_cpu_us() - before) / wall_us * 100;
  }
  st.counters["percent_of_a_core"] = percent;
  while (handled->load() < 500) std::this_thread::yield();  // every tick is handled (bounded: each is)
}
BENCHMARK(BM_periodic_wake_cpu)->Arg(1000)->Arg(3000)->Arg(10000)->ArgName("period_us")->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
}  // namespace
