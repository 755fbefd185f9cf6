#pragma once
/// The interface of a producer's dispatcher: it knows the consumers and their pending demand,
/// sends batches, and buffers what nobody asks for yet. The producer turns what the dispatcher
/// says is new demand into handle_demand calls.

#include <eam/otp/gen_stage/options.hpp>
#include <eam/otp/gen_stage/protocol.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace eam::otp::detail {

template <class T>
class dispatcher {
 public:
  explicit dispatcher(std::uint64_t producer_id) : producer_id_(producer_id) {}
  virtual ~dispatcher() = default;
  dispatcher(const dispatcher&) = delete;
  dispatcher& operator=(const dispatcher&) = delete;

  /// Adds a consumer with no demand yet, or says why not.
  virtual std::optional<error> subscribe(std::uint64_t tag, sink_ref<T> consumer,
                                         std::optional<std::size_t> partition) = 0;
  /// Adds `count` to the demand of subscription `tag`, serves it from the buffer first, and
  /// returns the demand left for the producer to meet.
  virtual std::size_t ask(std::uint64_t tag, std::size_t count) = 0;
  /// Removes a consumer; returns demand that its going frees for the others (broadcast).
  virtual std::size_t cancel(std::uint64_t tag) = 0;
  /// Sends what the consumers' demand allows and buffers the rest.
  virtual void dispatch(std::vector<T>&& events) = 0;

  [[nodiscard]] virtual std::size_t consumers() const noexcept = 0;
  [[nodiscard]] virtual std::size_t buffered() const noexcept = 0;
  [[nodiscard]] virtual std::size_t dropped() const noexcept = 0;

 protected:
  /// Moves events[from, from + n) to one consumer: the whole vector (leaving it empty) when
  /// that is all of it, which is the common case of a batch made for one consumer.
  void send(const sink_ref<T>& consumer, std::uint64_t tag, std::vector<T>& events, std::size_t from, std::size_t n) {
    if (from == 0 && n == events.size()) {
      std::vector<T> batch = std::move(events);
      events.clear();
      send(consumer, tag, std::move(batch));
      return;
    }
    std::vector<T> batch;
    batch.reserve(n);
    for (std::size_t i = from; i < from + n; ++i) batch.push_back(std::move(events[i]));
    send(consumer, tag, std::move(batch));
  }
  /// Erases the first `n` events (already sent), keeping the rest; `events` may be empty.
  static void drop_front(std::vector<T>& events, std::size_t n) {
    if (n >= events.size())
      events.clear();
    else
      events.erase(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(n));
  }
  void send(const sink_ref<T>& consumer, std::uint64_t tag, std::vector<T>&& batch) {
    const std::size_t n = batch.size();
    consumer.cast(stage_events<T>{tag, std::move(batch)});
    emit_dispatch(producer_id_, n);
  }

  std::uint64_t producer_id_;
};

}  // namespace eam::otp::detail
