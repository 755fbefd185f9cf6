#pragma once
/// The type-erased part of an actor that user code defines: its handlers and state. The
/// engine's cell (engine/src) owns one and calls it from the worker that runs the actor.

#include <eam/engine/detail/reply.hpp>
#include <eam/engine/fwd.hpp>
#include <eam/engine/task.hpp>

#include <string_view>
#include <type_traits>

namespace eam::detail {

class actor_impl {
 public:
  virtual ~actor_impl() = default;
  /// Runs the factory or the class's init; throwing crashes the actor.
  virtual void init(actor_context& ctx) = 0;
  /// Runs the handler for e's type; false when the actor has none.
  virtual bool dispatch(envelope& e) = 0;
  [[nodiscard]] virtual bool handles(const message_type* t) const noexcept = 0;
  virtual void terminate(const exit_reason& why) noexcept = 0;
  [[nodiscard]] virtual std::string_view type_name() const noexcept = 0;
};

/// Hands a call's reply address to the task a handler is about to start (engine/src).
void set_current_reply(reply_address&& r) noexcept;

/// Invokes handler `h` on the message in `e` and answers the call, if it is one:
/// - a plain call handler's result answers at once;
/// - a task handler takes the reply address and answers when it finishes;
/// - a cast handler answers nothing.
template <class M, class Handler>
void invoke_handler(envelope& e, Handler&& h) {
  M& m = e.as<M>();
  using R = decltype(std::forward<Handler>(h)(std::move(m)));
  if constexpr (task_traits<R>::is_task) {
    set_current_reply(std::move(e.reply));
    struct give_back {  // a reply the task did not take (it threw first) returns to e
      envelope& e;
      ~give_back() { e.reply = take_current_reply(); }
    } guard{e};
    std::forward<Handler>(h)(std::move(m));
  } else if constexpr (std::is_void_v<R>) {
    std::forward<Handler>(h)(std::move(m));
  } else {
    complete_call<R>(e.reply, std::forward<Handler>(h)(std::move(m)));
  }
}

}  // namespace eam::detail
