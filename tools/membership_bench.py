"""The membership group of the suite (tools/suite.py --groups membership).

Membership has no throughput to put beside a peer: it is measured as times and bytes against
N. Real node processes on 127.0.0.1 (eam_membership_real_bench: 2, 8, 16 nodes) and the
deterministic simulation (eam_membership_sim_bench: 10, 100, 1,000 nodes, virtual time) give
convergence after a join, detection of a SIGKILLed node, gossip bytes per node per second,
and (simulated) false positives per node-hour at 10 % loss. Anchors from the peers' own
documentation, not run here: memberlist's LAN configuration detects a failure in about 1.5 s
plus a 4-8 s suspicion; Akka Cluster in about 5.5 s with its phi-accrual detector; Erlang's
net_ticktime in 45-75 s.

Writes membership.json and membership.png (gnuplot) to the output directory.
"""
import json
import os
import shutil
import subprocess

ANCHORS = [
    ("memberlist LAN", "1.5 s to suspect + 4-8 s suspicion"),
    ("Akka Cluster", "about 5.5 s (phi-accrual)"),
    ("Erlang net_ticktime", "45-75 s"),
]


def json_lines(text):
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return rows


def run_real(build, nodes, quiet_ms, timeout):
    binary = os.path.join(build, "bench", "eam_membership_real_bench")
    if not os.path.exists(binary):
        return None, "eam_membership_real_bench is not built"
    out = subprocess.run([binary, "--nodes", str(nodes), "--quiet-window-ms", str(quiet_ms)],
                         capture_output=True, text=True, timeout=timeout)
    rows = json_lines(out.stdout)
    if out.returncode != 0 or not rows:
        return None, (out.stderr.strip() or "no result")[-300:]
    return rows[0], None


def run_sim(build, quick, timeout):
    binary = os.path.join(build, "bench", "eam_membership_sim_bench")
    if not os.path.exists(binary):
        return [], "eam_membership_sim_bench is not built"
    out = subprocess.run([binary] + (["--quick"] if quick else []), capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        return [], (out.stderr.strip() or "failed")[-300:]
    return json_lines(out.stdout), None


def seconds(ms):
    return "n/a" if ms is None else f"{ms / 1000:.2f} s"


def run(build, out_dir, quick, timeout=600):
    os.makedirs(out_dir, exist_ok=True)
    results = {"real": [], "sim": [], "anchors": ANCHORS}
    print("== membership: real node processes on 127.0.0.1 (default membership_config)")
    for n in ((2, 8) if quick else (2, 8, 16)):
        row, why = run_real(build, n, 2000 if quick else 5000, timeout)
        if row is None:
            print(f"  {n} nodes: failed: {why}")
            continue
        results["real"].append(row)
        print(f"  {n:>5} nodes: convergence {seconds(row['convergence_ms'])}, detection median "
              f"{seconds(row['detection_ms_median'])} max {seconds(row['detection_ms_max'])}, "
              f"gossip {row['gossip_bytes_per_node_s']:.0f} B/node/s")
    print("== membership: simulation (virtual time, seeded)")
    sim, why = run_sim(build, quick, timeout)
    if why:
        print(f"  skipped: {why}")
    for row in sim:
        print("  " + describe_sim(row))
    results["sim"] = sim
    with open(os.path.join(out_dir, "membership.json"), "w") as f:
        json.dump(results, f, indent=2)
    print("anchors (their documentation, not run here): " +
          "; ".join(f"{name}: {what}" for name, what in ANCHORS))
    chart(results, out_dir)
    return results


def describe_sim(row):
    """One simulation row as a line people read."""
    n, metric = row.get("nodes"), row.get("metric")
    if metric == "convergence":
        return (f"{n:>5} nodes: a newcomer seen by all in {seconds(row['convergence_ms'])} "
                f"({row['gossip_rounds']} gossip rounds)")
    if metric == "detection":
        return (f"{n:>5} nodes: a kill declared by all in {seconds(row['detection_ms_median'])} median, "
                f"{seconds(row['detection_ms_max'])} max over {row['kills']} kills")
    if metric == "false_positives":
        return (f"{n:>5} nodes at {row['loss']:.0%} loss for {row['virtual_s']} s: "
                f"{row['per_node_hour']:.2f} false declarations per node-hour "
                f"({row['suspicions_per_node_hour']:.1f} suspicions"
                f"{', all refuted' if row['declarations'] == 0 else ''})")
    if metric == "gossip_bytes":
        return (f"{n:>5} nodes: gossip {row['gossip_bytes_per_node_s']:.0f} B/node/s "
                f"(+ push-pull {row['push_pull_bytes_per_node_s']:.0f})")
    if metric == "formation":
        return f"{n:>5} nodes formed through one seed in {seconds(row['virtual_ms'])} of virtual time"
    return json.dumps(row)


def sim_points(sim, key):
    """(nodes, value) pairs of the simulation rows that carry `key`."""
    return sorted((r["nodes"], r[key]) for r in sim if "nodes" in r and r.get(key) is not None)


def chart(results, out_dir):
    if shutil.which("gnuplot") is None:
        print("note: gnuplot not found, no membership chart (Debian gnuplot-nox)")
        return
    series = [
        ("detection, real (last node to see it)", [(r["nodes"], r["detection_ms_max"]) for r in results["real"]]),
        ("convergence, real", [(r["nodes"], r["convergence_ms"]) for r in results["real"]]),
        ("detection, simulated (last node, median of kills)", sim_points(results["sim"], "detection_ms")),
        ("convergence after a join, simulated", sim_points(results["sim"], "convergence_ms")),
    ]
    series = [(title, pts) for title, pts in series if pts]
    if not series:
        return
    data = os.path.join(out_dir, "membership.dat")
    with open(data, "w") as f:
        for title, pts in series:
            f.write(f"# {title}\n")
            for n, ms in pts:
                f.write(f"{n} {max(ms, 1) / 1000:.3f}\n")
            f.write("\n\n")
    plots = ", ".join(f"'{data}' index {i} with linespoints lw 2 pt 7 title '{title}'"
                      for i, (title, _) in enumerate(series))
    script = f"""
set terminal pngcairo size 1000,560
set output '{os.path.join(out_dir, "membership.png")}'
set title 'Membership: failure detection and convergence against cluster size'
set xlabel 'nodes (log scale)'
set ylabel 'seconds'
set logscale x
set xrange [1.5:2000]
set yrange [0:*]
set grid
set key top left box opaque
plot {plots}
"""
    path = os.path.join(out_dir, "membership.gp")
    with open(path, "w") as f:
        f.write(script)
    subprocess.run(["gnuplot", path], check=False)
    print(f"chart: {os.path.join(out_dir, 'membership.png')}")
