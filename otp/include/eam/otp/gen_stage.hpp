#pragma once
/// GenStage: demand-driven pipelines with back-pressure, after Elixir's GenStage. Producers
/// emit events only as far as their consumers ask; events travel in batches (one message per
/// batch, never per event); every stage is an actor on the engine's public API.
///
///   producer<T>               handle_demand(demand, state) -> events
///   consumer<T>               handle_events(events, from, state)
///   producer_consumer<In,Out> handle_events(events, from, state) -> events out
///   consumer_supervisor<T>    one supervised worker per event
///
/// Dispatchers (producer_options::dispatcher): demand, broadcast, partition.

#include <eam/otp/gen_stage/consumer.hpp>
#include <eam/otp/gen_stage/consumer_supervisor.hpp>
#include <eam/otp/gen_stage/producer.hpp>
#include <eam/otp/gen_stage/producer_consumer.hpp>
