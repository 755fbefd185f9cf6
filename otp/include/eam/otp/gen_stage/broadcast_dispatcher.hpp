#pragma once
/// The broadcast dispatcher: every consumer gets every event, so events flow at the pace of
/// the slowest consumer. The producer is asked for the rise of the smallest pending demand
/// over what it was already asked for and has not delivered (`asked_`): a consumer that
/// joins with no demand yet and then asks (as every subscribe does) does not make the
/// producer produce its demand again. A consumer that subscribes late holds the others back
/// until it asks and sees only events dispatched after it joined.

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
    it->demand += count;
    return forward();
  }

  std::size_t cancel(std::uint64_t tag) override {
    auto it = this->find(tag);
    if (it == this->consumers_.end()) return 0;
    this->consumers_.erase(it);
    return forward();
  }

  std::size_t dispatch(std::vector<T>&& events) override {
    asked_ -= std::min(asked_, events.size());
    single_buffer_dispatcher<T>::dispatch(std::move(events));
    return forward();  // a consumer dropped for a full mailbox may have been the slowest
  }

 private:
  [[nodiscard]] std::size_t smallest_demand() const noexcept {
    const auto& consumers = this->consumers_;
    if (consumers.empty()) return 0;
    std::size_t m = consumers.front().demand;
    for (const auto& c : consumers) m = std::min(m, c.demand);
    return m;
  }
  /// Serves the smallest demand from the buffer, then asks the producer for the rest of it
  /// beyond what it was asked for already.
  std::size_t forward() {
    std::size_t smallest = smallest_demand();
    if (smallest != 0 && !this->buffer_empty()) {
      (void)this->serve_from_buffer(smallest);
      smallest = smallest_demand();
    }
    if (smallest <= asked_) return 0;
    const std::size_t more = smallest - asked_;
    asked_ += more;
    return more;
  }
  /// Sends the first events (as many as every consumer can take) to each consumer, a copy to
  /// all but the last; leaves in `events` the rest. A consumer whose mailbox refuses its copy
  /// is removed; the others keep theirs.
  void place(std::vector<T>& events) override {
    auto& consumers = this->consumers_;
    const std::size_t n = std::min(smallest_demand(), events.size());
    if (n == 0) return;
    std::vector<std::uint64_t> refused;  // allocates only when a mailbox refuses
    for (std::size_t i = 0; i + 1 < consumers.size(); ++i) {
      std::vector<T> copy(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(n));
      if (!this->send(consumers[i].ref, consumers[i].tag, copy)) [[unlikely]]
        refused.push_back(consumers[i].tag);
      consumers[i].demand -= n;
    }
    auto& last = consumers.back();
    if (!this->send(last.ref, last.tag, events, 0, n)) [[unlikely]]
      refused.push_back(last.tag);
    last.demand -= n;
    this->drop_front(events, n);  // sent to every consumer still here
    if (!refused.empty()) [[unlikely]]
      std::erase_if(consumers, [&](const auto& c) { return std::find(refused.begin(), refused.end(), c.tag) != refused.end(); });
  }

  std::size_t asked_ = 0;  // asked of the producer and not yet dispatched
};

}  // namespace eam::otp::detail
