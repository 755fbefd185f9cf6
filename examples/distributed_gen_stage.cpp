// A GenStage pipeline across two nodes: a producer of numbers on one node, a consumer summing
// them on another, subscribed through the producer's ref as if it were local; demand crosses
// the wire, so the producer makes only what the consumer asks for. One command runs both
// nodes: this program starts the producer's node as a copy of itself.
#include "cluster_processes.hpp"

#include <eam/distributed/gen_stage.hpp>
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <atomic>
#include <cstdio>
#include <memory>

constexpr std::int64_t events = 100'000;

int main(int argc, char** argv) {
  eam::distributed::register_gen_stage<std::int64_t>("example.number");
  if (argc == 3 && std::string(argv[1]) == "producer") {  // the producer's node, started below
    auto node = example::start("producers", {argv[2]});
    eam::otp::producer<std::int64_t>::start(
        node->system(), [] { return std::int64_t{1}; },
        [](std::size_t demand, std::int64_t& next) {
          std::vector<std::int64_t> out(demand);
          for (auto& e : out) e = next++;
          return out;
        },
        {}, {.name = "numbers"});
    example::wait_until_gone(*node, "consumers");
    return 0;
  }

  auto node = example::start("consumers");
  const pid_t producer_node = example::start_copy({"producer", node->address()});
  bool ok = node->wait_for_peer("producers", std::chrono::seconds(30));
  auto numbers = node->whereis<eam::otp::source_ref<std::int64_t>>("producers", "numbers");
  ok = ok && numbers.has_value();
  struct totals {
    std::atomic<std::int64_t> sum{0}, count{0};
  };
  auto seen = std::make_shared<totals>();
  auto summer = eam::otp::consumer<std::int64_t>::start(node->system(), [seen](std::vector<std::int64_t>& batch) {
    for (const std::int64_t e : batch) seen->sum += e;
    seen->count += static_cast<std::int64_t>(batch.size());
  });
  if (ok) ok = summer.subscribe(numbers.value(), {.max_demand = 1000}).has_value();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (ok && seen->count.load() < events && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  summer.stop();
  const std::int64_t count = seen->count.load(), sum = seen->sum.load();
  std::printf("%lld events from another node, sum %lld\n", static_cast<long long>(count), static_cast<long long>(sum));
  node->shutdown();
  const bool ended = example::wait_for(producer_node);
  // The first `count` numbers from 1 sum to count * (count + 1) / 2.
  return ok && ended && count >= events && sum == count * (count + 1) / 2 ? 0 : 1;
}
