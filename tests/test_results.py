"""What results look like to a caller: scipy's names on an allocation, reprs that fit a screen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from capacity import allocate, project, ureg
from capacity.allocation import AllocationProblem, build_problem
from capacity.policy import cost_policy
from capacity.scenario import Scenario

VOUCHER = Path(__file__).parents[1] / "scenarios" / "ganzhou-voucher.toml"


def test_an_allocation_answers_to_milps_names_with_milps_answer():
    # three whole demands onto two pools, solved again by scipy.optimize.milp directly:
    # y[i, j] = 1 when demand i goes to pool j
    cost = np.array([[4.0, 1.0], [2.0, 3.0], [5.0, 1.0]])
    size = np.array([2.0, 1.0, 1.0])
    capacity = np.array([2.0, 3.0])
    p = AllocationProblem(use=np.ones((3, 2, 1)), capacity=capacity[:, None], cost=cost,
                          size=size, splittable=False)
    a = allocate(p, method="milp")
    ref = milp((cost * size[:, None]).ravel(), integrality=np.ones(6), bounds=Bounds(0, 1),
               constraints=[LinearConstraint(np.kron(np.eye(3), np.ones(2)), 1, 1),
                            LinearConstraint(np.kron(size, np.eye(2)), 0, capacity)])
    assert a.success
    assert a.status == "optimal"
    assert a.fun == pytest.approx(ref.fun)
    np.testing.assert_allclose(a.x, ref.x * np.repeat(size, 2))
    assert a.mip_gap == a.gap
    assert a.mip_dual_bound == a.bound_value
    assert a.mip_node_count == a.node_count


def test_no_answer_has_no_x_and_no_fun():
    p = AllocationProblem(use=np.ones((1, 1, 1)), capacity=[[1.0]], cost=[[1.0]], size=[5.0])
    a = allocate(p)
    assert a.status == "infeasible"
    assert a.x is None
    assert a.fun is None


def test_every_result_repr_fits_on_a_screen():
    s = Scenario.from_toml(VOUCHER)
    p = project(s, start="2025-01", end="2030-12", n_paths=50, seed=0)
    a = allocate(build_problem(s, "2027-12").problem, node_limit=1000)
    cost = cost_policy(p)
    for value in (s, p, a, cost):
        text = repr(value)
        assert len(text) <= 200, (type(value).__name__, len(text))
        assert "\n" not in text
    assert "50 paths" in repr(p)
    assert "optimal" in repr(a)
    for value in (s, p, a, cost):
        assert "<table>" in value._repr_html_()


def test_an_allocation_is_a_table_of_where_each_demand_went():
    s = Scenario.from_toml(VOUCHER)
    built = build_problem(s, "2027-12")
    a = allocate(built.problem, node_limit=1000)
    frame = built.to_pandas(a)
    assert list(frame.index.names) == ["block", "site", "profile"]
    placed = built.placement(a)
    for (block, site, profile), row in frame.iterrows():
        pool = f"{site}/{profile}" if profile else site
        q = placed[block][pool]
        assert row["amount"] == q.magnitude
        assert ureg.Unit(row["unit"]) == q.units
    plain = a.to_pandas()
    assert plain["amount"].sum() == pytest.approx(a.assignment.sum() + a.unmet.sum())


def test_q_means_the_same_on_every_result():
    # a single q drops the quantile axis, several lead with it, the default is the median
    s = Scenario.from_toml(VOUCHER)
    p = project(s, start="2025-01", end="2030-12", n_paths=60, seed=1)
    cost = cost_policy(p)
    r = p.uses.blocks[0].resource
    name = cost.instruments[0]
    for one, many, default in (
            (p.quantiles(r, 0.5), p.quantiles(r, (0.1, 0.5)), p.quantiles(r)),
            (cost.outlay(name, 0.5), cost.outlay(name, (0.1, 0.5)), cost.outlay(name))):
        assert one.shape == many.shape[1:]
        assert many.shape[0] == 2
        np.testing.assert_array_equal(default.magnitude, one.magnitude)
        np.testing.assert_array_equal(many[1].magnitude, one.magnitude)


def test_a_plans_own_capacity_is_named_apart_from_the_projections_median():
    from capacity.datasets import ganzhou

    s = ganzhou()
    planned = s.plan.capacity_as_planned(s.estate, "2027-12")
    with pytest.warns(DeprecationWarning, match="capacity_as_planned"):
        old = s.plan.capacity_at(s.estate, "2027-12")
    assert np.array_equal(old.values, planned.values)


def test_a_plans_own_capacity_counts_a_new_sites_cabinets_from_its_commissioning():
    # with no slippage every path keeps the plan's dates: the plan's figure is the
    # projection's at every month, before the new site's own cabinets serve and after
    import attrs

    from capacity.datasets import ganzhou
    from capacity.inventory import Site, Status
    from capacity.plan import Slippage
    from capacity.resources import Resource

    s = ganzhou()
    new = Site("new-dc", "New DC", cabinets={"cloud-general": 1000}, status=Status.PLANNED,
               commissioned="2030-01")
    plan = attrs.evolve(s.plan, sites=(*s.plan.sites, new), projects=tuple(
        attrs.evolve(p, slippage=Slippage(0.0, 0.0)) for p in s.plan.projects))
    s = attrs.evolve(s, plan=plan)
    p = project(s, start="2025-01", end="2030-06", n_paths=8, seed=0)
    for when in ("2026-01", "2029-12", "2030-01"):
        planned = s.plan.capacity_as_planned(s.estate, when)[Resource.CABINETS]
        assert planned.m_as("cabinet") == pytest.approx(
            p.capacity_at(when, Resource.CABINETS).m_as("cabinet"))
    # the estate, not the scenario that holds it (an AttributeError before)
    from capacity.errors import FieldError

    for wrong in (None, s):
        with pytest.raises(FieldError, match="estate: must be an Estate"):
            s.plan.capacity_as_planned(wrong, "2026-01")
    before = s.plan.capacity_as_planned(s.estate, "2029-12")[Resource.CABINETS]
    after = s.plan.capacity_as_planned(s.estate, "2030-01")[Resource.CABINETS]
    assert (after - before).m_as("cabinet") == pytest.approx(1000)


@pytest.mark.parametrize("bad", [1.5, -0.1, "x", [], (0.5, 2.0), True, [0.5, "a"],
                                 [0.5, 0.5]])
def test_a_bad_quantile_level_is_refused_naming_q_on_every_result(bad):
    from capacity.errors import CapacityError
    from capacity.resources import Resource

    s = Scenario.from_toml(VOUCHER)
    p = project(s, start="2025-01", end="2026-12", n_paths=20, seed=0)
    cost = cost_policy(p)
    for call in (lambda: p.quantiles(Resource.VCPU, bad), lambda: p.to_xarray(q=bad),
                 lambda: cost.outlay(cost.instruments[0], bad),
                 lambda: cost.utilisation(cost.site_ids[0], bad),
                 lambda: cost.energy_cost(q=bad), lambda: cost.to_xarray(q=bad)):
        with pytest.raises(CapacityError) as info:
            call()
        assert info.value.path == "q"
