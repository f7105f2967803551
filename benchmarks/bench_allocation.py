"""Benchmark of capacity.allocation.allocate against plain scipy.optimize.milp and plain highspy.

Three measurements, each against baselines run in the same process on the same model:

(a) quality: the gap to the best-known value of Yagiura's GAP instances of types C, D and E
    (10-20 pools × 200-400 demands) at a fixed wall-clock limit per instance, with the wall
    and CPU seconds of every solver; then a row at equal CPU budget: each baseline given
    the CPU seconds ``allocate`` used (it runs a search beside branch and bound on a second
    core, so at equal wall time it may use twice the CPU);
(b) the larger Yagiura instances (15×900, 30×900, 20×1600, ...) at the same limit, and
    again at a short limit (2 s), where the baselines are still at their root node; a
    solver without an answer on an instance is counted, and left out of its mean;
(c) throughput: small city-sized problems (6 sites × 2 cabinet profiles, 50 demand blocks,
    6 resources, random but seeded) solved per second, as a ratio allocate / baseline, in
    interleaved rounds so that the machine's drift does not favour one solver.

Every returned assignment is checked (capacity, eligibility, each demand served once) and
its objective recomputed. Times are reported, never asserted.

    python benchmarks/bench_allocation.py [--time-limit 10] [--short-limit 2] [--quick]
                                          [--no-equal-cpu]

The public benchmark data is found through $CAPACITY_BENCHMARK_DATA, else in
shared/data/benchmarks beside the checkout.
"""

from __future__ import annotations

import argparse
import csv
import functools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp

from capacity.allocation import AllocationProblem, allocate, read_orlib_gap
from capacity.allocation.model import build_model

INSTANCES = ["c10200", "c20200", "c10400", "c20400", "d10200", "d20200", "d10400", "d20400",
             "e10200", "e20200", "e10400", "e20400"]
LARGER = ["c15900", "d15900", "e15900", "c30900", "d30900", "e30900", "c201600", "d201600",
          "e201600"]
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


def plain_milp(problem: AllocationProblem, time_limit: float) -> NDArray[np.float64] | None:
    """Plain scipy.optimize.milp on the same model: the (n, m) assignment, or None."""
    model = build_model(problem)
    res = milp(model.c, integrality=model.integrality, bounds=Bounds(model.lower, model.upper),
               constraints=LinearConstraint(model.matrix, model.row_lower, model.row_upper),
               options={"time_limit": time_limit})
    if res.x is None:
        return None
    return model.pair_values(np.round(res.x), problem.n_demands, problem.n_pools)


def plain_highspy(problem: AllocationProblem, time_limit: float) -> NDArray[np.float64] | None:
    """Plain highspy (default options) on the same model: the (n, m) assignment, or None."""
    import highspy
    import scipy.sparse as sp

    model = build_model(problem)
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", time_limit)
    csc = sp.csc_array(model.matrix)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = model.c.shape[0], csc.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = model.c, model.lower, model.upper
    lp.row_lower_, lp.row_upper_ = model.row_lower, model.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * lp.num_col_
    h.passModel(lp)
    h.run()
    if h.getInfo().primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return None
    x = np.round(np.asarray(h.getSolution().col_value))
    return model.pair_values(x, problem.n_demands, problem.n_pools)


def timed(run: Callable[[], NDArray[np.float64] | None]) -> tuple[NDArray[np.float64] | None,
                                                                   float, float]:
    """What `run` returns, with the wall and CPU seconds it took (CPU of every thread)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = run()
    return out, time.perf_counter() - wall, time.process_time() - cpu


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


def quality(folder: Path, names: list[str], time_limit: float, equal_cpu: bool,
            title: str) -> None:
    with (folder / "gap_yagiura" / "OPTIMA.csv").open() as f:
        best = {r["instance"]: float(r["optimal_or_best_known"]) for r in csv.DictReader(f)}
    print(f"{title}: gap % to best known at {time_limit:g} s wall per instance "
          "(wall s / CPU s after each)")
    head = (f"{'instance':<8} {'best':>7} | {'milp':>7} {'gap':>6} {'wall':>5} {'cpu':>5} | "
            f"{'highspy':>7} {'gap':>6} {'wall':>5} {'cpu':>5} | {'allocate':>8} {'gap':>6} "
            f"{'wall':>5} {'cpu':>5} {'method':<14}")
    if equal_cpu:
        head += f" | {'milp@cpu':>8} {'gap':>6} | {'highs@cpu':>9} {'gap':>6}"
    print(head)
    gaps: dict[str, list[float]] = {k: [] for k in ("milp", "highspy", "allocate", "milp@cpu",
                                                    "highspy@cpu")}
    over, worse = 0.0, []
    for name in names:
        problem = read_orlib_gap(folder / "gap_yagiura" / name)[0]
        ref = best[name]

        def gap(value: float, ref: float = ref) -> float:
            return 100 * (value - ref) / ref

        xm, wm, cm = timed(functools.partial(plain_milp, problem, time_limit))
        xh, wh, ch = timed(functools.partial(plain_highspy, problem, time_limit))
        wall, cpu = time.perf_counter(), time.process_time()
        result = allocate(problem, time_limit=time_limit)
        wa, ca = time.perf_counter() - wall, time.process_time() - cpu
        over = max(over, wa / time_limit)
        value = checked_cost(problem, result.assignment)
        assert value == result.objective_value or (np.isnan(value) and result.x is None), \
            f"allocate says {result.objective_value}, its answer costs {value}"
        vm, vh = checked_cost(problem, xm), checked_cost(problem, xh)
        for key, v in (("milp", vm), ("highspy", vh), ("allocate", value)):
            gaps[key].append(gap(v))
        answered = [v for v in (vm, vh) if not np.isnan(v)]
        if answered and (np.isnan(value) or value > min(answered)):
            worse.append(name)
        line = (f"{name:<8} {ref:>7.0f} | {vm:>7.0f} {gap(vm):>6.3f} {wm:>5.1f} {cm:>5.1f} | "
                f"{vh:>7.0f} {gap(vh):>6.3f} {wh:>5.1f} {ch:>5.1f} | {value:>8.0f} "
                f"{gap(value):>6.3f} {wa:>5.1f} {ca:>5.1f} {result.method:<14}")
        if equal_cpu:
            vmc = checked_cost(problem, plain_milp(problem, ca))
            vhc = checked_cost(problem, plain_highspy(problem, ca))
            gaps["milp@cpu"].append(gap(vmc))
            gaps["highspy@cpu"].append(gap(vhc))
            line += f" | {vmc:>8.0f} {gap(vmc):>6.3f} | {vhc:>9.0f} {gap(vhc):>6.3f}"
        print(line, flush=True)
    # a solver with no answer on an instance is left out of its mean, and counted
    means = {k: float(np.nanmean(v)) if not np.isnan(v).all() else float("nan")
             for k, v in gaps.items() if v}
    print("mean gap % (over the instances it answered): " + ", ".join(
        f"{k} {v:.3f}" + (f" ({int(np.isnan(gaps[k]).sum())} without an answer)"
                          if np.isnan(gaps[k]).any() else "") for k, v in means.items()))
    print(f"instances where allocate is worse than either plain baseline: {len(worse)} "
          f"{' '.join(worse)}; longest allocate wall time: {over:.3f} × the limit\n")


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


def throughput(count: int, time_limit: float, rounds: int = 3) -> None:
    """Problems solved per second by each solver, in `rounds` interleaved rounds.

    Each problem is solved by every solver back to back, in an order that rotates from
    problem to problem and round to round, so that a slow spell of the machine (seconds
    long on a shared one) falls on every solver alike; the ratio allocate / baseline is
    given per round and as the median.
    """
    problems = [city(seed) for seed in range(count)]
    print(f"(c) throughput: {count} city problems (6 sites × 2 profiles, 50 blocks, "
          f"6 resources), {rounds} interleaved rounds")
    solvers: dict[str, Callable[[AllocationProblem], NDArray[np.float64] | None]] = {
        "milp": lambda p: plain_milp(p, time_limit),
        "highspy": lambda p: plain_highspy(p, time_limit),
        "allocate": lambda p: allocate(p, time_limit=time_limit).assignment}
    labels = list(solvers)
    seconds: dict[str, list[float]] = {label: [] for label in labels}
    values: dict[str, list[float]] = {}
    for r in range(rounds):
        took = dict.fromkeys(labels, 0.0)
        answers: dict[str, list[NDArray[np.float64] | None]] = {label: [] for label in labels}
        for i, problem in enumerate(problems):
            turn = (r + i) % len(labels)
            for label in labels[turn:] + labels[:turn]:
                started = time.perf_counter()
                answers[label].append(solvers[label](problem))
                took[label] += time.perf_counter() - started
        for label in labels:
            seconds[label].append(took[label])
            values[label] = [checked_cost(p, x)
                             for p, x in zip(problems, answers[label], strict=True)]
    same = sum(abs(a - b) <= 1e-4 * max(1.0, abs(b))
               for a, b in zip(values["allocate"], values["milp"], strict=True))
    rates = {label: count / float(np.median(s)) for label, s in seconds.items()}
    print(f"median problems/s: milp {rates['milp']:.2f}, highspy {rates['highspy']:.2f}, "
          f"allocate {rates['allocate']:.2f}; same objective as milp on {same}/{count}")
    for base in ("milp", "highspy"):
        ratios = [b / a for a, b in zip(seconds["allocate"], seconds[base], strict=True)]
        print(f"allocate / {base} per round: {' '.join(f'{v:.2f}' for v in ratios)}; "
              f"median {float(np.median(ratios)):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0,
                        help="wall seconds per GAP instance, for every solver (default 10)")
    parser.add_argument("--quick", action="store_true",
                        help="4 instances, no larger ones, 5 city problems")
    parser.add_argument("--instances", nargs="*", help="Yagiura instance names to run")
    parser.add_argument("--no-equal-cpu", action="store_true",
                        help="skip the baselines at allocate's CPU budget")
    parser.add_argument("--short-limit", type=float, default=2.0,
                        help="wall seconds per larger instance in the short-limit run "
                             "(default 2)")
    parser.add_argument("--no-larger", action="store_true", help="skip the larger instances")
    parser.add_argument("--throughput-only", action="store_true",
                        help="only (c), the city problems")
    args = parser.parse_args()
    folder = data_dir()
    names = args.instances or (QUICK if args.quick else INSTANCES)
    if args.throughput_only:
        throughput(5 if args.quick else 20, args.time_limit, rounds=5)
        return
    quality(folder, names, args.time_limit, not args.no_equal_cpu, "(a) quality")
    if not (args.quick or args.no_larger or args.instances):
        quality(folder, LARGER, args.time_limit, False, "(b) larger instances")
        quality(folder, LARGER, args.short_limit, False, "(b) larger instances, short limit")
    throughput(5 if args.quick else 20, args.time_limit)


if __name__ == "__main__":
    main()
