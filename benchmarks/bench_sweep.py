"""Benchmark: sweep throughput, serial against a process pool, in the same run.

Run ``python benchmarks/bench_sweep.py [--variants 240] [--paths 200] [--workers 2]``.
It sweeps the embedded Ganzhou scenario over AI-demand scale × PUE × slippage, checks that
the pool's rows equal the serial rows, and prints variants per second and the ratio. It
never fails on a time.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from capacity.datasets import ganzhou
from capacity.sweep import sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=240)
    parser.add_argument("--paths", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    n_scale = max(1, args.variants // 12)
    grid = {
        "demands[enterprise-ai].scale": list(np.linspace(0.5, 2.0, n_scale)),
        "sites[tianyi-huawei].pue": [1.2, 1.3, 1.4, 1.5],
        "plan.projects[smart-computing-centre].slippage.mean": [1.0, 3.0, 6.0],
    }
    scenario = ganzhou()
    t0 = time.perf_counter()
    serial = sweep(scenario, grid, n_paths=args.paths, progress=False)
    t_serial = time.perf_counter() - t0
    with ProcessPoolExecutor(args.workers) as ex:
        t0 = time.perf_counter()
        pooled = sweep(scenario, grid, executor=ex, n_paths=args.paths, progress=False)
        t_pool = time.perf_counter() - t0
    assert pooled.rows == serial.rows, "process pool rows differ from serial rows"
    n = len(serial.rows)
    print(f"variants              {n} ({args.paths} paths each)")
    print(f"serial                {n / t_serial:8.1f} variants/s")
    print(f"process pool ({args.workers})     {n / t_pool:8.1f} variants/s (pool start included)")
    print(f"speed-up              {t_serial / t_pool:8.2f}x")


if __name__ == "__main__":
    main()
