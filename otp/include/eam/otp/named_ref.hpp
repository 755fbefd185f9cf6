#pragma once
/// `named_ref<Sigs...>`: reaches the actor registered under a name, whichever instance that is
/// now, so a client of a supervised server keeps working across its restarts.
///
///   eam::otp::named_ref<int(get)> counter(system, "counter");
///   int n = counter.call(get{}).value();      // resolves, and re-resolves once if the
///                                             // instance it found ended meanwhile

#include <eam/engine/system.hpp>

#include <string>

namespace eam::otp {

template <class... Sigs>
class named_ref {
 public:
  using ref_type = typed_ref<Sigs...>;

  named_ref(actor_system& system, std::string name) : system_(&system), name_(std::move(name)) {}

  /// The current instance, or registry_lookup_failed.
  [[nodiscard]] result<ref_type> resolve() const { return system_->template whereis<ref_type>(name_); }

  /// Casts to the current instance; dropped when none is registered.
  template <class A>
  void cast(A&& msg) const {
    if (auto r = resolve()) r->cast(std::forward<A>(msg));
  }

  /// A blocking call to the current instance (from outside actors; inside one, `resolve()` and
  /// `co_await` the call). If the instance ends before answering, resolves again and retries
  /// once, so a restart between lookup and call is invisible.
  template <class A>
  auto call(A msg, std::chrono::milliseconds timeout = default_call_timeout) const
      -> result<call_reply_t<typed_ref<Sigs...>, message_t<A>>> {
    for (int attempt = 0;; ++attempt) {
      auto target = resolve();
      if (!target) return target.error_value();
      auto r = target->call(msg, timeout).get();
      if (r || r.code() != errc::actor_not_found || attempt == 1) return r;
    }
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  actor_system* system_;
  std::string name_;
};

}  // namespace eam::otp
