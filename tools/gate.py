#!/usr/bin/env python3
"""The performance gate: instruction counts of the hot paths, and a throughput smoke test.

  gate.py check  --build DIR [--baseline FILE]          fail on a regression
  gate.py update --build DIR [--baseline FILE] --reason "why"   accept today's figures

1. Instruction counts. DIR/bench/eam_instr_bench runs fixed work under
   `valgrind --tool=callgrind`; each hot path is one callgrind dump, divided by its operation
   count. Instruction counts do not drift with machine load, so the gate is strict: a figure
   more than TOLERANCE above the baseline fails.
2. Throughput smoke. DIR/bench/eam_smoke runs multi-threaded workloads beside raw-thread
   baselines in the same run and reports ratios. Timings are noisy here, so it fails only on a
   gross regression: a ratio below half its baseline.

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

TOLERANCE = 0.03       # instruction counts: fail above +3 %
SMOKE_FLOOR = 0.5      # throughput ratios: fail below half the baseline


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


def check(args):
    with open(args.baseline) as f:
        base = json.load(f)
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
    ratios = smoke_ratios(args.build)
    print("throughput vs raw threads, same run (fails only below half the baseline ratio)")
    print(f"  {'workload':<20} {'baseline':>10} {'now':>10}")
    for name, now in ratios.items():
        old = base["throughput_ratios"].get(name)
        verdict = "ok" if old is None or now >= SMOKE_FLOOR * old else "FAIL"
        failed |= verdict == "FAIL"
        print(f"  {name:<20} {old if old is not None else '-':>10} {now:>10.2f}  {verdict}")
    if failed:
        print("gate: FAILED. A deliberate cost? Accept it with: tools/eam baseline \"<one-line reason>\"")
        return 1
    print("gate: passed")
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
    parser.add_argument("command", choices=["check", "update"])
    parser.add_argument("--build", required=True, help="a Release build directory")
    parser.add_argument("--baseline", default=os.path.join(here, "..", "bench", "baseline.json"))
    parser.add_argument("--reason", help="why the figures moved (update)")
    args = parser.parse_args()
    if args.command == "update" and not args.reason:
        parser.error("update needs --reason")
    return check(args) if args.command == "check" else update(args)


if __name__ == "__main__":
    sys.exit(main())
