// Supervision at scale.
// dynamic_children: a dynamic supervisor starting `children` temporary children (a blocking
// start_child each, from the benchmark's thread) and hearing all of them end. The time per
// child stays flat from 1,024 to 32,768 only while the supervisor finds a child by an index, not
// a scan per event (otp/src/dynamic_supervisor.cpp).
// concurrent_starts: `callers` actors each start a child at once and then terminate it, so that
// many start_child and terminate_child calls wait together. The time per child stays flat only
// while each waiting call is answered by its own reply handle, not stashed and looked at again
// at every other call's answer.
#include <benchmark/benchmark.h>
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

namespace {

void dynamic_children(benchmark::State& st) {
  const auto children = static_cast<std::size_t>(st.range(0));
  eam::actor_system sys({.workers = 1});
  for (auto _ : st) {
    eam::otp::dynamic_supervisor sup(sys, {});
    std::vector<eam::actor_ref> kids;
    kids.reserve(children);
    for (std::size_t i = 0; i < children; ++i) {
      auto spec = eam::otp::child("w", {}, [](eam::actor_context&) { return eam::behavior{[](int) {}}; });
      spec.restart = eam::otp::restart_policy::temporary;
      kids.push_back(sup.start_child(std::move(spec)).value());
    }
    for (auto& k : kids) sys.stop(k);
    while (sup.count_children().value().specs != 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    sup.stop();
  }
  st.SetItemsProcessed(st.iterations() * static_cast<std::int64_t>(children));
}
BENCHMARK(dynamic_children)->ArgName("children")->Arg(1024)->Arg(32768)->UseRealTime()->Unit(benchmark::kMillisecond);

struct start_then_terminate {};

auto start_then_terminate_caller(eam::actor_context&, eam::otp::detail::dynamic_ref sup, std::atomic<int>& done) {
  return eam::behavior{[sup, &done](start_then_terminate) -> eam::task<void> {
    auto spec = eam::otp::child("w", {}, [](eam::actor_context&) { return eam::behavior{[](int) {}}; });
    spec.restart = eam::otp::restart_policy::temporary;
    auto start = sup.call(eam::otp::detail::start_child_msg{std::move(spec), std::nullopt}, std::chrono::seconds(600));
    auto child = co_await start;  // the call named first: see task.hpp on GCC 12
    if (child && child.value()) {
      auto stop = sup.call(eam::otp::detail::terminate_child_msg{child.value().value()}, std::chrono::seconds(600));
      co_await stop;
    }
    done.fetch_add(1, std::memory_order_release);
  }};
}

void concurrent_starts(benchmark::State& st) {
  const auto callers = static_cast<int>(st.range(0));
  eam::actor_system sys({.workers = 2});
  for (auto _ : st) {
    eam::otp::dynamic_supervisor sup(sys, {});
    std::atomic<int> done{0};
    std::vector<eam::typed_ref<void(start_then_terminate)>> all;
    all.reserve(static_cast<std::size_t>(callers));
    for (int i = 0; i < callers; ++i)
      all.emplace_back(sys.spawn(start_then_terminate_caller, sup.ref(), std::ref(done)));
    for (auto& c : all) c.cast(start_then_terminate{});
    while (done.load(std::memory_order_acquire) < callers) std::this_thread::sleep_for(std::chrono::microseconds(100));
    for (auto& c : all) sys.stop(c);
    sup.stop();
  }
  st.SetItemsProcessed(st.iterations() * callers);
}
BENCHMARK(concurrent_starts)->ArgName("callers")->Arg(256)->Arg(4096)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
