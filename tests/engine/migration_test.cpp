// The migration seam (migration.hpp): pause with the state saved, resume, relay to a
// successor, and `moved` for watchers and links.
#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/migration.hpp>

#include "../support/eventually.hpp"
#include "../support/move_observer.hpp"

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using eam::test::eventually;

namespace {
struct add {
  int n;
};
struct get {};
struct note {
  std::string text;
};
struct add_child {};
struct seen {};

// Answers a relayed call with the successor's answer.
struct forwarded_reply final : eam::reply_receiver {
  explicit forwarded_reply(eam::reply_handle h) : to(std::move(h)) {}
  void on_reply(eam::message&& reply) noexcept override {
    to.reply(std::move(reply));
    delete this;
  }
  eam::reply_handle to;
};

// A counter that keeps what it saw, in order; saves {total, seen}.
struct counter_state {
  int total = 0;
  std::vector<int> seen;
};
std::atomic<int> terminated{0};

struct counter : eam::actor<void(add), int(get), void(add_child), std::vector<int>(seen)> {
  counter_state s;
  void init(counter_state restored) { s = std::move(restored); }
  void handle_cast(add a) {
    s.total += a.n;
    s.seen.push_back(a.n);
  }
  int handle_call(get) { return s.total; }
  std::vector<int> handle_call(seen) { return s.seen; }
  void handle_cast(add_child) {
    context().spawn([](eam::actor_context&) { return eam::behavior{[](get) { return 0; }}; });
  }
  counter_state save_state() const { return s; }
  void terminate(const eam::exit_reason&) { terminated.fetch_add(1); }
};

struct plain : eam::actor<int(get)> {
  int handle_call(get) { return 1; }
};

std::vector<int> successor_typed_seen(const eam::actor_ref& ref) {
  return eam::typed_ref_cast<eam::typed_ref<std::vector<int>(seen)>>(ref).value().call(seen{}).get().value();
}

eam::result<eam::saved_actor> pause(const eam::actor_ref& ref) {
  auto done = std::make_shared<std::promise<eam::result<eam::saved_actor>>>();
  auto answer = done->get_future();
  eam::pause_actor(ref, [done](eam::result<eam::saved_actor> r) { done->set_value(std::move(r)); });
  REQUIRE(answer.wait_for(20s) == std::future_status::ready);
  return answer.get();
}

}  // namespace

TEST_SUITE("migration") {
  TEST_CASE("a paused actor saves its state between two messages and sets later ones aside and resumes in order") {
    eam::actor_system sys({.workers = 2});
    auto ref = sys.spawn<counter>(counter_state{});
    ref.cast(add{1});
    CHECK(ref.call(get{}).get().value() == 1);
    auto saved = pause(ref);
    REQUIRE(saved.has_value());
    const auto* state = saved->state.get_if<counter_state>();
    REQUIRE(state != nullptr);
    CHECK(state->total == 1);
    CHECK(saved->type.find("counter") != std::string_view::npos);
    for (int i = 2; i <= 100; ++i) ref.cast(add{i});
    auto pending = std::async(std::launch::async, [&] { return ref.call(get{}).get().value(); });
    CHECK(pending.wait_for(50ms) == std::future_status::timeout);  // holds however slow: a paused actor cannot answer
    eam::resume_actor(ref);
    CHECK(pending.get() == 5050);
    sys.shutdown();
  }

  TEST_CASE("pause refusals leave the actor running") {
    eam::actor_system sys({.workers = 2});
    auto no_saver = sys.spawn<plain>();
    auto r = pause(no_saver);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.code() == eam::errc::actor_not_migratable);
    CHECK(no_saver.call(get{}).get().value() == 1);

    auto parent = sys.spawn<counter>(counter_state{});
    parent.cast(add_child{});
    REQUIRE(eventually([&] { return sys.actor_count() == 3; }));
    r = pause(parent);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.code() == eam::errc::actor_has_children);
    parent.cast(add{4});
    CHECK(parent.call(get{}).get().value() == 4);

    auto child_holder = sys.spawn([](eam::actor_context& ctx) {
      auto child = ctx.spawn<counter>(counter_state{});
      return eam::behavior{[child](get) { return child; }};
    });
    auto child = child_holder.call(get{}).get().value();
    r = pause(child);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.code() == eam::errc::actor_not_migratable);

    sys.stop(no_saver);
    REQUIRE(eventually([&] { return !sys.find(no_saver.id()); }));
    r = pause(no_saver);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.code() == eam::errc::actor_not_found);
    sys.shutdown();
  }

  TEST_CASE("a relay passes queued and later messages on in order with calls answered by the successor") {
    eam::actor_system sys({.workers = 2});
    terminated = 0;
    auto old = sys.spawn<counter>(eam::spawn_options{.name = "the-counter"}, counter_state{});
    old.cast(add{1});
    auto saved = pause(old);
    REQUIRE(saved.has_value());
    CHECK(saved->name == "the-counter");
    for (int i = 2; i <= 500; ++i) old.cast(add{i});
    auto queued_call = std::async(std::launch::async, [&] { return old.call(get{}).get(); });
    CHECK(sys.whereis("the-counter").has_value());  // still held while paused

    counter_state copy = *saved->state.get_if<counter_state>();
    // The relay starts before the successor exists (it needs the name the relay frees): it holds
    // what comes until then, as the cluster's does.
    struct buffering_relay {
      std::mutex lock;
      eam::actor_ref successor;
      std::vector<eam::message> held;
      void pass(eam::message&& m) {
        if (m.is_call()) {
          auto* answer = new forwarded_reply(m.take_reply());
          eam::send_call(successor, std::move(m), *answer);
        } else {
          (void)eam::send(successor, m);
        }
      }
      void relay(eam::message&& m) {
        std::lock_guard g(lock);
        if (!successor)
          held.push_back(std::move(m));
        else
          pass(std::move(m));
      }
      void start(eam::actor_ref to) {
        std::lock_guard g(lock);
        successor = std::move(to);
        for (auto& m : held) pass(std::move(m));
        held.clear();
      }
    };
    auto relay = std::make_shared<buffering_relay>();
    eam::relay_actor(old, [relay](eam::message&& m) { relay->relay(std::move(m)); });
    REQUIRE(eventually([&] { return !sys.whereis("the-counter").has_value(); }));  // freed for the successor
    auto successor = sys.spawn<counter>(eam::spawn_options{.name = "the-counter"}, std::move(copy));
    relay->start(successor);
    for (int i = 501; i <= 1000; ++i) old.cast(add{i});
    CHECK(old.call(get{}).get().value() == 500500);
    CHECK(queued_call.get().has_value());  // answered by the successor
    auto typed = eam::typed_ref_cast<eam::typed_ref<int(get)>>(successor).value();
    CHECK(typed.call(get{}).get().value() == 500500);
    std::vector<int> expected(1000);
    for (int i = 0; i < 1000; ++i) expected[i] = i + 1;
    CHECK(successor_typed_seen(successor) == expected);
    CHECK(terminated == 0);  // the old self did not terminate: it lives on
    sys.stop(old);
    REQUIRE(eventually([&] { return !sys.find(old.id()); }));
    CHECK(terminated == 0);
    sys.shutdown();
    CHECK(terminated == 1);  // the successor's, at shutdown
  }

  TEST_CASE("watchers and linked actors get exactly one moved and no down or exit afterwards") {
    eam::actor_system sys({.workers = 2});
    auto old = sys.spawn<counter>(counter_state{});
    auto successor = sys.spawn<counter>(counter_state{});
    auto watch_log = std::make_shared<eam::test::observed>();
    auto link_log = std::make_shared<eam::test::observed>();
    auto watcher = eam::test::observe(sys, watch_log, old, false);
    auto linked = eam::test::observe(sys, link_log, old, true);
    // Both requests reached the old actor before the pause does (system signals keep order).
    (void)watcher.call(eam::test::observer_sync{}).get().value();
    (void)linked.call(eam::test::observer_sync{}).get().value();
    REQUIRE(pause(old).has_value());
    eam::relay_actor(old, [successor](eam::message&& m) { (void)eam::send(successor, m); });
    eam::announce_moved(old, successor, "node-b");
    REQUIRE(eventually([&] {
      std::lock_guard a(watch_log->lock), b(link_log->lock);
      return watch_log->moves.size() == 1 && link_log->moves.size() == 1;
    }));
    sys.exit(old, eam::exit_reason::kill());
    REQUIRE(eventually([&] { return !sys.find(old.id()); }));
    // Anything the end of the relay could have caused was sent before it ended: handled once
    // these return.
    eam::test::settle(watcher);
    eam::test::settle(linked);
    for (auto* log : {watch_log.get(), link_log.get()}) {
      std::lock_guard g(log->lock);
      REQUIRE(log->moves.size() == 1);
      CHECK(log->moves[0].from == old);
      CHECK(log->moves[0].to == successor);
      CHECK(log->moves[0].node == "node-b");
      CHECK(log->downs == 0);
      CHECK(log->exits == 0);
    }
    CHECK(watch_log->moves[0].watch.watched == old.id());
    CHECK(link_log->moves[0].link == eam::link_ref::between(old.id(), linked.id()));
    sys.shutdown();
  }

  TEST_CASE("a functional actor opts in with on_save_state") {
    eam::actor_system sys({.workers = 2});
    auto ref = sys.spawn([](eam::actor_context& ctx) {
      auto& total = ctx.make_state<int>(0);
      ctx.on_save_state([&total] { return total; });
      return eam::behavior{[&total](add a) { total += a.n; }, [&total](get) { return total; }};
    });
    ref.cast(add{41});
    REQUIRE(ref.call(get{}).get().value() == 41);  // a pause goes ahead of queued messages
    auto saved = pause(ref);
    REQUIRE(saved.has_value());
    REQUIRE(saved->state.get_if<int>() != nullptr);
    CHECK(*saved->state.get_if<int>() == 41);
    eam::resume_actor(ref);
    ref.cast(add{1});
    CHECK(ref.call(get{}).get().value() == 42);
    sys.shutdown();
  }
}
