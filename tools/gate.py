#!/usr/bin/env python3
"""The performance gate: instruction counts of the hot paths, and a throughput smoke test.

  gate.py check  --build DIR [--baseline FILE]          fail on an instruction-count regression
  gate.py smoke  --build DIR [--baseline FILE]          fail on a throughput regression that reproduces
  gate.py update --build DIR [--baseline FILE] --reason "why"   accept today's figures (both)

1. Instruction counts (check; run by `tools/eam test`). DIR/bench/eam_instr_bench runs fixed
   work under `valgrind --tool=callgrind`; each hot path is one callgrind dump, divided by its
   operation count. Instruction counts do not drift with machine load, so the gate is strict: a
   figure more than TOLERANCE above the baseline fails.
2. Throughput smoke (smoke; run by `tools/eam bench` and `tools/eam smoke`, never by the test
   command: timing must not fail tests). DIR/bench/eam_smoke runs multi-threaded workloads
   beside raw-thread baselines in the same run and reports ratios. Timings are noisy, so only a
   gross regression counts: a ratio below half its baseline. Even that is run again, up to
   SMOKE_REPEATS more times, each after waiting (at most LOAD_WAIT_S) for the 1-minute load
   average to fall below the core count; it fails only when every repeat reproduces it.

The baseline lives in bench/baseline.json; `update` rewrites it and appends the reason to its
history, to be committed with the change that moved the figures.
"""
import argparse
import datetime
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

TOLERANCE = 0.03       # instruction counts: fail above +3 %
SMOKE_FLOOR = 0.5      # throughput ratios: fail below half the baseline
SMOKE_REPEATS = 3      # ... and only when that reproduces in every one of this many more runs
LOAD_WAIT_S = 120      # the longest a repeat waits for the load average to fall below the cores


def instruction_counts(build):
    binary = os.path.join(build, "bench", "eam_instr_bench")
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes",
             "--dump-instr=no", "--callgrind-out-file=" + os.path.join(out, "cg.out"), binary],
            capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit("gate: eam_instr_bench failed under callgrind:\n" + run.stderr[-4000:])
        ops = json.loads(run.stdout.strip().splitlines()[-1])
        totals = {}
        # One file per dump and thread: cg.out.<dump>-<thread>. A region's count is the sum
        # over its threads (in practice one: the worker, or the main thread).
        for path in glob.glob(os.path.join(out, "cg.out.*")):
            name, total = None, 0
            with open(path) as f:
                for line in f:
                    m = re.match(r"desc: Trigger: Client Request: (\S+)", line)
                    if m:
                        name = m.group(1)
                    m = re.match(r"totals: (\d+)", line)
                    if m:
                        total = int(m.group(1))
            if name:
                totals[name] = totals.get(name, 0) + total
    missing = set(ops) - set(totals)
    if missing:
        sys.exit("gate: no callgrind dump for " + ", ".join(sorted(missing)))
    return {name: round(totals[name] / ops[name], 1) for name in ops}


def smoke_ratios(build):
    run = subprocess.run([os.path.join(build, "bench", "eam_smoke")], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit("gate: eam_smoke failed:\n" + run.stdout[-2000:] + run.stderr[-2000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def load_baseline(path):
    with open(path) as f:
        return json.load(f)


def check(args):
    base = load_baseline(args.baseline)
    failed = False
    counts = instruction_counts(args.build)
    print("instructions per operation (callgrind)")
    print(f"  {'operation':<20} {'baseline':>10} {'now':>10} {'ratio':>8}")
    for name, now in counts.items():
        old = base["instructions_per_op"].get(name)
        if old is None:
            print(f"  {name:<20} {'-':>10} {now:>10} {'new':>8}   not in the baseline: run `tools/eam baseline`")
            failed = True
            continue
        ratio = now / old
        verdict = "FAIL" if ratio > 1 + TOLERANCE else "ok"
        failed |= verdict == "FAIL"
        print(f"  {name:<20} {old:>10} {now:>10} {ratio:>7.3f}x  {verdict}")
    if failed:
        print("gate: FAILED. A deliberate cost? Accept it with: tools/eam baseline \"<one-line reason>\"")
        return 1
    print("gate: passed")
    return 0


def wait_for_quiet_machine():
    """Waits, at most LOAD_WAIT_S, for the 1-minute load average to fall below the core count."""
    cores = os.cpu_count() or 1
    deadline = time.monotonic() + LOAD_WAIT_S
    load = os.getloadavg()[0]
    while load >= cores and time.monotonic() < deadline:
        time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
        load = os.getloadavg()[0]
    note = "" if load < cores else f" (still busy after {LOAD_WAIT_S} s; running anyway)"
    print(f"  load average {load:.2f} on {cores} cores{note}")


def smoke_run(build, base, below):
    """One run of eam_smoke; prints its table and returns the workloads below the floor, of
    those in `below` (all of them when None)."""
    ratios = smoke_ratios(build)
    print(f"  {'workload':<20} {'baseline':>10} {'now':>10}")
    low = set()
    for name, now in ratios.items():
        old = base.get("throughput_ratios", {}).get(name)
        verdict = "ok" if old is None or now >= SMOKE_FLOOR * old else "LOW"
        if verdict == "LOW" and (below is None or name in below):
            low.add(name)
        print(f"  {name:<20} {old if old is not None else '-':>10} {now:>10.2f}  {verdict}")
    return low


def smoke(args):
    base = load_baseline(args.baseline)
    print("throughput vs raw threads, same run (a ratio below half its baseline is run again)")
    low = smoke_run(args.build, base, None)
    for repeat in range(1, SMOKE_REPEATS + 1):
        if not low:
            break
        print(f"smoke: {', '.join(sorted(low))} below the floor; repeat {repeat} of {SMOKE_REPEATS}")
        wait_for_quiet_machine()
        low = smoke_run(args.build, base, low)
    if low:
        print(f"smoke: FAILED. {', '.join(sorted(low))} stayed below half the baseline ratio in every "
              f"one of {SMOKE_REPEATS + 1} runs. A deliberate cost? Accept it with: "
              "tools/eam baseline \"<one-line reason>\"")
        return 1
    print("smoke: passed")
    return 0


def update(args):
    base = {"instructions_per_op": {}, "throughput_ratios": {}, "history": []}
    if os.path.exists(args.baseline):
        with open(args.baseline) as f:
            base = json.load(f)
    base["instructions_per_op"] = instruction_counts(args.build)
    # The smoke's ratios are noisy: a baseline only ever moves down, so one lucky run cannot
    # raise the bar that later runs must clear (only a gross drop should fail).
    old = base.get("throughput_ratios", {})
    base["throughput_ratios"] = {k: round(min(v, old.get(k, v)), 2) for k, v in smoke_ratios(args.build).items()}
    base.setdefault("history", []).append({"date": datetime.date.today().isoformat(), "reason": args.reason})
    with open(args.baseline, "w") as f:
        json.dump(base, f, indent=2)
        f.write("\n")
    print(json.dumps({k: base[k] for k in ("instructions_per_op", "throughput_ratios")}, indent=2))
    print(f"gate: baseline written to {os.path.relpath(args.baseline)}; commit it with the change")
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["check", "smoke", "update"])
    parser.add_argument("--build", required=True, help="a Release build directory")
    parser.add_argument("--baseline", default=os.path.join(here, "..", "bench", "baseline.json"))
    parser.add_argument("--reason", help="why the figures moved (update)")
    args = parser.parse_args()
    if args.command == "update" and not args.reason:
        parser.error("update needs --reason")
    return {"check": check, "smoke": smoke, "update": update}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
