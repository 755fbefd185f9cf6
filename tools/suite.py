#!/usr/bin/env python3
"""The benchmark suite runner: libeam beside CAF, Erlang/OTP, raw threads and the seed (the
TypeScript libeam it follows, on Node.js), in one run.

Runs every selected workload several times per system, interleaved (libeam, CAF, Erlang,
threads, libeam, ...), each run in a fresh process with the same number of worker threads, and
prints one table: median time and throughput per system, min-max, peak memory, and libeam's
throughput ratio to each peer. Writes results.json and PNG charts (gnuplot) to --out.

Every workload checks its own result; a wrong result fails the run loudly.

The remote group runs two processes per run, a server and a client on 127.0.0.1 (libeam's
cluster layer beside Erlang distribution, CAF's middleman and raw ZeroMQ; bench/README.md).

The seed runs from the npm prefix in --seed-dir (default $LIBEAM_SEED_DIR, else
${XDG_CACHE_HOME:-~/.cache}/libeam-cpp/seed-<version>), where tools/eam bench installs the
version pinned in bench/suite/seed/package.json; without it the seed is skipped with a note.
"""
import argparse
import contextlib
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from suite_report import fmt_rate, ratio
import suite_report

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
# Remote: two processes on 127.0.0.1 per run (RemoteSystem below). n scales with --size.
WORKLOADS["remote-cast"] = ("remote", "messages", {"n": 2000000}, ["n"])
WORKLOADS["remote-call"] = ("remote", "calls", {"n": 100000}, ["n"])
WORKLOADS["remote-ping-pong"] = ("remote", "round trips", {"n": 100000}, ["n"])
WORKLOADS["remote-cast-curve"] = ("remote", "messages", {"n": 2000000}, ["n"])
# The cluster services between the two nodes (cluster/README.md).
WORKLOADS["remote-spawn"] = ("remote", "actors", {"n": 10000}, ["n"])
WORKLOADS["remote-gen-stage"] = ("remote", "events", {"n": 5000000}, ["n"])
WORKLOADS["registry-propagation"] = ("remote", "names", {"n": 2000}, ["n"])
WORKLOADS["group-propagation"] = ("remote", "members", {"n": 2000}, ["n"])
WORKLOADS["migration"] = ("remote", "migrations", {"n": 500}, ["n"])
SERVICE_ROWS = {"remote-spawn", "remote-gen-stage", "registry-propagation", "group-propagation", "migration"}
SYSTEMS = ["libeam", "caf", "erlang", "threads", "seed"]
# Seconds of measured work each count's median rests on in the worker sweep, at most (runs are
# added to short rows up to three times the usual number).
SCALING_TARGET_S = 0.25
# The shortest run the worker sweep measures: a system whose fastest run of a row in the main
# measurement took less runs that row with its parameters scaled up in the sweep. A run of a
# millisecond (cigarette-smokers at Savina's size) measures thread start-up and the scheduler's
# first decisions, not how the work scales: its 2-worker median read 0.60x its 1-worker one in a
# full run and 1.02x in an interleaved set of its own, and 0.99x [0.96-1.01] at 20x its size.
# Each system is scaled for its own runs (the sweep compares each with its own 1-worker figure):
# one scale for all made a peer far slower on a short row run far longer (CAF's calls-outside,
# 4 s a run, ran 7.6x larger for libeam's 7 ms).
SCALING_MIN_RUN_S = 0.05
# A row whose paired interval at some count lies wholly below or wholly above 1, with its nearer
# end close to 1 (suite_report.verdict_in_doubt), is measured again in a fresh set of runs, and
# the second set is what the sweep reports. With five pairs the interval is about the range of
# the five ratios: a row with no difference at all has them all on one side of 1 in 1 run of 16,
# so over fifty rows and three systems the first set alone named a few rows that a second set
# read level (big, stage-pc-1000, stage-demand-8 in one full run: 0.95x, 0.92x, 0.98x, then
# 0.987x, 1.007x, 1.008x in 41 pairs). Both directions, so the second look favours no verdict.
# It runs as many rounds as about CONFIRM_BUDGET_S of wall time holds (each system's own
# start-up included), at least as many as the first, at most CONFIRM_MAX_RUNS.
CONFIRM_BUDGET_S = 5.0
CONFIRM_MAX_RUNS = 41
# A row whose CPU per work unit lay near the lowest peer's (suite_report.cpu_in_doubt) is measured
# again in pairs, as many as about CPU_CONFIRM_BUDGET_S of wall time holds (CPU_CONFIRM_PAIRS
# bounds the count), and its verdict rests on their paired interval.
CPU_CONFIRM_BUDGET_S = 20.0
CPU_CONFIRM_PAIRS = (9, 41)
# Every measured run of a local row follows an unmeasured run of the same row, system and worker
# count (--no-warmup: not), and each set of the worker sweep starts with one. On a VM whose
# balloon reports free memory to the host (virtio free page reporting: a pass every few
# seconds), memory a process freed is taken back, and the next process to touch it waits for
# the host to back each page again: 3.5 ms per 2 MiB on the project's VM, against 0.1 ms for
# memory the host still backs. Measured there, libeam's counting on 1 worker took 199-217 ms in
# the run after such a pass and 23-27 ms in the runs back to back before it (the pass reported
# the 78 MB the last run freed). Interleaved with the peers, every run of a row met a pass since
# the same system's last: in one full run counting's libeam median read 61 ms and its worker
# sweep 9.2 M/s on 1 worker, where runs back to back read 31 M/s. That measures how much memory
# a system touches more than its speed, and weighs most on the fastest system's shortest rows.
# The run just before frees the memory the measured one takes again, and a pass between the two
# is rare (a run of tens of milliseconds against a pass every two to three seconds).
WARMUP_DEFAULT = True
REMOTE_SYSTEMS = ["libeam", "erlang", "caf", "zmq", "zmq-batch"]
ALL_SYSTEMS = SYSTEMS + [s for s in REMOTE_SYSTEMS if s not in SYSTEMS]
REMOTE_ROWS = {n for n, w in WORKLOADS.items() if w[0] == "remote"}
# Which remote rows each system runs, and why the others are not applicable.
REMOTE_WORKLOADS = {
    "libeam": REMOTE_ROWS,
    "erlang": REMOTE_ROWS - {"remote-cast-curve", "remote-gen-stage", "migration"},
    "caf": REMOTE_ROWS - {"remote-cast-curve"} - SERVICE_ROWS,
    "zmq": REMOTE_ROWS - SERVICE_ROWS,
    "zmq-batch": {"remote-cast", "remote-cast-curve"},
}
NOT_APPLICABLE = {
    ("erlang", "remote-cast-curve"): "no cheap encrypted distribution (inet_tls_dist needs certificates)",
    ("caf", "remote-cast-curve"): "no cheap encrypted transport (libcaf_openssl needs certificates)",
    ("zmq-batch", "remote-call"): "batching is for one-way casts",
    ("zmq-batch", "remote-ping-pong"): "batching is for one-way casts",
    ("erlang", "remote-gen-stage"): "GenStage is an Elixir library, not part of Erlang/OTP",
    ("erlang", "migration"): "Erlang/OTP does not move a live process between nodes",
}
for _row in SERVICE_ROWS:
    NOT_APPLICABLE[("caf", _row)] = "not written for CAF's middleman"
    NOT_APPLICABLE[("zmq", _row)] = "a transport, not a cluster service"
    NOT_APPLICABLE[("zmq-batch", _row)] = "a transport, not a cluster service"
# Why the seed (bench/suite/seed/, the TypeScript libeam on Node.js) has no version of a local
# row that it does not list; the rows missing here are not written for it.
SEED_NOT_APPLICABLE = {
    "actor-creation": "2^21 actors: the seed spends about 0.2 ms and several KiB per actor it spawns (minutes and GiBs)",
    "skynet": "10^6 actors: the seed spends about 0.2 ms and several KiB per actor it spawns (minutes and GiBs)",
}
for _row, _w in WORKLOADS.items():
    if _w[0] in ("concurrency", "parallelism"):
        SEED_NOT_APPLICABLE[_row] = "the Savina concurrency and parallelism groups are not written for the seed"
for _row, _why in SEED_NOT_APPLICABLE.items():
    NOT_APPLICABLE[("seed", _row)] = _why
SEED_PROGRAM = os.path.join(ROOT, "bench", "suite", "seed")


def seed_version():
    """The seed's version, pinned in one place: the dependency in bench/suite/seed/package.json."""
    with open(os.path.join(SEED_PROGRAM, "package.json")) as f:
        return json.load(f)["dependencies"]["libeam"]


def default_seed_dir():
    """Where tools/eam bench installs the seed: a cache folder outside the repository."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "libeam-cpp", f"seed-{seed_version()}")


# What bench/suite/erlang/eam_suite.erl implements (the C++ binaries answer --list themselves).
ERLANG_WORKLOADS = {"ping-pong", "counting", "fork-join-throughput", "fork-join-create", "thread-ring", "chameneos",
                    "big", "actor-creation", "fan-in", "mixed-case", "skynet", "calls-inside", "calls-outside",
                    # Savina concurrency and parallelism: bench/suite/erlang/eam_savina.erl
                    "concurrent-dictionary", "bounded-buffer", "dining-philosophers", "sleeping-barber",
                    "cigarette-smokers", "bank-transaction", "logistic-map", "trapezoid", "precise-pi", "quicksort",
                    "radix-sort", "recursive-matmul", "n-queens", "fibonacci", "sieve", "apsp", "unbalanced-tree"}


def spec(name):
    """(group, unit, default parameters, scaling rules) of a row."""
    return WORKLOADS[name][:4]


def binary_name(name):
    """The workload a row runs in the systems' binaries (a variant row names its own; a name
    that is no row, such as the core-round-trip probe, is the binary's own)."""
    spec = WORKLOADS.get(name)
    return spec[4] if spec and len(spec) > 4 else name


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
        elif name == "seed":
            # The npm prefix the seed is installed in reaches the program through its
            # environment (main.mjs reads LIBEAM_SEED_DIR; main() sets it from --seed-dir).
            prefix = os.environ.get("LIBEAM_SEED_DIR") or default_seed_dir()
            installed = os.path.join(prefix, "node_modules", "libeam", "package.json")
            version = None
            if os.path.exists(installed):
                with open(installed) as f:
                    version = json.load(f).get("version")
            self.available = shutil.which("node") is not None and version == seed_version()
            self.why = ("node is not installed (Debian nodejs)" if shutil.which("node") is None else
                        f"libeam {seed_version()} is not installed in {prefix} (tools/eam bench installs it; "
                        f"--seed-dir names another npm prefix)")
        else:
            binary = {"libeam": "eam_suite", "caf": "caf_suite", "threads": "threads_suite"}[name]
            self.binary = os.path.join(bench, binary)
            self.available = os.path.exists(self.binary)
            self.why = f"{self.binary} is not built" + (" (Debian libcaf-dev)" if name == "caf" else "")
        self._list = None

    def program(self):
        """The command line before the arguments (a binary, or Node.js running the seed's program)."""
        return ["node", os.path.join(SEED_PROGRAM, "main.mjs")] if self.name == "seed" else [self.binary]

    def workloads(self):
        if self._list is None:
            if self.name == "erlang":
                self._list = ERLANG_WORKLOADS
            else:
                out = subprocess.run(self.program() + ["--list"], capture_output=True, text=True, check=True)
                self._list = set(out.stdout.split())
        return self._list

    def command(self, workload, workers, params):
        args = ["--workload", binary_name(workload), "--workers", str(workers)]
        for k, v in params.items():
            args += ["--" + k, str(v)]
        if self.name == "erlang":
            return ["erl", "-noshell", f"+S{workers}:{workers}", "+P", "10000000", "-pa", self.beam_dir,
                    "-run", "eam_suite", "main", "-extra"] + args
        return self.program() + args

    def run(self, workload, workers, params, timeout):
        """One run in a fresh process: (result dict, the process's peak resident MiB). The dict
        has cpu_s, user + system CPU seconds of the process over the timed span."""
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            proc = subprocess.Popen(self.command(workload, workers, params), stdout=out, stderr=err)
            deadline = time.time() + timeout
            try:
                while True:  # wait4 rather than wait: it reports this child's own peak memory
                    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                    if pid:
                        break
                    if time.time() > deadline:
                        proc.kill()
                        os.wait4(proc.pid, 0)
                        return {"ok": False, "timed_out": True, "detail": f"timed out after {timeout} s"}, 0.0
                    time.sleep(0.005)
            except BaseException:  # the suite is stopped (SIGTERM, Ctrl-C): so is its run
                with contextlib.suppress(ChildProcessError, ProcessLookupError):  # reaped already
                    proc.kill()
                    os.wait4(proc.pid, 0)
                raise
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        peak = usage.ru_maxrss / 1024.0
        lines = [l for l in stdout.splitlines() if l.startswith("{")]
        if not lines:
            return {"ok": False, "detail": (stderr or stdout).strip()[-300:] or f"exit {proc.returncode}"}, peak
        result = json.loads(lines[-1])
        # The binaries report the CPU of their timed span; otherwise the whole process's (its
        # start and stop included).
        result.setdefault("cpu_s", usage.ru_utime + usage.ru_stime)
        # And their own peak memory (VmHWM): wait4's counts this Python's too, about 24 MiB
        # under every row (resident_peak).
        reported = result.pop("peak_mib", None)
        if isinstance(reported, (int, float)) and reported > 0:
            peak = float(reported)
        if proc.returncode != 0:
            result["ok"] = False
        return result, peak


def resident_peak(pid):
    """The process's peak resident MiB so far (VmHWM), or None once it is gone. Unlike wait4's
    ru_maxrss this starts at the exec: a child forked from this Python process otherwise shows
    at least the suite's own ~20 MiB, which would hide a flat sender."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


class Child:
    """A child process of a remote run, waited for with wait4 while its peak memory is sampled."""

    def __init__(self, proc):
        # Popen stays referenced and learns the exit status from us: otherwise its finaliser
        # or subprocess's clean-up of forgotten children would reap the pid behind our back.
        self.proc = proc
        self.pid = proc.pid
        self.peak = None  # MiB, from /proc while it runs
        self.status = self.usage = None

    def sample(self):
        if self.status is None:
            hwm = resident_peak(self.pid)
            if hwm:  # None or 0 while it exits
                self.peak = max(self.peak or 0.0, hwm)

    def wait(self, deadline, watch=()):
        """Waits until `deadline`, sampling its peak (and that of the `watch` children) every few
        ms, so only growth in the last few ms before an exit is missed. True once it exited."""
        while True:
            done, status, usage = os.wait4(self.pid, os.WNOHANG)
            if done:
                self.status, self.usage = status, usage
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                return True
            for c in (self, *watch):
                c.sample()
            if time.time() > deadline:
                return False
            time.sleep(0.005)

    def peak_mib(self):
        return self.peak if self.peak is not None else self.usage.ru_maxrss / 1024.0

    def exit_code(self):
        return os.waitstatus_to_exitcode(self.status)

    def end(self, grace):
        """Waits `grace` seconds for it to exit by itself, then SIGTERM, then SIGKILL, and reaps
        it. Returns how it ended: "exited", "terminated" or "killed". The pid is only signalled
        while unreaped, so it cannot belong to another process."""
        if self.status is not None:
            return "exited"
        for how, sig, wait in (("exited", None, grace), ("terminated", signal.SIGTERM, 5),
                               ("killed", signal.SIGKILL, 60)):
            if sig is not None:
                os.kill(self.pid, sig)
            if self.wait(time.time() + wait):
                return how
        raise RuntimeError(f"process {self.pid} survived SIGKILL")


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Epmd:
    """A private epmd for the remote group's Erlang nodes, on a port of its own and 127.0.0.1
    only: the suite never touches an epmd that was running before (nor depends on one), two
    suites (parallel ctest) never share one, and this one is ended by its pid at the end. The
    nodes find it through ERL_EPMD_PORT and start with -start_epmd false, so no node starts
    another epmd behind our back."""

    def __init__(self):
        self.proc = None
        self.port = None

    def ensure(self):
        if self.proc is not None and self.proc.poll() is None:
            return self.port
        for _ in range(5):  # a port taken between free_port() and epmd's bind: try another
            port = free_port()
            proc = subprocess.Popen(["epmd", "-port", str(port), "-address", "127.0.0.1"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.time() + 10
            while proc.poll() is None and time.time() < deadline:
                names = subprocess.run(["epmd", "-port", str(port), "-names"], capture_output=True)
                if names.returncode == 0:
                    self.proc, self.port = proc, port
                    return port
                time.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        raise RuntimeError("could not start a private epmd")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class RemoteSystem:
    """One system of the remote group: each run is a server process and a client process on
    127.0.0.1 (the contract in bench/README.md, "The remote group"). The server prints
    `READY <port> [<key>]`; the client gets `--connect 127.0.0.1:<port>` (and `--server-key
    <key>`), runs the workload and prints the JSON line. The server checks what arrived and may
    print its own JSON line; ok=false there fails the run too. Both peaks are reported."""

    BINARIES = {"libeam": "eam_remote_suite", "caf": "caf_remote_suite", "zmq": "zmq_remote_suite",
                "zmq-batch": "zmq_remote_suite"}
    READY_TIMEOUT = 60  # seconds for a server to start listening (a BEAM node takes about one)
    SERVER_GRACE = 10  # seconds a server gets to exit by itself once its client is done
    BATCH = 256  # small messages per zmq message for zmq-batch

    def __init__(self, name, build, epmd):
        self.name = name
        self.epmd = epmd
        self.runs = 0  # numbers the Erlang nodes' names
        self.curve_cookie = None  # libeam's remote-cast-curve: a fresh cookie per run
        bench = os.path.join(build, "bench")
        if name == "erlang":
            self.beam_dir = os.path.join(bench, "erlang")
            self.available = all(shutil.which(p) for p in ("erl", "epmd")) and os.path.exists(
                os.path.join(self.beam_dir, "erl_remote_suite.beam"))
            self.why = "erl, epmd or the compiled erl_remote_suite.beam is missing (Debian erlang-base)"
            self.cookie = secrets.token_hex(16)
        else:
            self.binary = os.path.join(bench, self.BINARIES[name])
            self.available = os.path.exists(self.binary)
            self.why = f"{self.binary} is not built" + {
                "libeam": " (libeam's remote program, bench/suite/remote/)",
                "caf": " (Debian libcaf-dev: caf_io)", "zmq": " (Debian libzmq3-dev)",
                "zmq-batch": " (Debian libzmq3-dev)"}[name]

    def workloads(self):
        return REMOTE_WORKLOADS[self.name]

    def command(self, role, workload, workers, params, connect):
        args = ["--role", role, "--workload", binary_name(workload), "--workers", str(workers)]
        args += ["--port", "0"] if role == "server" else connect
        for k, v in params.items():
            args += ["--" + k, str(v)]
        if self.name == "zmq-batch" and role == "client":
            args += ["--batch", str(self.BATCH)]
        if self.name == "libeam" and workload == "remote-cast-curve":
            args += ["--cookie", self.curve_cookie]  # libeam's encryption is keyed by the cookie
        if self.name == "erlang":
            node = f"eam{'s' if role == 'server' else 'c'}{os.getpid()}x{self.runs}@127.0.0.1"
            return ["erl", "-noshell", "-name", node, "-setcookie", self.cookie, "-start_epmd", "false",
                    "-kernel", "inet_dist_use_interface", "{127,0,0,1}", f"+S{workers}:{workers}",
                    "-pa", self.beam_dir, "-run", "erl_remote_suite", "main", "-extra"] + args
        return [self.binary] + args

    def connect_args(self, ready):
        """The client's arguments from the tokens after READY."""
        if self.name == "erlang":
            return ["--connect", ready[0]]  # a node name: nodes are found through epmd, not by port
        args = ["--connect", f"127.0.0.1:{ready[0]}"]
        if len(ready) > 1:
            args += ["--server-key", ready[1]]  # zmq CURVE: the server's public key
        return args

    def run(self, workload, workers, params, timeout):
        """One run, server then client: (client's result + both peaks, the larger peak MiB)."""
        self.runs += 1
        self.curve_cookie = secrets.token_hex(16)
        env = dict(os.environ)
        if self.name == "erlang":
            env["ERL_EPMD_PORT"] = str(self.epmd.ensure())
        with tempfile.TemporaryFile("w+") as server_err, tempfile.TemporaryFile("w+") as out, \
                tempfile.TemporaryFile("w+") as err:
            proc = subprocess.Popen(self.command("server", workload, workers, params, None), stdout=subprocess.PIPE,
                                    stderr=server_err, text=True, env=env)
            server = Child(proc)
            server.sample()
            ready, server_lines, got_ready = [], [], threading.Event()

            def read_server():  # READY first, then whatever the server prints (its JSON line)
                for line in proc.stdout:
                    if not got_ready.is_set() and line.startswith("READY"):
                        ready.extend(line.split()[1:])
                        got_ready.set()
                    else:
                        server_lines.append(line)
                got_ready.set()  # end of output: the server died before READY

            reader = threading.Thread(target=read_server, daemon=True)
            reader.start()
            client, result, finished = None, None, False
            try:
                got_ready.wait(self.READY_TIMEOUT)
                if not ready:
                    result = {"ok": False, "detail": "the server printed no READY line"}
                else:
                    client = Child(subprocess.Popen(self.command("client", workload, workers, params,
                                                                 self.connect_args(ready)),
                                                    stdout=out, stderr=err, env=env))
                    if not client.wait(time.time() + timeout, watch=[server]):
                        result = {"ok": False, "detail": f"timed out after {timeout} s"}
                finished = True
            finally:
                if client is not None:  # timed out, or interrupted: never leave it running
                    client.end(0)
                how = server.end(self.SERVER_GRACE if finished else 0)
                reader.join(5)
            server_err.seek(0)
            server_stderr = server_err.read().strip()
            if result is None:
                out.seek(0)
                err.seek(0)
                stdout, stderr = out.read(), err.read()
                lines = [l for l in stdout.splitlines() if l.startswith("{")]
                if not lines:
                    result = {"ok": False,
                              "detail": (stderr or stdout).strip()[-300:] or f"client exit {client.exit_code()}"}
                else:
                    result = json.loads(lines[-1])
                    if client.exit_code() != 0:
                        result["ok"] = False
            elif not ready and server_stderr:
                result["detail"] += ": " + server_stderr[-300:]
        server_json = [json.loads(l) for l in server_lines if l.startswith("{")]
        if server_json and not server_json[-1].get("ok", True):
            result["ok"] = False
            result["detail"] = "server: " + str(server_json[-1].get("detail"))
        if how == "exited" and server.exit_code() != 0 and result.get("ok"):
            result["ok"] = False
            result["detail"] = f"server exited {server.exit_code()}: {server_stderr[-300:]}"
        if how == "killed":
            result["detail"] = str(result.get("detail", "")) + " (the server had to be killed)"
        result.setdefault("items", params.get("n"))
        client_peak = client.peak_mib() if client is not None else 0.0
        result["client_peak_mib"], result["server_peak_mib"] = client_peak, server.peak_mib()
        return result, max(client_peak, server.peak_mib())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="list workloads and systems, then exit")
    parser.add_argument("--names", action="store_true", help=argparse.SUPPRESS)  # for CMake
    # tools/eam bench: the arguments checked before it builds and runs the smoke.
    parser.add_argument("--check-args", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--replot", action="store_true", help="print the summary and redraw the charts of --out/results.json, then exit")
    parser.add_argument("--markdown", action="store_true",
                        help="with --replot: print --out/results.json as the README's performance tables (Markdown) instead")
    parser.add_argument("--workloads", help="comma-separated names (default: all)")
    parser.add_argument("--groups", help="comma-separated: micro, concurrency, parallelism, caf-paper, extra, "
                                         "gen-stage, remote, membership")
    parser.add_argument("--systems", default=",".join(ALL_SYSTEMS),
                        help="comma-separated: " + ", ".join(ALL_SYSTEMS) + " (zmq, zmq-batch: remote group only)")
    parser.add_argument("--reps", type=int, help="runs per workload and system (default 5)")
    # The CPUs this process may run on (its affinity mask, as nproc counts them), not the
    # machine's: pinned to 2 of 16 CPUs, every system would otherwise get 16 threads on 2 CPUs.
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="worker threads for every system")
    parser.add_argument("--size", type=float, help="scales every workload (default 1 = published defaults)")
    parser.add_argument("--quick", action="store_true", help="size 0.1, one run each, no worker scaling, no CPU pairs")
    parser.add_argument("--verify", action="store_true",
                        help="run each workload once at --size on every system and only check the results")
    parser.add_argument("--scaling", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure every local row at 1..--workers workers (default on)")
    parser.add_argument("--scaling-reps", type=int,
                        help="runs per worker count in that sweep, before short rows get more (default: --reps, "
                             "at most 3); more runs narrow the spread a row slower with more workers is judged by")
    parser.add_argument("--cpu-pairs", action=argparse.BooleanOptionalAction, default=True,
                        help="measure again, in pairs with the lowest peer, the rows whose CPU per work unit lay "
                             "near that peer's (default on; suite_report.CPU_DOUBT_FACTOR)")
    parser.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=WARMUP_DEFAULT,
                        help="run each measured local run once unmeasured just before it, and start each set of "
                             "the worker sweep with such a run, so that runs meet memory the host still backs "
                             "(default on; bench/README.md)")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "suite"), help="output directory")
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "release"), help="Release build directory")
    parser.add_argument("--timeout", type=int, default=600, help="seconds before one run is killed")
    parser.add_argument("--seed-dir", default=os.environ.get("LIBEAM_SEED_DIR") or default_seed_dir(),
                        help="npm prefix holding the seed, libeam " + seed_version() + " from npm (default "
                             "$LIBEAM_SEED_DIR, else %(default)s; tools/eam bench installs it there)")
    args = parser.parse_args()
    # Given or not (--quick overrides what was not given, and says what it overrides).
    reps_given, size_given = args.reps is not None, args.size is not None
    args.reps = 5 if args.reps is None else args.reps
    args.size = 1.0 if args.size is None else args.size
    # What cannot measure anything is refused before anything runs (each ran, or failed later).
    if args.markdown and not args.replot:
        parser.error("--markdown goes with --replot (it prints a results.json already measured)")
    if args.reps < 1:
        parser.error("--reps takes at least 1")
    if args.size <= 0:
        parser.error("--size takes a positive scale (1 = published defaults)")
    if args.workers < 1:
        parser.error("--workers takes at least 1")
    if args.groups:
        known_groups = {WORKLOADS[n][0] for n in WORKLOADS} | {"membership"}
        unknown_groups = [g for g in args.groups.split(",") if g not in known_groups]
        if unknown_groups:
            parser.error("unknown groups: " + ", ".join(unknown_groups) + " (one of " +
                         ", ".join(sorted(known_groups)) + ")")
    if args.check_args:
        unknown = [n for n in (args.workloads or "").split(",") if n and n not in WORKLOADS]
        if unknown:
            parser.error("unknown workloads: " + ", ".join(unknown) + " (see --list)")
        unknown = [s for s in args.systems.split(",") if s not in ALL_SYSTEMS]
        if unknown:
            parser.error(f"unknown system {unknown[0]} (one of {', '.join(ALL_SYSTEMS)})")
        return 0
    os.environ["LIBEAM_SEED_DIR"] = args.seed_dir  # for System("seed") and the seed's processes
    if args.quick:
        overridden = [f"--{o}" for o, given, value, quick in (("reps", reps_given, args.reps, 1),
                                                                   ("size", size_given, args.size, min(args.size, 0.1)))
                      if given and value != quick]
        if overridden:
            print(f"note: --quick runs one rep at size 0.1 at most: {', '.join(overridden)} overridden")
        args.size, args.reps, args.scaling, args.cpu_pairs = min(args.size, 0.1), 1, False, False

    if args.replot:
        results_path = os.path.join(args.out, "results.json")
        if not os.path.exists(results_path):
            parser.error(f"--replot: no {results_path} (run the suite with this --out first)")
        with open(results_path) as f:
            results = json.load(f)
        if args.markdown:
            suite_report.print_markdown(results)
            return 0
        print_summary(results)
        suite_report.charts(results, args.out)
        return 0
    if args.names:
        print(";".join(WORKLOADS))
        return 0
    if args.list:
        print(f"{'workload':<22} {'group':<12} {'unit':<14} parameters at size 1")
        for name, (group, unit, defaults, _) in ((n, spec(n)) for n in WORKLOADS):
            print(f"{name:<22} {group:<12} {unit:<14} " + " ".join(f"{k}={v}" for k, v in defaults.items()))
        print("systems: " + ", ".join(SYSTEMS) + "; remote group: " + ", ".join(REMOTE_SYSTEMS))
        return 0

    # The remote group only runs when asked for (--groups remote, or its rows by name): on the
    # two-core reference machine its five reps take about 8 minutes, most of a plain run again.
    names = [n for n in WORKLOADS if WORKLOADS[n][0] != "remote" or args.groups]
    if not args.groups and not args.workloads:
        print("note: the remote group runs only when asked for: --groups remote (bench/README.md)")
    if args.workloads:
        names = [n for n in args.workloads.split(",") if n]
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            parser.error("unknown workloads: " + ", ".join(unknown) + " (see --list)")
    if args.groups:
        groups = set(args.groups.split(","))
        names = [n for n in names if WORKLOADS[n][0] in groups]
        # Membership is measured in seconds and bytes against cluster size, not beside peers'
        # throughput: its own runner (tools/membership_bench.py).
        if "membership" in groups:
            import membership_bench
            membership_bench.run(args.build, args.out, args.quick, args.timeout)
            if not names:
                return 0
    # Local rows run on System, remote rows on RemoteSystem; a name such as libeam has one of
    # each. Only the kinds the selected rows need are looked at.
    epmd = Epmd()
    local_rows = any(WORKLOADS[n][0] != "remote" for n in names)
    remote_rows = any(WORKLOADS[n][0] == "remote" for n in names)
    systems = []
    for s in args.systems.split(","):
        if s not in ALL_SYSTEMS:
            parser.error(f"unknown system {s} (one of {', '.join(ALL_SYSTEMS)})")
        kinds = ([System(s, args.build)] if local_rows and s in SYSTEMS else []) + \
                ([RemoteSystem(s, args.build, epmd)] if remote_rows and s in REMOTE_SYSTEMS else [])
        for system in kinds:
            if system.available:
                systems.append(system)
            else:
                where = " (remote group)" if isinstance(system, RemoteSystem) else ""
                print(f"note: skipping {s}{where}: {system.why}")
    if not systems:
        sys.exit("suite: no system to run")

    # Remote runs leave processes behind only if the suite dies between starting and ending
    # them: turn SIGTERM into an exception so their cleanup (and epmd's) runs.
    def terminated(*_):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the clean-up finish
        sys.exit(143)

    signal.signal(signal.SIGTERM, terminated)
    try:
        if args.verify:
            return verify(names, systems, args)
        return measure(names, systems, args)
    finally:
        epmd.stop()


def serves(system, name):
    return binary_name(name) in system.workloads()


def not_applicable(name, systems):
    """{system: reason} for the selected remote systems that have no version of row `name`, and
    for the seed on a local row it has no version of."""
    return {s.name: NOT_APPLICABLE.get((s.name, name), "not implemented") for s in systems
            if (isinstance(s, RemoteSystem) and WORKLOADS[name][0] == "remote" or
                s.name == "seed" and WORKLOADS[name][0] != "remote") and not serves(s, name)}


def verify(names, systems, args):
    failures = 0
    for name in names:
        group, unit, defaults, scaling = spec(name)
        params = scaled(defaults, scaling, args.size)
        for system in systems:
            if not serves(system, name):
                continue
            result, _ = system.run(name, min(args.workers, 2), params, args.timeout)
            status = "ok" if result.get("ok") else "WRONG"
            failures += status != "ok"
            print(f"{name:<22} {system.name:<8} {status}  {result.get('detail', '')}")
        for sname, why in not_applicable(name, systems).items():
            print(f"{name:<22} {sname:<8} n/a: {why}")
    if failures:
        print(f"suite: {failures} workload run(s) computed a wrong result")
        return 1
    return 0


def warm_run(system, name, workers, params, timeout, warmup):
    """One measured run, after an unmeasured one of the same row, system and worker count when
    `warmup` (WARMUP_DEFAULT): (result, peak MiB) as System.run. A warm-up that fails (a wrong
    result, a timeout) is returned instead, so that it is reported as the measured run would be."""
    if warmup:
        result, peak = system.run(name, workers, params, timeout)
        if not result.get("ok"):
            return result, peak
    return system.run(name, workers, params, timeout)


def measure(names, systems, args):
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    # "complete" turns true at the end: until then results.json holds the rows measured so far
    # (save_results after each), so a run cut short (a time limit, a lent machine given back)
    # keeps them, and --replot reads them.
    results = {"workers": args.workers, "size": args.size, "reps": args.reps, "complete": False, "workloads": {}}
    failures = []
    print(f"libeam benchmark suite: {len(names)} workloads x {', '.join(s.name for s in systems)}; "
          f"{args.workers} workers each, size {args.size}, {args.reps} runs, interleaved")
    local_rows = any(WORKLOADS[n][0] != "remote" for n in names)
    round_trip_start = core_round_trip_ns(args) if local_rows else None
    for name in names:
        group, unit, defaults, scaling = spec(name)
        params = scaled(defaults, scaling, args.size)
        runs = {s.name: [] for s in systems if serves(s, name)}
        failed = {}  # system: what went wrong, for a system none of whose runs measured anything
        for _ in range(args.reps):
            for system in systems:
                if not serves(system, name):
                    continue
                result, peak = warm_run(system, name, args.workers, params, args.timeout,
                                        args.warmup and group != "remote")
                if not result.get("ok"):
                    failures.append(f"{name} on {system.name}: {result.get('detail')}")
                    # A run that was killed at --timeout measured nothing; it did not answer wrong.
                    timed_out = bool(result.get("timed_out"))
                    print(f"  {'TIMED OUT' if timed_out else 'WRONG RESULT'}: {name} on {system.name}: "
                          f"{result.get('detail')}", flush=True)
                    failed[system.name] = "timed out" if timed_out else "wrong"
                    continue
                run = {"seconds": result["seconds"], "items": result["items"], "peak_mib": peak,
                       "cpu_s": result.get("cpu_s")}
                for k in ("client_peak_mib", "server_peak_mib", "p50_us", "p99_us"):  # remote rows
                    if k in result:
                        run[k] = result[k]
                runs[system.name].append(run)
        entry = {"group": group, "unit": unit, "params": params, "systems": {}}
        if not_applicable(name, systems):
            entry["not_applicable"] = not_applicable(name, systems)
        if any(not runs[k] for k in failed):  # the tables say so, not "-" as for a system not run
            entry["failed"] = {k: why for k, why in failed.items() if not runs[k]}
        for sname, rs in runs.items():
            if not rs:
                continue
            secs = [r["seconds"] for r in rs]
            med = statistics.median(secs)
            entry["systems"][sname] = {
                "median_s": med, "min_s": min(secs), "max_s": max(secs),
                "throughput": rs[0]["items"] / med if med > 0 else None,
                "peak_mib": max(r["peak_mib"] for r in rs), "runs": len(rs)}
            if all(r["cpu_s"] is not None for r in rs):
                # CPU per work unit: what a user pays beside throughput (an idle worker that
                # spins shows here, not in the rate). The median run's, like the time.
                cpu = statistics.median(r["cpu_s"] for r in rs)
                entry["systems"][sname]["cpu_s"] = cpu
                entry["systems"][sname]["cpu_us_per_item"] = cpu * 1e6 / rs[0]["items"]
            for k in ("client_peak_mib", "server_peak_mib"):
                if k in rs[0]:
                    entry["systems"][sname][k] = max(r[k] for r in rs)
            for k in ("p50_us", "p99_us"):  # the median over the runs
                if k in rs[0]:
                    entry["systems"][sname][k] = statistics.median(r[k] for r in rs)
        results["workloads"][name] = entry
        save_results(results, args.out)
        print_entry(name, entry)

    if args.cpu_pairs:
        cpu_pairs(names, systems, results, args)
    if args.scaling and local_rows and args.workers > 1:
        results["scaling"], results["scaling_runs"], results["scaling_screens"] = worker_scaling(names, systems, results, args)
    if round_trip_start is not None:
        results["core_round_trip_ns"] = {"start": round_trip_start, "end": core_round_trip_ns(args)}
    results["elapsed_s"] = time.time() - started
    results["complete"] = True
    save_results(results, args.out)
    print_summary(results)
    suite_report.charts(results, args.out)
    print(f"results: {os.path.join(args.out, 'results.json')} ({results['elapsed_s']:.0f} s)")
    if args.quick:  # one run of a tenth of each workload: a row of a few milliseconds moves a lot
        print("note: --quick runs each row once at a tenth of its size, to see that everything runs; its ratios "
              "move several-fold from run to run (bench/README.md: compare full runs)")
    if failures:
        print("suite: FAILED, runs that timed out or answered wrong:\n  " + "\n  ".join(failures))
        return 1
    return 0


def save_results(results, out):
    """Writes out/results.json whole: through a file beside it and a rename, so that a run killed
    while writing leaves the last whole version, never half of one."""
    path = os.path.join(out, "results.json")
    with open(path + ".part", "w") as f:
        json.dump(results, f, indent=2)
    os.replace(path + ".part", path)


def cpu_pairs(names, systems, results, args):
    """Measures again, in pairs, the rows whose CPU per work unit lay near the lowest peer's
    (suite_report.cpu_in_doubt): runs of libeam and of that peer in turn, after one unmeasured run of
    each, at the main measurement's worker count and size. Each such row's entry gains
    "cpu_pairs": {"peer": name, "libeam": [CPU microseconds per unit of each run], peer: [...]}."""
    by_name = {s.name: s for s in systems}
    if "libeam" not in by_name:
        return
    for name in names:
        entry = results["workloads"].get(name)
        if not entry or entry["group"] in ("remote", "gen-stage") or not suite_report.cpu_in_doubt(entry):
            continue
        peer, lowest = suite_report.lowest_peer_cpu(entry)
        mine = suite_report.cpu_per_item(entry, "libeam")
        pair = [by_name["libeam"], by_name[peer]]
        params, timeout = entry["params"], args.timeout
        round_s = sum(entry["systems"][s.name]["median_s"] for s in pair)
        count = max(CPU_CONFIRM_PAIRS[0],
                    min(CPU_CONFIRM_PAIRS[1], math.ceil(CPU_CONFIRM_BUDGET_S / max(round_s, 1e-3))))
        print(f"  {name:<22} CPU per unit {mine / lowest:.2f}x {peer}'s, near 1: {count} pairs again", flush=True)
        per_unit = {s.name: [] for s in pair}
        if args.warmup:
            for s in pair:
                s.run(name, args.workers, params, timeout)
        for _ in range(count):
            runs = [s.run(name, args.workers, params, timeout)[0] for s in pair]
            failed = [f"{s.name}: {r.get('detail')}" for s, r in zip(pair, runs) if not r.get("ok")]
            if failed or any(r.get("cpu_s") is None for r in runs):
                # Left out whole, so that the other pairs stay paired.
                print(f"  {name:<22} a pair left out: " + "; ".join(failed or ["no CPU figure"]), flush=True)
                continue
            for s, r in zip(pair, runs):
                per_unit[s.name].append(r["cpu_s"] * 1e6 / r["items"])
        entry["cpu_pairs"] = {"peer": peer, **per_unit}
        save_results(results, args.out)
        paired = suite_report.cpu_paired(entry)
        if paired:
            print(f"  {name:<22} CPU per unit libeam/{peer} {paired[1]:.2f}x [{paired[2]:.2f}-{paired[3]:.2f}] "
                  f"({len(per_unit['libeam'])} pairs)", flush=True)


def print_entry(name, entry):
    print(f"{name} ({entry['unit']}/s; " + " ".join(f"{k}={v}" for k, v in entry["params"].items()) + ")")
    for sname, s in entry["systems"].items():
        line = (f"  {sname:<9} {s['median_s'] * 1000:>10.1f} ms  {fmt_rate(s['throughput']):>9}/s"
                f"  [{s['min_s'] * 1000:.1f}-{s['max_s'] * 1000:.1f} ms]  peak {s['peak_mib']:.0f} MiB")
        if "cpu_s" in s:  # CPU over the timed span: per work unit, and as a share of one core
            line += f"  cpu {s['cpu_us_per_item'] * 1000:.1f} ns/item ({100 * s['cpu_s'] / max(s['median_s'], 1e-9):.0f}%)"
        if "client_peak_mib" in s:  # remote: both processes; the client is the sender
            line += f" (client {s['client_peak_mib']:.0f}, server {s['server_peak_mib']:.0f})"
        if "p50_us" in s:
            line += f"  p50 {s['p50_us']:.1f} us, p99 {s['p99_us']:.1f} us"
        print(line, flush=True)
    for sname, why in entry.get("not_applicable", {}).items():
        print(f"  {sname:<9} n/a: {why}", flush=True)
    for sname, why in entry.get("failed", {}).items():
        print(f"  {sname:<9} no figure: every run {'timed out' if why == 'timed out' else 'answered wrong'}",
              flush=True)


def core_round_trip_ns(args):
    """Nanoseconds for two threads to hand one flag back and forth through one cache line (the
    threads binary's core-round-trip probe, median of 3), or None without that binary. Rows whose
    messages cross cores move with it, and on a VM it moves with the host's placement."""
    probe = System("threads", args.build)
    if not probe.available or "core-round-trip" not in probe.workloads():
        return None
    times = []
    for _ in range(3):
        result, _ = probe.run("core-round-trip", 2, {"n": 200000}, 60)
        if result.get("ok"):
            times.append(result["seconds"] * 1e9 / result["items"])
    return statistics.median(times) if times else None


def print_summary(results):
    local = {n: e for n, e in results["workloads"].items() if e["group"] != "remote"}
    remote = {n: e for n, e in results["workloads"].items() if e["group"] == "remote"}
    suite_report.print_summary(local)
    trip = results.get("core_round_trip_ns")
    if trip and trip.get("start") and trip.get("end"):
        print(f"\ncross-core round trip of this machine (two threads, one cache line): {trip['start']:.0f} ns at "
              f"the start, {trip['end']:.0f} ns at the end")
    if remote:
        print_remote_summary(remote)
    if results.get("complete") is False:  # files from before the key are whole runs
        rows = len(results["workloads"])
        print(f"\nnote: a run cut short: {rows} row{'s' if rows != 1 else ''} measured, "
              f"{len(results.get('scaling') or {})} of them in the worker sweep")


def print_remote_summary(remote):
    """The remote group's three tables: throughput and libeam's ratios; both processes' peak
    memory (the client is the cast rows' sender: flow control shows there); call latency."""
    names = REMOTE_SYSTEMS
    peers = [p for p in names if p != "libeam"]
    label = {"libeam": "libeam", "erlang": "Erlang", "caf": "CAF", "zmq": "zmq", "zmq-batch": "zmq-batch"}

    def cell(e, k, f):
        if k in e["systems"]:
            return f(e["systems"][k])
        return suite_report.no_figure(e, k)

    print()
    print(f"{'remote workload':<20}" + "".join(f" {label[k] + ' /s':>12}" for k in names)
          + "".join(f" {'vs ' + label[p]:>12}" for p in peers))
    for name, e in remote.items():
        rat = lambda p: f"{ratio(e, p):.2f}x" if ratio(e, p) else suite_report.no_figure(e, p)
        print(f"{name:<20}" + "".join(f" {cell(e, k, lambda s: fmt_rate(s['throughput'])):>12}" for k in names)
              + "".join(f" {rat(p):>12}" for p in peers))
    print(f"{'peak MiB client/server':<20}" + "".join(f" {label[k]:>12}" for k in names))
    for name, e in remote.items():
        mem = lambda s: f"{s.get('client_peak_mib', 0):.0f}/{s.get('server_peak_mib', 0):.0f}"
        print(f"{name:<20}" + "".join(f" {cell(e, k, mem):>12}" for k in names))
    timed = {n: e for n, e in remote.items() if any("p50_us" in s for s in e["systems"].values())}
    if timed:
        print(f"{'latency us p50/p99':<20}" + "".join(f" {label[k]:>12}" for k in names))
        for name, e in timed.items():
            lat = lambda s: f"{s['p50_us']:.0f}/{s['p99_us']:.0f}" if "p50_us" in s else "-"
            print(f"{name:<20}" + "".join(f" {cell(e, k, lat):>12}" for k in names))
    for name, e in remote.items():
        for sname, why in e.get("not_applicable", {}).items():
            print(f"  n/a: {name} on {sname}: {why}")


def sweep_stretch(name, system_name, results):
    """How much the worker sweep scales a row's parameters up for one system: enough for its
    fastest run in the main measurement to last SCALING_MIN_RUN_S (1 when it did, or when there
    is none). The fastest, not the median: a short row's runs can differ tenfold
    (cigarette-smokers: 0.8 and 8.5 ms), and the slow ones are what the longer runs are meant
    to average out."""
    measured = results["workloads"].get(name, {}).get("systems", {}).get(system_name)
    if not measured or not 0 < measured["min_s"] < SCALING_MIN_RUN_S:
        return 1.0
    return SCALING_MIN_RUN_S / measured["min_s"]


def worker_scaling(names, systems, results, args):
    """Throughput of every local row at 1, 2, 4, ... --workers workers: the median of the runs
    per count. Every count is measured here, --workers included, with the counts interleaved
    run by run (1, 2, 1, 2, ...): on a machine whose speed drifts, counts measured minutes apart
    would compare the drift. A system whose run of a row lasted under SCALING_MIN_RUN_S runs it
    larger here (sweep_stretch), and rows still short get more runs (up to three times as many), so
    that each count's median rests on about SCALING_TARGET_S of work. A row whose paired
    interval then lies off 1, near it, is measured again, and the second set is the one kept
    (CONFIRM_BUDGET_S); the first sets of those rows are returned too. Rows whose throughput at
    some count falls below that at 1 worker are listed (the engine's goal: none)."""
    counts = sorted({1, 2, 4, 8, 16, args.workers} & set(range(1, args.workers + 1)))
    local = [n for n in names if WORKLOADS[n][0] != "remote"]
    base_reps = args.scaling_reps if args.scaling_reps else min(args.reps, 3)
    out, runs, screens = {}, {}, {}
    print(f"\nworker scaling of every local row: {counts} workers, interleaved, median of "
          f"{base_reps} to {3 * base_reps} runs")
    for name in local:
        group, unit, defaults, scaling = spec(name)
        out[name] = {}
        for system in systems:
            # Raw threads and the seed (one Node.js thread) have no worker count to vary.
            if not serves(system, name) or system.name in ("threads", "seed"):
                continue
            stretch = sweep_stretch(name, system.name, results)
            params = scaled(defaults, scaling, args.size * stretch)
            if stretch != 1.0:
                print(f"  {name:<22} {system.name:<8} runs {stretch:.1f}x larger here: "
                      + ", ".join(f"{k} {v}" for k, v in params.items()), flush=True)
            measured = results["workloads"].get(name, {}).get("systems", {}).get(system.name)
            expected_s = measured["median_s"] * stretch if measured else 0
            # A run far slower than the main measurement is cut short, once: CAF's
            # sleeping-barber on 1 worker spins in its retry storm for many minutes.
            timeout = min(args.timeout, max(30, 50 * expected_s)) if measured else args.timeout
            reps = base_reps
            if expected_s > 0:
                reps = max(base_reps, min(3 * base_reps, math.ceil(SCALING_TARGET_S / expected_s)))
            rates, round_s = sweep_runs(system, name, params, counts, reps, timeout, args.warmup)
            if suite_report.verdict_in_doubt(rates):
                again = max(reps, min(CONFIRM_MAX_RUNS, math.ceil(CONFIRM_BUDGET_S / max(round_s, 1e-3))))
                print(f"  {name:<22} {system.name:<8} " + "  ".join(f"{w}:{fmt_rate(statistics.median(r))}"
                                                                 for w, r in rates.items() if r)
                      + f"  (an interval off 1, near it: {again} runs again)", flush=True)
                screens.setdefault(name, {})[system.name] = {w: r for w, r in rates.items() if r}
                # Straight after the first set: the memory it freed is still backed.
                rates, _ = sweep_runs(system, name, params, [w for w in counts if rates[w]], again, timeout, False)
            series = {w: statistics.median(r) for w, r in rates.items() if r}
            out[name][system.name] = series
            runs.setdefault(name, {})[system.name] = {w: r for w, r in rates.items() if r}
            print(f"  {name:<22} {system.name:<8} " + "  ".join(f"{w}:{fmt_rate(v)}" for w, v in series.items()),
                  flush=True)
            results["scaling"], results["scaling_runs"], results["scaling_screens"] = out, runs, screens
            save_results(results, args.out)
    print_slower(out, runs)
    if screens:
        print("measured again, their first set's interval off 1 near it at some count: "
              + ", ".join(f"{n} ({', '.join(per)})" for n, per in screens.items()))
    return out, runs, screens


def sweep_runs(system, name, params, counts, reps, timeout, warmup):
    """`reps` rounds of one row on one system, each round a run at every count in turn:
    ({count: [throughput of each run]}, the mean wall seconds of a round). A count whose run
    timed out is left out of the rounds after it. With `warmup`, an unmeasured run at the
    largest count comes first (WARMUP_DEFAULT): the runs of a set follow each other, so each
    later one takes the memory the one before it freed, and the first takes the warm-up's."""
    rates = {w: [] for w in counts}
    cut = set()
    if warmup:
        system.run(name, max(counts), params, timeout)
    started = time.time()
    for _ in range(reps):
        for w in counts:
            if w in cut:
                continue
            result, _ = system.run(name, w, params, timeout)
            if result.get("ok") and result["seconds"] > 0:
                rates[w].append(result["items"] / result["seconds"])
            elif "timed out" in result.get("detail", ""):
                print(f"  {name:<22} {system.name:<8} {w} workers: {result['detail']}", flush=True)
                cut.add(w)
    return rates, (time.time() - started) / max(reps, 1)


def print_slower(scaling, runs):
    """Lists, per system, the rows that ran slower with more workers than with 1: the runs at
    each count were measured in turn, so they pair up, and a row is listed when the 95 %
    interval of its paired ratio lies below 1 (suite_report.scaling_verdicts). On a shared or
    virtual machine a few percent either way is within the spread of single runs."""
    systems = sorted({sname for per in scaling.values() for sname in per})
    for sname in systems:
        below, _ = suite_report.scaling_verdicts(scaling, runs, sname)
        if below:
            print(f"slower with more workers than with 1 on {sname} (paired interval below 1):\n  "
                  + "\n  ".join(below))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # its reader went away (suite.py --list | head): done
        sys.stdout = None  # nothing more to flush at exit
        sys.exit(0)
    except KeyboardInterrupt:  # Ctrl-C: the run under way was stopped with it (System.run)
        print("suite: interrupted; results.json keeps the rows finished before (--replot reads them)", file=sys.stderr)
        sys.exit(130)
