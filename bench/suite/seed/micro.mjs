// The Savina micro group on the seed, each the mirror of bench/suite/eam/<name>.cpp: the same
// actors and messages, the same items and the same result check. Functional actors
// (createActor); a run's system is not shut down, the process ends after its line (main.mjs).
import { Lcg, cast, checked, fork_join_work, latch, seconds_of } from "./common.mjs";

// Ping-pong (eam::bench::ping_pong): n round trips between two players; the spawns and stops
// are inside the timed part, as there.
async function ping_pong(L, p) {
  const n = p.n;
  const Player = L.createActor((ctx, self, done) => {
    let peer;
    return self
      .onCast("ball", (left) => {
        if (left === 0) {
          done(1);
          return;
        }
        peer.cast("ball", left - 1);
      })
      .onCast("peer", (ref) => {
        peer = ref;
      });
  });
  const sys = L.createSystem();
  const [s, games] = await seconds_of(async () => {
    const done = latch();
    const a = sys.spawn(Player, { args: [done.set] });
    const b = sys.spawn(Player, { args: [done.set] });
    a.cast("peer", b);
    b.cast("peer", a);
    a.cast("ball", 2 * n);
    const r = await done.wait;
    await sys.stop(a);
    await sys.stop(b);
    return r;
  });
  return checked(s, n, games, 1);
}

// Counting: a producer actor casts n increments to a counter, then asks for the count.
async function counting(L, p) {
  const n = p.n;
  const Counter = L.createActor((ctx, self) => {
    let count = 0;
    return self.onCast("increment", () => ++count).onCall("get", () => count);
  });
  const Producer = L.createActor((ctx, self, counter, done) =>
    self.onCast("produce", async (k) => {
      for (let i = 0; i < k; ++i) counter.cast("increment");
      // The raw call form carries a timeout (the named form has none: 5 s by default), and the
      // call waits behind the n increments: ten minutes, as in the C++ version.
      done(await counter.call({ method: "get", args: [] }, 10 * 60 * 1000));
    }),
  );
  const sys = L.createSystem();
  const done = latch();
  const counter = sys.spawn(Counter);
  const producer = sys.spawn(Producer, { args: [counter, done.set] });
  const [s, got] = await seconds_of(() => {
    producer.cast("produce", n);
    return done.wait;
  });
  return checked(s, n, got, n);
}

// Fork-join throughput: a driver casts n messages to each of `actors` workers, round robin.
async function fork_join_throughput(L, p) {
  const actors = p.actors, n = p.n;
  const finished = { count: 0 };
  const Worker = L.createActor((ctx, self, expect, done) => {
    let seen = 0, sum = 0;
    return self.onCast("compute", (theta) => {
      sum += fork_join_work(theta);
      if (++seen === expect && ++finished.count === actors) done(actors * expect);
    });
  });
  const Driver = L.createActor((ctx, self, pool) =>
    self.onCast("fan_out", (k) => {
      for (let i = 0; i < k; ++i) for (const w of pool) w.cast("compute", i);
    }),
  );
  const sys = L.createSystem();
  const done = latch();
  const pool = [];
  for (let a = 0; a < actors; ++a) pool.push(sys.spawn(Worker, { args: [n, done.set] }));
  const driver = sys.spawn(Driver, { args: [pool] });
  const [s, got] = await seconds_of(() => {
    driver.cast("fan_out", n);
    return done.wait;
  });
  return checked(s, actors * n, got, actors * n);
}

// Fork-join creation: n actors are spawned by one creator, each gets one message, reports back
// and stops.
async function fork_join_create(L, p) {
  const n = p.n;
  const Collector = L.createActor((ctx, self, expect, done) => {
    let seen = 0;
    return self.onCast("report_in", () => {
      if (++seen === expect) done(seen);
    });
  });
  const Worker = L.createActor((ctx, self, collector) =>
    self.onCast("compute", (theta) => {
      fork_join_work(theta);
      collector.cast("report_in");
      ctx.exit();
    }),
  );
  const Creator = L.createActor((ctx, self, collector) =>
    self.onCast("create_all", (k) => {
      for (let i = 0; i < k; ++i) ctx.spawn(Worker, { args: [collector] }).cast("compute", i);
    }),
  );
  const sys = L.createSystem();
  const done = latch();
  const collector = sys.spawn(Collector, { args: [n, done.set] });
  const creator = sys.spawn(Creator, { args: [collector] });
  const [s, got] = await seconds_of(() => {
    creator.cast("create_all", n);
    return done.wait;
  });
  return checked(s, n, got, n);
}

// The ring thread-ring and mixed-case pass a token around (token_ring.hpp): each member forwards the token
// with one hop fewer; the member that gets it with none left reports.
export function spawn_token_ring(L, sys, size, on_last_hop) {
  const Member = L.createActor((ctx, self) => {
    let next;
    return self
      .onCast("token", (left) => {
        if (left === 0) {
          on_last_hop();
          return;
        }
        next.cast("token", left - 1);
      })
      .onCast("link_to", (ref) => {
        next = ref;
      });
  });
  const ring = [];
  for (let i = 0; i < size; ++i) ring.push(sys.spawn(Member));
  ring.forEach((m, i) => m.cast("link_to", ring[(i + 1) % ring.length]));
  return ring;
}

// Thread ring: a token makes `hops` hops around a ring of `actors`.
async function thread_ring(L, p) {
  const actors = p.actors, hops = p.hops;
  const sys = L.createSystem();
  const done = latch();
  const ring = spawn_token_ring(L, sys, actors, () => done.set(hops));
  const [s, got] = await seconds_of(() => {
    ring[0].cast("token", hops);
    return done.wait;
  });
  return checked(s, hops, got, hops);
}

// Chameneos: `chameneos` creatures meet in a mall until `meetings` meetings happened; each
// meeting counts twice (once per creature), as in the C++ check.
const BLUE = 0, RED = 1, YELLOW = 2;
function complement(a, b) {
  return a === b ? a : 3 - a - b;
}

async function chameneos(L, p) {
  const creatures = p.chameneos, meetings = p.meetings;
  const Mall = L.createActor((ctx, self, to_hold, creatures_total, done) => {
    let left = to_hold, faded = 0, total_meetings = 0;
    let waiting = null, waiting_colour = BLUE;
    // Creatures come with their own ctx.self, a plain ActorRef: cast() sends the raw form.
    return self
      .onCast("meet", (who, c) => {
        if (left === 0) {
          cast(who, "fade");
          return;
        }
        if (waiting === null) {
          waiting = who;
          waiting_colour = c;
          return;
        }
        --left;
        cast(waiting, "mate", c);
        cast(who, "mate", waiting_colour);
        waiting = null;
      })
      .onCast("faded", (m) => {
        total_meetings += m;
        if (++faded === creatures_total) done(total_meetings);
      });
  });
  const Creature = L.createActor((ctx, self, mall, start) => {
    let c = start, met = 0;
    return self
      .onCast("mate", (other) => {
        c = complement(c, other);
        ++met;
        mall.cast("meet", ctx.self, c);
      })
      .onCast("fade", () => mall.cast("faded", met));
  });
  const sys = L.createSystem();
  const done = latch();
  const mall = sys.spawn(Mall, { args: [meetings, creatures, done.set] });
  const all = [];
  for (let i = 0; i < creatures; ++i) all.push(sys.spawn(Creature, { args: [mall, [BLUE, RED, YELLOW][i % 3]] }));
  const [s, got] = await seconds_of(() => {
    all.forEach((creature, i) => mall.cast("meet", creature, i % 3));
    return done.wait;
  });
  return checked(s, meetings, got, 2 * meetings);
}

// Big: every actor pings random peers (the C++ suite's generator, seeded with its index + 1),
// one at a time, `pings` times, waiting for each pong.
async function big(L, p) {
  const actors = p.actors, pings = p.pings;
  const finished = { count: 0 };
  const Node = L.createActor((ctx, self, index, to_send, done) => {
    let peers = [], sent = 0;
    const rng = new Lcg(index + 1);
    const send_next = () => {
      ++sent;
      peers[rng.next() % peers.length].cast("ping", ctx.self);
    };
    return self
      .onCast("ping", (from) => cast(from, "pong"))
      .onCast("pong", () => {
        if (sent < to_send) send_next();
        else if (++finished.count === actors) done(actors * to_send);
      })
      .onCast("peers", (all) => {
        peers = all;
        send_next();
      });
  });
  const sys = L.createSystem();
  const done = latch();
  const all = [];
  for (let i = 0; i < actors; ++i) all.push(sys.spawn(Node, { args: [i, pings, done.set] }));
  const [s, got] = await seconds_of(() => {
    for (const a of all) a.cast("peers", all);
    return done.wait;
  });
  return checked(s, actors * pings, got, actors * pings);
}

export const micro = {
  "ping-pong": ping_pong,
  counting,
  "fork-join-throughput": fork_join_throughput,
  "fork-join-create": fork_join_create,
  "thread-ring": thread_ring,
  chameneos,
  big,
};
