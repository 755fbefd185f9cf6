#pragma once
/// Messages whose type is known only at run time, for code that passes messages on without
/// knowing them (the cluster's proxies, routers, recorders). Opt-in header; `<eam/eam.hpp>`
/// does not include it.
///
///   eam::message m = eam::message::of(add{2});        // owns one message of any type
///   if (auto* a = m.get_if<add>()) ...                 // typed access when the type is known
///   eam::send(ref, m);                                 // a cast, however the type is known
///
/// A call's answer channel is a `reply_handle`: taken from the message of a call, answered
/// exactly once (a dropped handle fails the call with `actor_not_found`).

#include <eam/engine/actor_ref.hpp>
#include <eam/engine/detail/envelope.hpp>
#include <eam/engine/error.hpp>
#include <eam/engine/reply_handle.hpp>

#include <cstddef>
#include <functional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace eam {

/// A message type's identity at run time: equal for the same C++ type, with its readable
/// (compiler-specific) name. Not stable across builds: a wire format maps it to a stable name.
class message_type_id {
 public:
  constexpr message_type_id() noexcept = default;
  explicit constexpr message_type_id(const detail::message_type* descriptor) noexcept : type_(descriptor) {}
  template <class M>
  static constexpr message_type_id of() noexcept {
    return message_type_id(&detail::message_type_of<M>);
  }
  [[nodiscard]] std::string_view name() const noexcept { return type_ != nullptr ? type_->name : std::string_view{}; }
  explicit operator bool() const noexcept { return type_ != nullptr; }
  [[nodiscard]] const detail::message_type* descriptor() const noexcept { return type_; }
  friend bool operator==(message_type_id, message_type_id) = default;

 private:
  const detail::message_type* type_ = nullptr;
};

/// One message of any type, owned (move-only). The message of a call carries the caller's
/// answer channel until `take_reply()`; dropping it unanswered fails the call with
/// `actor_not_found`, as a dropped call always does.
class message {
 public:
  message() noexcept = default;
  /// A message of type M built from `args` (`M{args...}` or M's constructor).
  template <class M, class... A>
  static message make(A&&... args) {
    return message(detail::make_envelope<M>(detail::envelope_kind::cast, std::forward<A>(args)...));
  }
  template <class M>
  static message of(M&& value) {
    return make<std::remove_cvref_t<M>>(std::forward<M>(value));
  }
  message(message&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  message& operator=(message&& o) noexcept {
    std::swap(e_, o.e_);
    return *this;
  }
  message(const message&) = delete;
  message& operator=(const message&) = delete;
  ~message() {
    if (e_ != nullptr) detail::free_envelope(e_);
  }

  explicit operator bool() const noexcept { return e_ != nullptr; }
  [[nodiscard]] message_type_id type() const noexcept { return message_type_id(e_ != nullptr ? e_->type : nullptr); }
  [[nodiscard]] std::string_view type_name() const noexcept { return type().name(); }
  template <class M>
  [[nodiscard]] bool is() const noexcept {
    return e_ != nullptr && e_->type == &detail::message_type_of<M>;
  }
  /// The message as an M, or null when it is another type.
  template <class M>
  [[nodiscard]] M* get_if() noexcept {
    return is<M>() ? &e_->as<M>() : nullptr;
  }
  template <class M>
  [[nodiscard]] const M* get_if() const noexcept {
    return is<M>() ? &e_->as<M>() : nullptr;
  }
  /// The payload's address (for code that knows its type from `type()`, like a serializer).
  [[nodiscard]] void* data() noexcept { return e_ != nullptr ? e_->payload() : nullptr; }
  [[nodiscard]] const void* data() const noexcept { return e_ != nullptr ? e_->payload() : nullptr; }
  /// Whether a caller waits for an answer to this message.
  [[nodiscard]] bool is_call() const noexcept { return e_ != nullptr && e_->reply.pending(); }
  /// The caller's answer channel (empty for a cast). The message no longer answers the call.
  [[nodiscard]] reply_handle take_reply() noexcept;

  /// Engine plumbing: adopts / gives up the envelope.
  explicit message(detail::envelope* e) noexcept : e_(e) {}
  [[nodiscard]] detail::envelope* release() noexcept { return std::exchange(e_, nullptr); }

 private:
  detail::envelope* e_ = nullptr;
};

/// Receives the answer of a call sent with `send_call`: exactly once, on whichever thread
/// answers; `reply` holds the value, or an eam::error (`reply.get_if<eam::error>()`) when the
/// call failed (the target was gone, its mailbox full, its handler threw).
class reply_receiver {
 public:
  virtual void on_reply(message&& reply) noexcept = 0;
  /// Whether whoever waits for this answer has stopped waiting, as far as the receiver knows:
  /// what `reply_handle::abandoned()` reads for a call sent with send_call (the cluster's
  /// answer to another node's call says so once that node's caller gave up). Any thread.
  [[nodiscard]] virtual bool caller_gave_up() const noexcept { return false; }

 protected:
  ~reply_receiver() = default;
};

/// Whether the live actor behind `ref` has the signature (message type, reply type; an empty
/// reply for a cast): typed_ref_cast's check for types known only at run time.
[[nodiscard]] bool handles(const actor_ref& ref, message_type_id message, message_type_id reply) noexcept;
/// What the live actor behind `ref` handles is fixed by its type (a class actor's or a
/// factory's): this names that type, the same for every actor of it, so that a layer asking
/// handles() for many signatures (the cluster's export of a named actor) can keep the answers
/// under it. Null for a dead ref and for a forwarding actor, whose answers are its forwarder's
/// and may change.
[[nodiscard]] const void* handling_type(const actor_ref& ref) noexcept;

/// Sends `m` as a cast, whatever its type: `sent`; `full` when a bounded mailbox turns it away
/// (m is still the caller's); `gone` when the actor has ended (m is dropped). An actor without
/// a handler for the type logs it as unhandled, as for any untyped send.
cast_result send(const actor_ref& to, message& m) noexcept;
/// Sends `m` as a call; its answer goes to `receiver`, which must live until it is answered.
void send_call(const actor_ref& to, message&& m, reply_receiver& receiver) noexcept;

}  // namespace eam

template <>
struct std::hash<eam::message_type_id> {
  std::size_t operator()(eam::message_type_id t) const noexcept { return std::hash<const void*>{}(t.descriptor()); }
};
