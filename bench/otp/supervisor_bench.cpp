// Supervision at scale: a dynamic supervisor starting `children` temporary children (a blocking
// start_child each, from the benchmark's thread) and hearing all of them end. The time per
// child stays flat from 1,024 to 32,768 only while the supervisor finds a child by an index, not
// a scan per event (otp/src/dynamic_supervisor.cpp).
#include <benchmark/benchmark.h>
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <chrono>
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

}  // namespace

BENCHMARK_MAIN();
