#!/usr/bin/env python3
"""The benchmark suite runner: libeam beside CAF, Erlang/OTP and raw threads, in one run.

Runs every selected workload several times per system, interleaved (libeam, CAF, Erlang,
threads, libeam, ...), each run in a fresh process with the same number of worker threads, and
prints one table: median time and throughput per system, min-max, peak memory, and libeam's
throughput ratio to each peer. Writes results.json and PNG charts (gnuplot) to --out.

Every workload checks its own result; a wrong result fails the run loudly.
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name: (group, unit, Savina / CAF-paper default parameters, how parameters scale with --size).
# Scaling rules: "x" linear; "x:log2" / "x:log10" adds log_base(size) (depths, tree levels);
# "x:cbrt:M" scales with the cube root of size, rounded to a multiple of M (cubic work);
# "x:cbrt:pow2" the same, rounded to a power of two.
WORKLOADS = {
    # Savina micro
    "ping-pong": ("micro", "round trips", {"n": 40000}, ["n"]),
    "counting": ("micro", "messages", {"n": 1000000}, ["n"]),
    "fork-join-throughput": ("micro", "messages", {"actors": 60, "n": 10000}, ["n"]),
    "fork-join-create": ("micro", "actors", {"n": 40000}, ["n"]),
    "thread-ring": ("micro", "hops", {"actors": 100, "hops": 100000}, ["hops"]),
    "chameneos": ("micro", "meetings", {"chameneos": 100, "meetings": 200000}, ["meetings"]),
    "big": ("micro", "pings", {"actors": 120, "pings": 20000}, ["pings"]),
    # Savina concurrency
    "concurrent-dictionary": ("concurrency", "operations", {"clients": 20, "ops": 10000, "write_percent": 10}, ["ops"]),
    "bounded-buffer": ("concurrency", "items",
                       {"buffer": 50, "producers": 40, "consumers": 40, "items": 1000, "cost": 25}, ["items"]),
    "dining-philosophers": ("concurrency", "meals", {"philosophers": 20, "rounds": 10000}, ["rounds"]),
    "sleeping-barber": ("concurrency", "haircuts", {"customers": 5000, "room": 1000, "cost": 1000}, ["customers"]),
    "cigarette-smokers": ("concurrency", "rounds", {"rounds": 1000, "smokers": 200}, ["rounds"]),
    "bank-transaction": ("concurrency", "transfers", {"accounts": 1000, "transactions": 50000}, ["transactions"]),
    "logistic-map": ("concurrency", "terms", {"terms": 25000, "series": 10}, ["terms"]),
    # Savina parallelism
    "trapezoid": ("parallelism", "pieces", {"pieces": 10000000, "workers_n": 100}, ["pieces"]),
    "precise-pi": ("parallelism", "terms", {"digits": 5000, "workers_n": 20}, ["digits"]),
    "quicksort": ("parallelism", "values", {"n": 1000000, "threshold": 2048}, ["n"]),
    "radix-sort": ("parallelism", "value-bits", {"n": 100000, "bits": 60}, ["n"]),
    "recursive-matmul": ("parallelism", "multiply-adds", {"n": 1024, "threshold": 16384}, ["n:cbrt:pow2"]),
    "n-queens": ("parallelism", "solutions", {"n": 12, "threshold": 4}, ["n:log4"]),
    "fibonacci": ("parallelism", "actors", {"n": 25}, ["n:log2"]),
    "sieve": ("parallelism", "candidates", {"limit": 100000, "per_filter": 1000}, ["limit"]),
    "apsp": ("parallelism", "relaxations", {"n": 300, "block": 50}, ["n:cbrt:50"]),
    "unbalanced-tree": ("parallelism", "nodes", {"depth": 18, "breadth": 4}, ["depth:log2"]),
    # The CAF paper
    "actor-creation": ("caf-paper", "actors", {"depth": 20}, ["depth:log2"]),
    "fan-in": ("caf-paper", "messages", {"senders": 20, "n": 1000000}, ["n"]),
    "mixed-case": ("caf-paper", "token hops", {"rings": 20, "ring_size": 50, "hops": 10000, "jobs": 10}, ["hops", "jobs"]),
    # Beyond both
    "skynet": ("extra", "actors", {"levels": 6}, ["levels:log10"]),
    "calls-inside": ("extra", "calls", {"clients": 2, "calls": 200000}, ["calls"]),
    "calls-outside": ("extra", "calls", {"calls": 100000}, ["calls"]),
}
# GenStage (libeam only: no peer ships GenStage). One row per variant; the fifth field names the
# binary's workload that the row runs with its parameters.
for _n in (100, 1000):
    WORKLOADS[f"stage-pc-{_n}"] = ("gen-stage", "events", {"events": 20000000, "max_demand": _n}, ["events"],
                                   "stage-producer-consumer")
for _kind, _counts in (("demand", (1, 2, 4, 8)), ("broadcast", (1, 2, 4, 8)), ("partition", (2, 4, 8))):
    for _n in _counts:
        WORKLOADS[f"stage-{_kind}-{_n}"] = ("gen-stage", "events", {"events": 20000000, "consumers": _n, "max_demand": 1000},
                                            ["events"], f"stage-{_kind}")
for _n in (1, 2, 3):
    WORKLOADS[f"stage-pipeline-{_n}"] = ("gen-stage", "events", {"events": 20000000, "hops": _n, "max_demand": 1000},
                                         ["events"], "stage-pipeline")
for _n in (5, 10, 20):
    WORKLOADS[f"stage-supervisor-{_n}"] = ("gen-stage", "workers", {"jobs": 200000, "max_demand": _n}, ["jobs"],
                                           "stage-consumer-supervisor")
SYSTEMS = ["libeam", "caf", "erlang", "threads"]
# What bench/suite/erlang/eam_suite.erl implements (the C++ binaries answer --list themselves).
ERLANG_WORKLOADS = {"ping-pong", "counting", "fork-join-throughput", "fork-join-create", "thread-ring", "chameneos",
                    "big", "actor-creation", "fan-in", "mixed-case", "skynet", "calls-inside", "calls-outside"}


def spec(name):
    """(group, unit, default parameters, scaling rules) of a row."""
    return WORKLOADS[name][:4]


def binary_name(name):
    """The workload a row runs in the systems' binaries (a variant row names its own)."""
    return WORKLOADS[name][4] if len(WORKLOADS[name]) > 4 else name


def scaled(defaults, scaling, size):
    """Parameters at `size` (see the scaling rules above WORKLOADS)."""
    out = dict(defaults)
    for rule in scaling:
        name, *how = rule.split(":")
        base = defaults[name]
        if not how:
            out[name] = max(1, round(base * size))
        elif how[0].startswith("log"):
            out[name] = max(2, base + round(math.log(size, int(how[0][3:]))))
        elif how == ["cbrt", "pow2"]:
            out[name] = max(2, 2 ** round(math.log2(base * size ** (1 / 3))))
        elif how[0] == "cbrt":
            step = int(how[1])
            out[name] = max(step, step * round(base * size ** (1 / 3) / step))
        else:
            raise ValueError(f"unknown scaling rule {rule}")
    return out


class System:
    def __init__(self, name, build):
        self.name = name
        bench = os.path.join(build, "bench")
        if name == "erlang":
            self.beam_dir = os.path.join(bench, "erlang")
            self.available = shutil.which("erl") is not None and os.path.exists(
                os.path.join(self.beam_dir, "eam_suite.beam"))
            self.why = "erl or the compiled eam_suite.beam is missing (Debian erlang-base)"
        else:
            binary = {"libeam": "eam_suite", "caf": "caf_suite", "threads": "threads_suite"}[name]
            self.binary = os.path.join(bench, binary)
            self.available = os.path.exists(self.binary)
            self.why = f"{self.binary} is not built" + (" (Debian libcaf-dev)" if name == "caf" else "")
        self._list = None

    def workloads(self):
        if self._list is None:
            if self.name == "erlang":
                self._list = ERLANG_WORKLOADS
            else:
                out = subprocess.run([self.binary, "--list"], capture_output=True, text=True, check=True)
                self._list = set(out.stdout.split())
        return self._list

    def command(self, workload, workers, params):
        args = ["--workload", binary_name(workload), "--workers", str(workers)]
        for k, v in params.items():
            args += ["--" + k, str(v)]
        if self.name == "erlang":
            return ["erl", "-noshell", f"+S{workers}:{workers}", "+P", "10000000", "-pa", self.beam_dir,
                    "-run", "eam_suite", "main", "-extra"] + args
        return [self.binary] + args

    def run(self, workload, workers, params, timeout):
        """One run in a fresh process: (result dict, the process's peak resident MiB)."""
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            proc = subprocess.Popen(self.command(workload, workers, params), stdout=out, stderr=err)
            deadline = time.time() + timeout
            while True:  # wait4 rather than wait: it reports this child's own peak memory
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.time() > deadline:
                    proc.kill()
                    os.wait4(proc.pid, 0)
                    return {"ok": False, "detail": f"timed out after {timeout} s"}, 0.0
                time.sleep(0.005)
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        peak = usage.ru_maxrss / 1024.0
        lines = [l for l in stdout.splitlines() if l.startswith("{")]
        if not lines:
            return {"ok": False, "detail": (stderr or stdout).strip()[-300:] or f"exit {proc.returncode}"}, peak
        result = json.loads(lines[-1])
        if proc.returncode != 0:
            result["ok"] = False
        return result, peak


def fmt_rate(x):
    if x is None:
        return "-"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.2f}{unit}"
    return f"{x:.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="list workloads and systems, then exit")
    parser.add_argument("--names", action="store_true", help=argparse.SUPPRESS)  # for CMake
    parser.add_argument("--replot", action="store_true", help="redraw the charts of --out/results.json and exit")
    parser.add_argument("--workloads", help="comma-separated names (default: all)")
    parser.add_argument("--groups", help="comma-separated: micro, concurrency, parallelism, caf-paper, extra, gen-stage")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated: " + ", ".join(SYSTEMS))
    parser.add_argument("--reps", type=int, default=5, help="runs per workload and system (default 5)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="worker threads for every system")
    parser.add_argument("--size", type=float, default=1.0, help="scales every workload (1 = published defaults)")
    parser.add_argument("--quick", action="store_true", help="size 0.1, one run each, no worker scaling")
    parser.add_argument("--verify", action="store_true",
                        help="run each workload once at --size on every system and only check the results")
    parser.add_argument("--scaling", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure the micro group at 1..--workers workers (default on)")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "suite"), help="output directory")
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "release"), help="Release build directory")
    parser.add_argument("--timeout", type=int, default=600, help="seconds before one run is killed")
    args = parser.parse_args()
    if args.quick:
        args.size, args.reps, args.scaling = min(args.size, 0.1), 1, False

    if args.replot:
        with open(os.path.join(args.out, "results.json")) as f:
            charts(json.load(f), args.out)
        return 0
    if args.names:
        print(";".join(WORKLOADS))
        return 0
    if args.list:
        print(f"{'workload':<22} {'group':<12} {'unit':<14} parameters at size 1")
        for name, (group, unit, defaults, _) in ((n, spec(n)) for n in WORKLOADS):
            print(f"{name:<22} {group:<12} {unit:<14} " + " ".join(f"{k}={v}" for k, v in defaults.items()))
        print("systems: " + ", ".join(SYSTEMS))
        return 0

    names = list(WORKLOADS)
    if args.workloads:
        names = [n for n in args.workloads.split(",") if n]
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            parser.error("unknown workloads: " + ", ".join(unknown) + " (see --list)")
    if args.groups:
        groups = set(args.groups.split(","))
        names = [n for n in names if WORKLOADS[n][0] in groups]
    systems = []
    for s in args.systems.split(","):
        if s not in SYSTEMS:
            parser.error(f"unknown system {s} (one of {', '.join(SYSTEMS)})")
        system = System(s, args.build)
        if system.available:
            systems.append(system)
        else:
            print(f"note: skipping {s}: {system.why}")
    if not systems:
        sys.exit("suite: no system to run")

    if args.verify:
        return verify(names, systems, args)
    return measure(names, systems, args)


def verify(names, systems, args):
    failures = 0
    for name in names:
        group, unit, defaults, scaling = spec(name)
        params = scaled(defaults, scaling, args.size)
        for system in systems:
            if binary_name(name) not in system.workloads():
                continue
            result, _ = system.run(name, min(args.workers, 2), params, args.timeout)
            status = "ok" if result.get("ok") else "WRONG"
            failures += status != "ok"
            print(f"{name:<22} {system.name:<8} {status}  {result.get('detail', '')}")
    if failures:
        print(f"suite: {failures} workload run(s) computed a wrong result")
        return 1
    return 0


def measure(names, systems, args):
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    results = {"workers": args.workers, "size": args.size, "reps": args.reps, "workloads": {}}
    failures = []
    print(f"libeam benchmark suite: {len(names)} workloads x {', '.join(s.name for s in systems)}; "
          f"{args.workers} workers each, size {args.size}, {args.reps} runs, interleaved")
    for name in names:
        group, unit, defaults, scaling = spec(name)
        params = scaled(defaults, scaling, args.size)
        runs = {s.name: [] for s in systems if binary_name(name) in s.workloads()}
        for _ in range(args.reps):
            for system in systems:
                if system.name not in runs:
                    continue
                result, peak = system.run(name, args.workers, params, args.timeout)
                if not result.get("ok"):
                    failures.append(f"{name} on {system.name}: {result.get('detail')}")
                    print(f"  WRONG RESULT: {name} on {system.name}: {result.get('detail')}", flush=True)
                    continue
                runs[system.name].append({"seconds": result["seconds"], "items": result["items"], "peak_mib": peak})
        entry = {"group": group, "unit": unit, "params": params, "systems": {}}
        for sname, rs in runs.items():
            if not rs:
                continue
            secs = [r["seconds"] for r in rs]
            med = statistics.median(secs)
            entry["systems"][sname] = {
                "median_s": med, "min_s": min(secs), "max_s": max(secs),
                "throughput": rs[0]["items"] / med if med > 0 else None,
                "peak_mib": max(r["peak_mib"] for r in rs), "runs": len(rs)}
        results["workloads"][name] = entry
        print_entry(name, entry)

    if args.scaling:
        results["scaling"] = worker_scaling(names, systems, args)
    results["elapsed_s"] = time.time() - started
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print_summary(results)
    charts(results, args.out)
    print(f"results: {os.path.join(args.out, 'results.json')} ({results['elapsed_s']:.0f} s)")
    if failures:
        print("suite: FAILED, wrong results:\n  " + "\n  ".join(failures))
        return 1
    return 0


def ratio(entry, peer):
    s = entry["systems"]
    if "libeam" in s and peer in s and s["libeam"]["throughput"] and s[peer]["throughput"]:
        return s["libeam"]["throughput"] / s[peer]["throughput"]
    return None


def print_entry(name, entry):
    print(f"{name} ({entry['unit']}/s; " + " ".join(f"{k}={v}" for k, v in entry["params"].items()) + ")")
    for sname, s in entry["systems"].items():
        print(f"  {sname:<8} {s['median_s'] * 1000:>10.1f} ms  {fmt_rate(s['throughput']):>9}/s"
              f"  [{s['min_s'] * 1000:.1f}-{s['max_s'] * 1000:.1f} ms]  peak {s['peak_mib']:.0f} MiB", flush=True)


def print_summary(results):
    peers = ["caf", "erlang", "threads"]
    print()
    print(f"{'workload':<22} {'libeam /s':>10} {'CAF /s':>10} {'Erlang /s':>10} {'threads /s':>10}"
          f" {'vs CAF':>8} {'vs Erlang':>9} {'vs threads':>10} {'peak MiB (eam/caf/erl)':>24}")
    for name, e in results["workloads"].items():
        s = e["systems"]
        rate = lambda k: fmt_rate(s[k]["throughput"]) if k in s else "-"
        rat = lambda k: f"{ratio(e, k):.2f}x" if ratio(e, k) else "-"
        peak = "/".join(f"{s[k]['peak_mib']:.0f}" if k in s else "-" for k in ("libeam", "caf", "erlang"))
        print(f"{name:<22} {rate('libeam'):>10} {rate('caf'):>10} {rate('erlang'):>10} {rate('threads'):>10}"
              f" {rat('caf'):>8} {rat('erlang'):>9} {rat('threads'):>10} {peak:>24}")


def worker_scaling(names, systems, args):
    """Throughput of the micro group at 1, 2, ... --workers workers, one run each."""
    counts = sorted({1, 2, 4, 8, 16, args.workers} & set(range(1, args.workers + 1)))
    micro = [n for n in names if WORKLOADS[n][0] == "micro"]
    out = {}
    print(f"\nworker scaling of the micro group: {counts}")
    for name in micro:
        group, unit, defaults, scaling = spec(name)
        params = scaled(defaults, scaling, args.size)
        out[name] = {}
        for system in systems:
            if binary_name(name) not in system.workloads() or system.name == "threads":
                continue
            series = {}
            for w in counts:
                result, _ = system.run(name, w, params, args.timeout)
                if result.get("ok") and result["seconds"] > 0:
                    series[w] = result["items"] / result["seconds"]
            out[name][system.name] = series
            print(f"  {name:<22} {system.name:<8} " + "  ".join(f"{w}:{fmt_rate(v)}" for w, v in series.items()),
                  flush=True)
    return out


def charts(results, out):
    if shutil.which("gnuplot") is None:
        print("note: gnuplot not found, no charts (Debian gnuplot-nox)")
        return
    peers = [p for p in ("caf", "erlang", "threads")
             if any(ratio(e, p) for e in results["workloads"].values())]
    data = os.path.join(out, "ratios.dat")
    with open(data, "w") as f:
        f.write("workload " + " ".join(peers) + "\n")
        for name, e in results["workloads"].items():
            f.write(name + " " + " ".join(f"{ratio(e, p):.4f}" if ratio(e, p) else "NaN" for p in peers) + "\n")
    cols = ", ".join(f"'{data}' using {i + 2}:xtic(1) title 'vs {p}'" for i, p in enumerate(peers))
    script = f"""
set terminal pngcairo size 1200,600
set output '{os.path.join(out, "ratios.png")}'
set title 'libeam throughput / peer throughput (higher is better; 1 = parity)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8
set logscale y
set yrange [0.1:*]
set ytics (0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
set grid ytics
set xtics rotate by -35
set key top left
plot {cols}
"""
    plots = [script] if peers else []  # a libeam-only run (e.g. the gen-stage group) has no ratios
    scaling = {name: series for name, series in (results.get("scaling") or {}).items() if series}
    if scaling:
        # One panel per workload, one line per system.
        cols = 3
        rows = (len(scaling) + cols - 1) // cols
        panels = []
        for name, per_system in scaling.items():
            lines = []
            for sname, series in per_system.items():
                path = os.path.join(out, f"scaling-{name}-{sname}.dat")
                with open(path, "w") as f:
                    for w, v in sorted(series.items(), key=lambda kv: int(kv[0])):
                        f.write(f"{w} {v}\n")
                lines.append(f"'{path}' using 1:2 with linespoints title '{sname}'")
            panels.append(f"set title '{name}'\nplot " + ", ".join(lines))
        plots.append(f"""
set terminal pngcairo size 1500,{420 * rows}
set output '{os.path.join(out, "scaling.png")}'
set multiplot layout {rows},{cols} title 'micro group: throughput (work units/s) vs worker threads'
set style data linespoints
unset logscale
set logscale y
set xtics 1
set key bottom left
""" + "\n".join(panels) + "\nunset multiplot\n")
    for i, text in enumerate(plots):
        path = os.path.join(out, f"chart{i}.gp")
        with open(path, "w") as f:
            f.write(text)
        subprocess.run(["gnuplot", path], check=False)
    drawn = (["ratios.png"] if peers else []) + (["scaling.png"] if scaling else [])
    if drawn:
        print(f"charts: {out}: " + ", ".join(drawn))


if __name__ == "__main__":
    sys.exit(main())
