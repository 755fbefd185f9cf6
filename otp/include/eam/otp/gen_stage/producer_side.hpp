#pragma once
/// The producing half of a stage (a producer or a producer-consumer): its consumers'
/// subscriptions, the watches on them, its dispatcher, and what accumulate mode holds back:
/// demand, and the events the stage emits meanwhile (GenStage holds both until forward, so
/// consumers subscribing in that time all see the first events). Each method returns the
/// demand that is now the stage's to meet.
///
/// Nothing a consumer does can throw inside the stage: a consumer whose full mailbox turns a
/// batch away (bounded, with the `error` or `drop_newest` strategy) loses its subscription
/// (telemetry cancel, reason "mailbox_full"; the stage stops watching it) and the batch goes
/// to the other consumers or the buffer. The consumer is not told (its mailbox is full); its
/// subscription just stays silent.

#include <eam/otp/otp_errc.hpp>
#include <eam/engine/context.hpp>
#include <eam/otp/gen_stage/broadcast_dispatcher.hpp>
#include <eam/otp/gen_stage/demand_dispatcher.hpp>
#include <eam/otp/gen_stage/partition_dispatcher.hpp>

#include <memory>
#include <unordered_map>

namespace eam::otp::detail {

/// Throws `invalid_subscription` for options no dispatcher can work with, so that starting a
/// stage fails in the caller rather than in the new actor.
template <class T>
void check_options(const producer_options<T>& opts) {
  if (opts.dispatcher != dispatcher_kind::partition) return;
  if (opts.partitions == 0) throw error(otp_errc::invalid_subscription, "the partition dispatcher needs partitions > 0");
  if constexpr (!default_hashable<T>)
    if (!opts.hash)
      throw error(otp_errc::invalid_subscription, "the partition dispatcher needs a hash for this event type");
}

template <class T>
std::unique_ptr<dispatcher<T>> make_dispatcher(std::uint64_t producer_id, const producer_options<T>& opts) {
  switch (opts.dispatcher) {
    case dispatcher_kind::broadcast:
      return std::make_unique<broadcast_dispatcher<T>>(producer_id, opts);
    case dispatcher_kind::partition:
      return std::make_unique<partition_dispatcher<T>>(producer_id, opts);
    case dispatcher_kind::demand:
      break;
  }
  return std::make_unique<demand_dispatcher<T>>(producer_id, opts);
}

template <class T>
class producer_side {
 public:
  producer_side(actor_context& ctx, const producer_options<T>& opts)
      : ctx_(ctx), dispatcher_(make_dispatcher<T>(ctx.id(), opts)), mode_(opts.demand) {}

  /// A consumer subscribes: refused with the reason, or accepted with its initial demand.
  std::optional<error> subscribe(stage_subscribe<T>& m, std::size_t& demand) {
    if (!m.consumer) return error(otp_errc::invalid_subscription, "no consumer");
    if (m.tag == 0) return error(otp_errc::invalid_subscription, "no subscription tag");  // 0 names none
    if (m.selector && !dispatcher_->takes_selector())
      return error(otp_errc::invalid_subscription, "a selector needs a producer with the broadcast dispatcher");
    if (auto refused = dispatcher_->subscribe(eam::unchecked_typed_ref_cast<sink_ref<T>>(m.consumer), m))
      return refused;
    const watch_ref watch = ctx_.watch(m.consumer);
    watch_by_tag_.emplace(m.tag, watch);
    tag_by_watch_.emplace(watch.id, m.tag);
    emit_subscribe(ctx_.id(), m.tag);
    demand = pass(settle(dispatcher_->ask(m.tag, m.initial_demand)));
    return std::nullopt;
  }
  std::size_t ask(const stage_ask& a) { return pass(settle(dispatcher_->ask(a.tag, a.count))); }
  /// The consumer cancelled.
  std::size_t cancel(const stage_cancel& c) {
    if (!forget(c.tag)) return 0;
    emit_cancel(ctx_.id(), c.tag, "cancel");
    return pass(settle(dispatcher_->cancel(c.tag)));
  }
  /// A watched actor ended: true (and the demand its going frees) when it was a consumer.
  bool on_down(const down& d, std::size_t& demand) {
    // Every watch here is this stage's own, so its id names it (the engine counts them per
    // watcher); a consuming stage's watches on its producers are not in the index.
    auto it = tag_by_watch_.find(d.ref.id);
    if (it == tag_by_watch_.end()) return false;
    const std::uint64_t tag = it->second;
    tag_by_watch_.erase(it);
    watch_by_tag_.erase(tag);
    emit_cancel(ctx_.id(), tag, d.reason.to_string());
    demand = pass(settle(dispatcher_->cancel(tag)));
    return true;
  }
  /// What accumulate mode held, in the order it came: demand to meet, or events to dispatch.
  struct held {
    std::size_t demand = 0;
    std::vector<T> events;
  };
  /// Switches the demand mode; when it becomes forward, returns what was held until now, for
  /// the stage to release in that order.
  std::vector<held> set_mode(demand_mode mode) {
    mode_ = mode;
    if (mode == demand_mode::accumulate) return {};
    held_demand_ = 0;
    held_events_ = 0;
    return std::exchange(held_, {});
  }
  /// One thing accumulate mode held, now in forward mode: its events dispatched, or its demand;
  /// returns the demand for the stage to meet.
  std::size_t release(held&& h) { return h.events.empty() ? h.demand : dispatch(std::move(h.events)); }
  /// Dispatches events (holds them in accumulate mode); returns demand to meet again
  /// (dispatcher::dispatch).
  [[nodiscard]] std::size_t dispatch(std::vector<T>&& events) {
    if (events.empty()) return 0;
    if (mode_ == demand_mode::accumulate) [[unlikely]] {
      held_events_ += events.size();
      held_.push_back({0, std::move(events)});
      return 0;
    }
    return pass(settle(dispatcher_->dispatch(std::move(events))));
  }
  [[nodiscard]] stage_stats stats() const {
    return {dispatcher_->consumers(), dispatcher_->buffered() + held_events_, dispatcher_->dropped(), held_demand_};
  }

 private:
  /// Stops watching the consumer of subscription `tag`; false when there is none (any more).
  bool forget(std::uint64_t tag) {
    auto it = watch_by_tag_.find(tag);
    if (it == watch_by_tag_.end()) return false;
    ctx_.unwatch(it->second);
    tag_by_watch_.erase(it->second.id);
    watch_by_tag_.erase(it);
    return true;
  }
  /// Cancels the subscriptions of the consumers the dispatcher dropped for a full mailbox.
  [[gnu::always_inline]] std::size_t settle(std::size_t demand) {
    if (!dispatcher_->has_refused()) [[likely]]
      return demand;
    cancel_refused();
    return demand;
  }
  [[gnu::noinline]] void cancel_refused() {
    for (const std::uint64_t tag : dispatcher_->take_refused())
      if (forget(tag)) emit_cancel(ctx_.id(), tag, "mailbox_full");
  }
  /// In accumulate mode demand is held, not passed on.
  std::size_t pass(std::size_t demand) {
    if (mode_ == demand_mode::forward) return demand;
    if (demand == 0) return 0;
    held_demand_ += demand;
    if (!held_.empty() && held_.back().events.empty())
      held_.back().demand += demand;
    else
      held_.push_back({demand, {}});
    return 0;
  }

  actor_context& ctx_;
  std::unique_ptr<dispatcher<T>> dispatcher_;
  // The consumers' watches, both ways, so that a cancel or a down costs the same whatever
  // the number of consumers.
  std::unordered_map<std::uint64_t, watch_ref> watch_by_tag_;
  std::unordered_map<std::uint64_t, std::uint64_t> tag_by_watch_;  // watch id -> tag
  demand_mode mode_;
  std::vector<held> held_;
  std::size_t held_demand_ = 0, held_events_ = 0;
};

}  // namespace eam::otp::detail
