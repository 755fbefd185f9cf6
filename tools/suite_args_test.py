"""Options that cannot measure anything are refused before anything runs, with status 2 and the
reason: an unknown group, --markdown without --replot, --replot without results, no reps, a
size or a worker count of 0. Before, each ran (an empty results file, status 0) or failed later
with a misleading message or a traceback. Run by ctest (suite.args); needs no build."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "suite.py")


class Arguments(unittest.TestCase):
    def test_options_that_measure_nothing_are_refused_with_their_reason(self):
        with tempfile.TemporaryDirectory() as tmp:
            build, out = os.path.join(tmp, "build"), os.path.join(tmp, "out")
            os.makedirs(build)
            cases = [
                (["--groups", "micr"], "unknown groups: micr"),
                (["--markdown"], "--markdown goes with --replot"),
                (["--replot"], "--replot: no "),
                (["--reps", "0"], "--reps takes at least 1"),
                (["--size", "0"], "--size takes a positive scale"),
                (["--size", "-1"], "--size takes a positive scale"),
                (["--workers", "0"], "--workers takes at least 1"),
                # tools/eam bench asks this before it builds: a misspelt name came after the build.
                (["--check-args", "--workloads", "ping-pongg"], "unknown workloads: ping-pongg"),
                (["--check-args", "--systems", "libeam,cafe"], "unknown system cafe"),
            ]
            for args, why in cases:
                with self.subTest(args=args):
                    base = [] if "--check-args" in args else ["--workloads", "ping-pong"]
                    run = subprocess.run([sys.executable, SUITE, *base, "--build", build, "--out", out, *args],
                                         capture_output=True, text=True, timeout=120)
                    self.assertEqual(run.returncode, 2, run.stdout + run.stderr)
                    self.assertIn(why, run.stderr)
                    self.assertFalse(os.path.exists(os.path.join(out, "results.json")))


if __name__ == "__main__":
    unittest.main()
