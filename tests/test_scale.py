"""Scale: a projection split into chunks of paths, run anywhere, is the one-run projection."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity import project
from capacity.policy import cost_policy
from capacity.projection import PATH_BLOCK
from capacity.report import policy_report, projection_report, to_data
from capacity.scenario import Scenario

VOUCHER = Path(__file__).parents[1] / "scenarios" / "ganzhou-voucher.toml"
HORIZON = {"start": "2025-01", "end": "2030-12", "seed": 11}


@pytest.fixture(scope="module")
def voucher() -> Scenario:
    return Scenario.from_toml(VOUCHER)


@pytest.fixture(scope="module")
def whole(voucher):
    return project(voucher, n_paths=60, **HORIZON)


def _same(a, b) -> None:
    for name in ("cabinets", "need", "yearly_multiplier"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.short.violated, b.short.violated)
    assert a.delays.keys() == b.delays.keys()
    for k in a.delays:
        assert np.array_equal(a.delays[k], b.delays[k]), k


def _report(p) -> str:
    data = {"projection": projection_report(p, 0.05),
            "policy": policy_report(cost_policy(p), p.scenario)}
    return json.dumps(to_data(data), sort_keys=True)


def test_chunks_of_any_size_give_the_one_run_projection_and_report(whole):
    report = _report(whole)
    for size in (1, 7, 59):
        chunked = project(whole.scenario, n_paths=60, chunk_paths=size, **HORIZON)
        _same(whole, chunked)
        assert _report(chunked) == report


def test_chunks_on_a_process_pool_give_the_one_run_projection(whole):
    with ProcessPoolExecutor(2) as ex:
        pooled = project(whole.scenario, n_paths=60, chunk_paths=16, executor=ex, **HORIZON)
    _same(whole, pooled)


def test_chunks_on_a_local_dask_cluster_give_the_one_run_projection_and_report(whole):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        clustered = project(whole.scenario, n_paths=60, chunk_paths=13,
                            executor=client.get_executor(), **HORIZON)
    _same(whole, clustered)
    assert _report(clustered) == _report(whole)


def test_paths_past_the_first_block_come_from_the_next_stream_and_split_anywhere(voucher):
    # a run longer than one block of paths: the first paths are the short run's, and
    # chunks that straddle the block boundary draw the same paths as one run
    n = PATH_BLOCK + 30
    one = project(voucher, n_paths=n, **HORIZON)
    split = project(voucher, n_paths=n, chunk_paths=PATH_BLOCK // 2 + 7, **HORIZON)
    _same(one, split)
    short = project(voucher, n_paths=40, **HORIZON)
    _same(one.paths(slice(0, 40)), short)
    # the second block is not the first one again
    assert not np.array_equal(one.need[:, PATH_BLOCK:PATH_BLOCK + 30], one.need[:, :30])


def test_costing_in_chunks_keeps_each_paths_yearly_figures(whole):
    cost = cost_policy(whole)
    parts = [cost_policy(whole.paths(slice(a, a + 20))) for a in (0, 20, 40)]
    for name in cost.instruments:
        joined = np.concatenate([c.outlays[name] for c in parts])
        assert np.array_equal(cost.outlays[name], joined)
    assert np.array_equal(cost.energy, np.concatenate([c.energy for c in parts]))
    assert np.array_equal(cost.utilisation_with, np.concatenate(
        [c.utilisation_with for c in parts]), equal_nan=True)


class _Load:
    """Two processes spinning on the CPU for as long as the context lasts."""

    def __enter__(self):
        spin = "import time\nend = time.time() + 120\nwhile time.time() < end: pass"
        self.procs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2)]
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()


def _run_json() -> bytes:
    return subprocess.run([sys.executable, "-m", "capacity.cli", "run", str(VOUCHER),
                           "--format", "json", "--paths", "300", "--seed", "4"],
                          capture_output=True, check=True).stdout


def test_capacity_run_gives_byte_identical_json_twice_idle_or_loaded():
    quiet = _run_json()
    with _Load():
        busy = _run_json()
    assert quiet == busy
    assert json.loads(quiet)["allocation"]


def test_a_node_budget_gives_the_same_allocation_however_busy_the_machine(benchmark_data):
    from capacity.allocation import allocate, read_orlib_gap

    # d10100 is not closed in 100 nodes: the budget, not the proof, ends the search
    problem = read_orlib_gap(benchmark_data / "gap_yagiura" / "d10100")[0]
    quiet = allocate(problem, node_limit=100, seed=2)
    with _Load():
        busy = allocate(problem, node_limit=100, seed=2)
    assert quiet.status == busy.status == "feasible"
    assert quiet.node_count == 100
    assert quiet.objective == busy.objective
    assert quiet.bound == busy.bound
    assert np.array_equal(quiet.assignment, busy.assignment)


def test_a_node_budget_is_checked():
    from capacity.allocation import AllocationProblem, allocate
    from capacity.errors import CapacityError

    p = AllocationProblem(use=np.ones((2, 2, 1)), capacity=[[1.0], [1.0]],
                          cost=[[1.0, 3.0], [1.0, 2.0]], size=[1, 1])
    assert allocate(p, node_limit=1).objective == 3.0
    for bad, method in ((0, "auto"), (2.5, "auto"), (True, "milp"), (-1, "heuristic")):
        with pytest.raises(CapacityError) as info:
            allocate(p, node_limit=bad, method=method)
        assert info.value.path == "node_limit"


def test_a_generated_city_has_the_size_asked_and_runs_through_a_study():
    from capacity.datasets.city import synthetic_city

    city = synthetic_city(n_sites=40, n_blocks=400, n_projects=10, seed=3)
    assert (len(city.estate.sites), len(city.demands), len(city.plan.projects)) == (40, 400, 10)
    assert synthetic_city(n_sites=40, n_blocks=400, n_projects=10, seed=3) == city
    p = project(city, start="2025-01", end="2027-12", n_paths=30, seed=1)
    # government demand stays in its region's government sites
    gov = [b for b, block in enumerate(p.uses.blocks) if block.kind == "government-cloud"]
    for b in gov:
        region = next(iter(p.uses.blocks[b].eligible)).removeprefix("government-")
        hosts = {p.pools.sites[p.pools.site_of[j]] for j in np.flatnonzero(p.uses.eligible[b])}
        assert hosts
        assert all(s.region == region and "government-cloud" in s.tags for s in hosts)
    cost = cost_policy(p)
    assert np.all(cost.energy >= 0)
    assert float(cost.outlay("chengdu-2023").max().m_as("万元")) <= 1000 + 1e-6


@settings(max_examples=25, deadline=None)
@given(n_sites=st.integers(2, 12), n_blocks=st.integers(1, 12), n_projects=st.integers(0, 3),
       seed=st.integers(0, 2**16))
def test_every_size_a_generated_city_takes_builds_a_valid_city(n_sites, n_blocks, n_projects,
                                                                seed):
    # with few blocks none may be of a kind the voucher covers: it is then left out (a
    # voucher nothing qualifies for is refused) rather than the city failing to build
    from capacity.datasets.city import synthetic_city

    city = synthetic_city(n_sites=n_sites, n_blocks=n_blocks, n_projects=n_projects,
                          seed=seed)
    assert len(city.demands) == n_blocks
    kinds = {b.kind for b in city.demands}
    assert bool(city.policies) == bool(kinds & {"enterprise-ai", "research-hpc"})


def test_a_generated_city_refuses_sizes_it_cannot_build():
    from capacity.datasets.city import synthetic_city
    from capacity.errors import CapacityError

    for kwargs in ({"n_sites": 1}, {"n_blocks": 0}, {"n_projects": -1}, {"n_sites": 2.5}):
        with pytest.raises(CapacityError) as info:
            synthetic_city(**kwargs)
        assert info.value.path == next(iter(kwargs))


def test_a_costing_too_large_for_the_machine_is_refused_up_front(whole, monkeypatch):
    import capacity.policy.evaluate as evaluate
    from capacity.errors import CapacityError

    monkeypatch.setattr(evaluate, "available_bytes", lambda: 1000)
    with pytest.raises(CapacityError) as info:
        cost_policy(whole)
    assert info.value.path == "n_paths"
    assert "GiB" in info.value.reason


def test_a_refusal_in_a_worker_process_reaches_the_caller_by_name():
    # FieldError is rebuilt from its fields: unpickled from its message alone it broke
    # the pool (BrokenProcessPool) instead of naming the block
    import pickle

    import attrs

    from capacity.datasets import ganzhou
    from capacity.errors import DimensionError, FieldError, ValidationError
    from capacity.growth import Compound

    for error in (FieldError("sites[a].pue", "must be ≥ 1", 0.5),
                  DimensionError("it_power", "is not a power"),
                  ValidationError("invalid x", [FieldError("a", "b")])):
        again = pickle.loads(pickle.dumps(error))
        assert (type(again), str(again)) == (type(error), str(error))
    s = ganzhou()
    wild = attrs.evolve(s.demands[0], growth=Compound("100 vCPU", "2025-01", 0.0,
                                                       rate_sd=1e3))
    s = attrs.evolve(s, demands=(wild, *s.demands[1:]))
    with ProcessPoolExecutor(2) as pool, pytest.raises(FieldError) as info:
        project(s, start="2025-01", end="2026-12", n_paths=8, chunk_paths=4, executor=pool)
    assert info.value.path == "demands[government-cloud].growth"
    assert "leave the range of numbers" in info.value.reason
