// The seed peer's suite program: the TypeScript libeam (npm `libeam`, the library libeam-C++
// follows) on Node.js, with the same command line and output as the C++ suite binaries
// (bench/suite/main.cpp):
//   node main.mjs --list
//   node main.mjs --workload NAME --workers N [--PARAM VALUE ...]
// A run prints one JSON line {"workload", "seconds", "items", "ok", "detail", "cpu_s", "peak_mib"} (cpu_s:
// the process's CPU seconds over the timed span); it exits 1 when the workload's own check
// fails, 2 on bad arguments or an error.
//
// The package is found through LIBEAM_SEED_DIR, the npm prefix tools/eam installed it into
// (tools/suite.py sets it), so nothing is installed inside the repository.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { timed } from "./common.mjs";
import { gen_stage } from "./gen_stage.mjs";
import { micro } from "./micro.mjs";
import { other } from "./other.mjs";
import { request_reply } from "./request_reply.mjs";

const registry = { ...micro, ...request_reply, ...gen_stage, ...other };

// The process's peak resident MiB since its exec (VmHWM), or -1: the suite's wait4 counts the
// forking Python's memory too.
function peak_mib() {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    return hwm ? Number(hwm[1]) / 1024 : -1;
  } catch {
    return -1;
  }
}

/// Named integer parameters; a missing one is an error, as in the C++ binaries.
function params(values) {
  return new Proxy(values, {
    get(target, name) {
      if (!(name in target)) throw new Error(`missing parameter --${String(name)}`);
      return target[name];
    },
  });
}

/// The installed package's entry point, as its own package.json declares it, after checking
/// that the installed version is the pinned one (package.json beside this file).
async function load_libeam() {
  const prefix = process.env.LIBEAM_SEED_DIR;
  if (!prefix) throw new Error("LIBEAM_SEED_DIR is not set (the npm prefix libeam is installed in; tools/eam bench)");
  const pinned = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")).dependencies.libeam;
  const dir = join(prefix, "node_modules", "libeam");
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (pkg.version !== pinned) throw new Error(`libeam ${pkg.version} is installed in ${prefix}, the suite pins ${pinned}`);
  const root = pkg.exports?.["."];
  const entry = (typeof root === "string" ? root : root?.import ?? root?.default) ?? pkg.main;
  return import(pathToFileURL(join(dir, entry)).href);
}

function usage() {
  process.stderr.write("usage: main.mjs --list | --workload NAME --workers N [--PARAM VALUE ...]\n");
  process.exit(2);
}

async function main(argv) {
  let name = "";
  const values = {};
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if (arg === "--list") {
      for (const w of Object.keys(registry)) process.stdout.write(w + "\n");
      return 0;
    }
    if (!arg.startsWith("--") || i + 1 >= argv.length) usage();
    const key = arg.slice(2), value = argv[++i];
    if (key === "workload") name = value;
    // Node runs JavaScript on one thread: --workers is accepted for the common command line and
    // ignored (there is no worker pool to size).
    else if (key === "workers") continue;
    else if (/^-?\d+$/.test(value)) values[key] = Number(value);
    else usage();
  }
  const run = Object.hasOwn(registry, name) ? registry[name] : null;
  if (!run) {
    process.stderr.write(`unknown workload '${name}' (see --list)\n`);
    return 2;
  }
  let o;
  try {
    const L = await load_libeam();
    L.loggerConfig.level = "warn"; // its info lines (a system's start) are not results
    o = await run(L, params(values));
  } catch (e) {
    // The stack, then the message last: the suite reports the tail of stderr.
    process.stderr.write(`${e?.stack ?? e}\n${name}: ${e?.message ?? e}\n`);
    return 2;
  }
  const line = { workload: name, seconds: o.seconds, items: o.items, ok: o.ok, detail: o.detail, cpu_s: timed.cpu_s,
                 peak_mib: peak_mib() };
  process.stdout.write(JSON.stringify(line) + "\n");
  return o.ok ? 0 : 1;
}

// Exit explicitly: timers a workload leaves behind (call timeouts, a system's housekeeping)
// must not keep the process alive after its line is printed.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${e?.stack ?? e}\n`);
    process.exit(2);
  },
);
