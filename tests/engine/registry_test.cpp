#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include "../support/eventually.hpp"

namespace {
struct get {};
struct other {};
auto named(eam::actor_context&, int v) {
  return eam::behavior{[v](get) { return v; }};
}
}  // namespace

TEST_SUITE("engine.registry") {
  TEST_CASE("a named actor is found by typed and untyped whereis") {
    eam::actor_system system({.workers = 1});
    auto ref = system.spawn({.name = "answer"}, named, 42);
    auto found = system.whereis("answer");
    REQUIRE(found.has_value());
    CHECK(*found == ref);
    auto typed = system.whereis<eam::typed_ref<int(get)>>("answer");
    REQUIRE(typed.has_value());
    CHECK(typed->call(get{}).get().value() == 42);
  }

  TEST_CASE("a typed lookup of an actor that does not handle the messages fails with registry_lookup_failed") {
    eam::actor_system system({.workers = 1});
    auto ref = system.spawn({.name = "answer"}, named, 42);
    auto typed = system.whereis<eam::typed_ref<void(other)>>("answer");
    REQUIRE_FALSE(typed.has_value());
    CHECK(typed.code() == eam::errc::registry_lookup_failed);
    CHECK(system.whereis<eam::typed_ref<int(get)>>("nobody").code() == eam::errc::registry_lookup_failed);
  }

  TEST_CASE("a name held by a live actor cannot be taken and is free again once the actor stops") {
    eam::actor_system system({.workers = 1});
    auto first = system.spawn({.name = "unique"}, named, 1);
    CHECK_THROWS_AS(system.spawn({.name = "unique"}, named, 2), eam::error);
    try {
      (void)system.spawn({.name = "unique"}, named, 2);
    } catch (const eam::error& e) {
      CHECK(e.code() == eam::errc::name_taken);
    }
    system.stop(first);
    REQUIRE(eam::test::eventually([&] { return !system.whereis("unique").has_value(); }));
    auto second = system.spawn({.name = "unique"}, named, 2);
    CHECK(system.whereis<eam::typed_ref<int(get)>>("unique")->call(get{}).get().value() == 2);
  }

  TEST_CASE("class actors take a name too") {
    struct named_class : eam::actor<int(get)> {
      int handle_call(get) { return 7; }
    };
    eam::actor_system system({.workers = 1});
    auto ref = system.spawn<named_class>({.name = "seven"});
    CHECK(system.whereis<eam::ref_of<named_class>>("seven")->call(get{}).get().value() == 7);
  }
}
