#pragma once
/// The broadcast dispatcher: every consumer gets every event, so events flow at the pace of
/// the slowest consumer. The producer is asked for the rise of the smallest pending demand
/// over what it was already asked for and has not delivered (`asked_`): a consumer that
/// joins with no demand yet and then asks (as every subscribe does) does not make the
/// producer produce its demand again. A consumer that subscribes late holds the others back
/// until it asks and sees only events dispatched after it joined. A consumer with a selector
/// (GenStage's `:selector`) is sent only the events it accepts; the others count as handled
/// for its demand (GenStage asks again for them on its behalf), so it keeps the others' pace.

#include <eam/otp/gen_stage/single_buffer_dispatcher.hpp>

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>

namespace eam::otp::detail {

template <class T>
class broadcast_dispatcher final : public single_buffer_dispatcher<T, demand_order::smallest_first> {
  using base = single_buffer_dispatcher<T, demand_order::smallest_first>;

 public:
  using base::base;

  /// One subscription per consumer, as GenStage's broadcast has it: a second would hand the
  /// consumer every event twice.
  std::optional<error> subscribe(sink_ref<T> consumer, const stage_subscribe<T>& request) override {
    bool already = false;
    this->consumers_.for_each([&](const auto& c) { already = already || c.ref.id() == consumer.id(); });
    if (already)
      return error(otp_errc::invalid_subscription,
                   "actor " + std::to_string(consumer.id()) + " is subscribed to this broadcast already");
    if (auto refused = base::subscribe(std::move(consumer), request)) return refused;
    if (request.selector) selectors_.insert_or_assign(request.tag, request.selector);
    return std::nullopt;
  }
  [[nodiscard]] bool takes_selector() const noexcept override { return true; }

  std::size_t ask(std::uint64_t tag, std::size_t count) override {
    auto* c = this->consumers_.find(tag);
    if (c == nullptr) return 0;
    this->consumers_.set_demand(*c, c->demand + count);
    return forward();
  }

  std::size_t cancel(std::uint64_t tag) override {
    auto* c = this->consumers_.find(tag);
    if (c == nullptr) return 0;
    this->consumers_.remove(*c);
    selectors_.erase(tag);
    return forward();
  }

  std::size_t dispatch(std::vector<T>&& events) override {
    asked_ -= std::min(asked_, events.size());
    base::dispatch(std::move(events));
    return forward();  // a consumer dropped for a full mailbox may have been the slowest
  }

 private:
  [[nodiscard]] std::size_t smallest_demand() noexcept {
    return this->consumers_.empty() ? 0 : this->consumers_.top().demand;
  }
  /// Serves the smallest demand from the buffer, then asks the producer for the rest of it
  /// beyond what it was asked for already. Only once the buffer is empty: serving a consumer
  /// with a selector leaves it demand for what it declined, and new events placed while older
  /// ones waited would overtake them. Each round takes at least one event out of the buffer, or
  /// removes a consumer whose mailbox refused.
  std::size_t forward() {
    std::size_t smallest = smallest_demand();
    while (smallest != 0 && !this->buffer_empty()) {
      (void)this->serve_from_buffer(smallest);
      smallest = smallest_demand();
    }
    if (smallest <= asked_) return 0;
    const std::size_t more = smallest - asked_;
    asked_ += more;
    return more;
  }
  /// Sends the first events (as many as every consumer can take) to each consumer, a copy to
  /// all but the last; leaves in `events` the rest. A consumer with a selector gets a copy of
  /// those it accepts (none when it accepts none), and its demand falls by those alone. A
  /// consumer whose mailbox refuses its copy is removed; the others keep theirs.
  void place(std::vector<T>& events) override {
    auto& consumers = this->consumers_;
    const std::size_t n = std::min(smallest_demand(), events.size());
    if (n == 0) return;
    std::vector<std::uint64_t> refused;  // allocates only when a mailbox refuses
    std::vector<std::pair<std::uint64_t, std::size_t>> passed_over;  // a selector's consumer, and events it declined
    std::size_t left = consumers.size();
    consumers.for_each([&](auto& c) {
      --left;
      if (!selectors_.empty()) [[unlikely]] {
        if (const auto it = selectors_.find(c.tag); it != selectors_.end()) {
          std::vector<T> chosen;
          for (std::size_t i = 0; i < n; ++i)
            if (it->second(events[i])) chosen.push_back(events[i]);
          passed_over.emplace_back(c.tag, n - chosen.size());
          if (!chosen.empty() && !this->send(c.ref, c.tag, chosen)) [[unlikely]]
            refused.push_back(c.tag);
          return;
        }
      }
      if (left > 0) {
        std::vector<T> copy(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(n));
        if (!this->send(c.ref, c.tag, copy)) [[unlikely]]
          refused.push_back(c.tag);
      } else if (!this->send(c.ref, c.tag, events, 0, n)) [[unlikely]] {
        refused.push_back(c.tag);
      }
    });
    consumers.take_from_all(n);
    for (const auto& [tag, declined] : passed_over)
      if (auto* c = consumers.find(tag); c != nullptr && declined != 0) consumers.set_demand(*c, c->demand + declined);
    this->drop_front(events, n);  // sent to every consumer still here
    for (const std::uint64_t tag : refused) {
      consumers.remove(*consumers.find(tag));
      selectors_.erase(tag);
    }
  }

  std::size_t asked_ = 0;  // asked of the producer and not yet dispatched
  // The selectors of the consumers that gave one, by subscription tag.
  std::unordered_map<std::uint64_t, event_selector<T>> selectors_;
};

}  // namespace eam::otp::detail
