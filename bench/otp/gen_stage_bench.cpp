// GenStage throughput (Google Benchmark): events/s (items_per_second) through the pipelines of
// bench/workloads/gen_stage_workloads.hpp, one actor system per benchmark, pipelines built
// inside the timed region (building one costs microseconds).
#include "../workloads/gen_stage_workloads.hpp"

#include <benchmark/benchmark.h>

namespace {
using eam::otp::dispatcher_kind;

constexpr std::int64_t events_per_run = 1 << 21;

void check(benchmark::State& state, std::int64_t got, std::int64_t want) {
  if (got != want) state.SkipWithError("the consumers saw the wrong events");
}

void producer_consumer(benchmark::State& state) {
  eam::actor_system sys;
  for (auto _ : state)
    check(state,
          eam::bench::stage_fan_out(sys, dispatcher_kind::demand, 1, events_per_run,
                                    static_cast<std::size_t>(state.range(0))),
          eam::bench::sum_below(events_per_run));
  state.SetItemsProcessed(state.iterations() * events_per_run);
}
BENCHMARK(producer_consumer)->ArgName("max_demand")->Arg(100)->Arg(1000)->UseRealTime()->Unit(benchmark::kMillisecond);

template <dispatcher_kind Kind>
void fan_out(benchmark::State& state) {
  const int consumers = static_cast<int>(state.range(0));
  const std::int64_t copies = Kind == dispatcher_kind::broadcast ? consumers : 1;
  eam::actor_system sys;
  for (auto _ : state)
    check(state, eam::bench::stage_fan_out(sys, Kind, consumers, events_per_run, 1000),
          eam::bench::sum_below(events_per_run) * copies);
  state.SetItemsProcessed(state.iterations() * events_per_run * copies);
}
BENCHMARK(fan_out<dispatcher_kind::demand>)
    ->Name("demand")
    ->ArgName("consumers")
    ->RangeMultiplier(2)
    ->Range(1, 8)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(fan_out<dispatcher_kind::broadcast>)
    ->Name("broadcast")
    ->ArgName("consumers")
    ->RangeMultiplier(2)
    ->Range(1, 8)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(fan_out<dispatcher_kind::partition>)
    ->Name("partition")
    ->ArgName("partitions")
    ->RangeMultiplier(2)
    ->Range(2, 8)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

/// A work pool: many consumers with a small max_demand each, so that every batch is a few
/// events and the producer's cost per subscription event shows against the consumers' count.
void demand_pool(benchmark::State& state) {
  const int consumers = static_cast<int>(state.range(0));
  eam::actor_system sys;
  for (auto _ : state)
    check(state, eam::bench::stage_fan_out(sys, dispatcher_kind::demand, consumers, events_per_run, 10),
          eam::bench::sum_below(events_per_run));
  state.SetItemsProcessed(state.iterations() * events_per_run);
}
BENCHMARK(demand_pool)
    ->ArgName("consumers")
    ->RangeMultiplier(8)
    ->Range(8, 512)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

/// One producer partitioned among many consumers, max_demand 10: each dispatch is a few events
/// for a few of the partitions, so the producer's cost per dispatch shows against their count.
void partition_pool(benchmark::State& state) {
  const int partitions = static_cast<int>(state.range(0));
  constexpr std::int64_t events = events_per_run / 8;
  eam::actor_system sys;
  for (auto _ : state)
    check(state, eam::bench::stage_fan_out(sys, dispatcher_kind::partition, partitions, events, 10),
          eam::bench::sum_below(events));
  state.SetItemsProcessed(state.iterations() * events);
}
BENCHMARK(partition_pool)->ArgName("partitions")->Arg(16)->Arg(512)->UseRealTime()->Unit(benchmark::kMillisecond);

/// One consumer of many producers, max_demand 10: a batch of a few events per subscription
/// event, so the consumer's cost of finding a batch's subscription shows against their count
/// (a scan of them before an index took over past eight: 154 ns an event at 4,096, 15 at 16).
void fan_in(benchmark::State& state) {
  const int producers = static_cast<int>(state.range(0));
  const std::int64_t each = events_per_run / producers;
  eam::actor_system sys;
  for (auto _ : state)
    check(state, eam::bench::stage_fan_in(sys, producers, each, 10), eam::bench::sum_below(each) * producers);
  state.SetItemsProcessed(state.iterations() * each * producers);
}
BENCHMARK(fan_in)->ArgName("producers")->Arg(16)->Arg(512)->Arg(4096)->UseRealTime()->Unit(benchmark::kMillisecond);

void pipeline(benchmark::State& state) {
  const int hops = static_cast<int>(state.range(0));
  eam::actor_system sys;
  for (auto _ : state)
    check(state, eam::bench::stage_pipeline(sys, hops, events_per_run, 1000),
          eam::bench::sum_below(events_per_run) + hops * events_per_run);
  state.SetItemsProcessed(state.iterations() * events_per_run);
}
BENCHMARK(pipeline)->ArgName("hops")->DenseRange(1, 3)->UseRealTime()->Unit(benchmark::kMillisecond);

void consumer_supervisor(benchmark::State& state) {
  constexpr std::int64_t jobs = 1 << 16;
  eam::actor_system sys;
  for (auto _ : state)
    check(state, eam::bench::stage_consumer_supervisor(sys, jobs, static_cast<std::size_t>(state.range(0))),
          eam::bench::sum_below(jobs));
  state.SetItemsProcessed(state.iterations() * jobs);
}
BENCHMARK(consumer_supervisor)
    ->ArgName("max_demand")
    ->Arg(5)
    ->Arg(10)
    ->Arg(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
