#pragma once
/// GenStage's vocabulary: how a consumer subscribes, how a producer dispatches and buffers, and
/// the names of its telemetry events.

#include <eam/engine/actor_ref.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>

namespace eam::otp {

/// What a consumer does when its producer goes away (ends, crashes or cannot be reached):
///   permanent  the consumer ends too, with the producer's reason;
///   transient  the consumer ends only when that reason is a failure (neither normal nor shutdown);
///   temporary  the consumer carries on without that subscription (the default).
/// A subscription the consumer cancels itself never ends it.
enum class cancel_mode : std::uint8_t { permanent, transient, temporary };

struct subscribe_options {
  /// Events in flight for this subscription at most: asked for but not yet handled. No batch
  /// the consumer receives is larger.
  std::size_t max_demand = 1000;
  /// The consumer asks again once its pending demand falls to this (default: 75 % of
  /// max_demand). Must be below max_demand.
  std::optional<std::size_t> min_demand;
  cancel_mode cancel = cancel_mode::temporary;
  /// The partition to take, for a producer with the partition dispatcher (required there).
  std::optional<std::size_t> partition;
};

/// Names one subscription: the producer and a tag unique in the system.
struct subscription {
  actor_ref producer;
  std::uint64_t tag = 0;
  friend bool operator==(const subscription& a, const subscription& b) noexcept { return a.tag == b.tag; }
};

/// How a producer hands its events to its consumers:
///   demand     each batch to the consumer with the highest pending demand (work sharing);
///   broadcast  every consumer gets every event, at the pace of the slowest; a consumer sees
///              only events dispatched after it subscribed;
///   partition  `hash(event)` picks one of `partitions` (one consumer each); events of a
///              partition nobody is asking for wait in that partition's own buffer.
enum class dispatcher_kind : std::uint8_t { demand, broadcast, partition };

/// `forward`: demand reaches handle_demand as it comes. `accumulate`: it is held until the
/// producer is switched to forward, and so are the events pushed meanwhile (as in GenStage),
/// so several consumers can subscribe before events flow. A buffer filled before still serves
/// a consumer's ask.
enum class demand_mode : std::uint8_t { forward, accumulate };

/// Which events a full buffer keeps: the newest (dropping the oldest) or the oldest (dropping
/// new ones).
enum class keep : std::uint8_t { newest, oldest };

inline constexpr std::size_t unbounded_buffer = std::numeric_limits<std::size_t>::max();
inline constexpr std::size_t default_producer_buffer = 10000;

template <class T>
struct producer_options {
  dispatcher_kind dispatcher = dispatcher_kind::demand;
  /// For the partition dispatcher: how many partitions, and which one an event goes to
  /// (nullopt discards it, and the producer is asked for it again: a discard eats no
  /// consumer's demand; an index >= partitions is a bug and crashes the producer). The
  /// default hash: integers modulo partitions, strings by djb2, objects by their `key` member,
  /// anything else by std::hash.
  std::size_t partitions = 0;
  std::function<std::optional<std::size_t>(const T&)> hash;
  demand_mode demand = demand_mode::forward;
  /// Events kept while no consumer asks for them (per partition with the partition
  /// dispatcher). `unbounded_buffer` for no limit. Unset: `default_producer_buffer` for a
  /// producer, unbounded for a producer-consumer, as GenStage has them: a producer-consumer
  /// emits only against its consumers' demand, so what it buffers is an expansion's surplus,
  /// bounded by that demand times the expansion, and a bound there lost events silently.
  std::optional<std::size_t> buffer_size;
  keep buffer_keep = keep::newest;
};

/// What a producer reports about itself.
struct stage_stats {
  std::size_t consumers = 0;
  std::size_t buffered = 0;     ///< events waiting in its buffer(s), and held in accumulate mode
  std::size_t dropped = 0;      ///< events its buffers dropped since it started
  std::size_t held_demand = 0;  ///< demand held back in accumulate mode
};

/// GenStage's telemetry events (the seed's catalogue).
namespace stage_telemetry {
/// Metadata producer_id, consumer_tag.
inline constexpr std::string_view subscribe = "libeam.gen_stage.subscribe";
/// Metadata producer_id, consumer_tag, reason ("cancel", "mailbox_full" when the consumer's
/// full mailbox turned a batch away, or the consumer's exit reason).
inline constexpr std::string_view cancel = "libeam.gen_stage.cancel";
/// Measurement event_count (one batch to one consumer); metadata producer_id.
inline constexpr std::string_view dispatch = "libeam.gen_stage.dispatch";
/// Measurements dropped_count, buffer_size; metadata producer_id.
inline constexpr std::string_view buffer_overflow = "libeam.gen_stage.buffer_overflow";
}  // namespace stage_telemetry

}  // namespace eam::otp
