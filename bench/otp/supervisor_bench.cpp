// Supervision at scale.
// dynamic_children: a dynamic supervisor starting `children` temporary children (a blocking
// start_child each, from the benchmark's thread) and hearing all of them end. The time per
// child stays flat from 1,024 to 32,768 only while the supervisor finds a child by an index, not
// a scan per event (otp/src/dynamic_supervisor.cpp).
// concurrent_starts: `callers` actors each start a child at once and then terminate it, so that
// many start_child and terminate_child calls wait together. The time per child stays flat only
// while each waiting call is answered by its own reply handle, not stashed and looked at again
// at every other call's answer.
// mass_crash: a one_for_all supervisor whose `children` all crash at once, until each is
// started again. The time per child stays flat only while a crash heard during the restart
// asks its child's count of planned starts, not a scan of the planned steps.
// nested_chain: a chain of `depth` supervisors, each the only child of the one above, with a
// worker at the bottom, started and stopped. The time and memory per level stay flat only while
// a supervisor child's spec shares its children's specs instead of copying them: each level
// copied its whole subtree several times (at depth 4,000, 2.6 s and 1.6 GB).
// named_casts: 20 client actors cast 100,000 messages each to one server, through a named_ref
// (by_name:1, the way a client reaches a supervised server across its restarts) or through its
// ref (by_name:0), on 2 workers that always run. By name costs about what by ref does only
// while a named_ref keeps the actor it found until the names change, where a look-up per cast
// took the registry's lock, shared by both workers.
#include <benchmark/benchmark.h>
#include <eam/eam.hpp>
#include <eam/engine/log.hpp>
#include <eam/otp.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>
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

struct crash {};

void mass_crash(benchmark::State& st) {
  const auto children = static_cast<int>(st.range(0));
  const eam::log::level log_level = eam::log::current_level();
  eam::log::set_level(eam::log::level::none);  // a crash report per child would be most of the time
  eam::actor_system sys({.workers = 2});
  for (auto _ : st) {
    std::atomic<int> started{0};
    std::vector<eam::otp::child_spec> specs;
    specs.reserve(static_cast<std::size_t>(children));
    for (int i = 0; i < children; ++i)
      specs.push_back(eam::otp::child("c" + std::to_string(i), {}, [&started](eam::actor_context&) {
        started.fetch_add(1, std::memory_order_relaxed);
        return eam::behavior{[](crash) { throw std::runtime_error("crash"); }};
      }));
    st.PauseTiming();
    auto sup = eam::otp::start_supervisor(
                   sys, {.strategy = eam::otp::strategy::one_for_all, .max_restarts = 2 * children}, std::move(specs))
                   .value();
    // Checked while all run: the first crash may have the supervisor stop the others.
    std::vector<eam::typed_ref<void(crash)>> kids;
    for (const auto& k : sup.which_children().value())
      kids.push_back(eam::typed_ref_cast<eam::typed_ref<void(crash)>>(k.ref).value());
    st.ResumeTiming();
    for (const auto& k : kids) k.cast(crash{});
    while (started.load(std::memory_order_relaxed) < 2 * children)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    (void)sup.count_children();  // the last start's init has run
    st.PauseTiming();
    sup.stop();
    st.ResumeTiming();
  }
  eam::log::set_level(log_level);
  st.SetItemsProcessed(st.iterations() * children);
}
BENCHMARK(mass_crash)->ArgName("children")->Arg(1024)->Arg(16384)->UseRealTime()->Unit(benchmark::kMillisecond);

void nested_chain(benchmark::State& st) {
  const auto depth = static_cast<int>(st.range(0));
  eam::actor_system sys({.workers = 2});
  for (auto _ : st) {
    std::vector<eam::otp::child_spec> level{
        eam::otp::child("leaf", {}, [](eam::actor_context&) { return eam::behavior{[](int) {}}; })};
    for (int i = 0; i < depth; ++i)
      level = {eam::otp::supervisor_child("level" + std::to_string(i), {}, std::move(level))};
    auto sup = eam::otp::start_supervisor(sys, {}, std::move(level)).value();
    sup.stop();
  }
  st.SetItemsProcessed(st.iterations() * depth);
}
BENCHMARK(nested_chain)->ArgName("depth")->Arg(100)->Arg(1000)->UseRealTime()->Unit(benchmark::kMillisecond);

struct note {};
struct more {};
constexpr int named_clients = 20;
constexpr std::int64_t casts_per_client = 100'000;

void named_casts(benchmark::State& st) {
  const bool by_name = st.range(0) != 0;
  eam::actor_system sys({.workers = 2, .adaptive_workers = false});
  for (auto _ : st) {
    std::promise<void> all_in;
    auto server = sys.spawn(
        {.name = "named_casts.server"},
        [](eam::actor_context& ctx, std::promise<void>* done) {
          auto& seen = ctx.make_state<std::int64_t>(0);
          return eam::behavior{[&seen, done](note) {
            if (++seen == named_clients * casts_per_client) done->set_value();
          }};
        },
        &all_in);
    const eam::typed_ref<void(note)> direct(server);
    std::vector<eam::actor_ref> client_refs;
    for (int c = 0; c < named_clients; ++c) {
      auto client = sys.spawn(
          [](eam::actor_context& ctx, eam::actor_system* s, bool named, eam::typed_ref<void(note)> to) {
            auto& sent = ctx.make_state<std::int64_t>(0);
            const eam::otp::named_ref<void(note)> by_name(*s, "named_casts.server");
            auto self = eam::unchecked_typed_ref_cast<eam::typed_ref<void(more)>>(ctx.self());
            return eam::behavior{[&sent, named, to, by_name, self](more) {
              for (const std::int64_t end = std::min(casts_per_client, sent + 100); sent < end; ++sent)
                if (named)
                  by_name.cast(note{});
                else
                  to.cast(note{});
              if (sent < casts_per_client) self.cast(more{});
            }};
          },
          &sys, by_name, direct);
      eam::unchecked_typed_ref_cast<eam::typed_ref<void(more)>>(client).cast(more{});
      client_refs.push_back(client);
    }
    all_in.get_future().wait();
    st.PauseTiming();
    for (const auto& c : client_refs) sys.stop(c);
    sys.stop(server);
    while (sys.whereis("named_casts.server")) std::this_thread::yield();  // the name is free again
    st.ResumeTiming();
  }
  st.SetItemsProcessed(st.iterations() * named_clients * casts_per_client);
}
BENCHMARK(named_casts)->ArgName("by_name")->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
