// An agent holding shared state, updated from many threads without locks of your own.
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

int main() {
  eam::actor_system system;
  auto counts = eam::otp::agent<std::map<std::string, int>>::start(system, {});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) counts.cast([t](auto& m) { ++m["thread-" + std::to_string(t)]; });
    });
  for (auto& t : threads) t.join();
  auto total = counts.get([](const auto& m) {
    int sum = 0;
    for (const auto& [k, v] : m) sum += v;
    return sum;
  });
  std::printf("total: %d\n", total.value());
  counts.stop();
}
