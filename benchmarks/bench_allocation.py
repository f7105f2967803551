"""Benchmark of capacity.allocation.allocate against a plain scipy.optimize.milp baseline.

Two measurements, both against a baseline run in the same process on the same model:

(a) quality: the gap to the best-known value of Yagiura's GAP instances of types C, D and E
    (10-20 pools × 200-400 demands) at a fixed time limit per instance;
(b) throughput: small city-sized problems (6 sites × 2 cabinet profiles, 50 demand blocks,
    6 resources, random but seeded) solved per second, as a ratio allocate / baseline.

Every returned assignment is checked (capacity, eligibility, each demand served once) and
its objective recomputed. Times are reported, never asserted.

    python benchmarks/bench_allocation.py [--time-limit 10] [--quick]

The public benchmark data is found through $CAPACITY_BENCHMARK_DATA, else in
shared/data/benchmarks beside the checkout.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp

from capacity.allocation import AllocationProblem, allocate, read_orlib_gap
from capacity.allocation.model import build_model

INSTANCES = ["c10200", "c20200", "c10400", "c20400", "d10200", "d20200", "d10400", "d20400",
             "e10200", "e20200", "e10400", "e20400"]
QUICK = ["c20200", "d10200", "d20200", "e10400"]


def data_dir() -> Path:
    env = os.environ.get("CAPACITY_BENCHMARK_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data" / "benchmarks")
    for c in candidates:
        if (c / "gap_yagiura").is_dir():
            return c
    sys.exit("benchmark data not found: set CAPACITY_BENCHMARK_DATA to the folder holding "
             "gap_yagiura/ (the public GAP instances)")


def baseline(problem: AllocationProblem, time_limit: float) -> NDArray[np.float64] | None:
    """Plain scipy.optimize.milp on the same model: the (n, m) assignment, or None."""
    model = build_model(problem)
    res = milp(model.c, integrality=model.integrality, bounds=Bounds(model.lower, model.upper),
               constraints=LinearConstraint(model.matrix, model.row_lower, model.row_upper),
               options={"time_limit": time_limit})
    if res.x is None:
        return None
    return model.pair_values(np.round(res.x), problem.n_demands, problem.n_pools)


def checked_cost(problem: AllocationProblem, x: NDArray[np.float64] | None) -> float:
    """Objective of assignment x (min sense) after checking every rule; nan if none."""
    if x is None:
        return float("nan")
    placed = x.sum(axis=1)
    unmet = problem.size - placed
    assert np.all(x >= 0), "negative units"
    assert np.all(x == np.round(x)), "fractional units"
    assert not np.any((x > 0) & ~problem.eligible_mask), "ineligible pool used"
    assert np.all(unmet >= 0), "demand over-served"
    assert not np.any((unmet > 0) & problem.must_serve), "demand that must be served is short"
    whole = ~problem.splittable_mask
    assert not np.any(whole & ((x > 0).sum(axis=1) > 1)), "unsplittable demand split"
    used = np.einsum("ij,ijr->jr", x, problem.use)
    assert np.all(used <= problem.capacity + 1e-6), "capacity exceeded"
    grid_use = problem.grid_power_use
    if grid_use is not None and problem.grid is not None:
        power = np.bincount(problem.site_of_pool, weights=(x * grid_use).sum(axis=0),
                            minlength=problem.n_sites)
        assert np.all(power <= problem.grid + 1e-6), "grid power exceeded"
    penalty = np.where(unmet > 0, problem.penalty_values, 0.0) * unmet
    return float((problem.cost * x).sum() + penalty.sum())


def quality(folder: Path, names: list[str], time_limit: float) -> None:
    with (folder / "gap_yagiura" / "OPTIMA.csv").open() as f:
        best = {r["instance"]: float(r["optimal_or_best_known"]) for r in csv.DictReader(f)}
    print(f"(a) quality: gap to best known at {time_limit:g} s per instance")
    print(f"{'instance':<9} {'best':>8} {'baseline':>9} {'gap %':>7} {'allocate':>9} "
          f"{'gap %':>7} {'bound':>9} {'status':<9}")
    gaps: dict[str, list[float]] = {"baseline": [], "allocate": []}
    for name in names:
        problem = read_orlib_gap(folder / "gap_yagiura" / name)[0]
        base = checked_cost(problem, baseline(problem, time_limit))
        result = allocate(problem, time_limit=time_limit)
        value = checked_cost(problem, result.assignment)
        assert value == result.objective_value, "allocate's objective disagrees with its answer"
        ref = best[name]
        g_base, g_alloc = 100 * (base - ref) / ref, 100 * (value - ref) / ref
        gaps["baseline"].append(g_base)
        gaps["allocate"].append(g_alloc)
        flag = "  worse than baseline" if value > base else ""
        print(f"{name:<9} {ref:>8.0f} {base:>9.0f} {g_base:>7.3f} {value:>9.0f} {g_alloc:>7.3f} "
              f"{result.bound_value:>9.0f} {result.status.value:<9}{flag}", flush=True)
    mean_base, mean_alloc = np.nanmean(gaps["baseline"]), np.nanmean(gaps["allocate"])
    worse = sum(a > b for a, b in zip(gaps["allocate"], gaps["baseline"], strict=True))
    print(f"mean gap: baseline {mean_base:.3f} %, allocate {mean_alloc:.3f} % "
          f"(ratio {mean_alloc / mean_base if mean_base else float('nan'):.2f}); "
          f"instances where allocate is worse: {worse}")


def city(seed: int) -> AllocationProblem:
    """A random city: 6 sites × 2 cabinet profiles, 50 demand blocks, 6 resources."""
    rng = np.random.default_rng(seed)
    n, sites, r = 50, 6, 6
    m = 2 * sites
    per_unit = rng.uniform(0.5, 2.0, size=(n, 1, r)) * rng.uniform(0.8, 1.25, size=(1, m, r))
    size = rng.integers(1, 12, size=n).astype(float)
    need = (per_unit.mean(axis=1) * size[:, None]).sum(axis=0)
    capacity = need[None, :] / m * rng.uniform(1.2, 2.0, size=(m, r))
    power = rng.uniform(5, 15, size=(n, 1)) * np.ones((1, m))
    pue = np.repeat(rng.uniform(1.2, 1.5, size=sites), 2)
    grid = (power.mean() * size.sum() * 1.4) / sites * rng.uniform(1.2, 1.6, size=sites)
    eligible = rng.random((n, m)) < 0.7
    eligible[np.arange(n), rng.integers(0, m, size=n)] = True
    return AllocationProblem(
        use=per_unit, capacity=capacity, cost=rng.integers(10, 100, size=(n, m)), size=size,
        penalty=np.where(rng.random(n) < 0.5, np.inf, rng.integers(150, 300, size=n)),
        eligible=eligible, splittable=rng.random(n) < 0.8, pool_site=np.repeat(
            np.arange(sites), 2), power_use=power, pue=pue, grid=grid, cost_unit="yuan")


def throughput(count: int, time_limit: float) -> None:
    problems = [city(seed) for seed in range(count)]
    print(f"\n(b) throughput: {count} city problems (6 sites × 2 profiles, 50 blocks, "
          "6 resources)")
    started = time.perf_counter()
    base = [checked_cost(p, baseline(p, time_limit)) for p in problems]
    base_rate = count / (time.perf_counter() - started)
    started = time.perf_counter()
    results = [allocate(p, time_limit=time_limit) for p in problems]
    alloc_rate = count / (time.perf_counter() - started)
    values = [checked_cost(p, r.assignment) for p, r in zip(problems, results, strict=True)]
    same = sum(abs(a - b) <= 1e-4 * max(1.0, abs(b)) for a, b in zip(values, base, strict=True))
    print(f"baseline {base_rate:.2f} problems/s, allocate {alloc_rate:.2f} problems/s, "
          f"ratio {alloc_rate / base_rate:.2f}; same objective on {same}/{count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0,
                        help="seconds per GAP instance, for both solvers (default 10)")
    parser.add_argument("--quick", action="store_true", help="4 instances, 5 city problems")
    parser.add_argument("--instances", nargs="*", help="Yagiura instance names to run")
    args = parser.parse_args()
    folder = data_dir()
    names = args.instances or (QUICK if args.quick else INSTANCES)
    quality(folder, names, args.time_limit)
    throughput(5 if args.quick else 20, args.time_limit)


if __name__ == "__main__":
    main()
