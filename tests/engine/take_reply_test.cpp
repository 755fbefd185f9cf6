#include "../support/eventually.hpp"

#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/any_message.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {
struct fetch {
  int key;
};
struct arrive {
  int value;
};
struct waiting_calls {};
struct note {};
struct handed_count {};
struct cast_took_a_reply {};
struct go {};
struct held_states {};

// Answers every fetch when a value arrives (OTP's noreply, then gen_server:reply), and counts
// how many times its handlers ran: each call is handled once, however long it waits.
auto cache(eam::actor_context& ctx) {
  struct state {
    std::vector<eam::reply_handle> waiting;
    int fetches_handled = 0;
    bool cast_took_a_reply = false;
  };
  auto& st = ctx.make_state<state>();
  return eam::behavior{
      [&ctx, &st](fetch) {
        ++st.fetches_handled;
        st.waiting.push_back(ctx.take_reply());
        return std::string("never sent");  // the taken call is answered by its handle
      },
      [&st](arrive a) {
        for (auto& r : st.waiting) r.reply("value " + std::to_string(a.value));
        st.waiting.clear();
      },
      [&st](waiting_calls) { return static_cast<int>(st.waiting.size()); },
      [&st](handed_count) { return st.fetches_handled; },
      [&ctx, &st](note) { st.cast_took_a_reply = static_cast<bool>(ctx.take_reply()); },
      [&st](cast_took_a_reply) { return st.cast_took_a_reply; },
      [&st](held_states) {  // per waiting call: 'w' its caller still waits, 'g' it gave up
        std::string states;
        for (const auto& r : st.waiting) states += r.abandoned() ? 'g' : 'w';
        return states;
      },
  };
}
using cache_ref = eam::typed_ref<std::string(fetch), void(arrive), int(waiting_calls), int(handed_count), void(note),
                                 bool(cast_took_a_reply), std::string(held_states)>;

// A send_call receiver that says whether its caller gave up as the test sets it (the cluster's
// answer to another node's call says so once that node cancels it).
class told_receiver final : public eam::reply_receiver {
 public:
  std::atomic<bool> gave_up{false};
  std::atomic<bool> answered{false};
  void on_reply(eam::message&&) noexcept override { answered = true; }
  bool caller_gave_up() const noexcept override { return gave_up.load(); }
};

// Waits (bounded) until `c` holds `n` waiting calls.
bool wait_for_waiting(const cache_ref& c, int n) {
  for (int i = 0; i < 20'000; ++i) {
    if (c.call(waiting_calls{}).get().value() == n) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}
}  // namespace

TEST_SUITE("engine.take_reply") {
  TEST_CASE("a call whose reply was taken is answered later by the handle, not by the handler's return") {
    eam::actor_system system({.workers = 2});
    cache_ref c(system.spawn(cache));
    std::vector<std::thread> callers;
    std::vector<std::string> answers(3);
    for (int i = 0; i < 3; ++i) callers.emplace_back([&, i] { answers[i] = c.call(fetch{i}, 20s).get().value(); });
    REQUIRE(wait_for_waiting(c, 3));
    c.cast(arrive{7});
    for (auto& t : callers) t.join();
    CHECK(answers == std::vector<std::string>(3, "value 7"));
    CHECK(c.call(handed_count{}).get().value() == 3);  // each call handled once
  }

  TEST_CASE("an actor awaiting a call whose reply was taken gets the later answer") {
    eam::actor_system system({.workers = 2});
    cache_ref c(system.spawn(cache));
    std::atomic<int> outcome{0};  // 1: the later answer, 2: anything else
    auto caller = eam::typed_ref<void(go)>(system.spawn([c, &outcome](eam::actor_context&) {
      return eam::behavior{[c, &outcome](go) -> eam::task<void> {
        auto op = c.call(fetch{1}, std::chrono::milliseconds(20'000));  // named: see task.hpp on GCC 12
        auto r = co_await op;
        outcome = r && r.value() == "value 9" ? 1 : 2;
      }};
    }));
    caller.cast(go{});
    REQUIRE(wait_for_waiting(c, 1));
    c.cast(arrive{9});
    for (int i = 0; i < 20'000 && outcome == 0; ++i) std::this_thread::sleep_for(1ms);
    CHECK(outcome == 1);
  }

  TEST_CASE("a handle answers from another thread, and a dropped one fails the call with actor_not_found") {
    eam::actor_system system({.workers = 2});
    std::atomic<bool> drop{false};
    auto handoff = eam::typed_ref<int(fetch)>(system.spawn([&drop](eam::actor_context& ctx) {
      return eam::behavior{[&ctx, &drop](fetch f) {
        eam::reply_handle r = ctx.take_reply();
        if (!drop) std::thread([r = std::move(r), k = f.key]() mutable { r.reply(k * 10); }).detach();
        return -1;  // dropped here when `drop`: the caller hears actor_not_found
      }};
    }));
    CHECK(handoff.call(fetch{4}).get().value() == 40);
    drop = true;
    auto gone = handoff.call(fetch{5}).get();
    REQUIRE_FALSE(gone.has_value());
    CHECK(gone.code() == eam::errc::actor_not_found);
  }

  TEST_CASE("take_reply is empty in a cast handler") {
    eam::actor_system system({.workers = 2});
    cache_ref c(system.spawn(cache));
    c.cast(note{});
    CHECK_FALSE(c.call(cast_took_a_reply{}).get().value());
  }

  TEST_CASE(
      "a handle tells whether its caller still waits: a thread or an actor past its timeout, or an ended actor, has "
      "gone") {
    eam::actor_system system({.workers = 2});
    cache_ref c(system.spawn(cache));
    const auto states = [&c] { return c.call(held_states{}).get().value(); };
    std::string thread_answer;
    std::thread waiting_thread([&] {
      auto r = c.call(fetch{0}, 60s).get();
      thread_answer = r ? r.value() : std::string("no answer");
    });
    REQUIRE(wait_for_waiting(c, 1));
    CHECK(states() == "w");
    REQUIRE(c.call(fetch{1}, 20ms).get().code() == eam::errc::timeout);
    CHECK(states() == "wg");

    // An actor whose first call times out (its await ends) and whose second one waits.
    std::atomic<int> timed_out{0};
    std::atomic<bool> second_answered{false};
    auto twice = eam::typed_ref<void(go)>(system.spawn([c, &timed_out, &second_answered](eam::actor_context&) {
      return eam::behavior{[c, &timed_out, &second_answered](go) -> eam::task<void> {
        if (timed_out == 0) {
          auto op = c.call(fetch{2}, std::chrono::milliseconds(20));  // named: see task.hpp on GCC 12
          auto r = co_await op;
          timed_out = !r && r.code() == eam::errc::timeout ? 1 : 2;
        } else {
          auto op = c.call(fetch{3}, std::chrono::milliseconds(20'000));
          auto r = co_await op;
          second_answered = r.has_value();
        }
      }};
    }));
    twice.cast(go{});
    REQUIRE(eam::test::eventually([&] { return timed_out != 0; }));
    REQUIRE(timed_out == 1);
    CHECK(states() == "wgg");  // ended, and no other call awaited since
    twice.cast(go{});
    REQUIRE(wait_for_waiting(c, 4));
    CHECK(states() == "wggw");  // the first call of the same actor stays gone

    // An actor that ends while it awaits.
    auto stopped = eam::typed_ref<void(go)>(system.spawn([c](eam::actor_context&) {
      return eam::behavior{[c](go) -> eam::task<void> {
        auto op = c.call(fetch{4}, std::chrono::milliseconds(20'000));
        (void)co_await op;
      }};
    }));
    stopped.cast(go{});
    REQUIRE(wait_for_waiting(c, 5));
    CHECK(states() == "wggww");
    system.stop(stopped);
    CHECK(eam::test::eventually([&] { return states() == "wggwg"; }));

    c.cast(arrive{5});
    waiting_thread.join();
    CHECK(thread_answer == "value 5");
    CHECK(eam::test::eventually([&] { return second_answered.load(); }));
  }

  TEST_CASE("a handle of a call sent with send_call reads what its receiver says") {
    eam::actor_system system({.workers = 1});
    cache_ref c(system.spawn(cache));
    const auto states = [&c] { return c.call(held_states{}).get().value(); };
    told_receiver receiver;
    eam::send_call(c, eam::message::of(fetch{7}), receiver);
    REQUIRE(wait_for_waiting(c, 1));
    CHECK(states() == "w");
    receiver.gave_up = true;
    CHECK(states() == "g");
    c.cast(arrive{7});
    CHECK(eam::test::eventually([&] { return receiver.answered.load(); }));
  }

  TEST_CASE("a handle that outlives the caller's timeout answers nothing and harms nothing") {
    eam::actor_system system({.workers = 2});
    cache_ref c(system.spawn(cache));
    auto late = c.call(fetch{1}, 20ms).get();
    REQUIRE_FALSE(late.has_value());
    CHECK(late.code() == eam::errc::timeout);
    c.cast(arrive{3});  // answers the abandoned call: dropped
    std::string next;
    std::thread t([&] { next = c.call(fetch{2}, 20s).get().value(); });
    REQUIRE(wait_for_waiting(c, 1));
    c.cast(arrive{4});
    t.join();
    CHECK(next == "value 4");
  }
}
