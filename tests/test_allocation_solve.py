"""Laws of allocate() on small random problems, checked against brute force."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from capacity import ureg
from capacity.allocation import Allocation, AllocationProblem, Status, allocate
from strategies_allocation import (
    brute_force,
    cost_of,
    enumeration_size,
    problems,
    violations,
)

# A short limit keeps each example fast; every tiny problem here is proven within it.
LIMIT = 20.0


def check_answer(problem: AllocationProblem, result: Allocation) -> None:
    """A reported answer is feasible and its figures agree with the assignment."""
    assert result.assignment is not None
    assert violations(problem, result.assignment) == []
    assert result.objective_value == pytest.approx(cost_of(problem, result.assignment))
    assert result.bound_value <= result.objective_value + 1e-6
    assert result.unmet is not None
    np.testing.assert_allclose(result.unmet, problem.size - result.assignment.sum(axis=1))
    assert result.used is not None
    np.testing.assert_allclose(result.used, np.einsum("ij,ijr->jr", result.assignment,
                                                      problem.use))


@given(problems(), st.sampled_from(["auto", "milp"]))
def test_answers_respect_every_rule_and_match_brute_force(p: AllocationProblem,
                                                          method: str) -> None:
    assume(enumeration_size(p) <= 3000)
    result = allocate(p, time_limit=LIMIT, method=method)  # type: ignore[arg-type]
    best = brute_force(p)
    if best is None:
        assert result.status == Status.INFEASIBLE
        assert result.assignment is None
        assert result.explanation
        return
    assert result.status == Status.OPTIMAL
    check_answer(p, result)
    assert result.objective_value == pytest.approx(best)


@given(problems(spread=True, max_demands=3))
def test_spread_rules_match_brute_force(p: AllocationProblem) -> None:
    assume(enumeration_size(p) <= 3000)
    result = allocate(p, time_limit=LIMIT)
    best = brute_force(p)
    if best is None:
        assert result.status == Status.INFEASIBLE
    else:
        check_answer(p, result)
        assert result.objective_value == pytest.approx(best)


@given(problems(max_demands=6), st.integers(0, 3))
def test_heuristic_answers_are_feasible(p: AllocationProblem, seed: int) -> None:
    result = allocate(p, time_limit=2.0, method="heuristic", seed=seed)
    if result.success:
        check_answer(p, result)
        assert result.status == Status.FEASIBLE or result.gap <= 1e-4
    else:
        assert result.assignment is None


@given(problems(max_demands=6), st.data())
def test_more_capacity_never_costs_more(p: AllocationProblem, data: st.DataObject) -> None:
    extra = np.array(data.draw(st.lists(st.integers(0, 5), min_size=p.capacity.size,
                                        max_size=p.capacity.size)), dtype=float)
    bigger = attrs.evolve(p, capacity=p.capacity + extra.reshape(p.capacity.shape))
    before, after = allocate(p, time_limit=LIMIT), allocate(bigger, time_limit=LIMIT)
    if before.success:
        assert after.status == Status.OPTIMAL
        assert after.objective_value <= before.objective_value + 1e-6


@given(problems(max_demands=6), st.randoms(use_true_random=False))
def test_permuting_demands_and_pools_permutes_the_answer(p: AllocationProblem,
                                                         rnd: object) -> None:
    import random

    assert isinstance(rnd, random.Random)
    d = list(range(p.n_demands))
    j = list(range(p.n_pools))
    rnd.shuffle(d)
    rnd.shuffle(j)
    a, b = allocate(p, time_limit=LIMIT), allocate(p.permute(d, j), time_limit=LIMIT)
    assert a.status == b.status
    if a.success:
        assert b.objective_value == pytest.approx(a.objective_value)
        assert a.assignment is not None
        assert b.assignment is not None
        # the permuted answer, mapped back, is optimal for the original problem
        back = np.empty_like(b.assignment)
        back[np.ix_(d, j)] = b.assignment
        assert cost_of(p, back) == pytest.approx(a.objective_value)


@given(problems(max_demands=6))
def test_costs_in_wan_yuan_give_the_same_answer(p: AllocationProblem) -> None:
    wan = attrs.evolve(p, cost=p.cost / 1e4,
                       penalty=None if p.penalty is None else p.penalty / 1e4, cost_unit="万元")
    a, b = allocate(p, time_limit=LIMIT), allocate(wan, time_limit=LIMIT)
    assert a.status == b.status
    if a.success:
        assert b.objective.to("yuan").magnitude == pytest.approx(a.objective.magnitude)
        assert b.assignment is not None
        # either optimum is optimal for the other problem
        assert cost_of(p, b.assignment) == pytest.approx(a.objective_value)


@given(problems(max_demands=5, sites=False), st.integers(0, 1))
def test_infeasible_problems_name_the_short_resource(p: AllocationProblem, r: int) -> None:
    r = min(r, p.n_resources - 1)
    names = tuple(f"res{k}" for k in range(p.n_resources))
    use = np.array(p.use)
    use[:, :, r] = np.maximum(use[:, :, r], 1.0)
    # every demand must be served, and resource r holds one unit less than the least need
    must = attrs.evolve(p, use=use, penalty=None, eligible=None, resource_names=names)
    need = (use[:, :, r].min(axis=1) * p.size).sum()
    capacity = np.array(p.capacity)
    capacity[:, r] = (need - 1) / p.n_pools
    short = attrs.evolve(must, capacity=capacity)
    result = allocate(short, time_limit=LIMIT)
    assert result.status == Status.INFEASIBLE
    assert not result.success
    assert result.assignment is None
    assert f"res{r}" in result.explanation
    assert "short by" in result.explanation
    assert result.explanation.splitlines()[0] in result.message


def test_explain_names_binding_stranded_and_prices() -> None:
    # pool 0 has cabinets to spare but its power runs out; pool 1 is dearer
    p = AllocationProblem(
        use=np.array([[[1.0, 5.0], [1.0, 5.0]]] * 3), capacity=[[10.0, 10.0], [10.0, 100.0]],
        cost=[[1.0, 3.0]] * 3, size=[1, 1, 1], resource_names=["cabinets", "power"],
        pool_names=["old hall", "new hall"], resource_units=["cabinet", "kW"],
        cost_unit="yuan")
    result = allocate(p)
    assert result.status == Status.OPTIMAL
    assert result.objective == ureg.Quantity(1 + 1 + 3, "yuan")
    assert result.binding is not None
    assert result.binding[0, 1]
    assert result.stranded is not None
    assert result.stranded[0, 0] == 8.0
    assert result.shadow_price is not None
    # one more kW at the old hall lets a fifth of a unit move from cost 3 to cost 1
    assert result.shadow_price[0, 1] == pytest.approx(2 / 5)
    text = result.explain()
    assert "binding: power at old hall" in text
    assert "stranded: 8 cabinet of cabinets at old hall" in text


def test_unmet_demand_pays_its_penalty() -> None:
    p = AllocationProblem(use=np.ones((2, 1, 1)), capacity=[[3.0]], cost=[[1.0], [1.0]],
                          size=[2, 2], penalty=[10.0, 50.0], splittable=True)
    result = allocate(p)
    assert result.unmet is not None
    assert result.unmet.tolist() == [1.0, 0.0]
    assert result.objective_value == 3 * 1.0 + 10.0


def tight_gap(seed: int) -> AllocationProblem:
    """A random GAP with capacities at 80 % of the average load (hard for branch and bound)."""
    rng = np.random.default_rng(seed)
    n, m = 120, 8
    use = rng.integers(5, 25, size=(n, m, 1)).astype(float)
    return AllocationProblem(use=use, capacity=np.full((m, 1), 0.8 * use.sum() / m**2),
                             cost=rng.integers(10, 50, size=(n, m)), size=np.ones(n))


@pytest.mark.parametrize("method", ["heuristic", "auto", "milp"])
def test_time_limited_solve_returns_its_best_answer(method: str) -> None:
    p = tight_gap(1)
    result = allocate(p, time_limit=1.0, method=method)  # type: ignore[arg-type]
    assert result.status in (Status.FEASIBLE, Status.OPTIMAL, Status.NOT_FOUND,
                             Status.TIME_LIMIT)
    if result.success:
        check_answer(p, result)
        assert np.isfinite(result.gap)
    else:
        assert result.assignment is None


def test_highspy_backend_agrees_with_scipy() -> None:
    pytest.importorskip("highspy")
    p = tight_gap(2)
    use = p.use[:30, :4]
    small = AllocationProblem(use=use, capacity=np.full((4, 1), 0.9 * use.sum() / 16),
                              cost=p.cost[:30, :4], size=p.size[:30])
    a = allocate(small, time_limit=60, backend="scipy")
    b = allocate(small, time_limit=60, backend="highspy")
    assert a.status == b.status == Status.OPTIMAL
    assert b.objective_value == a.objective_value


@given(problems(max_demands=6, splittable=False), st.integers(0, 3))
def test_local_search_never_worsens_a_feasible_answer(p: AllocationProblem, seed: int) -> None:
    import time

    from capacity.allocation.heuristic import Packing, improve
    from capacity.allocation.model import build_model

    start = allocate(p, time_limit=LIMIT, method="milp")
    assume(start.success)
    assert start.assignment is not None
    model = build_model(p)
    pack = Packing.of(p, model)
    steps = start.assignment / model.step[:, None]
    better = improve(pack, steps, deadline=time.perf_counter() + 0.2, seed=seed, patience=5)
    assert better is not None
    assert pack.feasible(better)
    assert pack.total_cost(better) <= pack.total_cost(steps) + 1e-9
