"""A suite run cut short keeps what it measured: results.json holds every row finished before
the stop (written after each row, "complete" false) and --replot reads it, and the run that was
going on when the suite was stopped is stopped with it. Drives tools/suite.py against a stand-in
for libeam's suite binary (a finished row, then one that would run for a minute), so it needs no
build. Run by ctest (suite.cut_short)."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from suite_stand_in import install_stand_in

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "suite.py")

# The stand-in: ping-pong answers at once; counting notes its pid and sleeps a bounded minute.
STAND_IN = """#!/usr/bin/env python3
import json, os, sys, time
args = sys.argv[1:]
if args == ["--list"]:
    print("ping-pong counting")
    sys.exit(0)
workload = args[args.index("--workload") + 1]
if workload == "counting":
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "counting.pid"), "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)
print(json.dumps({"ok": True, "seconds": 0.01, "items": 1000, "cpu_s": 0.01}))
"""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(condition, seconds=60):
    """Polls `condition` every 20 ms until it holds, for at most `seconds`: whether it did."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class CutShort(unittest.TestCase):
    def test_a_stopped_run_keeps_its_finished_rows_and_stops_its_child(self):
        with tempfile.TemporaryDirectory() as tmp:
            build = install_stand_in(tmp, STAND_IN)
            out = os.path.join(tmp, "out")
            pid_file = os.path.join(build, "bench", "counting.pid")
            suite = subprocess.Popen([sys.executable, SUITE, "--systems", "libeam", "--workloads", "ping-pong,counting",
                                      "--reps", "1", "--no-warmup", "--no-scaling", "--no-cpu-pairs", "--timeout", "120",
                                      "--build", build, "--out", out],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            child = None
            try:
                self.assertTrue(wait_for(lambda: os.path.exists(pid_file) and os.path.getsize(pid_file) > 0),
                                "the second row never started")
                with open(pid_file) as f:
                    child = int(f.read())
                suite.send_signal(signal.SIGTERM)
                suite.wait(30)
                self.assertTrue(wait_for(lambda: not alive(child), 10), "the stopped suite left its run going")
            finally:
                if suite.poll() is None:
                    suite.kill()
                    suite.wait()
                if child is not None and alive(child):
                    os.kill(child, signal.SIGKILL)
            with open(os.path.join(out, "results.json")) as f:
                results = json.load(f)
            self.assertIs(results["complete"], False)
            self.assertEqual(list(results["workloads"]), ["ping-pong"])
            self.assertAlmostEqual(results["workloads"]["ping-pong"]["systems"]["libeam"]["throughput"], 1e5)
            replot = subprocess.run([sys.executable, SUITE, "--replot", "--out", out], capture_output=True, text=True,
                                    timeout=60)
            self.assertEqual(replot.returncode, 0, replot.stderr)
            self.assertIn("a run cut short: 1 row measured, 0 of them in the worker sweep", replot.stdout)


if __name__ == "__main__":
    unittest.main()
