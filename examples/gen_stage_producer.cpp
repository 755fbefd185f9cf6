// Producers: one emitting on demand, split between consumers by key with the partition
// dispatcher, so each user's events stay in order on one consumer.
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

struct click {
  std::string key;  // the user: the default partition hash uses an event's `key`
  int page;
};

int main() {
  constexpr int total = 10000;
  std::atomic<int> handled[2] = {0, 0};
  eam::actor_system system;
  auto clicks = eam::otp::producer<click>::start(
      system, [] { return 0; },
      [](std::size_t demand, int& next) {  // emits what was asked for, up to `total` clicks
        std::vector<click> out;
        for (; out.size() < demand && next < total; ++next) out.push_back({"user-" + std::to_string(next % 7), next});
        return out;
      },
      {.dispatcher = eam::otp::dispatcher_kind::partition, .partitions = 2});

  std::vector<eam::otp::consumer<click>> shards;
  for (std::size_t p = 0; p < 2; ++p) {
    shards.push_back(eam::otp::consumer<click>::start(
        system, [&handled, p](std::vector<click>& batch) { handled[p] += static_cast<int>(batch.size()); }));
    shards.back().subscribe(clicks.ref(), {.max_demand = 500, .partition = p}).value();
  }
  while (handled[0] + handled[1] < total) std::this_thread::yield();
  std::printf("partition 0: %d clicks, partition 1: %d clicks\n", handled[0].load(), handled[1].load());
  clicks.stop();
  return handled[0] + handled[1] == total ? 0 : 1;
}
