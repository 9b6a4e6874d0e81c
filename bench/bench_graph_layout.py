"""Benchmark of the circle graph layout (app/ml/graph_layout.py).

Prints one JSON object per line: our figures and, in the same run, those of
the peer, networkx.spring_layout (a benchmark-only dependency: pip install
".[bench]"). Nothing here asserts; the goals are printed next to the figures.

Cases (each runs in its own process, so its peak memory is its own):
  step_time    n = 1,000: milliseconds per optimizer step (goal <= 2 ms), and
               spring_layout's milliseconds per iteration at the same n and
               iteration count.
  grid         triangular grid, n = 5,000, 500 steps: smart start + Adam
               (goal <= 5 overlapping pairs, mean edge ratio <= 1.6, <= 15 s
               in total) against a random start + Adam, and smart start + L-BFGS.
  large        n = 20,000 random graph: time and peak resident memory.
  tangle       how often runs end tangled, per optimizer (the seed's
               "momentum methods get stuck less easily"), as a rate.

Usage: python bench/bench_graph_layout.py [--quick] [--case NAME ...]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.ml import graph_layout as gl  # noqa: E402

CASES = ("step_time", "grid", "large", "tangle")


def emit(**figures) -> None:
    print(json.dumps({"bench": "graph_layout", **figures}), flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # kB on Linux


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def quality(metrics: dict) -> dict:
    keep = ("overlapping_pairs", "max_overlap", "mean_edge_ratio", "max_edge_ratio",
            "crossings", "crossings_exact", "energy")
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items() if k in keep}


def case_step_time(quick: bool) -> None:
    n, steps = 1000, (20 if quick else 100)
    warm = gl.make_graph("random", 50, 0)
    gl.run_layout(warm, 50, "adam", 5, "smart", 0)        # first-call costs are not steps
    for family in ("random", "grid"):
        edges = gl.make_graph(family, n, 0)
        start = gl.smart_start(edges, n, 0)
        for name in ("adam", "sgd", "momentum", "lbfgs"):
            h, wall, cpu = timed(lambda: gl.run_layout(edges, n, name, steps, start, 0))
            _, metrics_wall, _ = timed(lambda: gl.layout_metrics(h.final_positions, edges))
            emit(case="step_time", subject="learnscape", family=family, n=n, edges=len(edges),
                 optimizer=name, steps=len(h.loss) - 1, ms_per_step=round(1e3 * wall / steps, 3),
                 cpu_ms_per_step=round(1e3 * cpu / steps, 3),
                 ms_per_step_without_final_metrics=round(1e3 * (wall - metrics_wall) / steps, 3),
                 neighbour_queries=h.neighbour_queries, evaluations=h.evaluations,
                 goal_ms_per_step=2.0)
    try:
        import networkx as nx
    except ImportError:
        emit(case="step_time", subject="networkx.spring_layout", available=False,
             reason="networkx is not installed (pip install '.[bench]')")
        return
    edges = gl.make_graph("random", n, 0)
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from(map(tuple, edges))
    # threshold=0: never stop early, so both run the same number of iterations.
    _, wall, cpu = timed(lambda: nx.spring_layout(G, iterations=steps, threshold=0.0, seed=0))
    emit(case="step_time", subject="networkx.spring_layout", version=nx.__version__, family="random",
         n=n, edges=len(edges), iterations=steps, ms_per_iteration=round(1e3 * wall / steps, 3),
         cpu_ms_per_iteration=round(1e3 * cpu / steps, 3))


def case_grid(quick: bool) -> None:
    n, steps = 5000, (100 if quick else 500)
    edges = gl.make_graph("grid", n, 0)
    for init, name in (("smart", "adam"), ("random", "adam"), ("smart", "lbfgs")):
        h, wall, cpu = timed(lambda: gl.run_layout(edges, n, name, steps, init, 0))
        any_depth = gl.layout_metrics(h.final_positions, edges, tolerance=0.0)["overlapping_pairs"]
        emit(case="grid", subject="learnscape", family="grid", n=n, edges=len(edges), init=init,
             optimizer=name, steps=len(h.loss) - 1, message=h.message, seconds=round(wall, 3),
             cpu_seconds=round(cpu, 3), **quality(h.metrics),
             overlapping_pairs_any_depth=any_depth,
             goal={"overlapping_pairs": 5, "mean_edge_ratio": 1.6, "seconds": 15.0}
             if (init, name) == ("smart", "adam") else None)


def case_large(quick: bool) -> None:
    n, steps = 20_000, (50 if quick else 300)
    edges, wall_graph, _ = timed(lambda: gl.make_graph("random", n, 0))
    h, wall, cpu = timed(lambda: gl.run_layout(edges, n, "adam", steps, "smart", 0))
    emit(case="large", subject="learnscape", family="random", n=n, edges=len(edges), init="smart",
         optimizer="adam", steps=len(h.loss) - 1, message=h.message,
         graph_seconds=round(wall_graph, 3), seconds=round(wall, 3), cpu_seconds=round(cpu, 3),
         ms_per_step=round(1e3 * wall / steps, 2), frames_kept=len(h.frame_steps),
         positions_mb=round(h.positions.nbytes / 2**20, 1), peak_rss_mb=round(peak_rss_mb(), 1),
         **quality(h.metrics))


def case_tangle(quick: bool) -> None:
    trials = 20 if quick else 100
    for family, n in (("tree", 12), ("grid", 9)):
        for name in ("sgd", "momentum", "nesterov", "adam"):
            result, wall, _ = timed(lambda: gl.tangle_rate(name, n=n, trials=trials, seed=0,
                                                           family=family, steps=1000))
            emit(case="tangle", subject="learnscape", seconds=round(wall, 2),
                 hyperparameters=gl.LESSON_DEFAULTS[name], **result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and trials")
    parser.add_argument("--case", choices=CASES, action="append", help="run only these cases")
    parser.add_argument("--inline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    cases = args.case or list(CASES)
    if args.inline or len(cases) == 1:
        for case in cases:
            globals()[f"case_{case}"](args.quick)
        return
    for case in cases:   # one process per case: separate peak memory, no shared caches
        command = [sys.executable, __file__, "--case", case] + (["--quick"] if args.quick else [])
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
