#pragma once
/// `named_ref<Sigs...>`: reaches the actor registered under a name, whichever instance that is
/// now, so a client of a supervised server keeps working across its restarts.
///
///   eam::otp::named_ref<int(get)> counter(system, "counter");
///   int n = counter.call(get{}).value();
///
/// What a client sees while the server restarts (the name is free from the old instance's end
/// until the new one is spawned, a short while):
///   - a call made meanwhile waits for the name to come back, within the call's timeout
///     (`registry_lookup_failed` when it has not by then);
///   - a call that was queued at the old instance when it ended is sent again to the new one;
///   - a call the old instance was handling when it crashed fails with `actor_crashed` and is
///     not sent again (it may have had effects);
///   - a cast finds the current instance or, when there is none at that moment, is dropped
///     (`cast` returns false), as a cast to a dead actor is.

#include <eam/engine/system.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

namespace eam::otp {

template <class... Sigs>
class named_ref {
 public:
  using ref_type = typed_ref<Sigs...>;

  named_ref(actor_system& system, std::string name) : system_(&system), name_(std::move(name)) {}

  /// The current instance, or registry_lookup_failed.
  [[nodiscard]] result<ref_type> resolve() const { return system_->template whereis<ref_type>(name_); }

  /// Casts to the current instance; false (dropped) when none is registered.
  template <class A>
  bool cast(A&& msg) const {
    auto r = resolve();
    if (!r) return false;
    r->cast(std::forward<A>(msg));
    return true;
  }

  /// A blocking call to the current instance, waiting for one to be registered and sending
  /// again when the instance it reached ended before taking the call up, all within `timeout`.
  /// From outside actors (inside one: `resolve()` and `co_await` the call).
  template <class A>
  auto call(A msg, std::chrono::milliseconds timeout = default_call_timeout) const
      -> result<call_reply_t<typed_ref<Sigs...>, message_t<A>>> {
    if (inside_actor())
      return error(errc::blocking_call_on_worker, "named_ref::call inside a handler: resolve() and co_await the call");
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + timeout;
    auto pause = std::chrono::microseconds(50);
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      auto target = resolve();
      if (target) {
        auto r = target->call(msg, std::max(left, std::chrono::milliseconds(1))).get();
        // actor_not_found: the instance ended with the call still queued; a newer one may take it.
        if (r || r.code() != errc::actor_not_found) return r;
      }
      if (clock::now() >= deadline) {
        if (!target) return target.error_value();
        return error(errc::actor_not_found, name_ + ": no instance took the call within the timeout");
      }
      // Polling: a restart takes microseconds to milliseconds, and the registry has no waiters.
      std::this_thread::sleep_for(std::min<clock::duration>(pause, deadline - clock::now()));
      pause = std::min(pause * 2, std::chrono::microseconds(5000));
    }
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  actor_system* system_;
  std::string name_;
};

}  // namespace eam::otp
