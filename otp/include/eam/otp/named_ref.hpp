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
///
/// Cost: it keeps the instance it found, with the system's names_version() of that moment, and
/// looks the name up again only when that number has moved (a name taken or freed anywhere in
/// the system, or in the cluster's registry). So a named cast costs a load more than a cast
/// through a ref, where a look-up took the registry's lock, hashed the name and counted a
/// reference on the target (the lock shared by every worker). A copy has its own cache; one
/// object used from several threads at once looks the name up for the thread that finds its
/// cache in use, so keep a copy per client actor.

#include <eam/engine/system.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace eam::otp {

template <class... Sigs>
class named_ref {
 public:
  using ref_type = typed_ref<Sigs...>;

  named_ref(actor_system& system, std::string name) : system_(&system), name_(std::move(name)) {}
  // A copy or a moved-to named_ref starts with an empty cache (the cache is per object).
  named_ref(const named_ref& o) : system_(o.system_), name_(o.name_) {}
  named_ref(named_ref&& o) noexcept : system_(o.system_), name_(std::move(o.name_)) {}
  named_ref& operator=(const named_ref& o) {
    if (this != &o) {
      system_ = o.system_;
      name_ = o.name_;
      found_.reset();
    }
    return *this;
  }
  named_ref& operator=(named_ref&& o) noexcept {
    if (this != &o) {
      system_ = o.system_;
      name_ = std::move(o.name_);
      found_.reset();
    }
    return *this;
  }

  /// The current instance, or registry_lookup_failed.
  [[nodiscard]] result<ref_type> resolve() const {
    const std::uint64_t version = system_->names_version();  // before the look-up it may cache
    if (cache_guard guard(busy_); guard.held()) {
      if (!found_ || found_version_ != version) return look_up(version);
      return *found_;
    }
    return system_->template whereis<ref_type>(name_);
  }

  /// Casts to the current instance; false (dropped) when none is registered.
  template <class A>
  bool cast(A&& msg) const {
    const std::uint64_t version = system_->names_version();
    if (cache_guard guard(busy_); guard.held()) {
      if ((!found_ || found_version_ != version) && !look_up(version)) return false;
      found_->cast(std::forward<A>(msg));  // may wait for room (a remote actor): other threads never wait for the cache
      return true;
    }
    auto r = system_->template whereis<ref_type>(name_);
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
  // Holds the cache while a thread uses it; a thread that finds it held looks the name up
  // itself (never waits). Acquire/release: what one holder stored in the cache, the next reads.
  class cache_guard {
   public:
    explicit cache_guard(std::atomic<bool>& busy) noexcept
        : busy_(busy), held_(!busy.exchange(true, std::memory_order_acquire)) {}
    ~cache_guard() {
      if (held_) busy_.store(false, std::memory_order_release);
    }
    cache_guard(const cache_guard&) = delete;
    cache_guard& operator=(const cache_guard&) = delete;
    [[nodiscard]] bool held() const noexcept { return held_; }

   private:
    std::atomic<bool>& busy_;
    const bool held_;
  };
  // Under the cache: looks the name up and keeps what it finds (a miss is not kept: a cluster
  // node coming up can make a name resolvable without a change to the names).
  result<ref_type> look_up(std::uint64_t version) const {
    auto r = system_->template whereis<ref_type>(name_);
    if (r) {
      found_ = *r;
      found_version_ = version;
    } else {
      found_.reset();
    }
    return r;
  }

  actor_system* system_;
  std::string name_;
  mutable std::atomic<bool> busy_{false};
  mutable std::optional<ref_type> found_;  // under busy_: the instance found at found_version_
  mutable std::uint64_t found_version_ = 0;
};

}  // namespace eam::otp
