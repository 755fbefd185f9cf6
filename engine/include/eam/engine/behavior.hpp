#pragma once
/// Functional actors: a factory returns a `behavior` made of handlers.
///
///   struct get {};  struct add { int n; };
///   auto counter = system.spawn([](eam::actor_context& ctx, int start) {
///     auto& count = ctx.make_state<int>(start);
///     return eam::behavior{
///       [&count](get) { return count; },          // a call: answers int
///       [&count](add a) { count += a.n; },        // a cast: returns void
///     };
///   }, 0);
///   counter.cast(add{2});
///   int n = counter.call(get{}).get().value();
///
/// A handler returning `task<R>` may `co_await` calls to other actors. A handler taking
/// `eam::down` or `eam::exit_signal` receives those info messages (and is not part of the ref's
/// interface).

#include <eam/engine/detail/actor_type.hpp>
#include <eam/engine/detail/signatures.hpp>
#include <eam/engine/info.hpp>

#include <tuple>
#include <utility>

namespace eam {

namespace detail {
/// The signatures of a behavior's handlers without the info handlers (down, exit_signal):
/// those are for the engine to deliver, not for others to send.
template <class Out, class... Sigs>
struct public_signatures {
  using type = Out;
};
template <class... Out, class S, class... Rest>
struct public_signatures<type_list<Out...>, S, Rest...>
    : std::conditional_t<is_info_message_v<typename signature_traits<S>::message>,
                         public_signatures<type_list<Out...>, Rest...>, public_signatures<type_list<Out..., S>, Rest...>> {};
}  // namespace detail

template <class... Fs>
class behavior {
  static_assert(detail::unique_messages<typename detail::handler_traits<Fs>::message...>::value,
                "two handlers of one behavior take the same message type");

 public:
  using signatures = typename detail::public_signatures<detail::type_list<>, detail::signature_of<Fs>...>::type;

  explicit behavior(Fs... handlers) : handlers_(std::move(handlers)...) {}

  bool dispatch(detail::envelope& e) { return dispatch_at(e, std::index_sequence_for<Fs...>{}); }
  static bool handles(detail::signature_id s) noexcept { return detail::has_signature(signatures{}, s); }

 private:
  template <std::size_t... I>
  bool dispatch_at(detail::envelope& e, std::index_sequence<I...>) {
    return (... || try_handler<I>(e));
  }
  template <std::size_t I>
  bool try_handler(detail::envelope& e) {
    using F = std::tuple_element_t<I, std::tuple<Fs...>>;
    using M = typename detail::handler_traits<F>::message;
    if (e.type != &detail::message_type_of<M>) return false;
    detail::invoke_handler<M>(e, std::get<I>(handlers_));
    return true;
  }

  std::tuple<Fs...> handlers_;
};

template <class... Fs>
behavior(Fs...) -> behavior<Fs...>;

namespace detail {

template <class B>
struct behavior_traits {
  static constexpr bool is_behavior = false;
};
template <class... Fs>
struct behavior_traits<behavior<Fs...>> {
  static constexpr bool is_behavior = true;
};

/// Holds the factory and its arguments until init, then the behavior it returned.
template <class Factory, class... Args>
class functional_impl final {
 public:
  using behavior_type = std::invoke_result_t<Factory&, actor_context&, Args&&...>;
  static_assert(behavior_traits<behavior_type>::is_behavior,
                "an actor factory must return eam::behavior{handlers...}");

  template <class F, class... A>
  explicit functional_impl(F&& f, A&&... args) {
    ::new (&pending_) pending_type(std::forward<F>(f), std::forward<A>(args)...);
  }
  ~functional_impl() {
    if (ready_)
      behavior_.~behavior_type();
    else
      pending_.~pending_type();
  }

  void init(actor_context& ctx) {
    behavior_type b = std::apply(
        [&](Factory& f, Args&... args) { return f(ctx, std::move(args)...); }, pending_);
    pending_.~pending_type();
    ::new (&behavior_) behavior_type(std::move(b));
    ready_ = true;
  }
  bool dispatch(envelope& e) { return behavior_.dispatch(e); }
  void terminate(const exit_reason&) {}  // a functional actor's handler is ctx.on_terminate
  static bool handles(signature_id s) noexcept { return behavior_type::handles(s); }
  static constexpr std::string_view type_name = eam::type_name<Factory>();

 private:
  using pending_type = std::tuple<Factory, Args...>;
  union {
    pending_type pending_;
    behavior_type behavior_;
  };
  bool ready_ = false;
};

}  // namespace detail

/// Whether T is an eam::behavior (what an actor factory returns).
template <class T>
inline constexpr bool is_behavior_v = detail::behavior_traits<T>::is_behavior;

}  // namespace eam
