// The compile-time contract of typed refs, stated as requires expressions: each rejected use
// has a positive control beside it, so an assertion cannot pass because of a typo or a broken
// include (a compile-fail test passes on any compile error; these check the specific one).
#include <doctest/doctest.h>
#include <eam/eam.hpp>

#include <type_traits>

namespace {
struct get {};
struct set {
  int v;
};
struct unknown {};

// What spawning a behavior of [](get) -> int and [](set) -> void gives; no runtime needed.
using store_ref = eam::typed_ref<int(get), void(set)>;

// The ref type is a template parameter so that each requires expression is checked by
// substitution (false when ill-formed): outside a template, an invalid expression in a
// requires expression makes the program ill-formed instead of making the expression false.
template <class Ref>
constexpr bool contract_holds() {
  // A cast of a message the actor does not handle at all.
  static_assert(requires(const Ref& ref) { ref.cast(set{1}); });
  static_assert(!requires(const Ref& ref) { ref.cast(unknown{}); });
  static_assert(!requires(const Ref& ref) { ref.call(unknown{}); });

  // A call of a cast-only message (set is a cast).
  static_assert(requires(const Ref& ref) { ref.call(get{}); });
  static_assert(!requires(const Ref& ref) { ref.call(set{1}); });

  // A cast of a call-only message (get is a call).
  static_assert(requires(const Ref& ref) { ref.cast(set{1}); });
  static_assert(!requires(const Ref& ref) { ref.cast(get{}); });

  // Implicit conversion to a ref that claims more signatures than this one has.
  static_assert(std::is_convertible_v<Ref, Ref>);
  static_assert(!std::is_convertible_v<Ref, eam::typed_ref<int(get), void(set), void(unknown)>>);
  static_assert(!std::is_convertible_v<eam::typed_ref<int(get)>, Ref>);

  // Conversion to fewer signatures (or the same ones in another order) is allowed.
  static_assert(std::is_convertible_v<Ref, eam::typed_ref<int(get)>>);
  static_assert(std::is_convertible_v<Ref, eam::typed_ref<void(set)>>);
  static_assert(std::is_convertible_v<Ref, eam::typed_ref<void(set), int(get)>>);
  return true;
}
static_assert(contract_holds<store_ref>());
static_assert(contract_holds<eam::typed_ref<void(set), int(get)>>());  // the order of signatures does not matter
}  // namespace

TEST_SUITE("engine.typed_ref") {
  TEST_CASE("the typed ref contract is checked at compile time") {
    CHECK(contract_holds<store_ref>());
    CHECK(contract_holds<eam::typed_ref<void(set), int(get)>>());
  }
}
