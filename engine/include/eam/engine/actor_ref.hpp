#pragma once
/// References to actors. `actor_ref` names an actor; `typed_ref<Sigs...>` also knows what it
/// accepts, so `cast` and `call` of a message the actor does not handle do not compile.
///
/// A signature `R(M)` says "answers a call of M with R"; `void(M)` says "takes M as a cast".
/// Copying a ref costs one atomic increment; sending through one costs none.

#include <eam/engine/detail/reply.hpp>
#include <eam/engine/detail/signatures.hpp>
#include <eam/engine/fwd.hpp>

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <utility>

namespace eam {

/// How long a call waits for its reply unless told otherwise (as in libeam and gen_server).
inline constexpr std::chrono::milliseconds default_call_timeout{5000};

namespace detail {
void add_ref(actor_cell* c) noexcept;
std::uint64_t cell_id(const actor_cell* c) noexcept;
bool cell_is_dead(const actor_cell* c) noexcept;
/// The actor whose handler runs on this thread, or null outside actors.
actor_cell* current_cell() noexcept;
/// Why a new call to `target` from this thread must fail at once (0 when it may go ahead).
errc refuse_call(const actor_cell* target) noexcept;
/// Suspends the running actor on a call: until `accept` has taken the reply (or null on
/// timeout) it takes no ordinary message. Returns the request id to put on the call.
std::uint64_t begin_await(actor_cell* self, std::coroutine_handle<> h, void* awaiter,
                          void (*accept)(void* awaiter, envelope* reply_or_null),
                          std::chrono::milliseconds timeout);
struct adopt_t {};
}  // namespace detail

class actor_ref {
 public:
  actor_ref() noexcept = default;
  /// Takes over a reference the caller already counted (engine plumbing).
  actor_ref(detail::actor_cell* c, detail::adopt_t) noexcept : cell_(c) {}
  actor_ref(const actor_ref& o) noexcept : cell_(o.cell_) {
    if (cell_) detail::add_ref(cell_);
  }
  actor_ref(actor_ref&& o) noexcept : cell_(std::exchange(o.cell_, nullptr)) {}
  actor_ref& operator=(actor_ref o) noexcept {
    std::swap(cell_, o.cell_);
    return *this;
  }
  ~actor_ref() {
    if (cell_) detail::release_cell(cell_);
  }

  explicit operator bool() const noexcept { return cell_ != nullptr; }
  /// Unique for the life of the system; 0 for an empty ref.
  [[nodiscard]] std::uint64_t id() const noexcept { return cell_ ? detail::cell_id(cell_) : 0; }
  /// False once the actor has exited (a hint: it may exit right after this returns true).
  [[nodiscard]] bool is_alive() const noexcept { return cell_ && !detail::cell_is_dead(cell_); }
  [[nodiscard]] detail::actor_cell* cell() const noexcept { return cell_; }

  friend bool operator==(const actor_ref& a, const actor_ref& b) noexcept { return a.cell_ == b.cell_; }

 private:
  detail::actor_cell* cell_ = nullptr;
};

/// A call in flight. `co_await` it inside a handler that returns `task<...>`: the worker thread
/// runs other actors until the reply comes. Outside actors, `get()` blocks the calling thread.
/// Both give `result<R>`: the reply, or `timeout`, `actor_not_found`, `actor_crashed`,
/// `system_shutting_down`.
template <class R, class M>
class [[nodiscard]] call_op {
 public:
  call_op(actor_ref target, M msg, std::chrono::milliseconds timeout)
      : target_(std::move(target)), msg_(std::move(msg)), timeout_(timeout) {}

  /// Sends the call and blocks this thread until the reply or the timeout. Do not use on a
  /// worker thread (inside a handler), where it would stall the worker: `co_await` instead.
  result<R> get() && {
    if (errc why = refused(); why != errc{}) return error(why);
    auto* slot = new detail::reply_slot<R>;
    detail::envelope* e = detail::make_envelope<M>(detail::envelope_kind::call, std::move(msg_));
    e->reply = detail::reply_address(detail::reply_kind::slot, slot, 0);
    detail::send_now(target_.cell(), e);
    const bool answered = slot->wait_until(std::chrono::steady_clock::now() + timeout_);
    result<R> r = answered ? std::move(*slot->value)
                           : result<R>(error(errc::timeout, "no reply within the call's timeout"));
    slot->release();
    return r;
  }

  bool await_ready() {
    if (errc why = refused(); why != errc{}) result_.emplace(error(why));
    return result_.has_value();
  }
  void await_suspend(std::coroutine_handle<> h) {
    detail::actor_cell* self = detail::current_cell();
    detail::envelope* e = detail::make_envelope<M>(detail::envelope_kind::call, std::move(msg_));
    const std::uint64_t id = detail::begin_await(self, h, this, &accept, timeout_);
    detail::add_ref(self);  // held by the reply address until the answer is sent
    e->reply = detail::reply_address(detail::reply_kind::actor, self, id);
    detail::send(target_.cell(), e);
  }
  result<R> await_resume() { return std::move(*result_); }

 private:
  errc refused() const noexcept {
    if (!target_) return errc::actor_not_found;
    return detail::refuse_call(target_.cell());
  }
  static void accept(void* self, detail::envelope* reply) {
    auto* op = static_cast<call_op*>(self);
    if (reply == nullptr)
      op->result_.emplace(error(errc::timeout, "no reply within the call's timeout"));
    else if (reply->type == &detail::message_type_of<error>)
      op->result_.emplace(std::move(reply->as<error>()));
    else
      op->result_.emplace(std::move(reply->as<R>()));
  }

  actor_ref target_;
  M msg_;
  std::chrono::milliseconds timeout_;
  std::optional<result<R>> result_;
};

template <class... Sigs>
class typed_ref : public actor_ref {
 public:
  using signatures = detail::type_list<Sigs...>;

  typed_ref() noexcept = default;
  /// Unchecked: the caller vouches that the actor handles Sigs (engine plumbing).
  typed_ref(actor_ref r, detail::adopt_t) noexcept : actor_ref(std::move(r)) {}
  /// A ref that accepts more converts to one that accepts less.
  template <class... Other>
    requires(detail::contains_signature<Sigs, Other...> && ...)
  typed_ref(const typed_ref<Other...>& o) noexcept : actor_ref(o) {}  // NOLINT: implicit narrowing of the interface

  /// Fire-and-forget. Dropped silently when the actor has exited (Erlang semantics), or when
  /// its bounded mailbox is full and drops; throws eam::error(mailbox_full) when it is full
  /// with the `error` overflow strategy.
  template <class A>
    requires detail::accepts_cast<message_t<A>, Sigs...>
  void cast(A&& msg) const {
    if (detail::send(cell(), detail::make_envelope<message_t<A>>(detail::envelope_kind::cast, std::forward<A>(msg))) ==
        detail::send_result::refused) [[unlikely]]
      throw error(errc::mailbox_full, "the actor's mailbox is full");
  }

  /// Request/reply; see call_op.
  template <class A>
    requires detail::accepts_call<message_t<A>, Sigs...>
  auto call(A&& msg, std::chrono::milliseconds timeout = default_call_timeout) const {
    using R = detail::reply_to_t<message_t<A>, Sigs...>;
    return call_op<R, message_t<A>>(*this, message_t<A>(std::forward<A>(msg)), timeout);
  }
};

namespace detail {
template <class List>
struct ref_from_list;
template <class... Sigs>
struct ref_from_list<type_list<Sigs...>> {
  using type = typed_ref<Sigs...>;
};
}  // namespace detail

/// The typed ref of anything that lists its signatures: a class actor or a behavior type.
template <class T>
using ref_of = typename detail::ref_from_list<typename T::signatures>::type;

template <class T>
inline constexpr bool is_typed_ref_v = false;
template <class... Sigs>
inline constexpr bool is_typed_ref_v<typed_ref<Sigs...>> = true;

}  // namespace eam
