#pragma once
/// The demand dispatcher: each batch goes to the consumer with the highest pending demand, so
/// consumers share the events (work pools). New demand is forwarded as it comes, less what
/// the buffer already holds and less demand that cancelled consumers left unmet (the producer
/// was already asked for that).

#include <eam/otp/gen_stage/dispatcher.hpp>
#include <eam/otp/gen_stage/event_buffer.hpp>

#include <algorithm>

namespace eam::otp::detail {

template <class T>
class demand_dispatcher final : public dispatcher<T> {
 public:
  demand_dispatcher(std::uint64_t producer_id, const producer_options<T>& opts)
      : dispatcher<T>(producer_id), buffer_(producer_id, opts.buffer_size, opts.buffer_keep) {}

  std::optional<error> subscribe(std::uint64_t tag, sink_ref<T> consumer, std::optional<std::size_t>) override {
    consumers_.push_back({tag, std::move(consumer), 0});
    return std::nullopt;
  }

  std::size_t ask(std::uint64_t tag, std::size_t count) override {
    auto it = find(tag);
    if (it == consumers_.end()) return 0;
    it->demand += count;
    const std::size_t already_asked = std::min(unmet_by_cancelled_, count);
    unmet_by_cancelled_ -= already_asked;
    std::size_t forward = count - already_asked;
    if (!buffer_.empty() && forward != 0) {
      std::vector<T> events = buffer_.take(std::min(forward, buffer_.size()));
      forward -= events.size();
      place(events);  // the demand covers them all
    }
    return forward;
  }

  std::size_t cancel(std::uint64_t tag) override {
    auto it = find(tag);
    if (it == consumers_.end()) return 0;
    unmet_by_cancelled_ += it->demand;
    consumers_.erase(it);
    return 0;
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
  /// Sends from the front of `events` to the consumers with the most demand first; leaves in
  /// `events` what none of them asked for.
  void place(std::vector<T>& events) {
    std::size_t sent = 0;
    while (sent < events.size()) {
      auto best =
          std::max_element(consumers_.begin(), consumers_.end(),
                           [](const consumer_entry& a, const consumer_entry& b) { return a.demand < b.demand; });
      if (best == consumers_.end() || best->demand == 0) break;
      const std::size_t n = std::min(best->demand, events.size() - sent);
      best->demand -= n;
      this->send(best->ref, best->tag, events, sent, n);
      sent += n;
    }
    this->drop_front(events, sent);
  }

  std::vector<consumer_entry> consumers_;
  event_buffer<T> buffer_;
  std::size_t unmet_by_cancelled_ = 0;
};

}  // namespace eam::otp::detail
