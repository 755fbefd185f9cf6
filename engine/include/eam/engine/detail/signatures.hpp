#pragma once
/// Compile-time plumbing for typed refs: a signature `R(M)` means "takes M as a call and
/// answers R"; `void(M)` means "takes M as a cast".

#include <eam/engine/message.hpp>
#include <eam/engine/task.hpp>

#include <type_traits>

namespace eam::detail {

template <class... Ts>
struct type_list {};

template <class Sig>
struct signature_traits;
template <class R, class M>
struct signature_traits<R(M)> {
  using message = M;
  using reply = R;
  static constexpr bool is_cast = std::is_void_v<R>;
};

template <class>
inline constexpr bool dependent_false = false;

/// What a handler callable takes and answers, seen through its call operator. A handler must
/// have exactly one call operator with one concrete parameter: the engine dispatches on it.
template <class F>
struct handler_traits {
  static_assert(dependent_false<F>,
                "eam: a handler must take one concrete message type; a generic lambda (an `auto` parameter) or "
                "an overloaded call operator cannot be dispatched: write the message type, e.g. [](get) {...}");
  struct not_a_message {};  // keeps the errors after the static_assert few
  using message = not_a_message;
  using returned = void;
};
template <class F>
  requires requires { &F::operator(); }
struct handler_traits<F> : handler_traits<decltype(&F::operator())> {};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A)> {
  using message = message_t<A>;
  using returned = R;
};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A) const> : handler_traits<R (C::*)(A)> {};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A) noexcept> : handler_traits<R (C::*)(A)> {};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A) const noexcept> : handler_traits<R (C::*)(A)> {};

/// The signature a handler stands for: its reply type with any task<> unwrapped.
template <class F>
using signature_of = std::remove_cvref_t<typename task_traits<typename handler_traits<F>::returned>::value_type>(
    typename handler_traits<F>::message);

template <class M, class... Sigs>
inline constexpr bool accepts_cast =
    (... || (std::is_same_v<typename signature_traits<Sigs>::message, M> && signature_traits<Sigs>::is_cast));

template <class M, class... Sigs>
inline constexpr bool accepts_call =
    (... || (std::is_same_v<typename signature_traits<Sigs>::message, M> && !signature_traits<Sigs>::is_cast));

/// The reply type of the signature for M among Sigs (void when there is none).
template <class M, class... Sigs>
struct find_reply {
  using type = void;
};
template <class M, class S, class... Rest>
struct find_reply<M, S, Rest...>
    : std::conditional_t<std::is_same_v<typename signature_traits<S>::message, M>,
                         std::type_identity<typename signature_traits<S>::reply>, find_reply<M, Rest...>> {};
template <class M, class... Sigs>
using reply_to_t = typename find_reply<M, Sigs...>::type;

/// A signature at run time: the message's descriptor and the reply's (null for a cast). Two
/// signatures are the same when both descriptors are, so a typed lookup compares the message
/// type, the reply type and call-or-cast at once.
struct signature_id {
  const message_type* message;
  const message_type* reply;
  friend bool operator==(const signature_id&, const signature_id&) = default;
};
template <class Sig>
consteval signature_id signature_id_of() {
  using traits = signature_traits<Sig>;
  if constexpr (traits::is_cast)
    return {&message_type_of<typename traits::message>, nullptr};
  else
    return {&message_type_of<typename traits::message>, &message_type_of<typename traits::reply>};
}
/// Whether any of Sigs is `s`.
template <class... Sigs>
bool has_signature(type_list<Sigs...>, signature_id s) noexcept {
  return (... || (signature_id_of<Sigs>() == s));
}

template <class Sig, class... Sigs>
inline constexpr bool contains_signature = (... || std::is_same_v<Sig, Sigs>);

/// True when every message type appears once.
template <class... Ms>
struct unique_messages : std::true_type {};
template <class M, class... Rest>
struct unique_messages<M, Rest...>
    : std::bool_constant<(!std::is_same_v<M, Rest> && ...) && unique_messages<Rest...>::value> {};

}  // namespace eam::detail
