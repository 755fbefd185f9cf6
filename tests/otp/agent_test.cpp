#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/otp.hpp>

#include <string>
#include <thread>
#include <vector>

TEST_SUITE("otp.agent") {
  TEST_CASE("get, update and get_and_update read and change the value") {
    eam::actor_system system({.workers = 2});
    auto a = eam::otp::agent<int>::start(system, 10);
    CHECK(a.get().value() == 10);
    CHECK(a.update([](int& n) { n += 5; }).value() == 15);
    CHECK(a.get_and_update([](int& n) { n = 0; }).value() == 15);
    CHECK(a.get().value() == 0);
    CHECK(a.get([](const int& n) { return std::to_string(n + 1); }).value() == "1");
  }

  TEST_CASE("cast applies in order with later calls from the same thread") {
    eam::actor_system system({.workers = 2});
    auto a = eam::otp::agent<std::vector<int>>::start(system, {});
    for (int i = 0; i < 100; ++i) a.cast([i](std::vector<int>& v) { v.push_back(i); });
    auto v = a.get().value();
    REQUIRE(v.size() == 100);
    for (int i = 0; i < 100; ++i) CHECK(v[static_cast<std::size_t>(i)] == i);
  }

  TEST_CASE("concurrent updates from many threads are never lost" * doctest::test_suite("concurrency")) {
    eam::actor_system system({.workers = 2});
    auto a = eam::otp::agent<long>::start(system, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) (void)a.update([](long& n) { ++n; });
      });
    for (auto& t : threads) t.join();
    CHECK(a.get().value() == 4000);
  }

  TEST_CASE("a stopped agent answers calls with actor_not_found") {
    eam::actor_system system({.workers = 2});
    auto a = eam::otp::agent<int>::start(system, 1);
    CHECK(a.stop());
    CHECK(a.get().code() == eam::errc::actor_not_found);
  }

  TEST_CASE("an agent can be found by name") {
    eam::actor_system system({.workers = 1});
    (void)eam::otp::agent<int>::start(system, 7, {.name = "config"});
    auto found = system.whereis<eam::otp::agent<int>::ref_type>("config");
    REQUIRE(found.has_value());
    CHECK(eam::otp::agent<int>(*found).get().value() == 7);
  }

  TEST_CASE("a function that throws a non-exception value fails its own call and the agent runs on") {
    eam::actor_system system({.workers = 1});
    auto a = eam::otp::agent<int>::start(system, 1);
    auto r = a.update([](int& n) {
      n = 5;
      throw 42;
    });
    CHECK(r.code() == eam::otp::otp_errc::function_threw);
    a.cast([](int&) { throw 43; });  // logged; the agent runs on
    CHECK(a.get().value() == 5);     // as the function left it
    CHECK(a.update([](int& n) { ++n; }).value() == 6);
  }
}
