// The registry's slot table (engine/src/slot_table.hpp): freed slots are reused, iteration sees
// exactly the elements held, and a table that emptied to a quarter moves its elements to the
// front, renumbering them. Then the registry built on it, through the system: every actor
// spawned and not yet ended is counted and found by id, whatever order they end in.
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"
#include "slot_table.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

using eam::internal::slot_table;

namespace {
struct item {
  int value;
  std::uint32_t slot = 0;
};

std::set<int> values_of(const slot_table<item>& t) {
  std::set<int> out;
  t.for_each([&out](item* i) { out.insert(i->value); });
  return out;
}

struct stop_now {};
auto stoppable(eam::actor_context& ctx) {
  return eam::behavior{[&ctx](stop_now) { ctx.stop(); }};
}
}  // namespace

TEST_SUITE("engine.registry") {
  TEST_CASE("a slot table reuses the slots it freed and lists exactly what it holds") {
    slot_table<item> t;
    std::vector<item> items(8);
    for (int i = 0; i < 8; ++i) {
      items[i].value = i;
      items[i].slot = t.insert(&items[i]);
    }
    CHECK(t.size() == 8);
    t.erase(items[2].slot);
    t.erase(items[5].slot);
    CHECK(t.size() == 6);
    CHECK(values_of(t) == std::set<int>{0, 1, 3, 4, 6, 7});
    item a{100}, b{101}, c{102};
    a.slot = t.insert(&a);
    b.slot = t.insert(&b);
    CHECK(std::set<std::uint32_t>{a.slot, b.slot} == std::set<std::uint32_t>{2, 5});  // reused, not appended
    c.slot = t.insert(&c);
    CHECK(c.slot == 8);
    CHECK(t.slots() == 9);
    CHECK(t.find_if([](const item* i) { return i->value == 101; }) == &b);
    CHECK(t.find_if([](const item* i) { return i->value == 5; }) == nullptr);
  }

  TEST_CASE("a slot table that emptied to a quarter moves its elements to the front and renumbers them") {
    slot_table<item> t;
    const int n = static_cast<int>(slot_table<item>::min_compacted);
    std::vector<item> items(n);
    for (int i = 0; i < n; ++i) {
      items[i].value = i;
      items[i].slot = t.insert(&items[i]);
    }
    auto renumber = [](item* moved, std::uint32_t slot) { moved->slot = slot; };
    std::set<int> kept;
    for (int i = 0; i < n; ++i) {
      if (i % 5 == 3) {
        kept.insert(i);
        continue;
      }
      t.erase(items[i].slot);
      t.compact_if_sparse(renumber);
    }
    CHECK(t.size() == kept.size());
    CHECK(t.slots() <= static_cast<std::size_t>(n) / 4);  // compacted when a quarter was left
    CHECK(values_of(t) == kept);
    // Every kept element knows its new slot: erasing by it frees exactly that element.
    for (int v : kept) t.erase(items[v].slot);
    CHECK(t.size() == 0);
    CHECK(values_of(t).empty());
  }

  TEST_CASE("actors that end in any order leave the count and the lookups by id right") {
    eam::actor_system system({.workers = 2});
    using ref_type = decltype(system.spawn(stoppable));
    std::vector<ref_type> refs;
    constexpr int n = 3000;
    for (int i = 0; i < n; ++i) refs.push_back(system.spawn(stoppable));
    CHECK(system.actor_count() == n);
    // Stop all but every seventh, from the middle out, so slots free all over the shards.
    std::vector<ref_type> kept;
    for (int i = 0; i < n; ++i) {
      const int k = (i % 2 == 0) ? n / 2 + i / 2 : n / 2 - 1 - i / 2;
      if (k % 7 == 0)
        kept.push_back(refs[k]);
      else
        refs[k].cast(stop_now{});
    }
    REQUIRE(eam::test::eventually([&] { return system.actor_count() == kept.size(); }));
    for (const auto& r : kept) {
      const std::optional<eam::actor_ref> found = system.find(r.id());
      REQUIRE(found.has_value());
      CHECK(found->id() == r.id());
    }
    for (int k = 0; k < n; ++k)
      if (k % 7 != 0) CHECK_FALSE(system.find(refs[k].id()).has_value());
    // Spawned after the exits: listed, found, counted.
    auto late = system.spawn(stoppable);
    CHECK(system.actor_count() == kept.size() + 1);
    CHECK(system.find(late.id()).has_value());
  }
}
