// GenStage on the seed (bench/suite/eam/gen_stage_*.cpp and workloads/gen_stage_workloads.hpp):
// the seed's Producer, Consumer, ProducerConsumer and ConsumerSupervisor, started on the
// system's ActorSystem (createSystem's `system`). As there, the system is made before the timed
// part, the producer starts in accumulate mode so every consumer is subscribed before the first
// event flows, the stages' start, run and stop are timed, and the result is a checksum of what
// the consumers saw.
import { checked, latch, seconds_of, sum_below } from "./common.mjs";

/// A producer of 0, 1, ..., total - 1, in accumulate mode.
function sequence_producer(L, system, total, options = {}) {
  return L.Producer.start(
    system,
    {
      init: () => 0,
      handleDemand: (demand, next) => {
        const n = Math.min(demand, total - next);
        const out = new Array(n);
        for (let i = 0; i < n; ++i) out[i] = next + i;
        return [out, next + n];
      },
    },
    { ...options, demand: "accumulate" },
  );
}

/// Counts what the consumers of one run received, and resolves `done` with the sum at `expected`.
function delivery_count(expected) {
  const done = latch();
  let seen = 0, sum = 0;
  return {
    done: done.wait,
    add(events) {
      for (const e of events) sum += e;
      seen += events.length;
      if (seen === expected) done.set(sum);
    },
  };
}

/// One producer, `consumers` consumers, through the given dispatcher (partition: one
/// partition per consumer). Returns the sum of all events delivered.
async function stage_fan_out(L, system, kind, consumers, total, max_demand) {
  const dispatcher = kind === "partition" ? { type: kind, partitions: consumers } : { type: kind };
  const source = sequence_producer(L, system, total, { dispatcher });
  const count = delivery_count(kind === "broadcast" ? total * consumers : total);
  const sinks = [];
  for (let i = 0; i < consumers; ++i) {
    const sink = L.Consumer.start(system, {
      handleEvents: (events, _from, state) => {
        count.add(events);
        return state;
      },
    });
    await sink.subscribe(source.getRef(), { maxDemand: max_demand, ...(kind === "partition" ? { partition: i } : {}) });
    sinks.push(sink);
  }
  source.demand("forward");
  const sum = await count.done;
  await source.stop();
  for (const s of sinks) await s.stop();
  return sum;
}

/// producer -> `hops` producer-consumers (each adds one) -> consumer. Returns the sum seen by
/// the consumer.
async function stage_pipeline(L, system, hops, total, max_demand) {
  const source = sequence_producer(L, system, total);
  const stages = [];
  let upstream = source.getRef();
  for (let h = 0; h < hops; ++h) {
    const stage = L.ProducerConsumer.start(
      system,
      {
        // In place, as the C++ stage: each batch has one downstream subscriber.
        handleEvents: (events, _from, state) => {
          for (let i = 0; i < events.length; ++i) ++events[i];
          return [events, state];
        },
      },
      // The seed's ProducerConsumer asks upstream for more whenever its own pending demand runs
      // low, whatever its consumers asked for, and keeps what they have not asked for in a
      // buffer that drops the oldest events past bufferSize (10000 by default): a pipeline
      // longer than that lost events. An unbounded buffer keeps every event.
      { bufferSize: Infinity },
    );
    await stage.subscribe(upstream, { maxDemand: max_demand });
    stages.push(stage);
    upstream = stage.getRef();
  }
  const count = delivery_count(total);
  const sink = L.Consumer.start(system, {
    handleEvents: (events, _from, state) => {
      count.add(events);
      return state;
    },
  });
  await sink.subscribe(upstream, { maxDemand: max_demand });
  source.demand("forward");
  const sum = await count.done;
  await source.stop();
  for (const s of stages) await s.stop();
  await sink.stop();
  return sum;
}

/// A consumer supervisor starting one worker actor per event, `max_demand` at a time; each
/// worker adds its event and ends. Returns the sum the workers saw.
async function stage_consumer_supervisor(L, system, workers, max_demand) {
  const jobs = sequence_producer(L, system, workers);
  const count = delivery_count(workers);
  // The supervisor appends the event to the child spec's args. The worker counts its event in
  // its init, as the C++ one, but ends in its continuation (handleContinue): the supervisor
  // watches a worker only once its spawn returned, and a worker gone before that is never
  // reported down, so its demand would never be released.
  const Worker = L.createActor((ctx, self, counter, job) => {
    counter.add([job]);
    self.onContinue(() => ctx.exit());
    return { continue: null };
  });
  const sup = L.ConsumerSupervisor.start(system, { actorClass: Worker, args: [count] });
  await sup.subscribe(jobs.getRef(), { maxDemand: max_demand });
  jobs.demand("forward");
  const sum = await count.done;
  await jobs.stop();
  await sup.stop();
  return sum;
}

async function producer_consumer(L, p) {
  const events = p.events;
  const { system } = L.createSystem();
  const [s, sum] = await seconds_of(() => stage_fan_out(L, system, "demand", 1, events, p.max_demand));
  return checked(s, events, sum, sum_below(events));
}

// Items are events delivered: broadcast delivers each to every consumer.
function fan_out(kind) {
  return async (L, p) => {
    const events = p.events, consumers = p.consumers;
    const { system } = L.createSystem();
    const [s, sum] = await seconds_of(() => stage_fan_out(L, system, kind, consumers, events, p.max_demand));
    const copies = kind === "broadcast" ? consumers : 1;
    return checked(s, events * copies, sum, sum_below(events) * copies);
  };
}

async function pipeline(L, p) {
  const events = p.events, hops = p.hops;
  const { system } = L.createSystem();
  const [s, sum] = await seconds_of(() => stage_pipeline(L, system, hops, events, p.max_demand));
  return checked(s, events, sum, sum_below(events) + hops * events);
}

async function consumer_supervisor(L, p) {
  const jobs = p.jobs;
  const { system } = L.createSystem();
  const [s, sum] = await seconds_of(() => stage_consumer_supervisor(L, system, jobs, p.max_demand));
  return checked(s, jobs, sum, sum_below(jobs));
}

export const gen_stage = {
  "stage-producer-consumer": producer_consumer,
  "stage-demand": fan_out("demand"),
  "stage-broadcast": fan_out("broadcast"),
  "stage-partition": fan_out("partition"),
  "stage-pipeline": pipeline,
  "stage-consumer-supervisor": consumer_supervisor,
};
