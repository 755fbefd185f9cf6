#pragma once
/// How a call's answer travels back: to a thread outside the pool through a `reply_slot`, or
/// to an awaiting actor as a system envelope.

#include <eam/engine/detail/envelope.hpp>
#include <eam/engine/result.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

namespace eam::detail {

/// Shared by the blocked caller and the request envelope. Who frees it follows from the state
/// word, so no reference count crosses between the cores:
///   pending -> ready      by the replier's `publish`; from then on the caller owns the slot (it
///                         takes the answer and deletes it), the replier touches it no more;
///   pending -> abandoned  by a caller whose deadline passed; from then on the reply address
///                         owns it, and its one answer (value or error) frees it instead.
/// `sleeping` is or-ed in by a caller about to block so the replier knows to wake it.
/// Orderings: the replier writes the value, then publishes it with a release exchange on
///            state_ [R1]; the caller's acquire load of state_ [R2] pairs with it. The caller's
///            abandoning CAS is a release that the replier's acquire look [R3] or exchange
///            [R1] pairs with before it frees the slot.
/// A reference count did the same with one more read-modify-write on each side, and the side
/// that freed last (often the worker) then read the slot's second line from the other core.
class reply_slot_base {
 public:
  static constexpr std::uint32_t pending = 0, ready = 1, abandoned = 2, sleeping = 4;

  /// Replier side, once per slot, after the answer is set: makes it visible and wakes the
  /// caller if it sleeps; frees the slot instead if the caller gave up meanwhile.
  void publish() noexcept;
  /// Replier side, once per slot, instead of setting an answer: true (and the slot freed) when
  /// the caller already gave up, so the work of answering is skipped.
  bool discard_if_abandoned() noexcept;
  /// Replier side, any time before its answer: whether the caller gave up waiting (the
  /// acquire pairs with the abandoning CAS, as [R3]).
  [[nodiscard]] bool caller_gave_up() const noexcept {
    return (state_.load(std::memory_order_acquire) & abandoned) != 0;
  }
  /// Caller side: waits at most `timeout` from now. True when the answer is there (the caller
  /// then owns the slot); false when the time passed first (the slot is then abandoned: the
  /// reply address frees it, and a late answer is discarded). An answer already there (the
  /// caller ran the turn itself) returns before the clock is read.
  bool wait_for(std::chrono::milliseconds timeout) noexcept {
    return state_.load(std::memory_order_acquire) == ready || wait_until(std::chrono::steady_clock::now() + timeout);  // [R2]
  }
  /// As wait_for, until `deadline`.
  bool wait_until(std::chrono::steady_clock::time_point deadline) noexcept;

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
};

/// Memory for reply slots (engine/src): 64-byte aligned. A thread that frees one while it
/// keeps none keeps it, and its next call of that size takes it, so a thread making blocking
/// calls one after another allocates none (the allocator's aligned path and its free were a
/// fifth of such a call's instructions). Any thread may free a block, whichever thread took it.
void* allocate_reply_slot(std::size_t size);
void free_reply_slot(void* p, std::size_t size) noexcept;

/// Cache-line aligned, with the value of a small R beside the state word and the error (80
/// bytes) after both: the caller's reads after the wait hit the line its wait brought over. A
/// `result<R>` held both and put its tag in the second line, one more transfer between cores
/// on every blocking call's way back.
template <class R>
class alignas(64) reply_slot final : public reply_slot_base {
 public:
  reply_slot() noexcept;
  static void* operator new(std::size_t size) { return allocate_reply_slot(size); }
  static void operator delete(void* p, std::size_t size) noexcept { free_reply_slot(p, size); }
  template <class V>
  void set_value(V&& v) {
    value_.emplace(std::forward<V>(v));
  }
  void set_error(error&& e) { error_.emplace(std::move(e)); }
  /// The answer, once wait_for said it is there.
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
      if (slot->discard_if_abandoned()) {
        to.kind = reply_kind::none;
        return;
      }
      slot->set_value(std::forward<R>(value));  // may throw: `to` is still pending then
      to.kind = reply_kind::none;
      slot->publish();
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
