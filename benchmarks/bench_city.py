"""Benchmark: a generated city (40 sites, 400 demand blocks, 10 projects) through every stage.

Run ``python benchmarks/bench_city.py [--paths 10000] [--sites 40] [--blocks 400]
[--projects 10]``. It builds :func:`capacity.datasets.city.synthetic_city` and times each
stage a study runs: the projection, its report (quantiles, P(shortfall), exhaustion,
cabinets still needed), the allocation of one month's demand on a node budget, the policy
costing and its report; then the peak resident memory, and, measured in the same run, the
independent plain-numpy draw of ``bench_projection.reference`` at the same paths. It never
fails on a time.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from typing import Any

from bench_projection import best, reference
from capacity import allocate, project
from capacity.allocation import build_problem
from capacity.datasets.city import synthetic_city
from capacity.policy import cost_policy
from capacity.report import policy_report, projection_report


def _timed(name: str, fn: Callable[[], Any], log: list[tuple[str, float]]) -> Any:
    t0 = time.perf_counter()
    out = fn()
    log.append((name, time.perf_counter() - t0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--blocks", type=int, default=400)
    parser.add_argument("--projects", type=int, default=10)
    args = parser.parse_args()
    log: list[tuple[str, float]] = []
    city = _timed("build the scenario", lambda: synthetic_city(
        args.sites, args.blocks, args.projects, seed=0), log)
    p = _timed("project", lambda: project(city, start="2025-01", end="2030-12",
                                          n_paths=args.paths, seed=0), log)
    _timed("projection report", lambda: projection_report(p, 0.05), log)
    built = _timed("build the allocation problem", lambda: build_problem(city, "2027-12"), log)
    result = _timed("allocate (node_limit=20,000)",
                    lambda: allocate(built.problem, node_limit=20_000, time_limit=600), log)
    cost = _timed("cost the policy", lambda: cost_policy(p), log)
    _timed("policy report", lambda: policy_report(cost, city), log)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ref = best(lambda: reference(args.paths, 0), 1)
    print(f"{len(city.estate.sites)} sites, {p.pools.n} pools, {len(city.demands)} demand "
          f"blocks, {len(city.plan.projects)} projects, {len(p.short.conditions)} Hall "
          f"conditions; {args.paths:,} paths x {p.months.size} months")
    for name, seconds in log:
        print(f"  {name:<30} {seconds:8.2f} s")
    print(f"  {'total':<30} {sum(s for _, s in log):8.2f} s")
    print(f"allocation: {result.status}, objective {result.objective:,.0f}, gap "
          f"{result.gap:.2%}, {result.node_count} nodes")
    print(f"peak resident memory {peak:,.0f} MiB; reference draw at {args.paths:,} paths "
          f"{ref:.2f} s")


if __name__ == "__main__":
    main()
