"""Benchmark: ``capacity run`` on the shipped voucher scenario at growing path counts.

Run ``python benchmarks/bench_run.py [--paths 1000 10000 100000]``. Each size runs the
command in a fresh process (so its peak resident memory is its own), writing the JSON
report; it prints wall time, peak resident memory, the time per path relative to the
smallest size, and, measured in the same run, the independent plain-numpy draw of
``bench_projection.reference`` at that size. It checks that the JSON of each run parses and
never fails on a time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench_projection import best, reference

SCENARIO = Path(__file__).parents[1] / "scenarios" / "ganzhou-voucher.toml"
_CHILD = """
import resource, sys
from capacity.cli import main
code = main(sys.argv[1:])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.stderr.write(f"\\npeak-kib {peak}\\n")
raise SystemExit(code)
"""


def measure(n: int) -> tuple[float, float]:
    """Seconds and peak resident MiB of one ``capacity run`` of `n` paths."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, "run", str(SCENARIO), "--format",
                           "json", "--paths", str(n)], capture_output=True, text=True,
                          check=True)
    elapsed = time.perf_counter() - t0
    json.loads(proc.stdout)
    peak = int(proc.stderr.rsplit("peak-kib", 1)[1].split()[0])
    return elapsed, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args = parser.parse_args()
    rows = []
    for n in args.paths:
        seconds, peak = measure(n)
        rows.append((n, seconds, peak, best(lambda n=n: reference(n, 0), 1)))
    first_n, first_s = rows[0][0], rows[0][1]
    print(f"{'paths':>9}  {'time':>8}  {'peak MiB':>8}  {'x time':>7}  {'x paths':>7}  "
          f"{'reference':>9}")
    for n, seconds, peak, ref in rows:
        print(f"{n:>9,}  {seconds:7.1f}s  {peak:8.0f}  {seconds / first_s:7.1f}  "
              f"{n / first_n:7.0f}  {ref:8.2f}s")
    print("targets: peak <= 2048 MiB at 100,000 paths; time(100,000) / time(10,000) <= 12")


if __name__ == "__main__":
    main()
