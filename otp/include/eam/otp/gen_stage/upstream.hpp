#pragma once
/// The consuming half of a stage (a consumer, producer-consumer or consumer supervisor): its
/// subscriptions to producers and their demand. For each subscription
///   outstanding + held + to_ask == max_demand,
/// where `outstanding` is asked for and not yet received, `held` is received and not yet done
/// with (queued, or a worker still running), and `to_ask` is done with and not asked for again.
/// The stage asks again once outstanding + held falls to min_demand, so a slow stage stops
/// asking: back-pressure.

#include <eam/engine/system.hpp>
#include <eam/otp/gen_stage/protocol.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace eam::otp::detail {

class upstream {
 public:
  explicit upstream(actor_context& ctx) : ctx_(ctx) {}

  struct entry {
    subscription sub;
    typed_ref<void(stage_ask)> producer;
    watch_ref watch;
    std::size_t max_demand;
    std::size_t min_demand;
    cancel_mode cancel;
    std::size_t outstanding;
    std::size_t to_ask;
  };

  /// Before the subscribe call: checks the options and watches the producer (so its end is
  /// noticed even between the call and its reply). Returns the tag, or why not.
  result<std::uint64_t> prepare(const actor_ref& producer, subscribe_options& options);
  /// The producer accepted: the subscription exists, with max_demand outstanding.
  subscription accepted(const actor_ref& producer, std::uint64_t tag, const subscribe_options& options);
  /// The subscribe call failed or was refused: forget it (and cancel it at the producer, in
  /// case the call only timed out).
  void refused(const actor_ref& producer, std::uint64_t tag);

  /// The subscription a batch belongs to, with its outstanding demand reduced by `n`; null
  /// when it was cancelled meanwhile (the batch is dropped).
  entry* received(std::uint64_t tag, std::size_t n) {
    for (auto& e : entries_)
      if (e.sub.tag == tag) {
        e.outstanding -= n;
        return &e;
      }
    return nullptr;
  }
  /// The subscription with that tag, or null.
  [[nodiscard]] const entry* find(std::uint64_t tag) const noexcept {
    for (const auto& e : entries_)
      if (e.sub.tag == tag) return &e;
    return nullptr;
  }
  /// `n` events of subscription `tag` are done with: asks again when due.
  void done(std::uint64_t tag, std::size_t n) {
    for (auto& e : entries_)
      if (e.sub.tag == tag) {
        e.to_ask += n;
        if (e.max_demand - e.to_ask <= e.min_demand) ask(e);
        return;
      }
  }
  /// The stage cancels a subscription. False when it had none with that tag.
  bool cancel(std::uint64_t tag);
  /// A watched actor ended. True when it was one of these producers: the subscription is gone,
  /// and by its cancel mode the stage ends too (with the producer's reason).
  bool on_down(const down& d);

  [[nodiscard]] std::vector<subscription> subscriptions() const {
    std::vector<subscription> out;
    for (const auto& e : entries_) out.push_back(e.sub);
    return out;
  }

 private:
  void ask(entry& e);

  actor_context& ctx_;
  std::vector<entry> entries_;
  std::vector<std::pair<std::uint64_t, watch_ref>> pending_;  // subscribe calls in flight
};

}  // namespace eam::otp::detail

namespace eam::otp::detail {

/// Calls a stage's event handler in whichever of its accepted shapes it has.
template <class H, class Events, class State>
decltype(auto) invoke_events(H& handler, Events& events, const subscription& from, State& state) {
  if constexpr (std::is_invocable_v<H&, Events&, const subscription&, State&>)
    return handler(events, from, state);
  else if constexpr (std::is_invocable_v<H&, Events&, const subscription&>)
    return handler(events, from);
  else
    return handler(events);
}

/// The subscribe call of a consuming stage: check, ask the producer, record the answer.
template <class T>
task<result<subscription>> subscribe_upstream(actor_ref self, upstream& up, stage_subscribe_to<T> m) {
  auto tag = up.prepare(m.producer, m.options);
  if (!tag) co_return tag.error_value();
  // A named call, not a temporary inside the co_await: GCC 12 destroys such a temporary twice,
  // and this one owns a reference (task.hpp).
  auto call = m.producer.call(stage_subscribe<T>{std::move(self), tag.value(), m.options.max_demand, m.options.partition});
  auto answer = co_await call;
  if (!answer || answer.value()) {
    up.refused(m.producer, tag.value());
    co_return answer ? *answer.value() : answer.error_value();
  }
  co_return up.accepted(m.producer, tag.value(), m.options);
}

/// What every consuming stage's handle offers: subscribe, cancel, stop.
template <class T, class Ref>
class consuming_stage {
 public:
  /// Subscribes to `producer` and waits for its answer: the subscription, or why not
  /// (`invalid_subscription`, `actor_not_found`, `timeout`). Blocking: from outside actors;
  /// inside one, `co_await subscribe_op(...)`.
  result<subscription> subscribe(const source_ref<T>& producer, subscribe_options options = {},
                                 std::chrono::milliseconds timeout = default_call_timeout) const {
    auto r = subscribe_op(producer, options, timeout).get();
    if (!r) return r.error_value();
    return std::move(r.value());
  }
  /// The subscribe call, to co_await inside an actor (it yields result<result<subscription>>).
  /// Name it before awaiting it (`auto op = stage.subscribe_op(p); co_await op;`): see task.hpp.
  auto subscribe_op(const source_ref<T>& producer, subscribe_options options = {},
                    std::chrono::milliseconds timeout = default_call_timeout) const {
    return ref_.call(stage_subscribe_to<T>{producer, options}, timeout);
  }
  /// Cancels a subscription of this stage (the stage carries on). False when it had no such
  /// subscription (any more).
  bool cancel(const subscription& sub, std::chrono::milliseconds timeout = default_call_timeout) const {
    auto r = ref_.call(stage_unsubscribe{sub.tag}, timeout).get();
    return r && r.value();
  }
  /// The stage's live subscriptions, oldest first.
  result<std::vector<subscription>> subscriptions(std::chrono::milliseconds timeout = default_call_timeout) const {
    return ref_.call(stage_list_subscriptions{}, timeout).get();
  }
  /// Stops the stage and waits (within `timeout`) until it has ended; its producers see it go.
  bool stop(actor_system& system, std::chrono::milliseconds timeout = default_call_timeout) const;

  [[nodiscard]] const Ref& ref() const noexcept { return ref_; }

 protected:
  explicit consuming_stage(Ref ref) : ref_(std::move(ref)) {}
  Ref ref_;
};

/// Waits until `ref` has ended, at most `timeout` (defined with the agent).
bool wait_for_exit(const actor_ref& ref, std::chrono::milliseconds timeout);

template <class T, class Ref>
bool consuming_stage<T, Ref>::stop(actor_system& system, std::chrono::milliseconds timeout) const {
  system.stop(ref_);
  return wait_for_exit(ref_, timeout);
}

}  // namespace eam::otp::detail
