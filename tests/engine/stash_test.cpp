#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"

#include <chrono>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {
struct item {
  int n;
};
struct get {};
struct open_all {};
struct open_one {};
struct drop_stash {};
struct seen {};
struct stashed_calls {};

// A gate that stashes items and calls while closed.
auto gate(eam::actor_context& ctx) {
  struct state {
    bool open = false;
    std::vector<int> items;
    int calls_stashed = 0;
  };
  auto& st = ctx.make_state<state>();
  return eam::behavior{
      [&ctx, &st](item i) {
        if (!st.open && ctx.stash()) return;
        st.items.push_back(i.n);
      },
      [&ctx, &st](get) {
        if (!st.open && ctx.stash()) ++st.calls_stashed;  // the reply below is not sent while stashed
        return static_cast<int>(st.items.size());
      },
      [&st](stashed_calls) { return st.calls_stashed; },
      [&ctx, &st](open_all) {
        st.open = true;
        ctx.unstash_all();
      },
      [&ctx](open_one) { (void)ctx.unstash(); },
      [&ctx](drop_stash) { ctx.clear_stash(); },
      [&st](seen) { return st.items; },
  };
}
}  // namespace

TEST_SUITE("engine.stash") {
  TEST_CASE("unstash_all puts stashed messages back in order, ahead of the mailbox") {
    eam::actor_system system({.workers = 2});
    auto g = system.spawn(gate);
    for (int i = 0; i < 5; ++i) g.cast(item{i});
    g.cast(open_all{});
    g.cast(item{5});
    CHECK(g.call(seen{}).get().value() == std::vector<int>{0, 1, 2, 3, 4, 5});
  }

  TEST_CASE("unstash puts back only the oldest stashed message") {
    eam::actor_system system({.workers = 2});
    auto g = system.spawn(gate);
    g.cast(item{1});
    g.cast(item{2});
    g.cast(open_one{});  // item 1 comes back, and is stashed again: the gate is still closed
    g.cast(open_all{});
    CHECK(g.call(seen{}).get().value() == std::vector<int>{2, 1});
  }

  TEST_CASE("a stashed call's caller keeps waiting until the call is handled") {
    eam::actor_system system({.workers = 2});
    auto g = system.spawn(gate);
    g.cast(item{7});
    int answer = -1;
    std::thread caller([&] { answer = g.call(get{}, 10s).get().value(); });
    // Once the call is stashed, nothing answers it until the gate opens.
    REQUIRE(eam::test::eventually([&] { return g.call(stashed_calls{}).get().value() == 1; }));
    g.cast(open_all{});
    caller.join();
    CHECK(answer == 1);  // handled after item 7 came back
  }

  TEST_CASE("clear_stash fails the stashed calls with stash_cleared") {
    eam::actor_system system({.workers = 2});
    auto g = system.spawn(gate);
    eam::result<int> r = 0;
    std::thread caller([&] { r = g.call(get{}, 10s).get(); });
    REQUIRE(eam::test::eventually([&] { return g.call(stashed_calls{}).get().value() == 1; }));
    g.cast(drop_stash{});
    caller.join();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.code() == eam::errc::stash_cleared);
  }

  TEST_CASE("stash outside a handler, as in a continue, returns false") {
    struct ask {};
    eam::actor_system system({.workers = 2});
    auto a = system.spawn([](eam::actor_context& ctx) {
      auto& stashed = ctx.make_state<int>(-1);
      ctx.continue_with([&ctx, &stashed] { stashed = ctx.stash() ? 1 : 0; });
      return eam::behavior{[&stashed](ask) { return stashed; }};
    });
    CHECK(a.call(ask{}).get().value() == 0);
  }
}
