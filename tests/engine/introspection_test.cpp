#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"

#include <algorithm>
#include <atomic>
#include <memory>

namespace {
using eam::test::eventually;
struct get {};
struct hold {};
struct item {};

const eam::actor_info* find(const std::vector<eam::actor_info>& all, std::uint64_t id) {
  auto it = std::find_if(all.begin(), all.end(), [&](const eam::actor_info& i) { return i.id == id; });
  return it == all.end() ? nullptr : &*it;
}
}  // namespace

TEST_SUITE("engine.introspection") {
  TEST_CASE("actors() lists every actor with its name, type, parent and children") {
    struct kid : eam::actor<int(get)> {
      int handle_call(get) { return 0; }
    };
    struct parent : eam::actor<int(get)> {
      void init() {
        context().spawn<kid>();
        context().spawn<kid>();
      }
      int handle_call(get) { return static_cast<int>(context().children().size()); }
    };
    eam::actor_system system({.workers = 2});
    auto p = system.spawn<parent>({.name = "the-parent"});
    REQUIRE(p.call(get{}).get().value() == 2);
    auto all = system.actors();
    CHECK(all.size() == 3);
    const auto* me = find(all, p.id());
    REQUIRE(me != nullptr);
    CHECK(me->name == "the-parent");
    CHECK(me->type.find("parent") != std::string::npos);
    CHECK(me->children == 2);
    CHECK(me->parent_id == 0);
    for (const auto& i : all)
      if (i.id != p.id()) CHECK(i.parent_id == p.id());
  }

  TEST_CASE("a bounded mailbox reports its length and an idle unbounded one reports zero") {
    auto released = std::make_shared<std::atomic<bool>>(false);
    auto holding = std::make_shared<std::atomic<bool>>(false);
    eam::actor_system system({.workers = 2});
    auto busy = system.spawn({.mailbox_bound = 100}, [released, holding](eam::actor_context&) {
      return eam::behavior{[released, holding](hold) {
                             *holding = true;
                             (void)eventually([&] { return released->load(); });
                           },
                           [](item) {}};
    });
    auto idle = system.spawn([](eam::actor_context&) { return eam::behavior{[](get) { return 1; }}; });
    (void)idle.call(get{}).get();
    busy.cast(hold{});
    REQUIRE(eventually([&] { return holding->load(); }));
    for (int i = 0; i < 5; ++i) busy.cast(item{});
    auto all = system.actors();
    CHECK(find(all, busy.id())->mailbox_length == std::optional<std::uint64_t>(5));
    REQUIRE(eventually([&] { return find(system.actors(), idle.id())->idle; }));
    CHECK(find(system.actors(), idle.id())->mailbox_length == std::optional<std::uint64_t>(0));
    *released = true;
  }

  TEST_CASE("a stopped actor leaves the list") {
    eam::actor_system system({.workers = 2});
    auto a = system.spawn([](eam::actor_context&) { return eam::behavior{[](get) { return 1; }}; });
    CHECK(find(system.actors(), a.id()) != nullptr);
    system.stop(a);
    REQUIRE(eventually([&] { return find(system.actors(), a.id()) == nullptr; }));
  }
}
