"""The suite's Markdown report (suite_report.print_markdown) on made-up results: every figure it
prints is the one the results hold, ratios and the lowest CPU included, rows a peer cannot run
say n/a, the worker sweep's paired ratios and intervals name a row slower on more workers only
when its whole interval is, a set of sweep runs is measured again when its interval lies off 1,
and a row measured again in CPU pairs spends more only when their whole interval says so. Run
by ctest (suite.report.markdown)."""
import contextlib
import io
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite_report  # noqa: E402


def system(throughput, cpu_ns):
    return {"throughput": throughput, "cpu_us_per_item": cpu_ns / 1000}


RESULTS = {
    "workloads": {
        "ping-pong": {"group": "micro", "unit": "round trips", "systems": {
            "libeam": system(10e6, 100), "caf": system(1e6, 400), "erlang": system(2e6, 500),
            "seed": system(50e3, 9000)}},
        "trapezoid": {"group": "parallelism", "unit": "pieces", "not_applicable": {"seed": "not written"},
                      "systems": {"libeam": system(60e6, 30), "caf": system(80e6, 25),
                                  "erlang": system(10e6, 200)}},
        "stage-pc-100": {"group": "gen-stage", "unit": "events", "systems": {
            "libeam": system(400e6, 2.5), "seed": system(25e6, 40)}},
        "remote-cast": {"group": "remote", "unit": "messages", "systems": {"libeam": system(4e6, 300)}},
    },
    "scaling": {"ping-pong": {"libeam": {"1": 10e6, "2": 9e6}, "caf": {"1": 1e6, "2": 0.5e6}},
                "thread-ring": {"libeam": {"1": 10e6, "2": 9.8e6}},
                "trapezoid": {"libeam": {"1": 10e6, "2": 19e6}}},
    # Runs measured in turn: each run at 2 workers pairs with the run at 1 before it. ping-pong
    # has none (its cells fall back to the ratio of medians, with no interval).
    "scaling_runs": {"thread-ring": {"libeam": {"1": [10e6, 12e6, 8e6, 10e6, 11e6],
                                                "2": [9.8e6, 11.7e6, 7.9e6, 9.7e6, 10.9e6]}},
                     "trapezoid": {"libeam": {"1": [10e6, 10e6, 10e6], "2": [19e6, 20e6, 18e6]}}},
    # The first set of a row whose interval lay off 1: its cells above are the second set's.
    "scaling_screens": {"trapezoid": {"libeam": {"1": [10e6, 10e6], "2": [21e6, 22e6]}}},
}


def markdown():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        suite_report.print_markdown(RESULTS)
    return out.getvalue().splitlines()


class MarkdownReport(unittest.TestCase):
    def test_a_row_holds_every_system_the_fastest_peer_and_the_one_that_spent_least(self):
        # Erlang is the faster peer, CAF the one that spent less CPU: each column names its own.
        self.assertIn("| ping-pong (round trips) | 10.00 M | 1.00 M | 2.00 M | 50.00 k | 5.00× Erlang | 100, 400 (CAF) |",
                      markdown())

    def test_a_peer_that_cannot_run_a_row_says_so_and_a_faster_peer_shows_below_one(self):
        self.assertIn("| trapezoid (pieces) | 60.00 M | 80.00 M | 10.00 M | n/a | 0.75× CAF | 30, 25 (CAF) |", markdown())

    def test_a_peer_whose_every_run_failed_says_how_where_one_not_run_shows_a_dash(self):
        results = {"workloads": {"counting": {
            "group": "micro", "unit": "messages", "failed": {"caf": "timed out", "seed": "wrong"},
            "systems": {"libeam": system(50e6, 20), "erlang": system(5e6, 200)}}}}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            suite_report.print_markdown(results)
        self.assertIn("| counting (messages) | 50.00 M | timed out | 5.00 M | wrong | 10.00× Erlang | 20, 200 (Erlang) |",
                      out.getvalue().splitlines())

    def test_the_means_count_their_rows_and_name_the_rows_where_libeam_spends_more_cpu(self):
        lines = markdown()
        means = next(l for l in lines if l.startswith("Geometric mean"))
        self.assertIn("CAF 2.74× (2 rows)", means)  # ping-pong 10, trapezoid 0.75: sqrt(7.5)
        self.assertIn("seed 56.57× (2 rows)", means)  # ping-pong 200, stage-pc-100 16: sqrt(3200)
        self.assertIn("the best peer on each row 3.91× (3)", means)  # 5, 0.75, 16
        self.assertIn("on 1 of 2 rows: trapezoid.", lines[lines.index(means) + 1])

    def test_pipelines_go_beside_the_seed_and_remote_rows_stay_out(self):
        lines = markdown()
        self.assertIn("| stage-pc-100 | 400.00 M | 25.00 M | 16.0× | 2.50, 40 |", lines)
        self.assertFalse(any("remote-cast" in l for l in lines))

    def test_scaling_is_each_system_over_its_own_one_worker_figure(self):
        self.assertIn("| ping-pong | 0.90× | 0.50× |", markdown())

    def test_paired_runs_give_the_median_ratio_and_its_interval(self):
        # Ratios 0.98, 0.975, 0.9875, 0.97, 0.99: every one below 1, though the medians of the
        # two counts' runs (9.8 and 10 M) are close and the runs spread from 8 to 12 M.
        self.assertIn("| thread-ring | 0.98× [0.97–0.99] | - |", markdown())
        self.assertIn("| trapezoid | 1.90× [1.80–2.00] | - |", markdown())

    def test_a_row_slower_on_more_workers_is_named_only_when_its_whole_interval_is(self):
        lines = markdown()
        verdict = next(l for l in lines if l.startswith("libeam's paired interval"))
        self.assertEqual("libeam's paired interval (95 %) lies below 1 on 1 of 3 rows: thread-ring at 2 (0.98×);"
                         " above 1 at every count on 1.", verdict)

    def test_the_rows_measured_again_are_named_under_the_verdict(self):
        lines = markdown()
        verdict = next(l for l in lines if l.startswith("libeam's paired interval"))
        self.assertEqual("The cells of libeam's rows whose first set of runs had an interval off 1 near it are from a "
                         "second, fresh set (1 row: trapezoid).", lines[lines.index(verdict) + 1])

    def test_a_set_is_measured_again_when_its_interval_lies_off_one_near_it_on_either_side(self):
        below = {1: [10.0, 12.0, 8.0, 10.0, 11.0], 2: [9.8, 11.7, 7.9, 9.7, 10.9]}  # every pair 1-3 % below
        above = {1: [10.0, 10.0, 10.0], 2: [10.5, 10.6, 10.4]}
        level = {1: [10.0, 10.0, 10.0, 10.0], 2: [9.0, 11.0, 9.5, 10.5]}  # pairs on both sides
        self.assertTrue(suite_report.verdict_in_doubt(below))
        self.assertTrue(suite_report.verdict_in_doubt(above))
        self.assertFalse(suite_report.verdict_in_doubt(level))
        # Far off 1 is a verdict no second set overturned: not measured again, either way.
        self.assertFalse(suite_report.verdict_in_doubt({1: [10.0, 10.0, 10.0], 2: [19.0, 20.0, 18.0]}))
        self.assertFalse(suite_report.verdict_in_doubt({1: [10.0, 10.0, 10.0], 2: [5.0, 5.5, 6.0]}))
        # The nearer end decides: 0.92x-0.95x is within 10 % of 1, 1.12x-1.15x is not.
        self.assertTrue(suite_report.verdict_in_doubt({1: [10.0, 10.0, 10.0], 2: [9.2, 9.5, 9.3]}))
        self.assertFalse(suite_report.verdict_in_doubt({1: [10.0, 10.0, 10.0], 2: [11.2, 11.5, 11.3]}))
        # Any count in doubt is enough; a count whose runs do not pair decides nothing.
        self.assertTrue(suite_report.verdict_in_doubt({**level, 4: [10.3, 10.4, 10.2, 10.5]}))
        self.assertFalse(suite_report.verdict_in_doubt({**level, 4: [19.0, 20.0, 18.0, 21.0]}))
        self.assertFalse(suite_report.verdict_in_doubt({1: [10.0, 10.0], 2: [10.2]}))
        self.assertFalse(suite_report.verdict_in_doubt({1: [], 2: []}))

    def test_a_row_measured_again_in_cpu_pairs_counts_as_more_only_when_its_whole_interval_lies_above_one(self):
        def row(libeam_cpu, caf_cpu):
            return {"group": "parallelism", "unit": "multiply-adds",
                    "systems": {"libeam": system(1e9, 0.346), "caf": system(0.9e9, 0.328)},
                    "cpu_pairs": {"peer": "caf", "libeam": libeam_cpu, "caf": caf_cpu}}
        # Its main runs' medians put libeam 5 % above CAF, but its pairs lie on both sides of 1.
        tie = row([0.36, 0.33, 0.35, 0.31, 0.34], [0.34, 0.35, 0.33, 0.33, 0.35])
        above = row([0.36, 0.37, 0.35], [0.33, 0.34, 0.32])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            suite_report.print_markdown({"workloads": {"recursive-matmul": tie, "trapezoid": above}})
        lines = out.getvalue().splitlines()
        self.assertIn("libeam spends more CPU per work unit than the lowest peer on 1 of 2 rows: trapezoid.", lines)
        # Ratios 1.059, 0.943, 1.061, 0.939, 0.971: median 0.971; above: 1.091, 1.088, 1.094.
        again = next(l for l in lines if l.startswith("Rows whose CPU per unit"))
        self.assertIn("recursive-matmul 0.97× [0.94–1.06] CAF (5 pairs), trapezoid 1.09× [1.09–1.09] CAF (3 pairs).", again)
        self.assertEqual(("caf", 1.0, 1.0, 1.0), suite_report.cpu_paired(row([2.0, 4.0], [2.0, 4.0])))
        # Rows within 25 % of the lowest peer's CPU, on either side, are the ones measured again.
        self.assertTrue(suite_report.cpu_in_doubt(tie))
        self.assertTrue(suite_report.cpu_in_doubt({"systems": {"libeam": system(1, 81), "caf": system(1, 100)}}))
        self.assertFalse(suite_report.cpu_in_doubt({"systems": {"libeam": system(1, 79), "caf": system(1, 100)}}))
        self.assertFalse(suite_report.cpu_in_doubt({"systems": {"libeam": system(1, 126), "caf": system(1, 100),
                                                                "erlang": system(1, 200)}}))
        self.assertFalse(suite_report.cpu_in_doubt({"systems": {"libeam": system(1, 100)}}))
        # Without pairs, the medians of the main runs decide; unpaired lists give no interval.
        self.assertTrue(suite_report.spends_more_cpu({"systems": tie["systems"]}))
        self.assertIsNone(suite_report.cpu_paired(row([0.3, 0.3], [0.3])))
        self.assertTrue(suite_report.spends_more_cpu(row([0.3, 0.3], [0.3])))

    def test_unpaired_runs_give_no_interval(self):
        self.assertIsNone(suite_report.paired_ratio([1, 2], [1, 2, 3]))
        self.assertIsNone(suite_report.paired_ratio(None, [1.0]))
        self.assertEqual((2.0, 2.0, 2.0), suite_report.paired_ratio([2.0, 4.0], [1.0, 2.0]))


if __name__ == "__main__":
    unittest.main()
