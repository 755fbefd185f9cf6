#pragma once
/// What the demand and broadcast dispatchers share: their consumers with their pending demand
/// (a consumer_set, ordered as each serves them) and one buffer for events none of them can
/// take yet. Each says how events are placed on its consumers (`place`) and how demand is
/// forwarded.

#include <eam/otp/gen_stage/consumer_set.hpp>
#include <eam/otp/gen_stage/dispatcher.hpp>
#include <eam/otp/gen_stage/event_buffer.hpp>

#include <algorithm>

namespace eam::otp::detail {

template <class T, demand_order Order>
class single_buffer_dispatcher : public dispatcher<T> {
 public:
  single_buffer_dispatcher(std::uint64_t producer_id, const producer_options<T>& opts)
      : dispatcher<T>(producer_id), buffer_(producer_id, opts.buffer_size.value_or(default_producer_buffer), opts.buffer_keep) {}

  std::optional<error> subscribe(sink_ref<T> consumer, const stage_subscribe<T>& request) override {
    if (!consumers_.add(request.tag, std::move(consumer))) return this->tag_in_use(request.tag);
    return std::nullopt;
  }
  std::size_t dispatch(std::vector<T>&& events) override {
    place(events);
    if (!events.empty()) buffer_.append(events, 0);
    return 0;
  }
  [[nodiscard]] std::size_t consumers() const noexcept override { return consumers_.size(); }
  [[nodiscard]] std::size_t buffered() const noexcept override { return buffer_.size(); }
  [[nodiscard]] std::size_t dropped() const noexcept override { return buffer_.dropped(); }

 protected:
  /// Sends from the front of `events` what the consumers' demand allows; leaves the rest. A
  /// consumer whose mailbox refuses its batch is removed (dispatcher::send records it) and
  /// its events stay in `events` for the others.
  virtual void place(std::vector<T>& events) = 0;

  /// Meets up to `forward` new demand from the buffer first; returns the demand left over.
  std::size_t serve_from_buffer(std::size_t forward) {
    if (buffer_.empty() || forward == 0) return forward;
    std::vector<T> events = buffer_.take(std::min(forward, buffer_.size()));
    forward -= events.size();
    place(events);  // the new demand covers them all, unless a consumer's mailbox refused
    if (!events.empty()) [[unlikely]]
      buffer_.put_back(events);
    return forward;
  }
  [[nodiscard]] bool buffer_empty() const noexcept { return buffer_.empty(); }

  consumer_set<T, Order> consumers_;

 private:
  event_buffer<T> buffer_;
};

}  // namespace eam::otp::detail
