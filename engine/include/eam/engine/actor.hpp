#pragma once
/// Class actors: derive from `actor<Sigs...>`, listing what the actor accepts, and write one
/// `handle_call` or `handle_cast` overload per message type.
///
///   struct counter : eam::actor<int(get), void(add)> {
///     int n = 0;
///     void init(int start) { n = start; }          // optional; gets spawn's arguments
///     int handle_call(get) { return n; }            // R(M): a call answered with R
///     void handle_cast(add a) { n += a.n; }          // void(M): a cast
///     void handle_info(const eam::down&) {}          // optional: info messages
///     void terminate(const eam::exit_reason&) {}     // optional
///   };
///   auto ref = system.spawn<counter>(5);            // eam::typed_ref<int(get), void(add)>
///
/// `handle_call` may return `task<R>` instead of R to `co_await` other actors. A class without
/// `init` is constructed from spawn's arguments instead. `context()` is valid from `init` on.
/// A class with `S save_state()` can be moved to another node (migration.hpp; the cluster also
/// needs `void restore_state(S)` and a default constructor to rebuild it there).

#include <eam/engine/detail/actor_type.hpp>
#include <eam/engine/detail/signatures.hpp>
#include <eam/engine/info.hpp>

#include <functional>
#include <optional>
#include <tuple>
#include <utility>

namespace eam {

namespace detail {
template <class A, class... Args>
class class_impl;

/// What actor_context::on_save_state records: the actor's state, saved into a new envelope.
void set_state_saver(actor_context& ctx, std::function<envelope*()> save);

class actor_base {
 protected:
  /// The actor's own context: self(), spawn of children, stop, system.
  [[nodiscard]] actor_context& context() const noexcept { return *ctx_; }

 private:
  template <class A, class... Args>
  friend class class_impl;
  actor_context* ctx_ = nullptr;
};
}  // namespace detail

template <class... Sigs>
class actor : public detail::actor_base {
 public:
  using signatures = detail::type_list<Sigs...>;
  static_assert(detail::unique_messages<typename detail::signature_traits<Sigs>::message...>::value,
                "an actor lists each message type once");
};

namespace detail {

template <class A, class List>
struct class_dispatch;
template <class A, class... Sigs>
struct class_dispatch<A, type_list<Sigs...>> {
  static bool dispatch(A& a, envelope& e) {
    return (... || try_one<Sigs>(a, e)) || try_info<down>(a, e) || try_info<exit_signal>(a, e) ||
           try_info<timeout>(a, e) || try_info<moved>(a, e);
  }
  // An info message goes to a matching handle_info overload, or is dropped.
  template <class M>
  static bool try_info(A& a, envelope& e) {
    if (e.type != &message_type_of<M>) return false;
    if constexpr (requires { a.handle_info(std::declval<M&&>()); }) a.handle_info(std::move(e.as<M>()));
    return true;
  }
  static bool handles(signature_id s) noexcept { return has_signature(type_list<Sigs...>{}, s); }
  template <class Sig>
  static bool try_one(A& a, envelope& e) {
    using M = typename signature_traits<Sig>::message;
    if (e.type != &message_type_of<M>) return false;
    // The wrappers forward the message as invoke_handler passes it (a copy for a by-value
    // parameter, see call_with_message), so they must stay SFINAE-friendly.
    if constexpr (signature_traits<Sig>::is_cast) {
      invoke_handler<M>(e, [&a](auto&& m) -> decltype(a.handle_cast(std::forward<decltype(m)>(m))) {
        return a.handle_cast(std::forward<decltype(m)>(m));
      });
    } else {
      using returned = decltype(a.handle_call(std::declval<M&&>()));
      static_assert(std::is_same_v<std::remove_cvref_t<typename task_traits<returned>::value_type>,
                                   typename signature_traits<Sig>::reply>,
                    "handle_call must return the reply type its signature R(M) declares (or task<R>)");
      invoke_handler<M>(e, [&a](auto&& m) -> decltype(a.handle_call(std::forward<decltype(m)>(m))) {
        return a.handle_call(std::forward<decltype(m)>(m));
      });
    }
    return true;
  }
};

template <class A, class... Args>
class class_impl final {
  using dispatcher = class_dispatch<A, typename A::signatures>;

 public:
  template <class... T>
  explicit class_impl(T&&... args) : args_(std::in_place, std::forward<T>(args)...) {}
  ~class_impl() {
    if (constructed_) actor_.~A();
  }

  void init(actor_context& ctx) {
    if constexpr (requires(A& a, Args&&... args) { a.init(std::move(args)...); }) {
      ::new (&actor_) A();
      constructed_ = true;
      static_cast<actor_base&>(actor_).ctx_ = &ctx;
      std::apply([&](Args&... args) { actor_.init(std::move(args)...); }, *args_);
    } else {
      std::apply([&](Args&... args) { ::new (&actor_) A(std::move(args)...); }, *args_);
      constructed_ = true;
      static_cast<actor_base&>(actor_).ctx_ = &ctx;
    }
    args_.reset();  // spawn's arguments are not kept for the actor's whole life
    if constexpr (requires(A& a) { a.save_state(); }) {
      set_state_saver(ctx, [this]() -> envelope* {
        using state = std::remove_cvref_t<decltype(actor_.save_state())>;
        return make_envelope<state>(envelope_kind::cast, actor_.save_state());
      });
    }
  }
  bool dispatch(envelope& e) { return dispatcher::dispatch(actor_, e); }
  void terminate(const exit_reason& why) {
    if constexpr (requires(A& a) { a.terminate(why); }) {
      if (constructed_) actor_.terminate(why);
    }
  }
  static bool handles(signature_id s) noexcept { return dispatcher::handles(s); }
  static constexpr std::string_view type_name = eam::type_name<A>();

 private:
  std::optional<std::tuple<Args...>> args_;
  union {
    A actor_;
  };
  bool constructed_ = false;
};

}  // namespace detail

}  // namespace eam
