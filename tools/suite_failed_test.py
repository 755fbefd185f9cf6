"""A system none of whose runs of a row measured anything says why in every table: "timed out"
(killed at --timeout) or "wrong" (it answered a wrong result), where a system that was not run
shows "-" and one that cannot run the row "n/a". Drives tools/suite.py against a stand-in for
libeam's suite binary (ping-pong answers, counting answers wrong, thread-ring outlives the
timeout), so it needs no build. Run by ctest (suite.failed)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from suite_stand_in import install_stand_in

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "suite.py")

STAND_IN = """#!/usr/bin/env python3
import json, sys, time
args = sys.argv[1:]
if args == ["--list"]:
    print("ping-pong counting thread-ring")
    sys.exit(0)
workload = args[args.index("--workload") + 1]
if workload == "thread-ring":
    time.sleep(300)  # bounded: the suite kills it at its --timeout long before
print(json.dumps({"ok": workload != "counting", "detail": "counted 41, not 42", "seconds": 0.01, "items": 1000,
                  "cpu_s": 0.01, "peak_mib": 3.5}))
"""


def row(summary, name):
    """The first summary line of workload `name`."""
    for line in summary.splitlines():
        cells = line.split()
        if cells and cells[0] == name:
            return line
    raise AssertionError(f"no summary line for {name} in:\n{summary}")


class Failed(unittest.TestCase):
    def test_a_row_whose_every_run_failed_says_how_not_a_dash(self):
        with tempfile.TemporaryDirectory() as tmp:
            build = install_stand_in(tmp, STAND_IN)
            out = os.path.join(tmp, "out")
            run = subprocess.run([sys.executable, SUITE, "--systems", "libeam", "--workloads",
                                  "ping-pong,counting,thread-ring", "--reps", "1", "--no-warmup", "--no-scaling",
                                  "--no-cpu-pairs", "--timeout", "30", "--build", build, "--out", out],
                                 capture_output=True, text=True, timeout=150)
            self.assertEqual(run.returncode, 1, run.stdout + run.stderr)  # runs failed: the suite says so
            with open(os.path.join(out, "results.json")) as f:
                rows = json.load(f)["workloads"]
            self.assertNotIn("failed", rows["ping-pong"])
            self.assertEqual(rows["counting"]["failed"], {"libeam": "wrong"})
            self.assertEqual(rows["thread-ring"]["failed"], {"libeam": "timed out"})
            summary = run.stdout[run.stdout.index("vs best peer"):]
            self.assertIn("wrong", row(summary, "counting"))
            self.assertIn("timed out", row(summary, "thread-ring"))
            self.assertNotIn("wrong", row(summary, "ping-pong"))
            self.assertIn("every run answered wrong", run.stdout)


if __name__ == "__main__":
    unittest.main()
