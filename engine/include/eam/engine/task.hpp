#pragma once
/// `task<R>`: the return type of a handler that awaits other actors.
///
/// A handler declared as returning `task<int>` answers its call with an `int`, but may
/// `co_await other.call(msg)` on the way. While it waits, its worker thread runs other actors;
/// its own actor takes no other ordinary message until the reply (or the call's timeout) comes.
///
/// With GCC 12, build the message inside the call: `co_await ref.call<fetch>(l.key)` (or
/// `auto op = ref.call(fetch{l.key}); co_await op;`). GCC 12 miscompiles a message temporary
/// that copies a member inside a co_await expression (`co_await ref.call(fetch{l.key})` moves
/// from and destroys an object it never built); clang is not affected. call_op itself is safe
/// against a double destruction (actor_ref.hpp).
///
/// The coroutine starts eagerly when the handler is invoked and destroys itself when it
/// finishes. It takes over the call's reply address when it starts, answers it with the value
/// it returns, with `actor_crashed` if it throws (the actor then crashes), or with
/// `actor_not_found` if the actor stops while it is suspended.

#include <eam/engine/detail/reply.hpp>

#include <coroutine>
#include <exception>

namespace eam {

namespace detail {
/// The reply address of the call whose handler is starting, handed to the coroutine it starts.
reply_address take_current_reply() noexcept;
/// Marks the running actor as crashed and answers `to` with actor_crashed.
void report_crash(reply_address& to, std::exception_ptr e) noexcept;

struct task_promise_base {
  reply_address reply = take_current_reply();

  std::suspend_never initial_suspend() noexcept { return {}; }
  std::suspend_never final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { report_crash(reply, std::current_exception()); }
  ~task_promise_base() {
    if (reply.pending()) complete_error(reply, error(errc::actor_not_found, "the actor stopped before replying"));
  }
};
}  // namespace detail

template <class R = void>
class task {
 public:
  using value_type = R;
  struct promise_type : detail::task_promise_base {
    task get_return_object() noexcept { return {}; }
    template <class V>
    void return_value(V&& v) {
      detail::complete_call<R>(reply, R(std::forward<V>(v)));
    }
  };
};

template <>
class task<void> {
 public:
  using value_type = void;
  struct promise_type : detail::task_promise_base {
    task get_return_object() noexcept { return {}; }
    void return_void() noexcept {}
  };
};

namespace detail {
template <class T>
struct task_traits {
  static constexpr bool is_task = false;
  using value_type = T;
};
template <class R>
struct task_traits<task<R>> {
  static constexpr bool is_task = true;
  using value_type = R;
};
}  // namespace detail

}  // namespace eam
