#pragma once
/// The interface of a producer's dispatcher: it knows the consumers and their pending demand,
/// sends batches, and buffers what nobody asks for yet. The producer turns what the dispatcher
/// says is new demand into handle_demand calls.

#include <eam/otp/gen_stage/options.hpp>
#include <eam/otp/gen_stage/protocol.hpp>
#include <eam/otp/otp_errc.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace eam::otp::detail {

template <class T>
class dispatcher {
 public:
  explicit dispatcher(std::uint64_t producer_id) : producer_id_(producer_id) {}
  virtual ~dispatcher() = default;
  dispatcher(const dispatcher&) = delete;
  dispatcher& operator=(const dispatcher&) = delete;

  /// Adds `consumer` under `request.tag`, with no demand yet (its initial demand comes as an
  /// ask), or says why not.
  virtual std::optional<error> subscribe(sink_ref<T> consumer, const stage_subscribe<T>& request) = 0;
  /// Whether this dispatcher applies a subscription's `selector` (the broadcast one alone).
  [[nodiscard]] virtual bool takes_selector() const noexcept { return false; }
  /// Adds `count` to the demand of subscription `tag`, serves it from the buffer first, and
  /// returns the demand for the producer to meet: what the buffer did not serve (to which the
  /// partition dispatcher may add demand its buffers served before: partition_dispatcher.hpp).
  virtual std::size_t ask(std::uint64_t tag, std::size_t count) = 0;
  /// Removes a consumer; returns demand that its going frees for the others (broadcast).
  virtual std::size_t cancel(std::uint64_t tag) = 0;
  /// Sends what the consumers' demand allows and buffers the rest. Returns demand the
  /// producer must meet again: events the partition hash discarded (they met no consumer's
  /// demand), or demand freed by a consumer dropped for a full mailbox (broadcast).
  virtual std::size_t dispatch(std::vector<T>&& events) = 0;

  [[nodiscard]] virtual std::size_t consumers() const noexcept = 0;
  [[nodiscard]] virtual std::size_t buffered() const noexcept = 0;
  [[nodiscard]] virtual std::size_t dropped() const noexcept = 0;

  /// The consumers whose full mailbox turned a batch away since the last call: the
  /// dispatcher has already removed them (their batch went to others or to the buffer); the
  /// producer cancels their subscriptions.
  [[nodiscard]] bool has_refused() const noexcept { return !refused_.empty(); }
  std::vector<std::uint64_t> take_refused() noexcept { return std::exchange(refused_, {}); }

 protected:
  /// The refusal of a subscription under a tag this dispatcher already serves (tags come from
  /// the consumers' processes, which may be other nodes).
  static error tag_in_use(std::uint64_t tag) {
    return error(otp_errc::invalid_subscription, "subscription tag " + std::to_string(tag) + " is in use");
  }
  /// Sends events[from, from + n) to one consumer: the whole vector when that is all of it,
  /// which is the common case of a batch made for one consumer. On success the sent events
  /// are moved-from (the whole vector: left empty); false when the consumer's mailbox refused
  /// them, with `events` as it was.
  bool send(const sink_ref<T>& consumer, std::uint64_t tag, std::vector<T>& events, std::size_t from, std::size_t n) {
    if (from == 0 && n == events.size()) return send(consumer, tag, events);
    std::vector<T> batch;
    batch.reserve(n);
    for (std::size_t i = from; i < from + n; ++i) batch.push_back(std::move(events[i]));
    if (send(consumer, tag, batch)) return true;
    for (std::size_t i = 0; i < n; ++i) events[from + i] = std::move(batch[i]);
    return false;
  }
  /// Erases the first `n` events (already sent), keeping the rest; `events` may be empty.
  static void drop_front(std::vector<T>& events, std::size_t n) {
    if (n >= events.size())
      events.clear();
    else
      events.erase(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(n));
  }
  /// Sends `batch` (left empty) to one consumer. False when the consumer's full mailbox turned
  /// it away (the `error` strategy refuses, `drop_newest` drops): then `batch` holds the events
  /// again and the tag is recorded for take_refused(). Nothing a consumer does makes this
  /// throw inside the producer. A batch to a consumer that has ended is dropped, as before:
  /// its down cancels the subscription.
  bool send(const sink_ref<T>& consumer, std::uint64_t tag, std::vector<T>& batch) {
    const std::size_t n = batch.size();
    stage_events<T> msg{tag, std::move(batch)};
    if (consumer.try_cast(msg) == cast_result::full) [[unlikely]] {
      batch = std::move(msg.events);
      refused_.push_back(tag);
      return false;
    }
    batch.clear();
    emit_dispatch(producer_id_, n);
    return true;
  }

  std::uint64_t producer_id_;

 private:
  std::vector<std::uint64_t> refused_;
};

}  // namespace eam::otp::detail
