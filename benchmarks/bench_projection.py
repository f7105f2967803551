"""Benchmark: project the Ganzhou scenario, against a plain-numpy reference.

Run ``python benchmarks/bench_projection.py [--paths 100000] [--repeat 3]``. It times
``capacity.project`` on the embedded scenario over 2025-01..2030-12 and a hand-written
numpy computation of the same shape with the same kinds and number of random draws
(gamma delays per project, per-path growth parameters per demand block, the same ramps
and accumulation), measured in the same run. It reports the time ratio and the peak
memory traced during the projection, checks the answer (130 PFLOPS FP16 by 2027-12 on
the median path), and never fails on a time.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from capacity import Resource, project
from capacity.datasets import ganzhou
from capacity.months import month_range


def reference(n_paths: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The projection's arithmetic written directly in numpy, same shapes and draws."""
    rng = np.random.default_rng(seed)
    months = month_range("2025-01", "2030-12")
    n_months, n_res = months.size, len(Resource)
    capacity = np.empty((n_paths, n_months, n_res))
    capacity[:] = rng.random(n_res)
    # three projects: (start offset, duration, mean, sd, columns touched)
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
    # compound: log-normal growth per path
    g = np.exp(rng.normal(np.log1p(0.12), 0.04, n_paths))[:, None] ** t[None, :] * 27_600
    demand[:, :, 3] += g
    demand[:, :, 4] += g * 0.12
    # logistic: ceiling and midpoint per path
    ceil = np.maximum(rng.normal(120_000, 20_000, n_paths), 0)[:, None]
    mid = (2.5 + rng.normal(0, 0.5, n_paths))[:, None]
    g = ceil / (1 + np.exp(-0.9 * (t[None, :] - mid)))
    demand[:, :, 3] += g
    demand[:, :, 4] += g * 0.1
    # two milestone schedules: scale and delay per path
    for knots, values, cols in (([2, 12, 35, 71], [0, 8e3, 4e4, 2e5], (7, 4)),
                                ([5, 35, 71], [0, 1.5e3, 4e3], (5,))):
        scale = np.exp(rng.normal(0, 0.3, n_paths))
        delay = np.rint(np.abs(rng.normal(0, 6, n_paths)))
        shifted = np.arange(n_months)[None, :] - delay[:, None]
        g = np.interp(shifted, knots, values, left=0.0) * scale[:, None]
        for i in cols:
            demand[:, :, i] += g
    return capacity, demand


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenario = ganzhou()

    tracemalloc.start()
    p = project(scenario, start="2025-01", end="2030-12", n_paths=args.paths, seed=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    reached = p.capacity_at("2027-12", Resource.COMPUTE_FP16).m_as("PFLOPS_fp16")
    assert reached >= 130 - 1e-9, f"130 PFLOPS_fp16 not reached on the median path: {reached}"
    del p

    t_lib = _best(lambda: project(scenario, start="2025-01", end="2030-12",
                                  n_paths=args.paths, seed=0), args.repeat)
    t_ref = _best(lambda: reference(args.paths, 0), args.repeat)
    print(f"paths                 {args.paths:,} x 72 months x {len(Resource)} resources")
    print(f"capacity.project      {t_lib:8.3f} s (best of {args.repeat})")
    print(f"plain-numpy reference {t_ref:8.3f} s (best of {args.repeat})")
    print(f"ratio                 {t_lib / t_ref:8.2f} (target <= 2)")
    print(f"peak traced memory    {peak / 2**20:8.0f} MiB (target < 2048)")
    print(f"median FP16 at 2027-12 {reached:.1f} PFLOPS_fp16 (>= 130: ok)")


if __name__ == "__main__":
    main()
