#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

namespace {
struct work {};
struct get {};
}  // namespace

TEST_SUITE("engine.shutdown") {
  TEST_CASE("shutdown lets every queued message be handled before actors stop") {
    std::atomic<long> handled{0};
    long seen_at_terminate = -1;
    {
      eam::actor_system system({.workers = 2});
      struct slow_counter : eam::actor<void(work)> {
        std::atomic<long>* n = nullptr;
        long* out = nullptr;
        void init(std::atomic<long>* nn, long* o) {
          n = nn;
          out = o;
        }
        void handle_cast(work) { n->fetch_add(1, std::memory_order_relaxed); }
        void terminate(const eam::exit_reason&) { *out = n->load(); }
      };
      auto ref = system.spawn<slow_counter>(&handled, &seen_at_terminate);
      for (int i = 0; i < 100000; ++i) ref.cast(work{});
      system.shutdown({.timeout = std::chrono::seconds(30), .drain_mailboxes = true});
      CHECK_FALSE(system.is_running());
    }
    CHECK(handled.load() == 100000);
    CHECK(seen_at_terminate == 100000);
  }

  TEST_CASE("after shutdown spawn and call fail with system_shutting_down") {
    eam::actor_system system({.workers = 1});
    auto ref = system.spawn([](eam::actor_context&) { return eam::behavior{[](get) { return 1; }}; });
    system.shutdown();
    CHECK(system.actor_count() == 0);
    CHECK(ref.call(get{}).get().code() == eam::errc::system_shutting_down);
    try {
      (void)system.spawn([](eam::actor_context&) { return eam::behavior{[](get) { return 1; }}; });
      FAIL("spawn after shutdown must throw");
    } catch (const eam::error& e) {
      CHECK(e.code() == eam::errc::system_shutting_down);
    }
  }

  TEST_CASE("shutdown stops children before their parents") {
    struct order {
      std::mutex m;
      std::vector<std::string> v;
    } o;
    struct leaf : eam::actor<void(work)> {
      order* o = nullptr;
      std::string name;
      void init(order* oo, std::string n) {
        o = oo;
        name = std::move(n);
      }
      void handle_cast(work) {}
      void terminate(const eam::exit_reason&) {
        std::lock_guard l(o->m);
        o->v.push_back(name);
      }
    };
    struct parent : eam::actor<void(work)> {
      order* o = nullptr;
      void init(order* oo) {
        o = oo;
        context().spawn<leaf>(o, std::string("child-1"));
        context().spawn<leaf>(o, std::string("child-2"));
      }
      void handle_cast(work) {}
      void terminate(const eam::exit_reason&) {
        std::lock_guard l(o->m);
        o->v.push_back("parent");
      }
    };
    eam::actor_system system({.workers = 2});
    auto p = system.spawn<parent>(&o);
    p.cast(work{});
    system.shutdown();
    CHECK(o.v == std::vector<std::string>{"child-2", "child-1", "parent"});
  }

  TEST_CASE("shutdown is idempotent and the destructor shuts down a running system") {
    auto* system = new eam::actor_system({.workers = 1});
    (void)system->spawn([](eam::actor_context&) { return eam::behavior{[](get) { return 1; }}; });
    system->shutdown();
    system->shutdown();
    delete system;
    eam::actor_system other({.workers = 1});
    (void)other.spawn([](eam::actor_context&) { return eam::behavior{[](get) { return 1; }}; });
    CHECK(other.actor_count() == 1);
  }
}
