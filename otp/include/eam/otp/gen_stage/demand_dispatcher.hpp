#pragma once
/// The demand dispatcher: each batch goes to the consumer with the highest pending demand, so
/// consumers share the events (work pools). New demand is forwarded as it comes, less what
/// the buffer already holds and less demand that cancelled consumers left unmet (the producer
/// was already asked for that).

#include <eam/otp/gen_stage/single_buffer_dispatcher.hpp>

#include <algorithm>

namespace eam::otp::detail {

template <class T>
class demand_dispatcher final : public single_buffer_dispatcher<T, demand_order::largest_first> {
  using base = single_buffer_dispatcher<T, demand_order::largest_first>;

 public:
  using base::base;

  std::size_t ask(std::uint64_t tag, std::size_t count) override {
    auto* c = this->consumers_.find(tag);
    if (c == nullptr) return 0;
    this->consumers_.set_demand(*c, c->demand + count);
    const std::size_t already_asked = std::min(unmet_by_cancelled_, count);
    unmet_by_cancelled_ -= already_asked;
    return this->serve_from_buffer(count - already_asked);
  }

  std::size_t cancel(std::uint64_t tag) override {
    auto* c = this->consumers_.find(tag);
    if (c == nullptr) return 0;
    unmet_by_cancelled_ += c->demand;
    this->consumers_.remove(*c);
    return 0;
  }

 private:
  void place(std::vector<T>& events) override {
    auto& consumers = this->consumers_;
    std::size_t sent = 0;
    while (sent < events.size() && !consumers.empty()) {
      auto& best = consumers.top();
      if (best.demand == 0) break;
      const std::size_t n = std::min(best.demand, events.size() - sent);
      if (!this->send(best.ref, best.tag, events, sent, n)) [[unlikely]] {
        // Its mailbox is full: it goes, and its events go to the next consumer. Its demand
        // left unmet was asked of the producer; the refused batch had met it, and stays here.
        unmet_by_cancelled_ += best.demand - n;
        consumers.remove(best);
        continue;
      }
      consumers.set_demand(best, best.demand - n);
      sent += n;
    }
    this->drop_front(events, sent);
  }

  std::size_t unmet_by_cancelled_ = 0;
};

}  // namespace eam::otp::detail
