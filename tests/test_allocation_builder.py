import attrs
import numpy as np
import pytest

from capacity import Q_, ValidationError, allocate
from capacity.allocation import Status, build_problem
from capacity.datasets import ganzhou


@pytest.fixture(scope="module")
def scenario():
    return ganzhou()


@pytest.fixture(scope="module")
def solved_2027(scenario):
    built = build_problem(scenario, "2027-12")
    return built, allocate(built.problem, time_limit=20)


def test_ganzhou_2027_places_every_block_where_it_may_go(scenario, solved_2027):
    built, result = solved_2027
    assert result.status is Status.OPTIMAL
    placed = built.placement(result)
    assert set(placed["government-cloud"]) <= {
        "tianyi-huawei/cloud-general", "mobile-inspur/cloud-general",
        "gannan-data-lake/cloud-general"}
    assert set(placed["enterprise-ai"]) == {"smart-computing-centre/smart-ai"}
    # what is placed adds up to the central demand of the month
    axis = np.array(["2027-12"], dtype="datetime64[M]")
    for block in scenario.demands:
        need = block.central(axis)[0, block.resource.index]
        total = sum(q.m_as(block.resource.unit) for q in placed[block.name].values())
        assert total == pytest.approx(need)


def test_costs_are_energy_plus_amortised_capex(scenario, solved_2027):
    built, _ = solved_2027
    p = built.problem
    i = built.blocks.index("enterprise-ai")
    j = [str(k) for k in built.pools].index("smart-computing-centre/smart-ai")
    cabinets = 40_000 / 20 / 650  # TFLOPS per part / TFLOPS per cabinet at 2027-12
    energy = cabinets * 8 * 0.7 * 1.25 * 8766 * 0.6  # kW × load × PUE × h × yuan/kWh
    capex = cabinets * 0.65 * 80e4 / 10  # 80 万元 per PFLOPS, over 10 years
    assert p.use[i, j, 0] == pytest.approx(cabinets)
    assert p.cost[i, j] == pytest.approx(energy + capex)
    k = [str(k) for k in built.pools].index("ic-enablement-base/base-general")
    e = built.blocks.index("enterprise-cloud")
    per_cab = 1.05e6 / 10 + 6 * 0.7 * 1.3 * 8766 * 0.6  # capex over 10 years + energy
    assert p.cost[e, k] == pytest.approx(p.use[e, k, 0] * per_cab)


def test_2030_is_infeasible_and_says_why(scenario):
    built = build_problem(scenario, "2030-12")
    result = allocate(built.problem, time_limit=10)
    assert result.status is Status.INFEASIBLE
    assert "compute_fp16" in result.explanation
    assert "short by 70000 TFLOPS_fp16" in result.explanation
    assert built.placement(result) == {}


def test_a_penalty_turns_shortfall_into_unmet_demand(scenario):
    built = build_problem(scenario, "2030-12", unmet_penalty="1 亿元")
    result = allocate(built.problem, time_limit=20)
    assert result.success
    placed = built.placement(result)
    assert placed["enterprise-ai"]["unmet"].m_as("PFLOPS_fp16") >= 70 - 1e-6


def test_electricity_subsidy_lowers_cost_whatever_its_unit(scenario, solved_2027):
    _, base = solved_2027
    costs = []
    for amount in ("0.1 yuan/kWh", "100 yuan/MWh", "10 万元/GWh"):
        built = build_problem(scenario, "2027-12",
                              electricity_subsidy={"smart-computing-centre": amount})
        result = allocate(built.problem, time_limit=20)
        costs.append(result.objective_value)
        np.testing.assert_array_equal(result.assignment, base.assignment)
    assert costs == pytest.approx([costs[0]] * 3)
    assert costs[0] < base.objective_value


def test_grid_envelope_binds(scenario):
    estate_sites = scenario.plan.sites
    tight = tuple(attrs.evolve(s, grid=Q_(100, "kW")) if s.id == "smart-computing-centre"
                  else s for s in estate_sites)
    s = attrs.evolve(scenario, plan=attrs.evolve(scenario.plan, sites=tight))
    built = build_problem(s, "2027-12", unmet_penalty="1 亿元")
    result = allocate(built.problem, time_limit=20)
    assert result.success
    p = built.problem
    site = p.site_names.index("smart-computing-centre")
    assert result.power_used[site] <= 100 + 1e-6
    assert result.unmet.sum() > 0
    # the grid, not the cabinets, stops it: less than one more part's power is left
    pools = np.flatnonzero(p.pool_site == site)
    smallest_part = min(p.power_use[i, j] * p.pue[j] for i in range(p.n_demands) for j in pools
                        if p.eligible[i, j] and p.power_use[i, j] > 0)
    assert 100 - result.power_used[site] < smallest_part


def test_bad_arguments_are_listed_together(scenario):
    with pytest.raises(ValidationError) as info:
        build_problem(scenario, "2027-12", units=0, load_factor=1.5, lifetime="10 kW",
                      electricity_subsidy={"nowhere": "0.1 yuan/kWh",
                                           "smart-computing-centre": "0.1 yuan"},
                      min_sites={"no-block": 2})
    assert {p.path for p in info.value.problems} == {
        "units", "load_factor", "lifetime", "electricity_subsidy.nowhere",
        "electricity_subsidy.smart-computing-centre", "min_sites.no-block"}
