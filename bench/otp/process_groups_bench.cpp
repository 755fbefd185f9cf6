// Process groups at scale (otp::process_groups, one node's groups server).
// one_actor_many_groups: one actor joins `groups` groups and then leaves them all, per group.
// Flat from 1,024 to 65,536 only while a membership knows its place in the actor's list of
// groups: a scan of that list per leave, and a reservation of one more place per join (which
// copied the list), made both quadratic (otp/src/process_groups.cpp).
// one_group_many_actors: `actors` actors join one group and then leave it, per actor.
#include <benchmark/benchmark.h>
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <string>
#include <vector>

namespace {

struct ping {};

auto idle(eam::actor_context&) {
  return eam::behavior{[](ping) { return 0; }};
}

void one_actor_many_groups(benchmark::State& st) {
  const auto groups = static_cast<int>(st.range(0));
  eam::actor_system sys({.workers = 2});
  std::vector<std::string> names;
  for (int i = 0; i < groups; ++i) names.push_back("group-" + std::to_string(i));
  auto member = sys.spawn(idle);
  for (auto _ : st) {
    eam::otp::process_groups pg(sys);
    for (const auto& g : names) pg.join(g, member);
    for (const auto& g : names) pg.leave(g, member);
    if (!pg.groups().value().empty()) st.SkipWithError("a group kept its member");
    pg.stop();
  }
  st.SetItemsProcessed(st.iterations() * groups);
}
BENCHMARK(one_actor_many_groups)
    ->ArgName("groups")
    ->Arg(1024)
    ->Arg(65536)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void one_group_many_actors(benchmark::State& st) {
  const auto actors = static_cast<int>(st.range(0));
  eam::actor_system sys({.workers = 2});
  std::vector<eam::actor_ref> members;
  for (int i = 0; i < actors; ++i) members.push_back(sys.spawn(idle));
  for (auto _ : st) {
    eam::otp::process_groups pg(sys);
    for (const auto& m : members) pg.join("workers", m);
    for (const auto& m : members) pg.leave("workers", m);
    if (!pg.groups().value().empty()) st.SkipWithError("the group kept a member");
    pg.stop();
  }
  st.SetItemsProcessed(st.iterations() * actors);
}
BENCHMARK(one_group_many_actors)
    ->ArgName("actors")
    ->Arg(1024)
    ->Arg(65536)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
