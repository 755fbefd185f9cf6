#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include "../support/eventually.hpp"
#include "stage_recorder.hpp"

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <vector>

namespace {
using eam::test::eventually;
namespace otp = eam::otp;
struct noop {};

// Per-event counts of worker starts and completions, for the test thread.
struct worker_log {
  explicit worker_log(int events)
      : started(static_cast<std::size_t>(events)), finished(static_cast<std::size_t>(events)) {}
  std::vector<std::atomic<int>> started, finished;
  std::atomic<int> running{0}, most_running{0};
  int total(std::vector<std::atomic<int>>& v) {
    int n = 0;
    for (auto& x : v) n += x.load();
    return n;
  }
};
}  // namespace

TEST_SUITE("otp.consumer_supervisor") {
  TEST_CASE("one worker per event, each event once, never more than max_demand at a time") {
    constexpr int total = 2000;
    worker_log log(total);
    eam::actor_system system({.workers = 2});
    auto jobs = eam::test::counter_producer(system, total);
    auto sup = otp::consumer_supervisor<int>::start(system, [&log](eam::actor_context& ctx, int job) {
      const int now = ++log.running;
      int seen = log.most_running.load();
      while (now > seen && !log.most_running.compare_exchange_weak(seen, now)) {
      }
      ++log.started[static_cast<std::size_t>(job)];
      ctx.continue_with([&ctx, &log, job] {
        ++log.finished[static_cast<std::size_t>(job)];
        --log.running;  // before it ends: `running` never counts more than are alive
        ctx.stop();
      });
      return eam::behavior{[](noop) {}};
    });
    REQUIRE(sup.subscribe(jobs.ref(), {.max_demand = 10}).has_value());
    REQUIRE(eventually([&] { return log.total(log.finished) == total; }));
    for (int i = 0; i < total; ++i) CHECK(log.started[static_cast<std::size_t>(i)].load() == 1);
    CHECK(log.most_running.load() <= 10);
    REQUIRE(eventually([&] { return sup.count_children().value().active == 0; }));
  }

  TEST_CASE("max_demand bounds the live workers - each one that ends frees one slot") {
    std::atomic<int> started{0};
    eam::actor_system system({.workers = 2});
    auto jobs = eam::test::counter_producer(system, 1000);
    // Workers that never finish on their own.
    auto sup = otp::consumer_supervisor<int>::start(system, [&started](eam::actor_context&, int) {
      ++started;
      return eam::behavior{[](noop) {}};
    });
    REQUIRE(sup.subscribe(jobs.ref(), {.max_demand = 5, .min_demand = 4}).has_value());
    // A child counts as active once spawned, and starts (runs its spawn function) at its
    // first turn, which may come later: wait for both.
    REQUIRE(eventually([&] { return sup.count_children().value().active == 5 && started.load() == 5; }));
    for (int i = 0; i < 20; ++i) (void)jobs.stats();  // let anything in flight arrive
    CHECK(started.load() == 5);
    CHECK(sup.count_children().value().active == 5);
    for (int stopped = 1; stopped <= 3; ++stopped) {
      auto children = sup.which_children().value();
      REQUIRE(children.size() == 5);
      system.stop(children.front().ref);
      REQUIRE(eventually([&] { return started.load() == 5 + stopped && sup.count_children().value().active == 5; }));
    }
  }

  TEST_CASE("temporary workers that crash are not restarted - every event still gets its one worker") {
    constexpr int total = 500;
    worker_log log(total);
    eam::actor_system system({.workers = 2});
    auto jobs = eam::test::counter_producer(system, total);
    auto sup = otp::consumer_supervisor<int>::start(system, [&log](eam::actor_context& ctx, int job) {
      ++log.started[static_cast<std::size_t>(job)];
      ctx.continue_with([&ctx, &log, job] {
        ++log.finished[static_cast<std::size_t>(job)];
        if (job % 3 == 0) throw std::runtime_error("job failed");
        ctx.stop();
      });
      return eam::behavior{[](noop) {}};
    });
    REQUIRE(sup.subscribe(jobs.ref(), {.max_demand = 8}).has_value());
    REQUIRE(eventually([&] { return log.total(log.finished) == total; }));
    for (int i = 0; i < total; ++i) CHECK(log.started[static_cast<std::size_t>(i)].load() == 1);
    REQUIRE(eventually([&] { return sup.count_children().value().active == 0; }));
    CHECK(sup.ref().is_alive());
  }

  TEST_CASE("transient workers that crash are restarted with their event until it is done") {
    constexpr int total = 200;
    worker_log log(total);
    eam::actor_system system({.workers = 2});
    auto jobs = eam::test::counter_producer(system, total);
    auto sup = otp::consumer_supervisor<int>::start(
        system,
        [&log](eam::actor_context& ctx, int job) {
          const int attempt = ++log.started[static_cast<std::size_t>(job)];
          ctx.continue_with([&ctx, &log, job, attempt] {
            if (attempt == 1) throw std::runtime_error("first attempt fails");
            ++log.finished[static_cast<std::size_t>(job)];
            ctx.stop();
          });
          return eam::behavior{[](noop) {}};
        },
        {.restart = otp::restart_policy::transient, .max_restarts = total, .period = std::chrono::hours(1)});
    REQUIRE(sup.subscribe(jobs.ref(), {.max_demand = 4}).has_value());
    REQUIRE(eventually([&] { return log.total(log.finished) == total; }));
    for (int i = 0; i < total; ++i) {
      CHECK(log.started[static_cast<std::size_t>(i)].load() == 2);
      CHECK(log.finished[static_cast<std::size_t>(i)].load() == 1);
    }
  }

  TEST_CASE("more restarts than max_restarts within the period ends the consumer supervisor") {
    eam::actor_system system({.workers = 2});
    auto jobs = eam::test::counter_producer(system, 100);
    auto sup = otp::consumer_supervisor<int>::start(
        system,
        [](eam::actor_context& ctx, int) {
          ctx.continue_with([] { throw std::runtime_error("always fails"); });
          return eam::behavior{[](noop) {}};
        },
        {.restart = otp::restart_policy::transient, .max_restarts = 3, .period = std::chrono::hours(1)});
    REQUIRE(sup.subscribe(jobs.ref(), {.max_demand = 2}).has_value());
    REQUIRE(eventually([&] { return !sup.ref().is_alive(); }));
  }

  TEST_CASE("class workers started through a spawn function") {
    struct job_worker : eam::actor<void(noop)> {
      std::atomic<int>* done = nullptr;
      void init(std::atomic<int>* d, int) {
        done = d;
        ++*done;
        context().stop();
      }
      void handle_cast(noop) {}
    };
    std::atomic<int> done{0};
    eam::actor_system system({.workers = 2});
    auto jobs = eam::test::counter_producer(system, 300);
    auto sup = otp::consumer_supervisor<int>::start(
        system, [&done](eam::actor_context& ctx, int job) { return ctx.spawn<job_worker>(&done, job); });
    REQUIRE(sup.subscribe(jobs.ref(), {.max_demand = 20}).has_value());
    REQUIRE(eventually([&] { return done.load() == 300; }));
  }
}
