"""A row's peak memory is what the measured process reports of itself (VmHWM since its exec), not
wait4's ru_maxrss, which counts the memory of the Python process that forked it too (a floor of
about 24 MiB under every C++ row). Drives tools/suite.py against a stand-in for libeam's suite
binary that reports a peak of 3.5 MiB, so it needs no build. Run by ctest (suite.peak)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from suite_stand_in import install_stand_in

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "suite.py")

# The stand-in, itself a Python process of more than 3.5 MiB: only its own word can say 3.5.
STAND_IN = """#!/usr/bin/env python3
import json, sys
if sys.argv[1:] == ["--list"]:
    print("ping-pong")
    sys.exit(0)
print(json.dumps({"ok": True, "seconds": 0.01, "items": 1000, "cpu_s": 0.01, "peak_mib": 3.5}))
"""


class Peak(unittest.TestCase):
    def test_a_row_keeps_the_peak_its_process_reports(self):
        with tempfile.TemporaryDirectory() as tmp:
            build = install_stand_in(tmp, STAND_IN)
            out = os.path.join(tmp, "out")
            run = subprocess.run([sys.executable, SUITE, "--systems", "libeam", "--workloads", "ping-pong", "--reps",
                                  "2", "--no-warmup", "--no-scaling", "--no-cpu-pairs", "--timeout", "120", "--build",
                                  build, "--out", out], capture_output=True, text=True, timeout=120)
            self.assertEqual(run.returncode, 0, run.stderr)
            with open(os.path.join(out, "results.json")) as f:
                row = json.load(f)["workloads"]["ping-pong"]["systems"]["libeam"]
            self.assertAlmostEqual(row["peak_mib"], 3.5)
            self.assertIn("peak 4 MiB", run.stdout)  # printed rounded


if __name__ == "__main__":
    unittest.main()
