#pragma once
/// How a call's answer travels back: to a thread outside the pool through a `reply_slot`, or
/// to an awaiting actor as a system envelope.

#include <eam/engine/detail/envelope.hpp>
#include <eam/engine/result.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

namespace eam::detail {

/// Shared by the blocked caller and the request envelope; freed by whichever lets go last.
///
/// Shared:  state_  the futex word: pending -> ready (by the replier) or pending -> abandoned
///                  (by a caller whose deadline passed); `sleeping` is or-ed in by a caller
///                  about to block so the replier knows to wake it.
///          refs_   two owners: the caller and the reply_address in flight.
/// Orderings: the replier writes the value, then publishes it with a release exchange on
///            state_ [R1]; the caller's acquire load of state_ [R2] pairs with it.
class reply_slot_base {
 public:
  static constexpr std::uint32_t pending = 0, ready = 1, abandoned = 2, sleeping = 4;

  /// Replier side: makes the value or error visible and wakes the caller if it sleeps.
  void publish() noexcept;
  /// Caller side: waits until `deadline`. True when the answer is there; false when the
  /// deadline passed first (the slot is then abandoned and a late answer is discarded).
  bool wait_until(std::chrono::steady_clock::time_point deadline) noexcept;
  /// Drops one owner; the last frees the slot.
  void release() noexcept;
  /// Whether the caller already gave up (the replier then skips the work of answering).
  [[nodiscard]] bool is_abandoned() const noexcept {
    return (state_.load(std::memory_order_relaxed) & abandoned) != 0;
  }

  /// What depends on the reply type R, one static table per R (one store to set up).
  struct operations {
    void (*set_error)(reply_slot_base*, error&&);
    /// Moves the answer out of a reply envelope of any type: an R, an eam::error, or another
    /// type, which becomes `unexpected_reply_type` (an answer built at run time, see message).
    void (*set_from)(reply_slot_base*, envelope&);
    void (*destroy)(reply_slot_base*) noexcept;
  };
  const operations* ops = nullptr;

 protected:
  std::atomic<std::uint32_t> state_{pending};
  std::atomic<std::uint32_t> refs_{2};
};

/// Cache-line aligned, with the value of a small R beside the state word and the error (80
/// bytes) after both: the caller's reads after the wait hit the line its wait brought over. A
/// `result<R>` held both and put its tag in the second line, one more transfer between cores
/// on every blocking call's way back.
template <class R>
class alignas(64) reply_slot final : public reply_slot_base {
 public:
  reply_slot() noexcept;
  template <class V>
  void set_value(V&& v) {
    value_.emplace(std::forward<V>(v));
  }
  void set_error(error&& e) { error_.emplace(std::move(e)); }
  /// The answer, once wait_until said it is there.
  result<R> take() {
    if constexpr (std::is_void_v<R>) {
      if (!error_) return {};
    } else {
      if (value_) return std::move(*value_);
    }
    return std::move(*error_);
  }

  static void set_error_of(reply_slot_base* s, error&& e) { static_cast<reply_slot*>(s)->set_error(std::move(e)); }
  static void set_from_of(reply_slot_base* s, envelope& e);
  static void destroy_of(reply_slot_base* s) noexcept { delete static_cast<reply_slot*>(s); }

 private:
  std::optional<std::conditional_t<std::is_void_v<R>, std::monostate, R>> value_;
  std::optional<error> error_;
};

template <class R>
inline constexpr reply_slot_base::operations reply_slot_operations{&reply_slot<R>::set_error_of,
                                                                   &reply_slot<R>::set_from_of, &reply_slot<R>::destroy_of};

template <class R>
reply_slot<R>::reply_slot() noexcept {
  ops = &reply_slot_operations<R>;
}

/// The error of an answer whose type is not the one the caller expects (engine/src).
error unexpected_reply(std::string_view got, std::string_view expected);

/// Hands a built reply envelope to the receiver of a `send_call` (engine/src). Consumes `to`.
void send_reply_to_receiver(reply_address& to, envelope* reply) noexcept;

/// Answers a call with a value. Consumes `to`.
template <class R>
void complete_call(reply_address& to, R&& value);

/// Answers a call with an error. Consumes `to`. Safe on a non-pending address (no-op).
void complete_error(reply_address& to, error&& e) noexcept;

/// Drops the strong reference an actor reply address holds (engine/src).
void release_cell(actor_cell* c) noexcept;

/// Hands a built reply envelope to the caller awaiting `to` (an actor). Consumes `to`.
void send_reply(reply_address& to, envelope* reply) noexcept;

template <class R>
void reply_slot<R>::set_from_of(reply_slot_base* s, envelope& e) {
  auto* slot = static_cast<reply_slot*>(s);
  if (e.type == &message_type_of<error>)
    slot->set_error(std::move(e.as<error>()));
  else if constexpr (std::is_void_v<R>)
    slot->set_error(unexpected_reply(e.type->name, "nothing"));
  else if (e.type == &message_type_of<R>)
    slot->set_value(std::move(e.as<R>()));
  else
    slot->set_error(unexpected_reply(e.type->name, message_type_of<R>.name));
}

/// Both answers share one rule: the address is consumed only once the answer is built, so an
/// answer that cannot be built (its copy throws, memory runs out) leaves the call pending and
/// the exception's handler answers it with an error instead (C-I3: exactly one answer).
template <class R>
void complete_call(reply_address& to, R&& value) {
  using V = std::remove_cvref_t<R>;
  switch (to.kind) {
    case reply_kind::none:
      return;
    case reply_kind::slot: {
      auto* slot = static_cast<reply_slot<V>*>(to.target);
      const bool awaited = !slot->is_abandoned();
      if (awaited) slot->set_value(std::forward<R>(value));  // may throw: `to` is still pending then
      to.kind = reply_kind::none;
      if (awaited) slot->publish();
      slot->release();
      return;
    }
    case reply_kind::actor: {
      envelope* e = make_envelope<V>(envelope_kind::reply, std::forward<R>(value));  // may throw
      send_reply(to, e);
      return;
    }
    case reply_kind::receiver: {
      envelope* e = make_envelope<V>(envelope_kind::reply, std::forward<R>(value));  // may throw
      send_reply_to_receiver(to, e);
      return;
    }
  }
}

}  // namespace eam::detail
