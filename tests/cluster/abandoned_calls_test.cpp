// A remote call waits in its peer's table for the answer (cluster/src/peer.hpp). A caller that
// gives up first (its timeout passes, or it ends) must not leave its entry there for good: the
// table forgets such calls as it grows, and keeps every call whose caller still waits; and the
// called node hears of each, so that the handle its actor keeps reads abandoned. Two nodes in
// this process over 127.0.0.1; the called actor keeps its calls unanswered until told.
#include "test_actors.hpp"

#include "../support/eventually.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace eam::test::remote;
using eam::test::eventually;
using namespace std::chrono_literals;

namespace {

const std::string cookie = "a-test-cookie-of-enough-length";

/// A call the keeper answers only at answer_all, with the number of calls it kept by then.
struct keep_call {
  MSGPACK_DEFINE();
};
struct answer_all {
  MSGPACK_DEFINE();
};
/// How many of the calls the keeper keeps read reply_handle::abandoned().
struct count_abandoned {
  MSGPACK_DEFINE();
};
using keeper_ref = eam::typed_ref<int(keep_call), void(answer_all), int(count_abandoned)>;

struct run_calls {
  int count;
  int timeout_ms;
};

// Two nodes, `b` with a keeper named "keeper", `a` seeded with b (not yet connected to it).
std::pair<std::unique_ptr<eam::cluster::node>, std::unique_ptr<eam::cluster::node>> keeper_nodes(std::string a_id,
                                                                                                 std::string b_id) {
  register_messages();
  eam::cluster::register_message<keep_call>("test.keep_call");
  eam::cluster::register_message<answer_all>("test.answer_all");
  eam::cluster::register_message<count_abandoned>("test.count_abandoned");
  eam::cluster::node_config config;
  config.cookie = cookie;
  config.system.workers = 2;
  config.node_id = std::move(b_id);
  auto b = eam::cluster::start_node(config).value();
  b->system().spawn({.name = "keeper"}, [](eam::actor_context& ctx) {
    auto& kept = ctx.make_state<std::vector<eam::reply_handle>>();
    return eam::behavior{
        [&ctx, &kept](keep_call) {
          kept.push_back(ctx.take_reply());
          return 0;
        },
        [&kept](answer_all) {
          const int n = static_cast<int>(kept.size());
          for (auto& r : kept) r.reply(n);
          kept.clear();
        },
        [&kept](count_abandoned) {
          return static_cast<int>(std::count_if(kept.begin(), kept.end(), [](const auto& r) { return r.abandoned(); }));
        }};
  });
  config.node_id = std::move(a_id);
  config.seeds = {b->address()};
  auto a = eam::cluster::start_node(config).value();
  return {std::move(a), std::move(b)};
}

}  // namespace

TEST_SUITE("cluster.abandoned_calls") {
  TEST_CASE("remote calls whose callers gave up are forgotten, and a call still awaited among them gets its answer") {
    auto nodes = keeper_nodes("abandon-a", "abandon-b");
    auto& a = nodes.first;
    auto& b = nodes.second;
    REQUIRE(a->wait_for_peer("abandon-b", 30s));
    keeper_ref keeper = a->whereis<keeper_ref>("abandon-b", "keeper").value();

    // An actor and a thread call and wait while the others give up around them: the looks must
    // keep both (a waiting caller never reads as gone). Their timeouts outlast any wait below.
    std::atomic<int> patient_answer{-1};
    auto patient = a->system().spawn([keeper, &patient_answer](eam::actor_context&) {
      return eam::behavior{[keeper, &patient_answer](run_calls) -> eam::task<void> {
        auto op = keeper.call(keep_call{}, std::chrono::milliseconds(1'200'000));  // named: see task.hpp on GCC 12
        auto r = co_await op;
        patient_answer = r ? r.value() : -2;
      }};
    });
    eam::message go = eam::message::of(run_calls{1, 0});
    REQUIRE(eam::send(patient, go) == eam::cast_result::sent);
    REQUIRE(eventually([&] { return a->stats().calls_waiting == 1; }, 30s));
    int patient_thread_answer = -1;
    std::thread patient_thread([&] {
      auto r = keeper.call(keep_call{}, 1200s).get();
      patient_thread_answer = r ? r.value() : -2;
    });
    REQUIRE(eventually([&] { return a->stats().calls_waiting == 2; }, 30s));

    // An actor whose calls each time out before it makes the next.
    constexpr int actor_calls = 300;
    std::atomic<int> timed_out{0};
    auto hasty = a->system().spawn([keeper, &timed_out](eam::actor_context&) {
      return eam::behavior{[keeper, &timed_out](run_calls c) -> eam::task<void> {
        for (int i = 0; i < c.count; ++i) {
          auto op = keeper.call(keep_call{}, std::chrono::milliseconds(c.timeout_ms));
          auto r = co_await op;
          if (!r && r.code() == eam::errc::timeout) ++timed_out;
        }
      }};
    });
    eam::message calls = eam::message::of(run_calls{actor_calls, 1});
    REQUIRE(eam::send(hasty, calls) == eam::cast_result::sent);
    REQUIRE(eventually([&] { return timed_out.load() == actor_calls; }, 120s));

    // And a thread of the program, blocking on each.
    constexpr int thread_calls = 100;
    int thread_timeouts = 0;
    for (int i = 0; i < thread_calls; ++i)
      if (keeper.call(keep_call{}, 1ms).get().code() == eam::errc::timeout) ++thread_timeouts;
    REQUIRE(thread_timeouts == thread_calls);

    // A look happens as a call is queued, after every earlier caller gave up: 402 calls went
    // out, and what is left is the two patient ones and those since the last look.
    const std::size_t waiting = a->stats().calls_waiting;
    CHECK(waiting >= 2);
    CHECK(waiting <= 64);
    // No call goes out now: the node's I/O thread looks within a heartbeat interval or two.
    CHECK(eventually([&] { return a->stats().calls_waiting == 2; }, 120s));
    // Each call forgotten there was cancelled at the keeper's node: the keeper's handles read
    // abandoned, all but the two still awaited.
    const keeper_ref keeper_at_home = b->whereis<keeper_ref>("abandon-b", "keeper").value();
    const auto abandoned_at_keeper = [&] { return keeper_at_home.call(count_abandoned{}).get().value(); };
    CHECK(eventually([&] { return abandoned_at_keeper() == actor_calls + thread_calls; }, 60s));

    // The keeper answers all 402 now: the patient callers get theirs, the others are dropped.
    keeper.cast(answer_all{});
    patient_thread.join();
    constexpr int kept = 2 + actor_calls + thread_calls;
    CHECK(patient_thread_answer == kept);
    CHECK(eventually([&] { return patient_answer.load() != -1; }, 60s));
    CHECK(patient_answer.load() == kept);
    CHECK(eventually([&] { return a->stats().calls_waiting == 0; }, 60s));
    CHECK(a->stats().bad_frames == 0);
    CHECK(b->stats().bad_frames == 0);

    // A call whose node goes away: nobody waits for its answer any more.
    std::thread last_caller([&] { (void)keeper.call(keep_call{}, 1200s).get(); });
    REQUIRE(eventually([&] { return a->stats().calls_waiting == 1; }, 30s));
    CHECK(abandoned_at_keeper() == 0);
    a->shutdown();
    last_caller.join();
    CHECK(eventually([&] { return abandoned_at_keeper() == 1; }, 60s));
    b->shutdown();
  }

  TEST_CASE("a caller that gave up is cancelled at the called node while other calls keep going there") {
    auto nodes = keeper_nodes("steady-a", "steady-b");
    auto& a = nodes.first;
    auto& b = nodes.second;
    REQUIRE(a->wait_for_peer("steady-b", 30s));
    const keeper_ref keeper = a->whereis<keeper_ref>("steady-b", "keeper").value();

    // One call gives up; then this thread's calls follow one another without a pause, so a
    // call is always queued lately and the table never grows to the size that starts a
    // sender's look: the I/O thread's look must come all the same.
    REQUIRE(keeper.call(keep_call{}, 1ms).get().code() == eam::errc::timeout);
    CHECK(eventually([&] { return keeper.call(count_abandoned{}).get().value() == 1; }, 60s));
    keeper.cast(answer_all{});
    a->shutdown();
    b->shutdown();
  }
}
