// A consumer with state, asking for at most 100 events at a time and again at 50 in flight;
// `permanent` makes it end when its producer does, which is how a finite pipeline finishes.
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <cstdio>
#include <numeric>
#include <thread>
#include <vector>

int main() {
  eam::actor_system system;
  auto numbers = eam::otp::producer<long>::start(
      system, [] { return 1L; },
      [](std::size_t demand, long& next) {
        std::vector<long> out(demand);
        std::iota(out.begin(), out.end(), next);
        next += static_cast<long>(demand);
        return out;
      });

  struct totals {
    long sum = 0;
    long batches = 0;
    bool reported = false;
  };
  auto summer = eam::otp::consumer<long>::start(
      system, [] { return totals{}; },
      [](std::vector<long>& events, const eam::otp::subscription&, totals& t) {
        for (long e : events) t.sum += e;
        ++t.batches;
        if (t.sum > 1'000'000 && !t.reported) {
          t.reported = true;
          std::printf("passed a million after %ld batches of at most 100\n", t.batches);
        }
      });
  auto sub =
      summer.subscribe(numbers.ref(), {.max_demand = 100, .min_demand = 50, .cancel = eam::otp::cancel_mode::permanent})
          .value();
  std::printf("subscribed with tag %llu\n", static_cast<unsigned long long>(sub.tag));
  numbers.stop();  // the permanent subscription ends the consumer too
  while (summer.ref().is_alive()) std::this_thread::yield();
  std::printf("consumer ended with its producer\n");
}
