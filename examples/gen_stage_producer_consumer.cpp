// A three-stage pipeline: numbers -> squares of the odd ones -> a printer. The middle stage
// transforms and filters; back-pressure holds end to end, however slow the printer is.
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

int main() {
  std::atomic<long> printed{0}, last{0};
  eam::actor_system system;
  auto numbers = eam::otp::producer<long>::start(
      system, [] { return 0L; },
      [](std::size_t demand, long& next) {
        std::vector<long> out;
        for (std::size_t i = 0; i < demand && next < 1000; ++i) out.push_back(next++);
        return out;
      });
  auto odd_squares = eam::otp::producer_consumer<long>::start(system, [](std::vector<long>& in) {
    std::vector<long> out;
    for (long n : in)
      if (n % 2 == 1) out.push_back(n * n);
    return out;
  });
  auto printer = eam::otp::consumer<long>::start(system, [&](std::vector<long>& squares) {
    printed += static_cast<long>(squares.size());
    last = squares.back();
  });
  odd_squares.subscribe(numbers.ref(), {.max_demand = 50}).value();
  printer.subscribe(odd_squares.ref(), {.max_demand = 10}).value();
  while (printed < 500) std::this_thread::yield();
  std::printf("%ld odd squares, the last %ld\n", printed.load(), last.load());
  return last == 999L * 999L ? 0 : 1;
}
