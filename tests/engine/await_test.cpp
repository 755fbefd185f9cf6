#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {
struct ask {
  int n;
};
struct note {
  std::string text;
};
struct log_of {};

using leaf_ref = eam::typed_ref<int(ask)>;

auto leaf(eam::actor_context&) {
  return eam::behavior{[](ask a) { return a.n * 2; }};
}

// Calls `next` inside its handler and adds one to the answer.
auto forwarder(eam::actor_context&, leaf_ref next) {
  return eam::behavior{[next](ask a) -> eam::task<int> {
    auto r = co_await next.call(ask{a.n});
    co_return r.value() + 1;
  }};
}
}  // namespace

TEST_SUITE("engine.await") {
  TEST_CASE("an await chain A -> B -> C inside handlers returns through every hop") {
    eam::actor_system system({.workers = 2});
    auto c = system.spawn(leaf);
    auto b = system.spawn(forwarder, leaf_ref(c));
    auto a = system.spawn(forwarder, leaf_ref(b));
    for (int i = 0; i < 200; ++i) CHECK(a.call(ask{i}).get().value() == 2 * i + 2);
  }

  TEST_CASE("an await chain works on a single worker without blocking it") {
    eam::actor_system system({.workers = 1});
    auto c = system.spawn(leaf);
    auto b = system.spawn(forwarder, leaf_ref(c));
    auto a = system.spawn(forwarder, leaf_ref(b));
    CHECK(a.call(ask{20}).get().value() == 42);
  }

  TEST_CASE("messages that arrive while an actor awaits are handled after the reply and in order") {
    eam::actor_system system({.workers = 2});
    // The slow actor keeps the waiter awaiting while the notes arrive.
    struct begin {};
    auto slow = system.spawn([](eam::actor_context&) {
      return eam::behavior{[](ask a) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // keeps the waiter waiting
        return a.n;
      }};
    });
    auto waiter = system.spawn([slow](eam::actor_context& ctx) {
      auto& log = ctx.make_state<std::vector<std::string>>();
      return eam::behavior{
          [&log, slow](begin) -> eam::task<> {
            log.push_back("asking");
            auto r = co_await slow.call(ask{1});
            log.push_back("answered " + std::to_string(r.value()));
          },
          [&log](note n) { log.push_back(n.text); },
          [&log](log_of) { return log; },
      };
    });
    waiter.cast(begin{});
    waiter.cast(note{"n1"});
    waiter.cast(note{"n2"});
    auto log = waiter.call(log_of{}).get().value();
    REQUIRE(log.size() == 4);
    CHECK(log[0] == "asking");
    CHECK(log[1] == "answered 1");
    CHECK(log[2] == "n1");
    CHECK(log[3] == "n2");
  }

  TEST_CASE("an awaited call that gets no reply in time resumes the handler with timeout") {
    eam::actor_system system({.workers = 2});
    auto slow = system.spawn([](eam::actor_context&) {
      return eam::behavior{[](ask a) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        return a.n;
      }};
    });
    auto waiter = system.spawn([slow](eam::actor_context&) {
      return eam::behavior{[slow](ask a) -> eam::task<int> {
        auto r = co_await slow.call(ask{a.n}, std::chrono::milliseconds(10));
        co_return r.has_value() ? 0 : r.code().value();
      }};
    });
    CHECK(waiter.call(ask{1}).get().value() == static_cast<int>(eam::errc::timeout));
  }

  TEST_CASE("an awaited call times out no earlier than its timeout") {
    // A deadline read from a clock that lags (a coarse or cached one) fires early; on a VM the
    // kernel's coarse clock was seen more than its stated tick behind.
    eam::actor_system system({.workers = 2});
    auto slow = system.spawn([](eam::actor_context&) {
      return eam::behavior{[](ask a) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // answers long after the caller gave up
        return a.n;
      }};
    });
    auto waiter = system.spawn([slow](eam::actor_context&) {
      return eam::behavior{[slow](ask a) -> eam::task<int> {
        const auto start = std::chrono::steady_clock::now();
        auto r = co_await slow.call(ask{a.n}, std::chrono::milliseconds(20));
        const auto waited = std::chrono::steady_clock::now() - start;
        co_return r.has_value() ? -1 : static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(waited).count());
      }};
    });
    CHECK(waiter.call(ask{1}).get().value() >= 20'000);
  }

  TEST_CASE("an awaited call of an actor to itself fails at once with calling_self, and the actor runs on") {
    eam::actor_system system({.workers = 1});
    struct call_myself {};
    using self_ref = eam::typed_ref<int(ask), std::string(call_myself)>;
    auto a = system.spawn([](eam::actor_context& ctx) {
      return eam::behavior{[](ask q) { return q.n; },
                           [&ctx](call_myself) -> eam::task<std::string> {
                             const auto me = eam::unchecked_typed_ref_cast<self_ref>(ctx.self());
                             // Long enough that waiting it out would fail the call's own timeout below.
                             auto op = me.call(ask{1}, std::chrono::seconds(600));
                             auto r = co_await op;
                             co_return r ? std::string("answered") : std::string(r.error_value().code().name());
                           }};
    });
    const auto me = eam::unchecked_typed_ref_cast<self_ref>(a);
    CHECK(me.call(call_myself{}, std::chrono::seconds(60)).get().value() == "calling_self");
    CHECK(me.call(ask{7}).get().value() == 7);
  }

  TEST_CASE("an awaited call to an actor that has exited resumes with actor_not_found") {
    eam::actor_system system({.workers = 2});
    auto gone = system.spawn(leaf);
    system.stop(gone);
    auto waiter = system.spawn([gone](eam::actor_context&) {
      return eam::behavior{[gone = leaf_ref(gone)](ask a) -> eam::task<int> {
        auto r = co_await gone.call(ask{a.n});
        co_return r.has_value() ? 0 : r.code().value();
      }};
    });
    CHECK(waiter.call(ask{1}).get().value() == static_cast<int>(eam::errc::actor_not_found));
  }
}
