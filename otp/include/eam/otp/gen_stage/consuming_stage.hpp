#pragma once
/// What the consuming stages (consumer, producer-consumer, consumer supervisor) share: the
/// subscribe call as a coroutine, the shapes their event handlers may take, and the handle
/// methods subscribe / cancel / subscriptions / stop.

#include <eam/engine/system.hpp>
#include <eam/engine/task.hpp>
#include <eam/otp/stop.hpp>
#include <eam/otp/gen_stage/upstream.hpp>

#include <chrono>
#include <type_traits>
#include <vector>

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
  auto call =
      m.producer.call(stage_subscribe<T>{std::move(self), tag.value(), m.options.max_demand, m.options.partition,
                                         m.options.min_demand.value_or(0), std::move(m.selector)});
  auto answer = co_await call;
  if (!answer || answer.value()) {
    up.refused(m.producer, tag.value(), answer.has_value());
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
    return ref_.call(stage_subscribe_to<T>{producer, options, {}}, timeout);
  }
  /// Subscribes to a producer with the broadcast dispatcher, taking only the events `selector`
  /// accepts, as GenStage's `:selector` does: the others count as handled for this consumer's
  /// demand, so it keeps the pace of the others. Another dispatcher refuses it
  /// (`invalid_subscription`), and so does a producer on another node (a function does not
  /// cross the wire: filter in the consumer instead). The selector runs on the producer's
  /// thread, once per event: keep it short; an exception from it ends the producer.
  result<subscription> subscribe(const source_ref<T>& producer, subscribe_options options, event_selector<T> selector,
                                 std::chrono::milliseconds timeout = default_call_timeout) const {
    auto r = subscribe_op(producer, options, std::move(selector), timeout).get();
    if (!r) return r.error_value();
    return std::move(r.value());
  }
  /// The same, to co_await inside an actor.
  auto subscribe_op(const source_ref<T>& producer, subscribe_options options, event_selector<T> selector,
                    std::chrono::milliseconds timeout = default_call_timeout) const {
    return ref_.call(stage_subscribe_to<T>{producer, options, std::move(selector)}, timeout);
  }
  /// Cancels a subscription of this stage (the stage carries on). False when it had no such
  /// subscription (any more).
  bool cancel(const subscription& sub, std::chrono::milliseconds timeout = default_call_timeout) const {
    auto r = ref_.call(stage_unsubscribe{sub.tag, std::nullopt}, timeout).get();
    return r && r.value();
  }
  /// Cancels it with a reason, which the stage acts on by the subscription's cancel mode, as
  /// GenStage's cancel/3 does: `permanent` ends it with `reason`, `transient` only when
  /// `reason` is a failure, `temporary` never. False when it had no such subscription.
  bool cancel(const subscription& sub, exit_reason reason,
              std::chrono::milliseconds timeout = default_call_timeout) const {
    auto r = ref_.call(stage_unsubscribe{sub.tag, std::move(reason)}, timeout).get();
    return r && r.value();
  }
  /// The stage's live subscriptions, oldest first.
  result<std::vector<subscription>> subscriptions(std::chrono::milliseconds timeout = default_call_timeout) const {
    return ref_.call(stage_list_subscriptions{}, timeout).get();
  }
  /// Stops the stage and waits (within `timeout`) until it has ended; its producers see it go.
  bool stop(std::chrono::milliseconds timeout = default_call_timeout) const { return stop_and_wait(ref_, timeout); }

  [[nodiscard]] const Ref& ref() const noexcept { return ref_; }

 protected:
  explicit consuming_stage(Ref ref) : ref_(std::move(ref)) {}
  Ref ref_;
};

}  // namespace eam::otp::detail
