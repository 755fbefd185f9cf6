#pragma once
/// The messages stages exchange. A consumer subscribes with a call (the producer may refuse),
/// then asks for events; the producer answers asks with batches of at most what was asked.
/// Both sides watch each other, so a stage that ends cancels its subscriptions.

#include <eam/engine/actor_ref.hpp>
#include <eam/engine/error.hpp>
#include <eam/otp/gen_stage/options.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace eam::otp {
/// Which events a consumer of a broadcast producer takes (GenStage's `:selector`); empty takes
/// every event. It runs in the producer, on the producer's thread, once per event and consumer.
template <class T>
using event_selector = std::function<bool(const T&)>;
}  // namespace eam::otp

namespace eam::otp::detail {

/// Consumer -> producer: subscribe `consumer` under `tag`, with `initial_demand` already asked.
/// `min_demand`: the consumer asks again only once what it waits for falls to it (the
/// partition dispatcher reads it to tell a stage that can go on from one that cannot).
/// `selector`: the events a broadcast producer sends this consumer (local producers only).
template <class T>
struct stage_subscribe {
  actor_ref consumer;
  std::uint64_t tag = 0;
  std::size_t initial_demand = 0;
  std::optional<std::size_t> partition;
  std::size_t min_demand = 0;
  event_selector<T> selector;
};
/// Consumer -> producer: `count` more events for subscription `tag`.
struct stage_ask {
  std::uint64_t tag = 0;
  std::size_t count = 0;
};
/// Consumer -> producer: the consumer cancelled subscription `tag`.
struct stage_cancel {
  std::uint64_t tag = 0;
};
/// Producer -> consumer: a batch for subscription `tag`, never more than it asked for.
template <class T>
struct stage_events {
  std::uint64_t tag = 0;
  std::vector<T> events;
};

/// User -> producer.
struct stage_set_demand_mode {
  demand_mode mode;
};
template <class T>
struct stage_push {
  std::vector<T> events;
};
struct stage_stats_request {};
/// A producer -> itself (a timer message, outside any mailbox bound): demand still to meet
/// after a turn's rounds of handle_demand (the partition hash kept discarding).
struct stage_meet_demand {
  std::size_t demand = 0;
};
/// A consuming stage -> itself (a timer message): retry the asks and cancels that a
/// producer's full mailbox turned away (upstream::retry).
struct stage_retry_sends {};

/// User -> consumer stage.
template <class T>
struct stage_subscribe_to;  // defined with source_ref below
struct stage_unsubscribe {
  std::uint64_t tag = 0;
  /// Given: the stage acts on it by the subscription's cancel mode, as on its producer's end.
  std::optional<exit_reason> reason;
};
struct stage_list_subscriptions {};

/// What a consumer needs of a producer, whatever else the producer handles.
template <class T>
using source_ref = typed_ref<std::optional<error>(stage_subscribe<T>), void(stage_ask), void(stage_cancel)>;
/// What a producer needs of a consumer.
template <class T>
using sink_ref = typed_ref<void(stage_events<T>)>;

template <class T>
struct stage_subscribe_to {
  source_ref<T> producer;
  subscribe_options options;
  event_selector<T> selector;
};

/// The state of a stage started without an init.
struct no_state {};
inline no_state make_no_state() { return {}; }

/// A fresh subscription tag (never 0): unique in the process, and apart from other processes'
/// tags but for negligible odds (gen_stage.cpp), since a producer may serve several nodes.
std::uint64_t next_subscription_tag() noexcept;
/// Fills in the default min_demand; an `invalid_subscription` error when the bounds are wrong.
std::optional<error> normalize(subscribe_options& options);

/// Telemetry, each a no-op unless a handler is attached.
void emit_subscribe(std::uint64_t producer_id, std::uint64_t tag);
void emit_cancel(std::uint64_t producer_id, std::uint64_t tag, std::string_view reason);
void emit_dispatch(std::uint64_t producer_id, std::size_t count);
/// Also logs a warning, unless `logged_at_s` (the buffer's own, in steady-clock seconds) says
/// this second's is written already.
void emit_buffer_overflow(std::uint64_t producer_id, std::size_t dropped, std::size_t capacity,
                          std::int64_t& logged_at_s);

}  // namespace eam::otp::detail

namespace eam::otp {
/// A producer or producer-consumer of T events, as a consumer sees it.
template <class T>
using source_ref = detail::source_ref<T>;
}  // namespace eam::otp
