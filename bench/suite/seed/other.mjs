// The CAF paper's fan-in and mixed-case on the seed, each the mirror of
// bench/suite/eam/<name>.cpp. Not actor-creation and skynet: see SEED_NOT_APPLICABLE in
// tools/suite.py.
import { cast, checked, latch, seconds_of } from "./common.mjs";
import { spawn_token_ring } from "./micro.mjs";

// Fan-in (eam::bench::fan_in): `senders` actors each cast n messages, in batches of 1000
// (re-casting themselves between batches), to one sink; the result is the sum it saw.
async function fan_in(L, p) {
  const senders = p.senders, n = p.n;
  const expected = senders * n;
  const Sink = L.createActor((ctx, self, done) => {
    let count = 0, sum = 0;
    return self.onCast("tick", (v) => {
      sum += v;
      if (++count === expected) done(sum);
    });
  });
  const Sender = L.createActor((ctx, self, to) => {
    let sent = 0;
    return self.onCast("go", () => {
      const end = Math.min(n, sent + 1000);
      for (; sent < end; ++sent) to.cast("tick", 1);
      if (sent < n) cast(ctx.self, "go");
    });
  });
  const sys = L.createSystem();
  const [s, sum] = await seconds_of(async () => {
    const done = latch();
    const sink = sys.spawn(Sink, { args: [done.set] });
    const refs = [];
    for (let i = 0; i < senders; ++i) refs.push(sys.spawn(Sender, { args: [sink] }));
    for (const r of refs) r.cast("go");
    const got = await done.wait;
    for (const r of refs) await sys.stop(r);
    await sys.stop(sink);
    return got;
  });
  return checked(s, expected, sum, expected);
}

// Mixed case: `rings` token rings pass a token `hops` hops while each ring's factoriser
// factorises the semiprime `jobs` times; done once every token and factorisation reported.
const SEMIPRIME = 1000003 * 1000033; // below 2^53: exact in a double
const FACTOR = 1000003;

function smallest_factor(n) {
  if (n % 2 === 0) return 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return d;
  return n;
}

async function mixed_case(L, p) {
  const rings = p.rings, ring_size = p.ring_size, hops = p.hops, jobs = p.jobs;
  const reports = rings * (1 + jobs);
  const done = latch();
  let reported = 0, wrong = 0;
  const finish_one = (ok) => {
    if (!ok) ++wrong;
    if (++reported === reports) done.set(wrong === 0 ? reports : -1);
  };
  const Factoriser = L.createActor((ctx, self) =>
    self.onCast("factorise", (n) => finish_one(smallest_factor(n) === FACTOR)),
  );
  const sys = L.createSystem();
  const firsts = [], factorisers = [];
  for (let r = 0; r < rings; ++r) {
    firsts.push(spawn_token_ring(L, sys, ring_size, () => finish_one(true))[0]);
    factorisers.push(sys.spawn(Factoriser));
  }
  const [s, got] = await seconds_of(() => {
    for (let r = 0; r < rings; ++r) {
      firsts[r].cast("token", hops);
      for (let j = 0; j < jobs; ++j) factorisers[r].cast("factorise", SEMIPRIME);
    }
    return done.wait;
  });
  return checked(s, rings * hops, got, reports);
}

export const other = {
  "fan-in": fan_in,
  "mixed-case": mixed_case,
};
