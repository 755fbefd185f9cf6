#pragma once
/// References to actors. `actor_ref` names an actor; `typed_ref<Sigs...>` also knows what it
/// accepts, so `cast` and `call` of a message the actor does not handle do not compile.
///
/// A signature `R(M)` says "answers a call of M with R"; `void(M)` says "takes M as a cast".
/// Copying a ref costs one atomic increment at most (a worker thread that dropped a ref to the
/// same actor a moment ago reuses that one); sending through one costs none.

#include <eam/engine/detail/reply.hpp>
#include <eam/engine/detail/signatures.hpp>
#include <eam/engine/fwd.hpp>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace eam {

/// How long a call waits for its reply unless told otherwise (as in libeam and gen_server).
inline constexpr std::chrono::milliseconds default_call_timeout{5000};

/// A call's timeout, for the call shape that builds its message in place: `ref.call<M>(within{2s}, args...)`.
struct within {
  std::chrono::milliseconds value;
};

namespace detail {
void add_ref(actor_cell* c) noexcept;
std::uint64_t cell_id(const actor_cell* c) noexcept;
bool cell_is_dead(const actor_cell* c) noexcept;
/// The actor whose handler runs on this thread, or null outside actors.
actor_cell* current_cell() noexcept;
/// Why a new call to `target` from this thread must fail at once (0 when it may go ahead).
errc refuse_call(const actor_cell* target) noexcept;
/// The error of a call refused before it was sent (refuse_call's code, or no target), and of
/// one whose reply did not come within `timeout`: each says why, for the caller's log.
error refused_call(errc why);
error call_timed_out(std::chrono::milliseconds timeout);
/// Suspends the running actor on a call: until `accept` has taken the reply (or null on
/// timeout) it takes no ordinary message. Returns the request id to put on the call.
std::uint64_t begin_await(actor_cell* self, std::coroutine_handle<> h, void* awaiter,
                          void (*accept)(void* awaiter, envelope* reply_or_null),
                          std::chrono::milliseconds timeout);
struct adopt_t {};
/// The arguments of a message built inside a call (typed_ref::call<M>(args...)), as references.
template <class... Args>
struct in_place_args {
  std::tuple<Args...> args;
};
template <class T>
inline constexpr bool is_in_place_args = false;
template <class... Args>
inline constexpr bool is_in_place_args<in_place_args<Args...>> = true;
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
  /// Unique in the process, across its actor systems and never reused; 0 for an empty ref.
  [[nodiscard]] std::uint64_t id() const noexcept { return cell_ ? detail::cell_id(cell_) : 0; }
  /// False once the actor has exited (a hint: it may exit right after this returns true).
  [[nodiscard]] bool is_alive() const noexcept { return cell_ && !detail::cell_is_dead(cell_); }
  [[nodiscard]] detail::actor_cell* cell() const noexcept { return cell_; }
  /// Gives up the reference without dropping it: the caller now owns the count (engine plumbing).
  [[nodiscard]] detail::actor_cell* release() noexcept { return std::exchange(cell_, nullptr); }

  friend bool operator==(const actor_ref& a, const actor_ref& b) noexcept { return a.cell_ == b.cell_; }

 private:
  detail::actor_cell* cell_ = nullptr;
};

/// What became of a `try_cast`.
enum class cast_result : std::uint8_t { sent, full, gone };

/// True while this thread runs an actor's handler (a worker thread), where a blocking wait
/// would stall the worker: library code that blocks checks it and refuses.
[[nodiscard]] inline bool inside_actor() noexcept { return detail::current_cell() != nullptr; }

/// A call, sent when it is awaited or got (not when it is made: a cast sent between the two
/// arrives first). `co_await` it inside a handler that returns `task<...>`: the worker thread
/// runs other actors until the reply comes. Outside actors, `std::move(op).get()` (or
/// `ref.call(...).get()`) blocks the calling thread.
/// Both give `result<R>`: the reply, or `timeout`, `actor_not_found`, `actor_crashed`,
/// `system_shutting_down`, `mailbox_full`; `get()` on a worker thread gives
/// `blocking_call_on_worker` at once.
///
/// The timeout never fires early. Awaited inside an actor, a timeout of 20 ms or more fires
/// about a millisecond late, at most about 10 ms (when the worker that armed it is stuck in one
/// long handler): the worker holds it back and arms it only if the call is still unanswered then.
///
/// The request is built when the call_op is, and its destructor clears every owner it releases
/// with a store the compiler must keep (`forget`), so that a second destruction of the same
/// object (GCC 12 has destroyed co_await temporaries twice) finds nothing left to release.
template <class R, class M>
class [[nodiscard]] call_op {
 public:
  template <class A>
  call_op(actor_ref target, A&& msg, std::chrono::milliseconds timeout)
      : request_(make_request(std::forward<A>(msg))), target_(target.release()), timeout_(timeout) {}
  call_op(call_op&& o) noexcept
      : request_(std::exchange(o.request_, nullptr)), target_(std::exchange(o.target_, nullptr)), timeout_(o.timeout_) {}
  call_op(const call_op&) = delete;
  call_op& operator=(const call_op&) = delete;
  call_op& operator=(call_op&&) = delete;
  ~call_op() {
    if (request_ != nullptr) {
      detail::free_envelope(request_);
      forget(request_);
    }
    if (target_ != nullptr) {
      detail::release_cell(target_);
      forget(target_);
    }
    if (has_result_) {
      stored().~result<R>();
      forget(has_result_);
    }
  }

  /// Sends the call and blocks this thread until the reply or the timeout. On a worker thread
  /// (inside a handler) it fails at once with `blocking_call_on_worker`: `co_await` instead.
  /// A target that is idle has its turn run on this thread, which would only wait
  /// (system_config::calls_run_on_caller): the timeout, counted from when the request has been
  /// handed over, then bounds a reply the handler defers, not the handler itself.
  result<R> get() && {
    if (detail::current_cell() != nullptr)
      return error(errc::blocking_call_on_worker,
                   "call(...).get() inside a handler would stall a worker: co_await the call in a task handler");
    if (errc why = refused(); why != errc{}) return detail::refused_call(why);
    auto* slot = new detail::reply_slot<R>;
    detail::envelope* e = std::exchange(request_, nullptr);
    e->reply = detail::reply_address(detail::reply_kind::slot, slot, 0);
    detail::send_call_from_thread(target_, e);
    if (!slot->wait_for(timeout_))
      return detail::call_timed_out(timeout_);  // the reply address frees the slot
    result<R> r = slot->take();
    delete slot;
    return r;
  }

  bool await_ready() {
    if (errc why = refused(); why != errc{}) set_result(detail::refused_call(why));
    return has_result_;
  }
  bool await_suspend(std::coroutine_handle<> h) {
    detail::actor_cell* self = detail::current_cell();
    if (self == target_) [[unlikely]] {
      // The request would queue behind the handler that waits for it, until the timeout.
      set_result(error(errc::calling_self, "an actor awaited a call to itself"));
      return false;  // resumes at once
    }
    const std::uint64_t id = detail::begin_await(self, h, this, &accept, timeout_);  // may throw: request_ still ours
    detail::envelope* e = std::exchange(request_, nullptr);
    detail::add_ref(self);  // held by the reply address until the answer is sent
    e->reply = detail::reply_address(detail::reply_kind::actor, self, id);
    detail::send(target_, e);
    return true;
  }
  result<R> await_resume() {
    result<R> r = std::move(stored());
    stored().~result<R>();
    has_result_ = false;
    return r;
  }

 private:
  template <class A>
  static detail::envelope* make_request(A&& msg) {
    if constexpr (detail::is_in_place_args<std::remove_cvref_t<A>>)
      return std::apply(
          [](auto&&... args) {
            return detail::make_envelope<M>(detail::envelope_kind::call, M{std::forward<decltype(args)>(args)...});
          },
          std::move(msg.args));
    else
      return detail::make_envelope<M>(detail::envelope_kind::call, std::forward<A>(msg));
  }
  // A store in a destructor is dead to the compiler (the object's life ends), so it may drop
  // it; through a volatile lvalue it must keep it, and a second destruction sees it.
  template <class T>
  static void forget(T& owner) noexcept {
    *static_cast<volatile T*>(&owner) = T{};
  }
  eam::result<R>& stored() noexcept { return *std::launder(reinterpret_cast<eam::result<R>*>(result_storage_)); }
  void set_result(eam::result<R>&& r) {
    ::new (static_cast<void*>(result_storage_)) eam::result<R>(std::move(r));
    has_result_ = true;
  }
  errc refused() const noexcept {
    if (target_ == nullptr) return errc::actor_not_found;
    return detail::refuse_call(target_);
  }
  static void accept(void* self, detail::envelope* reply) {
    auto* op = static_cast<call_op*>(self);
    if (reply == nullptr)
      op->set_result(detail::call_timed_out(op->timeout_));
    else if (reply->type == &detail::message_type_of<R>) [[likely]]
      op->set_result(std::move(reply->as<R>()));
    else if (reply->type == &detail::message_type_of<error>)
      op->set_result(std::move(reply->as<error>()));
    else  // an answer built at run time (eam::reply_handle::reply(message)) of another type
      op->set_result(detail::unexpected_reply(reply->type->name, detail::message_type_of<R>.name));
  }

  detail::envelope* request_;  // built first: if building it throws, `target` still owns the ref
  detail::actor_cell* target_;
  std::chrono::milliseconds timeout_;
  alignas(eam::result<R>) unsigned char result_storage_[sizeof(eam::result<R>)];
  bool has_result_ = false;
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

  /// A cast that never loses the message to a full mailbox: when the actor's bounded mailbox
  /// is full (overflow `error` or `drop_newest`), `msg` is handed back as it was and the result
  /// is `full`; `gone` when the actor has ended (the message is dropped, as a cast's is).
  /// For servers that must not throw or drop what they pass on (GenStage's batches).
  template <class M>
    requires detail::accepts_cast<M, Sigs...>
  cast_result try_cast(M& msg) const {
    detail::envelope* e = detail::make_envelope<M>(detail::envelope_kind::cast, std::move(msg));
    switch (detail::offer(cell(), e)) {
      case detail::send_result::delivered:
        return cast_result::sent;
      case detail::send_result::refused:
        msg = std::move(e->template as<M>());
        detail::free_envelope(e);
        return cast_result::full;
      case detail::send_result::dropped:
        break;
    }
    return cast_result::gone;
  }

  /// Request/reply; see call_op.
  template <class A>
    requires detail::accepts_call<message_t<A>, Sigs...>
  auto call(A&& msg, std::chrono::milliseconds timeout = default_call_timeout) const {
    using R = detail::reply_to_t<message_t<A>, Sigs...>;
    return call_op<R, message_t<A>>(*this, std::forward<A>(msg), timeout);
  }
  /// The same, with the message M built inside the call from `args` (`M{args...}`), so that no
  /// message temporary exists in the caller's expression: the shape to `co_await` with GCC 12,
  /// which miscompiles a message temporary that copies a member inside a co_await expression
  /// (`co_await db.call(fetch{l.key})` destroys an object it never built):
  ///
  ///   auto r = co_await db.call<fetch>(l.key);                      // default timeout
  ///   auto r = co_await db.call<fetch>(eam::within{2000ms}, l.key);
  template <class M, class... Args>
    requires detail::accepts_call<M, Sigs...> && (!std::is_same_v<std::remove_cvref_t<Args>, M> && ...)
  auto call(Args&&... args) const {
    return call<M>(within{default_call_timeout}, std::forward<Args>(args)...);
  }
  template <class M, class... Args>
    requires detail::accepts_call<M, Sigs...>
  auto call(within timeout, Args&&... args) const {
    using R = detail::reply_to_t<M, Sigs...>;
    return call_op<R, M>(*this, detail::in_place_args<Args&&...>{{std::forward<Args>(args)...}}, timeout.value);
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

/// The reply type of a call of M through Ref (void when M is a cast or not handled).
template <class Ref, class M>
struct call_reply;
template <class... Sigs, class M>
struct call_reply<typed_ref<Sigs...>, M> {
  using type = detail::reply_to_t<M, Sigs...>;
};
template <class Ref, class M>
using call_reply_t = typename call_reply<Ref, M>::type;

/// The typed ref of anything that lists its signatures: a class actor or a behavior type.
template <class T>
using ref_of = typename detail::ref_from_list<typename T::signatures>::type;

template <class T>
inline constexpr bool is_typed_ref_v = false;
template <class... Sigs>
inline constexpr bool is_typed_ref_v<typed_ref<Sigs...>> = true;

namespace detail {
/// Whether the live actor behind `c` has every signature of `sigs` (false once it has ended).
bool cell_handles_all(const actor_cell* c, const signature_id* sigs, std::size_t n) noexcept;
template <class... Sigs>
bool cell_handles(const actor_cell* c, type_list<Sigs...>) noexcept {
  static constexpr signature_id sigs[] = {signature_id_of<Sigs>()..., {nullptr, nullptr}};
  return cell_handles_all(c, sigs, sizeof...(Sigs));
}
}  // namespace detail

/// Checked conversion of an untyped ref (from a message, a lookup or the cluster) into a typed
/// one: `actor_not_found` when the ref is empty or the actor has ended, `unhandled_message`
/// when the actor lacks one of Ref's signatures (message type, reply type, call or cast).
template <class Ref>
  requires is_typed_ref_v<Ref>
result<Ref> typed_ref_cast(actor_ref ref) {
  if (!ref || !ref.is_alive()) return error(errc::actor_not_found, "no live actor behind the ref");
  if (!detail::cell_handles(ref.cell(), typename Ref::signatures{}))
    return error(errc::unhandled_message, "the actor does not handle every signature of the requested ref");
  return Ref(std::move(ref), detail::adopt_t{});
}

/// Unchecked conversion: the caller vouches that the actor handles Ref's signatures (a wrong
/// claim makes a call write its reply into the wrong type). For refs whose type a protocol
/// already guarantees.
template <class Ref>
  requires is_typed_ref_v<Ref>
Ref unchecked_typed_ref_cast(actor_ref ref) noexcept {
  return Ref(std::move(ref), detail::adopt_t{});
}

}  // namespace eam
