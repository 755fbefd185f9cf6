#pragma once
/// How the engine drives the part of an actor that user code defines (its handlers and state,
/// "the impl"): the per-type descriptor, and the call of one handler on one message.

#include <eam/engine/detail/reply.hpp>
#include <eam/engine/detail/signatures.hpp>
#include <eam/engine/fwd.hpp>
#include <eam/engine/task.hpp>

#include <string>
#include <string_view>
#include <type_traits>

namespace eam::detail {

/// An actor type as the engine sees it: one static instance per type (a hand-made vtable). The
/// cell keeps a pointer to it for its whole life instead of the impl keeping a vptr, which
/// costs no memory and lets a typed lookup racing the actor's end read the signatures without
/// touching the impl, which may be destroyed by then.
///
/// The impl lives in the cell's allocation, after the cell (`void* impl` below).
struct actor_type {
  /// Whether the actor has signature `s` (message type, reply type, call or cast).
  bool (*handles)(signature_id s) noexcept;
  /// The full type name (compiler-specific), e.g. "app::counter" or a lambda's long name.
  std::string_view name;
  /// Runs the factory or the class's init; throwing crashes the actor.
  void (*init)(void* impl, actor_context& ctx);
  /// Runs the handler for e's type; false when the actor has none.
  bool (*dispatch)(void* impl, envelope& e);
  /// Runs the class actor's terminate (a functional actor's is ctx.on_terminate); may throw
  /// (the actor then ends with that error).
  void (*terminate)(void* impl, const exit_reason& why);
  void (*destroy)(void* impl) noexcept;
};

/// The actor_type of an impl class with init, dispatch, terminate and a static `handles`.
template <class Impl>
inline constexpr actor_type actor_type_of{
    &Impl::handles,
    Impl::type_name,
    [](void* impl, actor_context& ctx) { static_cast<Impl*>(impl)->init(ctx); },
    [](void* impl, envelope& e) { return static_cast<Impl*>(impl)->dispatch(e); },
    [](void* impl, const exit_reason& why) { static_cast<Impl*>(impl)->terminate(why); },
    [](void* impl) noexcept { static_cast<Impl*>(impl)->~Impl(); },
};

/// A short label for a type name: a class actor's name as it is; a lambda factory as
/// "lambda in <enclosing function>"; a function pointer factory as "function".
std::string short_type_label(std::string_view full);

/// Hands a call's reply address to the task a handler is about to start (engine/src).
void set_current_reply(reply_address&& r) noexcept;

/// Calls `h` with the message: by reference when it takes a reference, by copy when it takes
/// the message by value and can copy it, by move only when it takes `M&&` (or cannot copy).
/// The copy keeps the envelope's message whole, so a handler that stashes it (actor_context::
/// stash) gets it back intact; handlers of large messages take `const M&` or `M&&` to avoid it.
template <class M, class Handler>
decltype(auto) call_with_message(Handler&& h, M& m) {
  if constexpr (std::is_invocable_v<Handler&&, M&>)
    return std::forward<Handler>(h)(m);
  else
    return std::forward<Handler>(h)(std::move(m));
}

/// Invokes handler `h` on the message in `e` and answers the call, if it is one:
/// - a plain call handler's result answers at once;
/// - a task handler takes the reply address and answers when it finishes;
/// - a cast handler answers nothing.
template <class M, class Handler>
void invoke_handler(envelope& e, Handler&& h) {
  M& m = e.as<M>();
  using R = decltype(call_with_message(std::forward<Handler>(h), m));
  if constexpr (task_traits<R>::is_task) {
    set_current_reply(std::move(e.reply));
    struct give_back {  // a reply the task did not take (it threw first) returns to e
      envelope& e;
      ~give_back() { e.reply = take_current_reply(); }
    } guard{e};
    call_with_message(std::forward<Handler>(h), m);
  } else if constexpr (std::is_void_v<R>) {
    call_with_message(std::forward<Handler>(h), m);
  } else {
    complete_call<R>(e.reply, call_with_message(std::forward<Handler>(h), m));
  }
}

}  // namespace eam::detail
