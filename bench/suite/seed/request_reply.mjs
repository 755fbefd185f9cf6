// Request/reply on the seed (bench/suite/eam/request_reply.cpp): awaited calls between actors,
// and calls from outside any actor.
import { checked, latch, seconds_of } from "./common.mjs";

function echo_server(L) {
  return L.createActor((ctx, self) => self.onCall("request", (v) => v));
}

// calls-inside: `clients` actors each make `calls` sequential awaited calls to their own
// server; the result is the sum of all replies. Spawns and stops are timed, as there.
async function calls_inside(L, p) {
  const clients = p.clients, calls = p.calls;
  const Server = echo_server(L);
  const Client = L.createActor((ctx, self, to, done) =>
    self.onCast("run_calls", async (n) => {
      let sum = 0;
      for (let i = 0; i < n; ++i) sum += await to.call("request", 1);
      done(sum);
    }),
  );
  const sys = L.createSystem();
  const [s, sum] = await seconds_of(async () => {
    const all = [], done = [];
    for (let c = 0; c < clients; ++c) {
      const d = latch();
      const server = sys.spawn(Server);
      const client = sys.spawn(Client, { args: [server, d.set] });
      client.cast("run_calls", calls);
      all.push(server, client);
      done.push(d.wait);
    }
    let total = 0;
    for (const d of done) total += await d;
    for (const r of all) await sys.stop(r);
    return total;
  });
  return checked(s, clients * calls, sum, clients * calls);
}

// calls-outside: `calls` sequential calls from the program's own code, not an actor. Node has
// no other thread to block: the caller awaits each reply on the one event loop (as Erlang's
// version calls from the shell process).
async function calls_outside(L, p) {
  const calls = p.calls;
  const Server = echo_server(L);
  const sys = L.createSystem();
  const [s, sum] = await seconds_of(async () => {
    const server = sys.spawn(Server);
    let total = 0;
    for (let i = 0; i < calls; ++i) total += await server.call("request", 1);
    await sys.stop(server);
    return total;
  });
  return checked(s, calls, sum, calls);
}

export const request_reply = { "calls-inside": calls_inside, "calls-outside": calls_outside };
