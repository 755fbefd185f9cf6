#pragma once
// The actors a test node serves, by name: counter, echo, sink, linker, factory, hanger,
// control. Used by the node program and by in-process test nodes alike.
#include "test_protocol.hpp"

#include <atomic>

namespace eam::test::remote {

inline void spawn_test_actors(actor_system& system, std::atomic<bool>& quit_requested) {
  system.spawn({.name = "counter"}, [](actor_context& ctx) {
    auto& total = ctx.make_state<int>(0);
    return behavior{[&total](add a) { total += a.n; }, [&total](get) { return total; }};
  });
  system.spawn({.name = "echo"}, [](actor_context&) {
    return behavior{[](const echo& e) { return e.text; },
                    [](const call_back& c) -> task<std::string> {
                      auto op = c.target.call(echo{c.text});
                      auto r = co_await op;
                      co_return r ? r.value() : "error: " + std::string(r.error_value().what());
                    }};
  });
  system.spawn({.name = "sink"}, [](actor_context& ctx) {
    auto& state = ctx.make_state<sink_state>();
    return behavior{[&state](const seq& s) {
                      if (s.n != state.count) state.in_order = false;
                      ++state.count;
                      state.sum += s.n;
                    },
                    [&state](get_sink) { return state; }};
  });
  system.spawn({.name = "linker"}, [](actor_context& ctx) {
    ctx.set_trap_exit(true);
    auto& seen = ctx.make_state<std::vector<std::string>>();
    return behavior{[&ctx](const link_to& l) {
                      ctx.link(l.target);
                      return true;
                    },
                    [&seen](const exit_signal& x) { seen.push_back(x.reason.to_string()); },
                    [&seen](exits_seen) { return seen; }};
  });
  system.spawn({.name = "factory"}, [](actor_context& ctx) {
    return behavior{[&ctx](spawn_mortal) {
      return ctx.system().spawn([](actor_context& self) {
        return behavior{[&self](const end_with& e) { self.exit(self.self(), e.reason); }};
      });
    }};
  });
  system.spawn({.name = "hanger"}, [](actor_context& ctx) {
    return behavior{[&ctx](hang) {
      ctx.stash();  // never unstashed: the call stays pending until the node goes away
      return 0;
    }};
  });
  system.spawn({.name = "control"}, [&quit_requested](actor_context&) {
    return behavior{[&quit_requested](quit) { quit_requested.store(true); }};
  });
}

}  // namespace eam::test::remote
