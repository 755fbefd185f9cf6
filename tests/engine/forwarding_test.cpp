// The seams the cluster's proxies stand on (engine/README.md, 7): messages of any type, answer
// channels, calls answered to a receiver, forwarding actors, stop with a reason.
#include <doctest/doctest.h>
#include <eam/eam.hpp>
#include <eam/engine/any_message.hpp>
#include <eam/engine/forwarding.hpp>

#include "../support/eventually.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using eam::test::eventually;

namespace {
struct get {};
struct put {
  int v;
};
struct watch_it {
  eam::actor_ref other;
};
struct link_it {
  eam::actor_ref other;
};

// Keeps what reaches a forwarding actor; answers calls of get with 7 (or, for `wrong`, with a
// string: an answer of the wrong type).
class recording_forwarder final : public eam::message_forwarder {
 public:
  std::mutex lock;
  std::vector<std::string> types;
  std::vector<std::thread::id> threads;
  std::vector<std::pair<eam::exit_reason, bool>> exits;
  std::vector<std::pair<std::uint64_t, bool>> link_changes;  // the other actor's id, linked
  bool wrong = false;
  bool keep_calls = false;
  std::vector<eam::reply_handle> kept;

  void forward(eam::message&& m) noexcept override {
    std::lock_guard g(lock);
    types.emplace_back(m.type_name());
    threads.push_back(std::this_thread::get_id());
    if (!m.is_call()) return;
    eam::reply_handle r = m.take_reply();
    if (keep_calls)
      kept.push_back(std::move(r));
    else if (wrong)
      r.reply(eam::message::of(std::string("seven")));
    else
      r.reply(eam::message::of(7));
  }
  void forward_exit(const eam::actor_ref&, const eam::exit_reason& reason, bool via_link) noexcept override {
    std::lock_guard g(lock);
    exits.emplace_back(reason, via_link);
  }
  void link_changed(const eam::actor_ref& other, bool linked) noexcept override {
    std::lock_guard g(lock);
    link_changes.emplace_back(other.id(), linked);
  }
  bool handles(eam::message_type_id message, eam::message_type_id reply) const noexcept override {
    return message == eam::message_type_id::of<get>() && reply == eam::message_type_id::of<int>();
  }
};

// Counts answers given to send_call.
class counting_receiver final : public eam::reply_receiver {
 public:
  std::promise<std::string> got;
  void on_reply(eam::message&& m) noexcept override {
    if (const int* v = m.get_if<int>())
      got.set_value("int " + std::to_string(*v));
    else if (const eam::error* e = m.get_if<eam::error>())
      got.set_value(std::string(e->code().name()));
    else
      got.set_value("other");
  }
};
}  // namespace

TEST_SUITE("engine.forwarding") {
  TEST_CASE("a message of any type: built from a value, read back by type, sent as a cast") {
    eam::message m = eam::message::of(put{5});
    CHECK(m.is<put>());
    CHECK(m.get_if<get>() == nullptr);
    REQUIRE(m.get_if<put>() != nullptr);
    CHECK(m.get_if<put>()->v == 5);
    CHECK(m.type() == eam::message_type_id::of<put>());
    CHECK(m.type_name().find("put") != std::string_view::npos);
    CHECK_FALSE(m.is_call());

    eam::actor_system system({.workers = 1});
    std::atomic<int> seen{0};
    auto ref = system.spawn([&](eam::actor_context&) { return eam::behavior{[&](put p) { seen = p.v; }}; });
    CHECK(eam::send(ref, m) == eam::cast_result::sent);
    CHECK_FALSE(m);
    CHECK(eventually([&] { return seen == 5; }));
    CHECK(eam::handles(ref, eam::message_type_id::of<put>(), {}));
    CHECK_FALSE(eam::handles(ref, eam::message_type_id::of<get>(), eam::message_type_id::of<int>()));
  }

  TEST_CASE("a full bounded mailbox hands the message back") {
    eam::actor_system system({.workers = 1});
    std::promise<void> release;
    auto gate = release.get_future().share();
    auto ref = system.spawn({.mailbox_bound = 1, .overflow = eam::overflow_strategy::error},
                            [gate](eam::actor_context&) { return eam::behavior{[gate](put) { gate.wait(); }}; });
    eam::message first = eam::message::of(put{1});
    REQUIRE(eam::send(ref, first) == eam::cast_result::sent);
    eam::cast_result r = eam::cast_result::sent;
    eam::message next;
    for (int i = 0; i < 1000 && r == eam::cast_result::sent; ++i) {  // the handler holds one; one more fits
      next = eam::message::of(put{2});
      r = eam::send(ref, next);
    }
    CHECK(r == eam::cast_result::full);
    REQUIRE(next.get_if<put>() != nullptr);
    CHECK(next.get_if<put>()->v == 2);
    release.set_value();
  }

  TEST_CASE("send_call answers its receiver: a value, or the error of a gone actor") {
    eam::actor_system system({.workers = 1});
    auto ref = system.spawn([](eam::actor_context&) { return eam::behavior{[](get) { return 3; }}; });
    counting_receiver ok;
    eam::send_call(ref, eam::message::of(get{}), ok);
    CHECK(ok.got.get_future().get() == "int 3");
    system.stop(ref);
    REQUIRE(eventually([&] { return !ref.is_alive(); }));
    counting_receiver gone;
    eam::send_call(ref, eam::message::of(get{}), gone);
    CHECK(gone.got.get_future().get() == "actor_not_found");
  }

  TEST_CASE("a forwarding actor takes casts and calls on the sender's thread and answers through reply handles") {
    eam::actor_system system({.workers = 1});
    auto fw = std::make_shared<recording_forwarder>();
    eam::actor_ref proxy = eam::spawn_forwarding_actor(system, fw);
    auto typed = eam::unchecked_typed_ref_cast<eam::typed_ref<void(put), int(get)>>(proxy);
    typed.cast(put{1});
    CHECK(typed.call(get{}).get().value() == 7);
    {
      std::lock_guard g(fw->lock);
      REQUIRE(fw->types.size() == 2);
      CHECK(fw->threads[0] == std::this_thread::get_id());
      CHECK(fw->types[1].find("get") != std::string::npos);
    }
    // From inside an actor, co_awaited: the answer reaches the awaiting actor.
    auto asker = system.spawn([typed](eam::actor_context&) {
      return eam::behavior{[typed](put) -> eam::task<int> {
        auto op = typed.call(get{});
        auto r = co_await op;
        co_return r.value();
      }};
    });
    CHECK(eam::unchecked_typed_ref_cast<eam::typed_ref<int(put)>>(asker).call(put{0}).get().value() == 7);
    // typed_ref_cast asks the forwarder, whose answers may change: no type stands for them.
    CHECK(eam::typed_ref_cast<eam::typed_ref<int(get)>>(proxy).has_value());
    CHECK_FALSE(eam::typed_ref_cast<eam::typed_ref<void(put)>>(proxy).has_value());
    CHECK(eam::handling_type(proxy) == nullptr);
  }

  TEST_CASE("an answer of the wrong type fails the call with unexpected_reply_type and a dropped handle with actor_not_found") {
    eam::actor_system system({.workers = 1});
    auto fw = std::make_shared<recording_forwarder>();
    fw->wrong = true;
    auto typed = eam::unchecked_typed_ref_cast<eam::typed_ref<int(get)>>(eam::spawn_forwarding_actor(system, fw));
    CHECK(typed.call(get{}).get().code() == eam::errc::unexpected_reply_type);
    auto asker = system.spawn([typed](eam::actor_context&) {
      return eam::behavior{[typed](put) -> eam::task<int> {
        auto op = typed.call(get{});
        auto r = co_await op;
        co_return r ? 0 : static_cast<int>(r.code().value());
      }};
    });
    CHECK(eam::unchecked_typed_ref_cast<eam::typed_ref<int(put)>>(asker).call(put{}).get().value() ==
          static_cast<int>(eam::errc::unexpected_reply_type));

    fw->keep_calls = true;
    auto pending = std::async(std::launch::async, [&] { return typed.call(get{}, 60s).get(); });
    REQUIRE(eventually([&] {
      std::lock_guard g(fw->lock);
      return !fw->kept.empty();
    }));
    {
      std::lock_guard g(fw->lock);
      fw->kept.clear();  // dropped unanswered
    }
    CHECK(pending.get().code() == eam::errc::actor_not_found);
  }

  TEST_CASE("an actor's link and unlink reach the forwarder - link_forwarding_actor links both ways and tells it nothing") {
    eam::actor_system system({.workers = 1});
    auto fw = std::make_shared<recording_forwarder>();
    eam::actor_ref proxy = eam::spawn_forwarding_actor(system, fw);
    struct unlink_it {
      eam::actor_ref other;
    };
    auto linker = system.spawn([](eam::actor_context& ctx) {
      return eam::behavior{[&ctx](const link_it& l) {
                             ctx.link(l.other);
                             return true;
                           },
                           [&ctx](const unlink_it& u) {
                             ctx.unlink(u.other);
                             return true;
                           }};
    });
    auto l = eam::unchecked_typed_ref_cast<eam::typed_ref<bool(link_it), bool(unlink_it)>>(linker);
    REQUIRE(l.call(link_it{proxy}).get().value());
    REQUIRE(l.call(link_it{proxy}).get().value());  // linked already: no second word
    REQUIRE(l.call(unlink_it{proxy}).get().value());
    REQUIRE(eventually([&] {
      std::lock_guard g(fw->lock);
      return fw->link_changes.size() == 2;
    }));
    {
      std::lock_guard g(fw->lock);
      CHECK(fw->link_changes == std::vector<std::pair<std::uint64_t, bool>>{{linker.id(), true}, {linker.id(), false}});
    }

    // Made for a remote linker: both ends linked, the forwarder told nothing, and the
    // forwarding actor's end reaches the other actor as a link's exit.
    std::mutex lock;
    std::vector<std::pair<eam::exit_reason, bool>> heard;  // reason, through a link
    auto trapper = system.spawn([&](eam::actor_context& ctx) {
      ctx.set_trap_exit(true);
      return eam::behavior{[&](const eam::exit_signal& x) {
        std::lock_guard g(lock);
        heard.emplace_back(x.reason, static_cast<bool>(x.link));
      }};
    });
    eam::link_forwarding_actor(proxy, trapper, true);
    eam::link_forwarding_actor(trapper, proxy, true);  // not a forwarding actor: nothing
    system.stop(proxy, eam::exit_reason::noconnection());
    REQUIRE(eventually([&] {
      std::lock_guard g(lock);
      return heard.size() == 1;
    }));
    {
      std::lock_guard g(lock);
      CHECK(heard[0].first == eam::exit_reason::noconnection());
      CHECK(heard[0].second);
    }
    {
      std::lock_guard g(fw->lock);
      CHECK(fw->link_changes.size() == 2);
    }

    // Unlinked again, the other's end reaches the forwarder no more; a link still in place does.
    auto fw2 = std::make_shared<recording_forwarder>();
    eam::actor_ref proxy2 = eam::spawn_forwarding_actor(system, fw2);
    const auto crashing = [&system] {
      return system.spawn([](eam::actor_context&) { return eam::behavior{[](put) { throw std::runtime_error("x"); }}; });
    };
    auto mortal = crashing();
    auto still = crashing();
    eam::link_forwarding_actor(proxy2, mortal, true);
    eam::link_forwarding_actor(proxy2, mortal, false);
    eam::link_forwarding_actor(proxy2, still, true);
    eam::unchecked_typed_ref_cast<eam::typed_ref<void(put)>>(mortal).cast(put{});
    REQUIRE(eventually([&] { return !mortal.is_alive(); }));
    eam::unchecked_typed_ref_cast<eam::typed_ref<void(put)>>(still).cast(put{});
    REQUIRE(eventually([&] {
      std::lock_guard g(fw2->lock);
      return !fw2->exits.empty();
    }));
    CHECK(eventually([&] { return !still.is_alive(); }));
    std::lock_guard g(fw2->lock);
    REQUIRE(fw2->exits.size() == 1);  // still's, not mortal's
    CHECK(fw2->exits[0].second);
    CHECK(fw2->link_changes.empty());
  }

  TEST_CASE("exit signals go to the forwarder, kill too, and stop with a reason ends it and tells watchers") {
    eam::actor_system system({.workers = 1});
    auto fw = std::make_shared<recording_forwarder>();
    eam::actor_ref proxy = eam::spawn_forwarding_actor(system, fw);
    std::mutex lock;
    std::vector<eam::exit_reason> downs;
    auto watcher = system.spawn([&](eam::actor_context& ctx) {
      return eam::behavior{[&ctx](const watch_it& w) {
                             ctx.watch(w.other);
                             return true;
                           },
                           [&ctx](const link_it& l) {
                             ctx.link(l.other);
                             return true;
                           },
                           [&](const eam::down& d) {
                             std::lock_guard g(lock);
                             downs.push_back(d.reason);
                           }};
    });
    auto w = eam::unchecked_typed_ref_cast<eam::typed_ref<bool(watch_it), bool(link_it)>>(watcher);
    REQUIRE(w.call(watch_it{proxy}).get().value());
    system.exit(proxy, eam::exit_reason::kill());
    system.exit(proxy, eam::exit_reason::custom("bye"));
    REQUIRE(eventually([&] {
      std::lock_guard g(fw->lock);
      return fw->exits.size() == 2;
    }));
    CHECK(proxy.is_alive());  // forwarded, not acted on
    {
      std::lock_guard g(fw->lock);
      CHECK(fw->exits[0].first == eam::exit_reason::kill());
      CHECK_FALSE(fw->exits[0].second);
    }
    // A linked actor's end reaches the forwarder as a signal via the link.
    auto linker = system.spawn([proxy](eam::actor_context& ctx) {
      ctx.link(proxy);
      return eam::behavior{[](put) { throw std::runtime_error("linker crashed"); }};
    });
    eam::unchecked_typed_ref_cast<eam::typed_ref<void(put)>>(linker).cast(put{});
    REQUIRE(eventually([&] {
      std::lock_guard g(fw->lock);
      return fw->exits.size() == 3;
    }));
    {
      std::lock_guard g(fw->lock);
      CHECK(fw->exits[2].second);
      CHECK(fw->exits[2].first.type() == eam::exit_reason::kind::error);
    }
    system.stop(proxy, eam::exit_reason::noconnection());
    REQUIRE(eventually([&] {
      std::lock_guard g(lock);
      return downs.size() == 1;
    }));
    std::lock_guard g(lock);
    CHECK(downs[0] == eam::exit_reason::noconnection());
    CHECK(downs[0].to_string() == "noconnection");
    CHECK_FALSE(proxy.is_alive());
  }
}

namespace {
// Counts its releases and where they ran.
struct counting_holder final : eam::held_sends {
  std::atomic<int> released{0};
  std::atomic<std::thread::id> on{};
  void release() noexcept override {
    on.store(std::this_thread::get_id());
    released.fetch_add(1);
  }
};
struct hold_all {
  int holders;  // how many of the four-plus-one to ask for
};
struct look {};
}  // namespace

TEST_SUITE("engine.forwarding") {
  TEST_CASE(
      "held sends are released once, on the handler's thread, when the handler returns, and never outside a turn") {
    eam::actor_system system({.workers = 2});
    counting_holder outside;
    CHECK_FALSE(eam::release_when_handler_ends(outside));  // no turn runs here: nothing would release it
    CHECK(outside.released.load() == 0);

    std::array<counting_holder, 5> holders;
    std::atomic<int> accepted{0}, seen_in_handler{-1}, seen_by_next{-1};
    std::atomic<std::thread::id> handler_thread{};
    auto ref = system.spawn([&](eam::actor_context& ctx) {
      return eam::behavior{
          [&, self = eam::unchecked_typed_ref_cast<eam::typed_ref<void(look)>>(ctx.self())](hold_all h) {
            handler_thread.store(std::this_thread::get_id());
            for (int i = 0; i < h.holders; ++i) {
              accepted += eam::release_when_handler_ends(holders[i]) ? 1 : 0;
              accepted += eam::release_when_handler_ends(holders[i]) ? 1 : 0;  // again: one release
            }
            seen_in_handler = holders[0].released.load();
            self.cast(look{});  // usually handled in this same turn
          },
          [&](look) { seen_by_next = holders[0].released.load(); }};
    });
    ref.cast(hold_all{5});
    REQUIRE(eventually([&] { return seen_by_next.load() != -1; }));
    CHECK(seen_in_handler.load() == 0);  // not before the handler is done
    CHECK(seen_by_next.load() == 1);     // at its end, not only at the turn's
    CHECK(accepted.load() == 8);         // four places; the fifth holder is told to send now
    for (int i = 0; i < 4; ++i) {
      CHECK(holders[i].released.load() == 1);
      CHECK(holders[i].on.load() == handler_thread.load());
    }
    CHECK(holders[4].released.load() == 0);
    system.shutdown();
  }

  TEST_CASE("held sends are released when a task handler suspends in an await") {
    eam::actor_system system({.workers = 2});
    counting_holder holder;
    std::atomic<int> seen_by_callee{-1};
    auto callee = system.spawn([&](eam::actor_context&) {
      return eam::behavior{[&](get) {
        // The caller suspends after sending this call; its held sends go then. Bounded wait.
        eventually([&] { return holder.released.load() == 1; });
        seen_by_callee = holder.released.load();
        return 1;
      }};
    });
    auto typed = eam::unchecked_typed_ref_cast<eam::typed_ref<int(get)>>(callee);
    std::atomic<int> answer{0};
    auto caller = system.spawn([&](eam::actor_context&) {
      return eam::behavior{[&, typed](put) -> eam::task<void> {
        CHECK(eam::release_when_handler_ends(holder));
        auto r = co_await typed.call(get{});
        answer = r ? r.value() : -1;
      }};
    });
    caller.cast(put{1});
    REQUIRE(eventually([&] { return answer.load() != 0; }));
    CHECK(answer.load() == 1);
    CHECK(seen_by_callee.load() == 1);
    CHECK(holder.released.load() == 1);
    system.shutdown();
  }
}

namespace {
struct drop_it {};
}  // namespace

TEST_SUITE("engine.forwarding") {
  TEST_CASE("only_reference: every other ref, watch and link of a forwarding actor counts") {
    eam::actor_system system({.workers = 1});
    auto fw = std::make_shared<recording_forwarder>();
    eam::actor_ref proxy = eam::spawn_forwarding_actor(system, fw);
    CHECK(eam::only_reference(proxy));
    {
      const eam::actor_ref copy = proxy;
      CHECK_FALSE(eam::only_reference(proxy));
      CHECK_FALSE(eam::only_reference(copy));
    }
    CHECK(eam::only_reference(proxy));
    CHECK_FALSE(eam::only_reference(eam::actor_ref{}));

    // An actor that watches or links to it and then holds no ref of its own; `drop_it` has it
    // unwatch.
    auto holder = system.spawn([&](eam::actor_context& ctx) {
      auto& held = ctx.make_state<std::optional<eam::watch_ref>>();
      return eam::behavior{[&ctx, &held](watch_it w) {
                             held = ctx.watch(w.other);
                             return true;
                           },
                           [&ctx](link_it l) {
                             ctx.link(l.other);
                             return true;
                           },
                           [&ctx, &held](drop_it) {
                             if (held) ctx.unwatch(*held);
                             held.reset();
                             return true;
                           },
                           [](const eam::down&) {}};
    });
    auto h = eam::unchecked_typed_ref_cast<eam::typed_ref<bool(watch_it), bool(link_it), bool(drop_it)>>(holder);
    CHECK_FALSE(eam::only_reference(holder));  // not a forwarding actor
    REQUIRE(h.call(watch_it{proxy}).get().value());
    // The watch holds it; the message's copy was let go on the worker (perhaps held back).
    CHECK_FALSE(eam::only_reference(proxy));
    REQUIRE(h.call(drop_it{}).get().value());
    CHECK(eventually([&] { return eam::only_reference(proxy); }));  // the worker gives held releases back when idle

    // A watch from outside actors (the cluster's own kind) counts as well.
    std::atomic<int> outside_downs{0};
    system.watch(proxy, [&](const eam::down&) { outside_downs.fetch_add(1); });
    CHECK_FALSE(eam::only_reference(proxy));
    CHECK(outside_downs.load() == 0);
    system.stop(proxy, eam::exit_reason::custom("remote end"));
    REQUIRE(eventually([&] { return outside_downs.load() == 1; }));
    CHECK_FALSE(eam::only_reference(proxy));  // ended
    CHECK(eventually([&] { return proxy.cell() != nullptr && !proxy.is_alive(); }));

    // A link counts until it goes (a second forwarding actor: the first has ended).
    eam::actor_ref second = eam::spawn_forwarding_actor(system, fw);
    REQUIRE(h.call(link_it{second}).get().value());
    CHECK_FALSE(eam::only_reference(second));
    system.stop(holder);
    CHECK(eventually([&] { return eam::only_reference(second); }));  // the holder's end undid the link
    system.shutdown();
  }
}
