#pragma once
/// `agent<T>`: an actor that holds one value, as Elixir's Agent. Every operation is a message
/// to the agent, so concurrent updates never race. A function that throws fails its own call
/// (`otp_errc::function_threw`; a cast's is logged) and the agent runs on, its value as the
/// function left it.
///
///   auto counter = eam::otp::agent<int>::start(system, 0);
///   counter.update([](int& n) { ++n; });                 // -> result<int>: the new value
///   int old = counter.get_and_update([](int& n) { n = 0; }).value();
///   int n = counter.get().value();
///   counter.stop();

#include <eam/engine/system.hpp>
#include <eam/otp/stop.hpp>
#include <eam/otp/otp_errc.hpp>
#include <eam/engine/log.hpp>

#include <any>
#include <chrono>
#include <functional>
#include <memory>
#include <utility>

namespace eam::otp {

namespace detail {
// The agent's messages. A query runs on the agent and answers with what it returns, type-erased
// so one actor type serves every query.
template <class T>
struct query {
  std::function<std::any(T&)> fn;
};
template <class T>
struct command {
  std::function<void(T&)> fn;
};
}  // namespace detail

template <class T>
class agent {
 public:
  using ref_type = typed_ref<result<std::any>(detail::query<T>), void(detail::command<T>)>;

  /// Spawns an agent holding `initial` (optionally named).
  static agent start(actor_system& system, T initial, spawn_options opts = {}) {
    return agent(system.spawn(opts, [](actor_context& ctx, T value) {
      auto& state = ctx.make_state<T>(std::move(value));
      return behavior{
          [&state](detail::query<T>&& q) -> result<std::any> {
            try {
              return q.fn(state);
            } catch (const std::exception& e) {  // the caller's function failed, not the agent
              return error(otp_errc::function_threw, e.what());
            } catch (...) {  // whatever it throws: the caller's failure all the same
              return error(otp_errc::function_threw, "a value that is not a std::exception");
            }
          },
          [&state](detail::command<T>&& c) {
            try {
              c.fn(state);
            } catch (const std::exception& e) {
              log::logger("eam.otp.agent").error("a cast function threw: {}", e.what());
            } catch (...) {
              log::logger("eam.otp.agent").error("a cast function threw a value that is not a std::exception");
            }
          },
      };
    }, std::move(initial)));
  }
  explicit agent(ref_type ref) : ref_(std::move(ref)) {}

  /// A copy of the value.
  result<T> get(std::chrono::milliseconds timeout = default_call_timeout) const {
    return get([](const T& v) { return v; }, timeout);
  }
  /// What `fn(value)` returns, computed on the agent.
  template <class F>
  auto get(F fn, std::chrono::milliseconds timeout = default_call_timeout) const -> result<std::invoke_result_t<F&, const T&>> {
    using R = std::invoke_result_t<F&, const T&>;
    return ask<R>([fn = std::move(fn)](T& v) mutable { return std::any(fn(std::as_const(v))); }, timeout);
  }
  /// Applies `fn` to the value; returns the new value.
  template <class F>
  result<T> update(F fn, std::chrono::milliseconds timeout = default_call_timeout) const {
    return ask<T>([fn = std::move(fn)](T& v) mutable {
      fn(v);
      return std::any(v);
    }, timeout);
  }
  /// Applies `fn` to the value; returns the value from before.
  template <class F>
  result<T> get_and_update(F fn, std::chrono::milliseconds timeout = default_call_timeout) const {
    return ask<T>([fn = std::move(fn)](T& v) mutable {
      T old = v;
      fn(v);
      return std::any(std::move(old));
    }, timeout);
  }
  /// Applies `fn` to the value without waiting.
  template <class F>
  void cast(F fn) const {
    ref_.cast(detail::command<T>{std::move(fn)});
  }
  /// Stops the agent and returns once it has ended; false when it still runs after `timeout`.
  /// From outside actors (stop_and_wait).
  bool stop(std::chrono::milliseconds timeout = default_call_timeout) const { return stop_and_wait(ref_, timeout); }

  [[nodiscard]] const ref_type& ref() const noexcept { return ref_; }

 private:
  template <class R, class Q>
  result<R> ask(Q q, std::chrono::milliseconds timeout) const {
    auto r = ref_.call(detail::query<T>{std::move(q)}, timeout).get();
    if (!r) return r.error_value();
    if (!r.value()) return r.value().error_value();
    return std::any_cast<R>(std::move(r.value().value()));
  }

  ref_type ref_;
};

}  // namespace eam::otp
