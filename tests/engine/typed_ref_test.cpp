#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include <concepts>

namespace {
struct get {};
struct set {
  int v;
};
struct unknown {};

template <class Ref, class M>
concept can_cast = requires(const Ref& r, M m) { r.cast(m); };
template <class Ref, class M>
concept can_call = requires(const Ref& r, M m) { r.call(m); };

auto store(eam::actor_context& ctx) {
  auto& v = ctx.make_state<int>(0);
  return eam::behavior{
      [&v](get) { return v; },
      [&v](set s) { v = s.v; },
  };
}
using store_ref = decltype(std::declval<eam::actor_system&>().spawn(store));
}  // namespace

TEST_SUITE("engine.typed_ref") {
  TEST_CASE("spawn's ref lists exactly what the behavior handles") {
    static_assert(std::same_as<store_ref, eam::typed_ref<int(get), void(set)>>);
    static_assert(can_call<store_ref, get>);
    static_assert(can_cast<store_ref, set>);
    static_assert(!can_cast<store_ref, get>, "get is a call, not a cast");
    static_assert(!can_call<store_ref, set>, "set is a cast, not a call");
    static_assert(!can_cast<store_ref, unknown>);
    static_assert(!can_call<store_ref, unknown>);
    CHECK(true);
  }

  TEST_CASE("a ref converts to one that accepts fewer messages but never more") {
    using getter = eam::typed_ref<int(get)>;
    static_assert(std::convertible_to<store_ref, getter>);
    static_assert(!std::convertible_to<getter, store_ref>);
    eam::actor_system system({.workers = 1});
    auto full = system.spawn(store);
    full.cast(set{9});
    getter narrow = full;
    CHECK(narrow.call(get{}).get().value() == 9);
    CHECK(narrow == full);
  }

  TEST_CASE("handlers may take their message by value or const reference or rvalue reference") {
    eam::actor_system system({.workers = 1});
    auto ref = system.spawn([](eam::actor_context& ctx) {
      auto& v = ctx.make_state<int>(0);
      return eam::behavior{
          [&v](const get&) { return v; },
          [&v](set&& s) { v = s.v; },
      };
    });
    static_assert(std::same_as<decltype(ref), eam::typed_ref<int(get), void(set)>>);
    ref.cast(set{3});
    CHECK(ref.call(get{}).get().value() == 3);
  }
}
