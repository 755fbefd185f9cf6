#pragma once
/// Plumbing of actor timers: a timer keeps a copy of its message and makes a fresh envelope
/// each time it fires (once for send_after, every period for send_interval).

#include <eam/engine/detail/envelope.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace eam::detail {

class message_factory {
 public:
  virtual ~message_factory() = default;
  /// A timer envelope holding a copy of the message and the timer's id.
  [[nodiscard]] virtual envelope* make(std::uint64_t timer_id) const = 0;
};

template <class M>
class message_copy final : public message_factory {
 public:
  explicit message_copy(M msg) : msg_(std::move(msg)) {}
  envelope* make(std::uint64_t timer_id) const override {
    envelope* e = make_envelope<M>(envelope_kind::timer, msg_);
    e->reply.request_id = timer_id;
    return e;
  }

 private:
  M msg_;
};

/// Arms a timer for the running actor `self` (engine/src); returns its id.
std::uint64_t arm_timer(actor_cell* self, std::unique_ptr<message_factory> message, std::chrono::milliseconds delay,
                        bool periodic);

}  // namespace eam::detail
