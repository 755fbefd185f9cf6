#pragma once
/// `reply_handle`: the answer channel of one call, for a handler that answers later (OTP's
/// `{noreply, State}` and then `gen_server:reply(From, Reply)`):
///
///   [&ctx, &waiting](fetch f) -> value {             // a call handler
///     waiting.push_back(ctx.take_reply());           // answered when the value comes
///     return {};                                     // answers nothing now
///   },
///   [&waiting](arrived a) {                          // later, in another handler
///     for (auto& r : waiting) r.reply(a.value);
///     waiting.clear();
///   },
///
/// `actor_context::take_reply()` takes it from the call being handled; `message::take_reply()`
/// from a run-time typed message (any_message.hpp).

#include <eam/engine/detail/envelope.hpp>
#include <eam/engine/detail/reply.hpp>
#include <eam/engine/error.hpp>

#include <type_traits>
#include <utility>

namespace eam {

class message;

/// The answer channel of one call, answered exactly once: by `reply` or `fail`, or, when the
/// handle is dropped unanswered, with `actor_not_found`. Any thread may answer.
class reply_handle {
 public:
  reply_handle() noexcept = default;
  explicit reply_handle(detail::reply_address&& to) noexcept : to_(std::move(to)) {}
  reply_handle(reply_handle&&) noexcept = default;
  reply_handle& operator=(reply_handle&& o) noexcept {
    reply_handle gone(std::move(*this));
    to_ = std::move(o.to_);
    return *this;
  }
  ~reply_handle();

  /// Whether the call still waits for its answer.
  explicit operator bool() const noexcept { return to_.pending(); }
  /// Whether its caller has stopped waiting (its timeout passed, or the awaiting actor ended):
  /// an answer would be dropped on arrival, so work done only to answer can be skipped, and a
  /// table of deferred answers can forget it. For an answer sent on as a message
  /// (eam::send_call), what its receiver says (reply_receiver::caller_gave_up: for another
  /// node's call, once that node found its caller gone); false once answered. A caller that
  /// still waits never reads as gone; one that gave up may read as waiting for a while (an
  /// actor's call 65,536 calls later; another node's caller until that node looks).
  [[nodiscard]] bool abandoned() const noexcept;
  /// Answers with a value of the caller's reply type.
  template <class R>
    requires(!std::is_same_v<std::remove_cvref_t<R>, message>)
  void reply(R&& value) { detail::complete_call(to_, std::forward<R>(value)); }
  /// Answers with a value whose type is known only at run time (or an eam::error). A caller
  /// whose ref expects another reply type gets `unexpected_reply_type` instead.
  void reply(message&& value) noexcept;
  void fail(error e) noexcept;

 private:
  detail::reply_address to_;
};

}  // namespace eam
