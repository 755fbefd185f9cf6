#pragma once
/// The type-erased part of an actor that user code defines: its handlers and state. The
/// engine's cell (engine/src) owns one and calls it from the worker that runs the actor.

#include <eam/engine/detail/reply.hpp>
#include <eam/engine/detail/signatures.hpp>
#include <eam/engine/fwd.hpp>
#include <eam/engine/task.hpp>

#include <string>
#include <string_view>
#include <type_traits>

namespace eam::detail {

/// What the engine knows of an actor's type without touching the actor: its signatures and a
/// label for logs and tools. One static instance per actor type; a cell points to it for its
/// whole life, so a typed lookup racing the actor's end never reads a destroyed object.
struct actor_type {
  bool (*handles)(signature_id s) noexcept;
  /// The full type name (compiler-specific), e.g. "app::counter" or a lambda's long name.
  std::string_view name;
};

/// A short label for a type name: a class actor's name as it is; a lambda factory as
/// "lambda in <enclosing function>"; a function pointer factory as "function".
std::string short_type_label(std::string_view full);

class actor_impl {
 public:
  virtual ~actor_impl() = default;
  /// Runs the factory or the class's init; throwing crashes the actor.
  virtual void init(actor_context& ctx) = 0;
  /// Runs the handler for e's type; false when the actor has none.
  virtual bool dispatch(envelope& e) = 0;
  /// Runs the class actor's terminate or the functional actor's terminate handler; may throw
  /// (the actor then ends with that error).
  virtual void terminate(const exit_reason& why) = 0;
};

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
