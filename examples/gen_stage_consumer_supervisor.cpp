// A consumer supervisor: one worker actor per job, at most 10 running at once; a job that
// fails is retried once with the same event (transient restarts).
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <array>
#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <thread>
#include <vector>

struct job {
  int id;
};
struct status {};

int main() {
  std::atomic<int> done{0}, failures{0};
  std::array<std::atomic<bool>, 100> retried{};  // every tenth job fails on its first attempt
  eam::actor_system system;
  auto jobs = eam::otp::producer<job>::start(
      system, [] { return 0; },
      [](std::size_t demand, int& next) {
        std::vector<job> out;
        for (std::size_t i = 0; i < demand && next < 100; ++i) out.push_back({next++});
        return out;
      });
  auto workers = eam::otp::consumer_supervisor<job>::start(
      system,
      [&](eam::actor_context& ctx, job j) {  // a worker: does its job once started, then ends
        ctx.continue_with([&ctx, &done, &failures, &retried, j] {
          if (j.id % 10 == 0 && !retried[static_cast<std::size_t>(j.id)].exchange(true)) {
            ++failures;
            throw std::runtime_error("flaky job");
          }
          ++done;
          ctx.stop();
        });
        return eam::behavior{[](status) { return true; }};
      },
      {.restart = eam::otp::restart_policy::transient, .max_restarts = 20});
  workers.subscribe(jobs.ref(), {.max_demand = 10}).value();
  while (done < 100) std::this_thread::yield();
  std::printf("100 jobs done, %d failed once and were retried\n", failures.load());
  return failures == 10 ? 0 : 1;
}
