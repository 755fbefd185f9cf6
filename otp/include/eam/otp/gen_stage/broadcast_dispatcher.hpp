#pragma once
/// The broadcast dispatcher: every consumer gets every event, so events flow at the pace of
/// the slowest consumer: the demand forwarded is the rise of the smallest pending demand. A
/// consumer that subscribes late starts with no demand (holding the others back until it
/// asks) and sees only events dispatched after it joined.

#include <eam/otp/gen_stage/single_buffer_dispatcher.hpp>

#include <algorithm>

namespace eam::otp::detail {

template <class T>
class broadcast_dispatcher final : public single_buffer_dispatcher<T> {
 public:
  using single_buffer_dispatcher<T>::single_buffer_dispatcher;

  std::size_t ask(std::uint64_t tag, std::size_t count) override {
    auto it = this->find(tag);
    if (it == this->consumers_.end()) return 0;
    const std::size_t before = smallest_demand();
    it->demand += count;
    return this->serve_from_buffer(smallest_demand() - before);
  }

  std::size_t cancel(std::uint64_t tag) override {
    auto it = this->find(tag);
    if (it == this->consumers_.end()) return 0;
    const std::size_t before = smallest_demand();
    this->consumers_.erase(it);
    const std::size_t after = smallest_demand();
    return this->serve_from_buffer(after > before ? after - before : 0);
  }

 private:
  [[nodiscard]] std::size_t smallest_demand() const noexcept {
    const auto& consumers = this->consumers_;
    if (consumers.empty()) return 0;
    std::size_t m = consumers.front().demand;
    for (const auto& c : consumers) m = std::min(m, c.demand);
    return m;
  }
  /// Sends the first events (as many as every consumer can take) to each consumer, a copy to
  /// all but the last; leaves in `events` the rest.
  void place(std::vector<T>& events) override {
    auto& consumers = this->consumers_;
    const std::size_t n = std::min(smallest_demand(), events.size());
    if (n == 0) return;
    for (std::size_t i = 0; i + 1 < consumers.size(); ++i) {
      consumers[i].demand -= n;
      this->send(consumers[i].ref, consumers[i].tag,
                 std::vector<T>(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(n)));
    }
    auto& last = consumers.back();
    last.demand -= n;
    this->send(last.ref, last.tag, events, 0, n);
    this->drop_front(events, n);
  }
};

}  // namespace eam::otp::detail
