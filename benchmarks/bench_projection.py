"""Benchmark: project the Ganzhou scenario, against an independent plain-numpy draw.

Run ``python benchmarks/bench_projection.py [--paths 10000 100000] [--repeat 3]``. For each
size it times ``capacity.project`` on the embedded scenario over 2025-01..2030-12 and, in
the same process, a reference that shares no code with it: one lognormal random walk per
path, month and resource (``np.exp(np.cumsum(rng.normal(0.01, 0.02, size=(n, 72, 8)),
axis=1))``) and its 5/50/95 % quantiles at the last month. That draws more random numbers
than the projection does, so a ratio at or below 1 is what a projection that only does
necessary work gets. It also reports the peak memory traced during the projection and a
second ratio against a numpy re-implementation of the projection's own passes (the
benchmark's earlier reference), checks the answer (130 PFLOPS FP16 by 2027-12 on the
median path), and never fails on a time.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from capacity import Resource, project
from capacity.datasets import ganzhou
from capacity.months import month_range


def reference(n_paths: int, seed: int) -> np.ndarray:
    """The independent baseline: lognormal random walks and their quantiles."""
    rng = np.random.default_rng(seed)
    walk = np.exp(np.cumsum(rng.normal(0.01, 0.02, size=(n_paths, 72, 8)), axis=1))
    return np.quantile(walk[:, -1, :], [0.05, 0.5, 0.95], axis=0)


def mirror(n_paths: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The projection's arithmetic written directly in numpy (the earlier reference)."""
    rng = np.random.default_rng(seed)
    months = month_range("2025-01", "2030-12")
    n_months, n_res = months.size, len(Resource)
    capacity = np.empty((n_paths, n_months, n_res))
    capacity[:] = rng.random(n_res)
    for start, dur, mean, sd, cols in ((-7, 10, 6, 4, 7), (2, 30, 2, 2, 6), (0, 35, 0, 0, 0)):
        delay = np.rint(rng.gamma((mean / sd) ** 2, sd**2 / mean, n_paths)) if sd else \
            np.zeros(n_paths)
        elapsed = np.arange(n_months, dtype=float)[None, :] - start
        x = np.clip(elapsed / (dur + delay)[:, None], 0.0, 1.0)
        share = x * x * (3 - 2 * x)
        for i in range(cols):
            capacity[:, :, i] += share * (i + 1.0)
    demand = np.zeros((n_paths, n_months, n_res))
    t = np.arange(n_months) / 12.0
    g = np.exp(rng.normal(np.log1p(0.12), 0.04, n_paths))[:, None] ** t[None, :] * 27_600
    demand[:, :, 3] += g
    demand[:, :, 4] += g * 0.12
    ceil = np.maximum(rng.normal(120_000, 20_000, n_paths), 0)[:, None]
    mid = (2.5 + rng.normal(0, 0.5, n_paths))[:, None]
    g = ceil / (1 + np.exp(-0.9 * (t[None, :] - mid)))
    demand[:, :, 3] += g
    demand[:, :, 4] += g * 0.1
    for knots, values, cols in (([2, 12, 35, 71], [0, 8e3, 4e4, 2e5], (7, 4)),
                                ([5, 35, 71], [0, 1.5e3, 4e3], (5,))):
        scale = np.exp(rng.normal(0, 0.3, n_paths))
        delay = np.rint(np.abs(rng.normal(0, 6, n_paths)))
        shifted = np.arange(n_months)[None, :] - delay[:, None]
        g = np.interp(shifted, knots, values, left=0.0) * scale[:, None]
        for i in cols:
            demand[:, :, i] += g
    return capacity, demand


def best(fn: Callable[[], object], repeat: int) -> float:
    """Fastest of `repeat` runs, in seconds."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenario = ganzhou()

    def run(n: int) -> object:
        return project(scenario, start="2025-01", end="2030-12", n_paths=n, seed=0)

    print(f"{'paths':>9}  {'project':>9}  {'reference':>9}  {'ratio':>6}  {'mirror':>8}  "
          f"{'ratio':>6}  {'peak MiB':>8}")
    for n in args.paths:
        tracemalloc.start()
        p = run(n)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        reached = p.capacity_at("2027-12", Resource.COMPUTE_FP16).m_as("PFLOPS_fp16")
        assert reached >= 130 - 1e-9, f"130 PFLOPS_fp16 not reached on the median path: {reached}"
        del p
        t_lib = best(lambda n=n: run(n), args.repeat)
        t_ref = best(lambda n=n: reference(n, 0), args.repeat)
        t_mir = best(lambda n=n: mirror(n, 0), args.repeat)
        print(f"{n:>9,}  {t_lib:8.3f}s  {t_ref:8.3f}s  {t_lib / t_ref:6.2f}  {t_mir:7.3f}s  "
              f"{t_lib / t_mir:6.2f}  {peak / 2**20:8.0f}")
    print("ratio = project / reference (target <= 1.0 at 100,000 paths); peak: memory "
          "traced during one projection (target < 1 GB)")


if __name__ == "__main__":
    main()
