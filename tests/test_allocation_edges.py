"""Inputs at the edges the solver must still answer truly: tiny and huge numbers, empty
problems, one-demand searches, sites that draw no power."""

from __future__ import annotations

import time

import numpy as np
import pytest

from capacity.allocation import AllocationProblem, Status, allocate
from capacity.allocation import heuristic as heuristic_module
from capacity.allocation.model import build_model
from capacity.errors import FieldError

METHODS = ["auto", "milp", "heuristic"]


@pytest.mark.parametrize("method", METHODS)
def test_a_capacity_far_below_one_is_held_to_not_dropped(method: str) -> None:
    # 1e-10 per unit into 1e-9: HiGHS drops coefficients ≤ 1e-9, so unscaled it placed all
    # 100 units at the cheap pool, 10 × its capacity, and called that optimal
    p = AllocationProblem(use=np.full((1, 2, 1), 1e-10), capacity=[[1e-9], [1.0]],
                          cost=[[1.0, 2.0]], size=[100], splittable=True)
    a = allocate(p, time_limit=5, method=method)
    assert a.status == Status.OPTIMAL
    assert a.assignment is not None
    assert a.assignment.tolist() == [[10.0, 90.0]]
    assert a.utilisation is not None
    assert a.utilisation.max() <= 1 + 1e-9


@pytest.mark.parametrize("method", METHODS)
def test_the_same_problem_in_other_units_has_the_same_answer(method: str) -> None:
    # 1000 units of 1e12 (bytes, say) whole into pools of 5e14 and 1e15: one step is a
    # coefficient of 1e15, at HiGHS's limit; scaled by its row it is 1 (and 2 at the
    # smaller pool, which it can never fit)
    def problem(scale: float) -> AllocationProblem:
        return AllocationProblem(use=np.full((1, 2, 1), 1e12 * scale),
                                 capacity=np.array([[5e14], [1e15]]) * scale,
                                 cost=[[1.0, 2.0]], size=[1000], penalty=[1e6])
    answers = [allocate(problem(s), time_limit=5, method=method) for s in (1.0, 1e-12)]
    for a in answers:
        assert a.status == Status.OPTIMAL
        assert a.assignment is not None
        assert a.assignment.tolist() == [[0.0, 1000.0]]
        assert a.objective == 2000.0


@pytest.mark.parametrize("k", [1.0, 1e-3, 1e-6, 1e-7])
def test_a_small_capacity_is_not_overfilled_within_the_solvers_tolerance(k: float) -> None:
    # two whole demands of 1.04 k into 2 k: one fits. HiGHS's feasibility tolerance is
    # absolute (1e-7, 5 % of 2e-6), so unscaled at k = 1e-6 it placed both as optimal
    p = AllocationProblem(use=np.full((2, 1, 1), 1.04 * k), capacity=[[2.0 * k]],
                          cost=[[-1.0], [-1.0]], size=[1, 1], penalty=[0.0, 0.0])
    a = allocate(p, time_limit=5, method="milp")
    assert a.status == Status.OPTIMAL
    assert a.objective == -1.0


@pytest.mark.parametrize("method", METHODS)
def test_a_tiny_share_of_a_capacity_is_still_held_to(method: str) -> None:
    # 1e13 units of 1e-12 each would fill the pool 10 times: at most 1e12 of them fit (the
    # other demand, needing half the pool, is worth more per unit of room)
    p = AllocationProblem(use=np.array([[[1e-12]], [[0.5]]]), capacity=[[1.0]],
                          cost=[[-1.0], [-1e12]], size=[1e13, 1], splittable=True,
                          penalty=[0.0, 0.0])
    a = allocate(p, time_limit=5, method=method)
    assert a.utilisation is not None
    assert a.utilisation.max() <= 1 + 1e-9
    if method != "heuristic":  # the exact methods also find the best use of the room
        assert a.assignment is not None
        assert a.assignment.tolist() == [[5e11], [1.0]]


def test_a_share_below_the_solvers_precision_that_could_fill_a_pool_is_refused() -> None:
    # 5e-22 of the pool per unit, 1e15 units: a share 22 orders of magnitude below the
    # other demand's, which no rescaling keeps above HiGHS's 1e-9 together with it
    p = AllocationProblem(use=np.array([[[5e-22]], [[0.5]]]), capacity=[[1.0]],
                          cost=[[1.0], [1.0]], size=[1e15, 3], splittable=True, penalty=[1, 1])
    with pytest.raises(FieldError, match=r"use\[0,0,0\]: demand 0 takes 5e-22 per unit at "
                                         r"pool 0, a share of its capacity \(1\) too small"):
        allocate(p, time_limit=5)
    # a share as small, of a pool its demands cannot fill, is harmless
    q = AllocationProblem(use=np.full((1, 1, 1), 5e-22), capacity=[[1.0]], cost=[[1.0]],
                          size=[1e15], splittable=True)
    assert allocate(q, time_limit=5).status == Status.OPTIMAL


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("shape", "penalty", "status", "objective"), [
    ((0, 3, 1), None, Status.OPTIMAL, 0.0),          # nothing to place
    ((2, 0, 1), [3.0, 4.0], Status.OPTIMAL, 11.0),   # no pools: 1 × 3 + 2 × 4 unmet
    ((2, 0, 1), None, Status.INFEASIBLE, None),      # no pools for demands that must go
    ((2, 3, 0), None, Status.OPTIMAL, 3.0),          # no resources: 1 + 2 units at cost 1
])
def test_empty_problems_have_answers(method: str, shape: tuple[int, int, int],
                                     penalty: list[float] | None, status: Status,
                                     objective: float | None) -> None:
    n, m, r = shape
    p = AllocationProblem(use=np.ones(shape), capacity=np.ones((m, r)), cost=np.ones((n, m)),
                          size=[1.0, 2.0][:n] if n else [], penalty=penalty)
    a = allocate(p, time_limit=5, method=method)
    assert a.status == status
    assert a.method == ("none" if 0 in (n, m) else "milp" if method == "auto" else method)
    if objective is not None:
        assert a.objective == objective
    else:
        assert "demand 0 must be served but may use no pool" in a.message
    a.explain()
    a.stranded_reasons()
    a.to_pandas()


def test_the_search_with_one_demand_to_move_ends_after_its_descent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # with fewer than two demands there is nothing to kick; the search used to spin on
    # until its deadline, a node budget notwithstanding (no bound to stop it here)
    descents = []
    chain = heuristic_module._chain_descent
    monkeypatch.setattr(heuristic_module, "_chain_descent",
                        lambda *args: descents.append(1) or chain(*args))
    p = AllocationProblem(use=np.ones((1, 2, 1)), capacity=[[1.0], [1.0]],
                          cost=[[2.0, 1.0]], size=[1])
    pack = heuristic_module.Packing.of(p, build_model(p))
    start = np.array([[1.0, 0.0]])
    out = heuristic_module.eject(pack, start, seed=0, moves=10,
                                 deadline=time.perf_counter() + 5)
    assert pack.feasible(out)
    assert len(descents) == 1


def test_the_heuristic_stops_at_the_lp_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    # the greedy's answer costs the LP bound: no search can do better, so none runs
    rounds = []
    for name in ("_descend", "_chain_descent"):
        original = getattr(heuristic_module, name)
        monkeypatch.setattr(heuristic_module, name,
                            lambda *args, f=original: rounds.append(1) or f(*args))
    p = AllocationProblem(use=np.ones((3, 2, 1)), capacity=[[2.0], [2.0]],
                          cost=[[1.0, 5.0], [1.0, 5.0], [5.0, 1.0]], size=[1, 1, 1])
    a = allocate(p, method="heuristic", time_limit=5)
    assert a.status == Status.OPTIMAL
    assert a.objective == 3.0
    assert len(rounds) <= 1  # the ejection chains' first descent at most


def test_a_site_whose_demands_draw_no_power_has_no_binding_grid() -> None:
    p = AllocationProblem(use=[[[1.0]]], capacity=[[5.0]], cost=[[1.0]], size=[2],
                          splittable=True, power_use=[[0.0]], grid=[30.0])
    a = allocate(p, time_limit=5)
    assert a.power_used is not None
    assert a.power_used.tolist() == [0.0]
    assert a.power_binding is not None
    assert a.power_binding.tolist() == [False]
    assert a.stranded is not None
    assert a.stranded.tolist() == [[0.0]]
    assert a.stranded_reasons() == []


def test_the_table_of_an_answer_keeps_its_unit() -> None:
    p = AllocationProblem(use=[[[1.0]]], capacity=[[5.0]], cost=[[1.0]], size=[2],
                          splittable=True)
    assert allocate(p, time_limit=5).to_pandas().attrs["units"] == {"amount": "unit of demand"}


@pytest.mark.parametrize("factor", [1.0, 1e-8, 1e-12])
def test_what_binds_and_what_is_stranded_do_not_depend_on_the_unit(factor: float) -> None:
    # one unit takes 1 of 10 and 2 of 2: the second resource binds, 9 of the first is idle
    p = AllocationProblem(use=np.array([[[1.0, 2.0]]]) * factor,
                          capacity=np.array([[10.0, 2.0]]) * factor, cost=[[1.0]], size=[1])
    a = allocate(p, method="milp", time_limit=5)
    assert a.binding is not None
    assert a.binding.tolist() == [[False, True]]
    assert a.stranded is not None
    np.testing.assert_allclose(a.stranded, [[9.0 * factor, 0.0]])


def test_an_answer_with_no_demands_prices_every_capacity_at_zero() -> None:
    p = AllocationProblem(use=np.zeros((0, 2, 1)), capacity=np.ones((2, 1)),
                          cost=np.zeros((0, 2)), size=[], power_use=np.zeros((0, 2)),
                          grid=[1.0, 1.0])
    a = allocate(p, time_limit=5)
    assert a.shadow_price is not None
    assert a.shadow_price.tolist() == [[0.0], [0.0]]
    assert a.power_shadow_price is not None
    assert a.power_shadow_price.tolist() == [0.0, 0.0]


def test_the_heuristic_places_splittable_demands_with_no_resources_to_fill() -> None:
    p = AllocationProblem(use=np.zeros((1, 1, 0)), capacity=np.zeros((1, 0)), cost=[[1.0]],
                          size=[1.0], penalty=[5.0], splittable=True)
    a = allocate(p, method="heuristic", time_limit=5)
    assert a.status == Status.OPTIMAL
    assert a.objective == 1.0


@pytest.mark.parametrize("method", METHODS)
def test_a_capacity_of_zero_takes_no_load_however_small(method: str) -> None:
    # 3 units of 1e-12 each into a pool with none of the resource: all unmet (3 × 5), where
    # the heuristic's absolute tolerance (1e-9) let them in
    p = AllocationProblem(use=np.full((1, 1, 1), 1e-12), capacity=[[0.0]], cost=[[1.0]],
                          size=[3], splittable=True, penalty=[5.0])
    a = allocate(p, time_limit=5, method=method)
    assert a.assignment is not None
    assert a.assignment.tolist() == [[0.0]]
    assert a.objective == 15.0
