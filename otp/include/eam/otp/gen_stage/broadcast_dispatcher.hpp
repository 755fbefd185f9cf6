#pragma once
/// The broadcast dispatcher: every consumer gets every event, so events flow at the pace of
/// the slowest consumer: the demand forwarded is the rise of the smallest pending demand. A
/// consumer that subscribes late starts with no demand (holding the others back until it
/// asks) and sees only events dispatched after it joined.

#include <eam/otp/gen_stage/dispatcher.hpp>
#include <eam/otp/gen_stage/event_buffer.hpp>

#include <algorithm>

namespace eam::otp::detail {

template <class T>
class broadcast_dispatcher final : public dispatcher<T> {
 public:
  broadcast_dispatcher(std::uint64_t producer_id, const producer_options<T>& opts)
      : dispatcher<T>(producer_id), buffer_(producer_id, opts.buffer_size, opts.buffer_keep) {}

  std::optional<error> subscribe(std::uint64_t tag, sink_ref<T> consumer, std::optional<std::size_t>) override {
    consumers_.push_back({tag, std::move(consumer), 0});
    return std::nullopt;
  }

  std::size_t ask(std::uint64_t tag, std::size_t count) override {
    auto it = find(tag);
    if (it == consumers_.end()) return 0;
    const std::size_t before = smallest_demand();
    it->demand += count;
    std::size_t forward = smallest_demand() - before;
    if (!buffer_.empty() && forward != 0) {
      std::vector<T> events = buffer_.take(std::min(forward, buffer_.size()));
      forward -= events.size();
      place(events);
    }
    return forward;
  }

  std::size_t cancel(std::uint64_t tag) override {
    auto it = find(tag);
    if (it == consumers_.end()) return 0;
    const std::size_t before = smallest_demand();
    consumers_.erase(it);
    const std::size_t after = smallest_demand();
    std::size_t forward = after > before ? after - before : 0;
    if (!buffer_.empty() && forward != 0) {
      std::vector<T> events = buffer_.take(std::min(forward, buffer_.size()));
      forward -= events.size();
      place(events);
    }
    return forward;
  }

  void dispatch(std::vector<T>&& events) override {
    place(events);
    if (!events.empty()) buffer_.append(events, 0);
  }

  [[nodiscard]] std::size_t consumers() const noexcept override { return consumers_.size(); }
  [[nodiscard]] std::size_t buffered() const noexcept override { return buffer_.size(); }
  [[nodiscard]] std::size_t dropped() const noexcept override { return buffer_.dropped(); }

 private:
  struct consumer_entry {
    std::uint64_t tag;
    sink_ref<T> ref;
    std::size_t demand;
  };

  typename std::vector<consumer_entry>::iterator find(std::uint64_t tag) {
    return std::find_if(consumers_.begin(), consumers_.end(), [tag](const consumer_entry& c) { return c.tag == tag; });
  }
  [[nodiscard]] std::size_t smallest_demand() const noexcept {
    if (consumers_.empty()) return 0;
    std::size_t m = consumers_.front().demand;
    for (const auto& c : consumers_) m = std::min(m, c.demand);
    return m;
  }
  /// Sends the first events (as many as every consumer can take) to each consumer, a copy to
  /// all but the last; leaves in `events` the rest.
  void place(std::vector<T>& events) {
    const std::size_t n = std::min(smallest_demand(), events.size());
    if (n == 0) return;
    for (std::size_t i = 0; i + 1 < consumers_.size(); ++i) {
      consumers_[i].demand -= n;
      this->send(consumers_[i].ref, consumers_[i].tag,
                 std::vector<T>(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(n)));
    }
    auto& last = consumers_.back();
    last.demand -= n;
    this->send(last.ref, last.tag, events, 0, n);
    this->drop_front(events, n);
  }

  std::vector<consumer_entry> consumers_;
  event_buffer<T> buffer_;
};

}  // namespace eam::otp::detail
