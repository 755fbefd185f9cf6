#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"
#include "address_sanitizer.hpp"

#include <thread>
#include <vector>

namespace {
struct echo {
  int n;
};
struct hold {
  std::chrono::milliseconds for_how_long;
};
struct stop_now {};

using echo_ref = eam::typed_ref<int(echo), int(hold), void(stop_now)>;

auto echo_actor(eam::actor_context& ctx) {
  return eam::behavior{
      [](echo e) { return e.n; },
      [](hold h) {
        std::this_thread::sleep_for(h.for_how_long);  // simulates a slow handler
        return 0;
      },
      [&ctx](stop_now) { ctx.stop(); },
  };
}
}  // namespace

TEST_SUITE("engine.call") {
  TEST_CASE("a call from outside the pool returns the handler's reply") {
    eam::actor_system system({.workers = 2});
    auto ref = system.spawn(echo_actor);
    for (int i = 0; i < 1000; ++i) CHECK(ref.call(echo{i}).get().value() == i);
  }

  // On a worker: a handler the caller runs itself cannot be cut short (the next cases).
  TEST_CASE("a call with no reply within its timeout fails with timeout and the late reply is discarded") {
    eam::actor_system system({.workers = 1, .calls_run_on_caller = false});
    auto ref = system.spawn(echo_actor);
    auto r = ref.call(hold{std::chrono::milliseconds(100)}, std::chrono::milliseconds(10)).get();
    CHECK(r.code() == eam::errc::timeout);
    CHECK(r.error_value().context() == "no reply within the call's timeout of 10 ms");  // it said no ms
    CHECK(ref.call(echo{7}).get().value() == 7);
    system.shutdown();
    const auto refused = ref.call(echo{8}).get();
    CHECK(refused.code() == eam::errc::system_shutting_down);
    CHECK(refused.error_value().context().find("shutting down") != std::string::npos);  // it was empty
  }

  // The reply slot has no reference count: the state word says who frees it (the caller after
  // the answer, the answering side after the caller gave up). A zero timeout gives up while the
  // worker answers, so both orders and the race between them occur; ASan and TSan check that
  // every slot is freed exactly once and never read after. The turns run on workers: a caller
  // that runs the handler itself has the answer before it looks.
  TEST_CASE("calls that give up while their answer is being written get the answer or timeout and lose nothing") {
    eam::actor_system system({.workers = 2, .calls_run_on_caller = false});
    auto ref = system.spawn(echo_actor);
    int answered = 0, timed_out = 0;
    for (int i = 0; i < 5000; ++i) {
      auto r = ref.call(echo{i}, std::chrono::milliseconds(0)).get();
      if (r.has_value()) {
        CHECK(r.value() == i);
        ++answered;
      } else {
        CHECK(r.code() == eam::errc::timeout);
        ++timed_out;
      }
    }
    CHECK(answered + timed_out == 5000);
    CHECK(ref.call(echo{7}).get().value() == 7);  // the actor answered every abandoned call too
  }

  TEST_CASE("a thread keeps one reply slot it freed for its next call of that size" * doctest::skip(EAM_ADDRESS_SANITIZER)) {
    // On a thread of its own: the test thread may keep a slot from earlier calls.
    std::thread([] {
      using eam::detail::allocate_reply_slot;
      using eam::detail::free_reply_slot;
      void* a = allocate_reply_slot(128);
      void* b = allocate_reply_slot(128);
      CHECK(a != b);
      free_reply_slot(a, 128);  // kept
      free_reply_slot(b, 128);  // one is kept already: back to the allocator
      CHECK(allocate_reply_slot(128) == a);
      free_reply_slot(a, 128);
      void* other_size = allocate_reply_slot(192);  // not the kept block, which stays kept
      CHECK(other_size != a);
      CHECK(allocate_reply_slot(128) == a);
      free_reply_slot(other_size, 192);
      CHECK(allocate_reply_slot(192) == other_size);
      free_reply_slot(other_size, 192);  // kept, and freed at the thread's end (LeakSanitizer sees a leak otherwise)
      free_reply_slot(a, 128);
    }).join();
  }

  TEST_CASE("a call to an actor that has exited fails with actor_not_found") {
    eam::actor_system system({.workers = 2});
    auto ref = system.spawn(echo_actor);
    ref.cast(stop_now{});
    REQUIRE(eam::test::eventually([&] { return !ref.is_alive(); }));
    auto r = ref.call(echo{1}).get();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.code() == eam::errc::actor_not_found);
  }

  TEST_CASE("calls queued behind a stop are answered with actor_not_found instead of timing out") {
    eam::actor_system system({.workers = 1});
    auto ref = system.spawn(echo_actor);
    ref.cast(stop_now{});
    std::vector<eam::result<int>> results;
    for (int i = 0; i < 5; ++i) results.push_back(ref.call(echo{i}, std::chrono::seconds(30)).get());
    for (auto& r : results) CHECK(r.code() == eam::errc::actor_not_found);
  }

  TEST_CASE("a call through an empty ref fails with actor_not_found") {
    eam::actor_system system({.workers = 1});
    echo_ref nobody;
    CHECK(nobody.call(echo{1}).get().code() == eam::errc::actor_not_found);
  }

  TEST_CASE("many threads calling one actor each get their own replies" * doctest::test_suite("concurrency")) {
    eam::actor_system system({.workers = 2});
    auto ref = system.spawn(echo_actor);
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 2000; ++i)
          if (ref.call(echo{t * 100000 + i}).get().value() != t * 100000 + i) ++wrong;
      });
    }
    for (auto& t : threads) t.join();
    CHECK(wrong.load() == 0);
  }
}
