// An actor's monitors, links and timers past keyed_vector::index_from (engine/src/keyed_vector.hpp):
// the indexed lists find, erase, group and iterate exactly what the short ones did, and many
// watches, links and timers on one actor keep their semantics.
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"
#include "keyed_vector.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace {
using eam::test::eventually;

struct record {
  std::uint64_t key;
  std::string payload;  // moved when a record fills an erased one's place
};
struct key_of {
  std::uint64_t operator()(const record& r) const noexcept { return r.key; }
};
using records = eam::internal::keyed_vector<record, std::uint64_t, key_of>;
struct group_of {
  std::uint64_t operator()(const record& r) const noexcept { return r.key % 5; }
};
using grouped_records = eam::internal::keyed_vector<record, std::uint64_t, key_of, std::hash<std::uint64_t>, group_of>;

// The keys of group g are exactly those held with key % 5 == g.
void check_groups(grouped_records& v, const std::set<std::uint64_t>& keys) {
  for (std::uint64_t g = 0; g < 5; ++g) {
    std::set<std::uint64_t> seen, expected;
    v.for_each_in_group(g, [&](record& r) {
      CHECK(seen.insert(r.key).second);  // once each
      CHECK(r.payload == std::to_string(r.key));
    });
    for (std::uint64_t k : keys)
      if (k % 5 == g) expected.insert(k);
    CHECK(seen == expected);
  }
}

// Every key held is found with its own payload, and nothing else is.
void check_holds(records& v, const std::set<std::uint64_t>& keys, std::uint64_t up_to) {
  CHECK(v.size() == keys.size());
  for (std::uint64_t k = 0; k < up_to; ++k) {
    record* r = v.find(k);
    if (keys.contains(k)) {
      REQUIRE(r != nullptr);
      CHECK(r->payload == std::to_string(k));
    } else {
      CHECK(r == nullptr);
    }
  }
  std::set<std::uint64_t> seen;
  for (const record& r : v) seen.insert(r.key);
  CHECK(seen == keys);
}

struct tick {};
struct watch_all {
  std::vector<eam::actor_ref> targets;
};
struct unwatch_every_other {};
struct link_all {
  std::vector<eam::actor_ref> targets;
};
struct unlink_every_other {};
struct arm {
  int count;
};
struct numbered {
  int n;
};

// `n` actors that take ticks and nothing else: the many an actor watches or links to.
std::vector<eam::actor_ref> spawn_idle(eam::actor_system& system, int n) {
  std::vector<eam::actor_ref> out;
  for (int i = 0; i < n; ++i)
    out.push_back(system.spawn([](eam::actor_context&) { return eam::behavior{[](tick) {}}; }));
  return out;
}

// The ids of the actors at odd places, sorted: those whose watch or link is kept when every
// other one, from the first, is dropped.
std::vector<std::uint64_t> odd_place_ids(const std::vector<eam::actor_ref>& actors) {
  std::vector<std::uint64_t> ids;
  for (std::size_t i = 1; i < actors.size(); i += 2) ids.push_back(actors[i].id());
  std::sort(ids.begin(), ids.end());
  return ids;
}
}  // namespace

TEST_SUITE("engine.keyed_vector") {
  TEST_CASE("finds and erases the same records before and after it builds its index") {
    records v;
    std::set<std::uint64_t> keys;
    constexpr std::uint64_t total = 3 * records::index_from;
    for (std::uint64_t k = 0; k < total; ++k) {
      v.push_back({k, std::to_string(k)});
      keys.insert(k);
      CHECK(v.indexed() == (v.size() > records::index_from));
      check_holds(v, keys, total + 1);
    }
    // Erase from the front, the back and the middle: each moves the last record into the hole.
    for (std::uint64_t k : {std::uint64_t{0}, total - 1, total / 2, std::uint64_t{1}}) {
      CHECK(v.erase(k));
      keys.erase(k);
      check_holds(v, keys, total + 1);
    }
    CHECK_FALSE(v.erase(total / 2));  // gone already
    v.erase_if([](const record& r) { return r.key % 3 == 0; });
    std::erase_if(keys, [](std::uint64_t k) { return k % 3 == 0; });
    check_holds(v, keys, total + 1);
    v.push_back({total, std::to_string(total)});  // still indexed: found through the index
    keys.insert(total);
    check_holds(v, keys, total + 1);
    v.clear();
    CHECK_FALSE(v.indexed());
    check_holds(v, {}, total + 1);
  }

  TEST_CASE("finds a group's records, before and after the index, across erases") {
    grouped_records v;
    std::set<std::uint64_t> keys;
    constexpr std::uint64_t total = 2 * grouped_records::index_from;
    for (std::uint64_t k = 0; k < total; ++k) {
      v.push_back({k, std::to_string(k)});
      keys.insert(k);
      if (k % 16 == 0 || k == grouped_records::index_from + 1) check_groups(v, keys);
    }
    REQUIRE(v.indexed());
    for (std::uint64_t k = 0; k < total; k += 3) {  // each erase moves the last record into its place
      CHECK(v.erase(k));
      keys.erase(k);
    }
    check_groups(v, keys);
    v.erase_if([](const record& r) { return r.key % 5 == 2; });
    std::erase_if(keys, [](std::uint64_t k) { return k % 5 == 2; });
    check_groups(v, keys);
  }

  TEST_CASE("an actor watching many hears exactly the downs of the watches it kept") {
    constexpr int n = 100;  // past index_from
    eam::actor_system system({.workers = 2});
    const std::vector<eam::actor_ref> targets = spawn_idle(system, n);
    std::atomic<int> watching{0}, unwatched{0};
    std::mutex lock;
    std::vector<std::uint64_t> downs;  // ids of the actors whose down came
    auto watcher = system.spawn([&](eam::actor_context& ctx) {
      auto& refs = ctx.make_state<std::vector<eam::watch_ref>>();
      return eam::behavior{[&, &ctx = ctx, &refs = refs](const watch_all& w) {
                             for (const auto& t : w.targets) refs.push_back(ctx.watch(t));
                             watching = n;
                           },
                           [&, &ctx = ctx, &refs = refs](unwatch_every_other) {
                             for (std::size_t i = 0; i < refs.size(); i += 2) ctx.unwatch(refs[i]);
                             unwatched = 1;
                           },
                           [&](const eam::down& d) {
                             std::lock_guard g(lock);
                             downs.push_back(d.actor.id());
                           }};
    });
    watcher.cast(watch_all{targets});
    REQUIRE(eventually([&] { return watching.load() == n; }));
    watcher.cast(unwatch_every_other{});
    REQUIRE(eventually([&] { return unwatched.load() == 1; }));
    for (auto& t : targets) system.stop(t);
    REQUIRE(eventually([&] {
      std::lock_guard g(lock);
      return downs.size() == n / 2;
    }));
    std::lock_guard g(lock);
    std::sort(downs.begin(), downs.end());
    CHECK(downs == odd_place_ids(targets));
  }

  TEST_CASE("an actor watching one actor many times hears the downs of exactly the watches it kept") {
    // One group of 150 watches past index_from: unwatches from its ends and its middle unlink
    // each from the group's list, and the target's end walks what is left.
    constexpr int n = 150;
    eam::actor_system system({.workers = 2});
    const eam::actor_ref target = spawn_idle(system, 1).front();
    std::atomic<int> ready{0};
    std::mutex lock;
    std::vector<std::uint64_t> kept, downs;  // watch ids
    auto watcher = system.spawn([&](eam::actor_context& ctx) {
      return eam::behavior{[&, &ctx = ctx](tick) {
                             std::vector<eam::watch_ref> refs;
                             for (int i = 0; i < n; ++i) refs.push_back(ctx.watch(target));
                             std::lock_guard g(lock);
                             for (int i = 0; i < n; ++i) {
                               if (i % 2 == 0 || i == n - 1)
                                 ctx.unwatch(refs[static_cast<std::size_t>(i)]);
                               else
                                 kept.push_back(refs[static_cast<std::size_t>(i)].id);
                             }
                             ready = 1;
                           },
                           [&](const eam::down& d) {
                             std::lock_guard g(lock);
                             downs.push_back(d.ref.id);
                           }};
    });
    watcher.cast(tick{});
    REQUIRE(eventually([&] { return ready.load() == 1; }));
    system.stop(target);
    const auto downs_heard = [&] {
      std::lock_guard g(lock);
      return downs.size();
    };
    REQUIRE(eventually([&] { return downs_heard() >= n / 2 - 1; }));
    std::lock_guard g(lock);
    REQUIRE(kept.size() == n / 2 - 1);
    std::sort(downs.begin(), downs.end());
    std::sort(kept.begin(), kept.end());
    CHECK(downs == kept);
  }

  TEST_CASE("an actor linked to many hears the ends of the links it kept, once each") {
    constexpr int n = 100;
    eam::actor_system system({.workers = 2});
    const std::vector<eam::actor_ref> targets = spawn_idle(system, n);
    std::atomic<int> linked{0}, unlinked{0};
    std::mutex lock;
    std::vector<std::uint64_t> exits;
    auto owner = system.spawn([&](eam::actor_context& ctx) {
      ctx.set_trap_exit(true);
      auto& kept = ctx.make_state<std::vector<eam::actor_ref>>();
      return eam::behavior{[&, &ctx = ctx, &kept = kept](const link_all& l) {
                             for (const auto& t : l.targets) {
                               ctx.link(t);
                               ctx.link(t);  // a second link to the same actor is the same link
                             }
                             kept = l.targets;
                             linked = n;
                           },
                           [&, &ctx = ctx, &kept = kept](unlink_every_other) {
                             for (std::size_t i = 0; i < kept.size(); i += 2) ctx.unlink(kept[i]);
                             unlinked = 1;
                           },
                           [&](const eam::exit_signal& x) {
                             std::lock_guard g(lock);
                             exits.push_back(x.from.id());
                           }};
    });
    owner.cast(link_all{targets});
    REQUIRE(eventually([&] { return linked.load() == n; }));
    owner.cast(unlink_every_other{});
    REQUIRE(eventually([&] { return unlinked.load() == 1; }));
    for (auto& t : targets) system.stop(t);
    REQUIRE(eventually([&] {
      std::lock_guard g(lock);
      return exits.size() == n / 2;
    }));
    // Every kept link's end came; a stray one (an unlinked or doubled link) would come by now,
    // since the last target's exit signal is queued behind the others'.
    std::lock_guard g(lock);
    std::sort(exits.begin(), exits.end());
    CHECK(exits == odd_place_ids(targets));
  }

  TEST_CASE("an actor with many timers gets exactly the ones it did not cancel") {
    constexpr int n = 100;
    eam::actor_system system({.workers = 2});
    std::mutex lock;
    std::vector<int> fired;
    std::atomic<int> cancelled{0};
    auto owner = system.spawn([&](eam::actor_context& ctx) {
      return eam::behavior{[&, &ctx = ctx](arm a) {
                             std::vector<eam::timer_ref> timers;
                             for (int i = 0; i < a.count; ++i)
                               timers.push_back(ctx.send_after(numbered{i}, std::chrono::milliseconds(1)));
                             int n_cancelled = 0;
                             for (int i = 0; i < a.count; i += 2)
                               n_cancelled += ctx.cancel_timer(timers[static_cast<std::size_t>(i)]) ? 1 : 0;
                             for (int i = 0; i < a.count; i += 2)  // a second cancel finds nothing
                               n_cancelled -= ctx.cancel_timer(timers[static_cast<std::size_t>(i)]) ? 1 : 0;
                             cancelled = n_cancelled;
                           },
                           [&](numbered m) {
                             std::lock_guard g(lock);
                             fired.push_back(m.n);
                           }};
    });
    owner.cast(arm{n});
    REQUIRE(eventually([&] {
      std::lock_guard g(lock);
      return fired.size() == n / 2;
    }));
    CHECK(cancelled.load() == n / 2);
    std::lock_guard g(lock);
    std::sort(fired.begin(), fired.end());
    std::vector<int> expected;
    for (int i = 1; i < n; i += 2) expected.push_back(i);
    CHECK(fired == expected);
  }
}
