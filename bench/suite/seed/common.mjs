// System-independent pieces of the seed's workloads: the same computations as
// bench/suite/common.hpp and workload.hpp, so the seed's rows compute what the C++ rows do.

/// CPU seconds spent inside seconds_of during this run; main prints it beside the wall time.
export const timed = { cpu_s: 0 };

/// The process's user + system CPU seconds so far (every thread: V8's and libuv's too).
function process_cpu_seconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/// Wall time of `await f()` in seconds, and what it returned. Also adds the process's CPU time
/// over the same span to timed.cpu_s, as the C++ seconds_of does.
export async function seconds_of(f) {
  const cpu0 = process_cpu_seconds();
  const t0 = process.hrtime.bigint();
  const value = await f();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  timed.cpu_s += process_cpu_seconds() - cpu0;
  return [wall, value];
}

/// An outcome whose check compares a result with its expected value.
export function checked(seconds, items, got, want) {
  return { seconds, items, ok: got === want, detail: `result ${got}, expected ${want}` };
}

/// A one-shot latch: `set(v)` from inside an actor resolves `wait` with v (the C++ done_latch).
export function latch() {
  let set;
  const wait = new Promise((resolve) => (set = resolve));
  return { wait, set };
}

/// Casts to a plain ActorRef (an actor's own `ctx.self`, which is untyped) in the message
/// format functional actors dispatch on; a TypedActorRef's cast(name, ...args) sends the same.
export function cast(ref, method, ...args) {
  ref.cast({ method, args });
}

/// Savina's per-message "computation" of the fork-join workloads.
export function fork_join_work(theta) {
  const s = Math.sin(theta), c = Math.cos(theta);
  return s * s + c * c; // 1.0, computed the long way
}

/// 0 + 1 + ... + (n - 1).
export function sum_below(n) {
  return (n * (n - 1)) / 2;
}

// The C++ suite's generator (lcg in common.hpp): state = state * A + C mod 2^64, next() =
// state >> 33. JavaScript numbers are doubles, and BigInt arithmetic per ping would cost more
// than the ping: the state is kept in four 16-bit limbs whose products stay exact in a double.
const A = [0x7f2d, 0x4c95, 0xf42d, 0x5851];
const C = [0x814f, 0xf767, 0x7b7e, 0x1405];
const LIMB = 65536;

export class Lcg {
  constructor(seed) {
    this.s0 = seed % LIMB;
    this.s1 = Math.floor(seed / LIMB) % LIMB;
    this.s2 = Math.floor(seed / LIMB ** 2) % LIMB;
    this.s3 = 0;
  }

  next() {
    const { s0, s1, s2, s3 } = this;
    const r0 = s0 * A[0] + C[0];
    const r1 = s0 * A[1] + s1 * A[0] + C[1] + Math.floor(r0 / LIMB);
    const r2 = s0 * A[2] + s1 * A[1] + s2 * A[0] + C[2] + Math.floor(r1 / LIMB);
    const r3 = s0 * A[3] + s1 * A[2] + s2 * A[1] + s3 * A[0] + C[3] + Math.floor(r2 / LIMB);
    this.s0 = r0 % LIMB;
    this.s1 = r1 % LIMB;
    this.s2 = r2 % LIMB;
    this.s3 = r3 % LIMB;
    return this.s3 * 32768 + (this.s2 >>> 1); // bits 33..63
  }
}
