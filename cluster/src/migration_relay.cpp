#include "migration_relay.hpp"

namespace eam::cluster::internal {

namespace {
// Answers a relayed call with its successor's answer (or error); frees itself then.
class relayed_answer final : public reply_receiver {
 public:
  explicit relayed_answer(reply_handle to) : to_(std::move(to)) {}
  void on_reply(message&& reply) noexcept override {
    to_.reply(std::move(reply));
    delete this;
  }

 private:
  reply_handle to_;
};
}  // namespace

void migration_relay::relay(message&& m) {
  std::lock_guard guard(lock_);
  if (!started_) {
    held_.push_back(std::move(m));
    return;
  }
  pass(std::move(m));
}

void migration_relay::start(actor_ref successor) {
  std::lock_guard guard(lock_);
  started_ = true;
  successor_ = std::move(successor);
  for (message& m : held_) pass(std::move(m));
  held_.clear();
}

void migration_relay::pass(message&& m) {
  if (!successor_) return;  // dropped: a call fails with actor_not_found
  counted_->fetch_add(1, std::memory_order_relaxed);
  if (m.is_call()) {
    auto* answer = new relayed_answer(m.take_reply());
    send_call(successor_, std::move(m), *answer);
  } else {
    (void)send(successor_, m);  // a full bounded mailbox drops it, as a send to it would
  }
}

}  // namespace eam::cluster::internal
