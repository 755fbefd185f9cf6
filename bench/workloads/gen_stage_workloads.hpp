#pragma once
// GenStage workloads, shared by the suite (bench/suite/eam/gen_stage_*.cpp) and the Google
// Benchmark binary (bench/otp/gen_stage_bench.cpp). Each builds its pipeline with the producer
// in accumulate mode, so every consumer is subscribed before the first event flows, then
// times nothing itself: the caller times the whole call. Each returns a checksum of what the
// consumers saw.
#include "done_latch.hpp"

#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <numeric>
#include <vector>

namespace eam::bench {

/// 0 + 1 + ... + (n - 1).
constexpr std::int64_t sum_below(std::int64_t n) { return n * (n - 1) / 2; }

/// A producer of 0, 1, ..., total - 1, in accumulate mode.
inline otp::producer<std::int64_t> sequence_producer(actor_system& sys, std::int64_t total,
                                                     otp::producer_options<std::int64_t> options = {}) {
  options.demand = otp::demand_mode::accumulate;
  return otp::producer<std::int64_t>::start(
      sys, [] { return std::int64_t{0}; },
      [total](std::size_t demand, std::int64_t& next) {
        const std::int64_t n = std::min<std::int64_t>(static_cast<std::int64_t>(demand), total - next);
        std::vector<std::int64_t> out(static_cast<std::size_t>(n));
        std::iota(out.begin(), out.end(), next);
        next += n;
        return out;
      },
      std::move(options));
}

/// Counts what the consumers of one run received, and wakes the caller at `expected`.
struct delivery_count {
  explicit delivery_count(std::int64_t expected) : expected(expected) {}
  void add(const std::vector<std::int64_t>& events) {
    std::int64_t s = 0;
    for (auto e : events) s += e;
    sum.fetch_add(s, std::memory_order_relaxed);
    if (seen.fetch_add(static_cast<std::int64_t>(events.size()), std::memory_order_acq_rel) +
            static_cast<std::int64_t>(events.size()) ==
        expected)
      done.set(sum.load(std::memory_order_relaxed));
  }
  std::int64_t expected;
  std::atomic<std::int64_t> seen{0}, sum{0};
  done_latch done;
};

/// One producer, `consumers` consumers, through the given dispatcher (partition: one
/// partition per consumer). Returns the sum of all events delivered.
inline std::int64_t stage_fan_out(actor_system& sys, otp::dispatcher_kind kind, int consumers, std::int64_t total,
                                  std::size_t max_demand) {
  otp::producer_options<std::int64_t> options{.dispatcher = kind};
  if (kind == otp::dispatcher_kind::partition) options.partitions = static_cast<std::size_t>(consumers);
  auto source = sequence_producer(sys, total, options);
  const std::int64_t expected = kind == otp::dispatcher_kind::broadcast ? total * consumers : total;
  delivery_count count(expected);
  std::vector<otp::consumer<std::int64_t>> sinks;
  for (int i = 0; i < consumers; ++i) {
    sinks.push_back(
        otp::consumer<std::int64_t>::start(sys, [&count](std::vector<std::int64_t>& events) { count.add(events); }));
    otp::subscribe_options sub{.max_demand = max_demand};
    if (kind == otp::dispatcher_kind::partition) sub.partition = static_cast<std::size_t>(i);
    sinks.back().subscribe(source.ref(), sub).value();
  }
  source.demand(otp::demand_mode::forward);
  const std::int64_t sum = count.done.wait();
  source.stop();
  for (auto& s : sinks) s.stop();
  return sum;
}

/// `producers` producers of `each` events apiece, all subscribed by one consumer: the
/// consumer finds each batch's subscription among `producers`. Returns the sum it saw.
inline std::int64_t stage_fan_in(actor_system& sys, int producers, std::int64_t each, std::size_t max_demand) {
  delivery_count count(each * producers);
  auto sink =
      otp::consumer<std::int64_t>::start(sys, [&count](std::vector<std::int64_t>& events) { count.add(events); });
  std::vector<otp::producer<std::int64_t>> sources;
  for (int i = 0; i < producers; ++i) {
    sources.push_back(sequence_producer(sys, each));
    sink.subscribe(sources.back().ref(), {.max_demand = max_demand}).value();
  }
  for (auto& s : sources) s.demand(otp::demand_mode::forward);
  const std::int64_t sum = count.done.wait();
  for (auto& s : sources) s.stop();
  sink.stop();
  return sum;
}

/// producer -> `hops` producer-consumers (each adds one) -> consumer. Returns the sum seen by
/// the consumer.
inline std::int64_t stage_pipeline(actor_system& sys, int hops, std::int64_t total, std::size_t max_demand) {
  auto source = sequence_producer(sys, total);
  std::vector<otp::producer_consumer<std::int64_t>> stages;
  otp::source_ref<std::int64_t> upstream = source.ref();
  for (int h = 0; h < hops; ++h) {
    stages.push_back(otp::producer_consumer<std::int64_t>::start(sys, [](std::vector<std::int64_t>& in) {
      for (auto& e : in) ++e;
      return std::move(in);
    }));
    stages.back().subscribe(upstream, {.max_demand = max_demand}).value();
    upstream = stages.back().ref();
  }
  delivery_count count(total);
  auto sink =
      otp::consumer<std::int64_t>::start(sys, [&count](std::vector<std::int64_t>& events) { count.add(events); });
  sink.subscribe(upstream, {.max_demand = max_demand}).value();
  source.demand(otp::demand_mode::forward);
  const std::int64_t sum = count.done.wait();
  source.stop();
  for (auto& s : stages) s.stop();
  sink.stop();
  return sum;
}

/// A consumer supervisor starting one worker actor per event, `max_demand` at a time; each
/// worker adds its event and ends. Returns the sum the workers saw.
inline std::int64_t stage_consumer_supervisor(actor_system& sys, std::int64_t workers, std::size_t max_demand) {
  struct job_done {};
  auto jobs = sequence_producer(sys, workers);
  auto count = std::make_shared<delivery_count>(workers);
  auto sup = otp::consumer_supervisor<std::int64_t>::start(sys, [count](actor_context& ctx, std::int64_t job) {
    count->add({job});
    ctx.stop();
    return behavior{[](job_done) {}};
  });
  sup.subscribe(jobs.ref(), {.max_demand = max_demand}).value();
  jobs.demand(otp::demand_mode::forward);
  const std::int64_t sum = count->done.wait();
  jobs.stop();
  sup.stop();
  return sum;
}

}  // namespace eam::bench
