"""Published optima of the OR-Library GAP sets: allocate must prove each of them."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from capacity.allocation import allocate, read_orlib_gap

FILES = [(f"gap{k}.txt", 5) for k in range(1, 13)] + [(f"gap{c}.txt", 6) for c in "abc"]
CASES = [(name, k) for name, count in FILES for k in range(1, count + 1)]


def optima(folder: Path) -> dict[str, float]:
    with (folder / "OPTIMA.csv").open() as f:
        return {row["instance"]: float(row["optimal_or_best_known"])
                for row in csv.DictReader(f) if row["sense"] == "min"}


@pytest.mark.parametrize(("file", "k"), CASES, ids=[f"{f}#{k}" for f, k in CASES])
def test_allocate_proves_published_minimum(benchmark_data: Path, file: str, k: int) -> None:
    folder = benchmark_data / "gap_orlib"
    problem = read_orlib_gap(folder / file)[k - 1]
    assert problem.name == f"{file}#{k}"
    result = allocate(problem, time_limit=120)
    assert result.status == "optimal"
    assert result.objective == optima(folder)[problem.name]
    assert result.bound == pytest.approx(result.objective, abs=1e-6)
    assert result.gap <= 1e-4


def test_maximisation_optimum_of_gap1(benchmark_data: Path) -> None:
    import attrs

    folder = benchmark_data / "gap_orlib"
    problem = attrs.evolve(read_orlib_gap(folder / "gap1.txt")[0], sense="max")
    result = allocate(problem, time_limit=60)
    assert result.status == "optimal"
    assert result.objective == 336  # OR-Library gapinfo.txt, c515-1 as maximisation


def test_yagiura_single_problem_file(benchmark_data: Path) -> None:
    problems = read_orlib_gap(benchmark_data / "gap_yagiura" / "c05100")
    assert len(problems) == 1
    assert problems[0].name == "c05100"
    assert (problems[0].n_demands, problems[0].n_pools) == (100, 5)
    result = allocate(problems[0], time_limit=60)
    assert result.objective == 1931  # same instance as gapc.txt#1


def test_reader_layout(benchmark_data: Path) -> None:
    problems = read_orlib_gap(benchmark_data / "gap_orlib" / "gapd.txt")
    assert [(p.n_pools, p.n_demands) for p in problems] == [
        (5, 100), (5, 200), (10, 100), (10, 200), (20, 100), (20, 200)]
    first = problems[0]
    assert first.n_resources == 1
    assert first.sense == "min"
    assert not first.splittable_mask.any()
    assert first.must_serve.all()


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="scheduling priority is Unix's")
def test_search_beside_branch_and_bound_keeps_a_proven_bound(benchmark_data: Path) -> None:
    # d10200 is not proven within the head start, so the search thread runs beside
    # branch and bound; its lowered priority must stay in that thread.
    from strategies_allocation import cost_of, violations

    problem = read_orlib_gap(benchmark_data / "gap_yagiura" / "d10200")[0]
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    result = allocate(problem, time_limit=1.0)
    assert os.getpriority(os.PRIO_PROCESS, 0) == nice
    assert result.status == "feasible"
    assert result.assignment is not None
    assert violations(problem, result.assignment) == []
    assert result.objective_value == pytest.approx(cost_of(problem, result.assignment))
    assert result.bound_value <= result.objective_value
    assert result.method in ("milp", "heuristic+milp")
