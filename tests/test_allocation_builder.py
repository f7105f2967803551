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


def test_costs_are_energy_drawn_plus_amortised_capex(scenario, solved_2027):
    built, result = solved_2027
    p = built.problem
    assert p.cost_unit == "yuan/year"
    i = built.blocks.index("enterprise-ai")
    j = [str(k) for k in built.pools].index("smart-computing-centre/smart-ai")
    device = 40_000 / 20 / 650  # TFLOPS FP16 per part / TFLOPS FP16 per cabinet's device time
    assert p.use[i, j, p.resource_names.index("device_time")] == pytest.approx(device)
    # a busy cabinet draws 8 kW × 0.6 load × (1 − 0.5 idle) more than an idle one, × PUE 1.25
    energy = device * 8 * 0.6 * 0.5 * 1.25 * 8766 * 0.6
    # 80 万元 per PFLOPS, repaid over 10 years at the 8 % discount rate
    capex = device * 0.65 * 80e4 * 0.08 / (1 - 1.08**-10)
    assert p.cost[i, j] == pytest.approx(energy + capex)
    # the idle draw of every cabinet in service is paid whatever the assignment
    idle = (451 * 5 * 1.5 + 3000 * 6 * 1.3 + 200 * 8 * 1.25) * 0.6 * 0.5 * 8766 * 0.6
    assert p.fixed_cost == pytest.approx(idle)
    assert result.objective_value >= p.fixed_cost


def test_fp16_and_fp64_share_the_smart_centres_device_time(solved_2027):
    built, result = solved_2027
    p = built.problem
    j = [str(k) for k in built.pools].index("smart-computing-centre/smart-ai")
    d = p.resource_names.index("device_time")
    fp64_rate = 650 * 33.5 / 989.4  # TFLOPS FP64 per cabinet
    assert result.used[j, d] == pytest.approx(40_000 / 650 + 1_500 / fp64_rate)
    assert p.capacity[j, d] == pytest.approx(200)


def test_2030_is_infeasible_and_says_why_in_cabinets(scenario):
    built = build_problem(scenario, "2030-12")
    result = allocate(built.problem, time_limit=10)
    assert result.status is Status.INFEASIBLE
    assert "device_time: enterprise-ai, research-hpc can only use" in result.explanation
    assert "vcpu: government-cloud can only use" in result.explanation
    assert "more cabinets like" in result.explanation
    assert built.placement(result) == {}


def test_a_month_where_a_block_needs_nothing_leaves_it_out(scenario):
    built = build_problem(scenario, "2025-01")
    assert set(built.skipped) == {"enterprise-ai", "research-hpc"}
    assert allocate(built.problem, time_limit=10).status is Status.OPTIMAL


def test_a_block_no_pool_may_host_is_an_infeasible_result_naming_it(scenario):
    from capacity.demand import DemandBlock
    from capacity.growth import Linear

    odd = DemandBlock("odd", "x", "vcpu", Linear(Q_(10, "vCPU"), "2025-01", Q_(0, "vCPU/year")),
                      eligible={"ai"})  # the smart centre offers no vCPU
    s = attrs.evolve(scenario, demands=(*scenario.demands, odd))
    built = build_problem(s, "2027-12")
    assert built.unhosted == (("odd", ("ai",)),)
    assert "odd (tags: ai) may run in no pool" in built.notes()[0]
    result = allocate(built.problem, time_limit=10)
    assert result.status is Status.INFEASIBLE
    assert "odd" in result.explanation


def test_a_penalty_turns_shortfall_into_unmet_demand(scenario):
    built = build_problem(scenario, "2030-12", unmet_penalty="1 亿元/year")
    result = allocate(built.problem, time_limit=20)
    assert result.success
    placed = built.placement(result)
    assert "unmet" in placed["enterprise-ai"] or "unmet" in placed["research-hpc"]
    assert "unmet" in placed["government-cloud"]


def test_subsidies_of_the_scenario_lower_the_allocation_cost():
    from pathlib import Path

    from capacity import Scenario

    root = Path(__file__).resolve().parents[1] / "scenarios"
    base = Scenario.from_toml(root / "ganzhou-baseline.toml")
    green = Scenario.from_toml(root / "ganzhou-green-power.toml")
    a = allocate(build_problem(base, "2026-06").problem, time_limit=10)
    b = allocate(build_problem(green, "2026-06").problem, time_limit=10)
    assert b.objective_value < a.objective_value


def test_grid_envelope_binds_with_a_positive_shadow_price(scenario):
    # 200 smart cabinets idle draw 200 × 8 kW × 0.6 × 0.5 × PUE 1.25 = 600 kW; a 900 kW grid
    # leaves 300 kW, 100 busy cabinets' worth, against ~130 cabinets of device time needed.
    tight = tuple(attrs.evolve(s, grid=Q_(900, "kW")) if s.id == "smart-computing-centre"
                  else s for s in scenario.plan.sites)
    s = attrs.evolve(scenario, plan=attrs.evolve(scenario.plan, sites=tight))
    built = build_problem(s, "2027-12", unmet_penalty="1 亿元/year")
    result = allocate(built.problem, time_limit=20)
    assert result.success
    p = built.problem
    site = p.site_names.index("smart-computing-centre")
    assert p.grid[site] == pytest.approx(300)
    assert result.power_binding[site]
    assert result.power_shadow_price[site] > 0
    assert result.unmet.sum() > 0
    assert "binding: grid power at smart-computing-centre" in result.explain()
    assert any("grid power of smart-computing-centre used up" in t
               for t in result.stranded_reasons())


def test_bad_arguments_are_listed_together(scenario):
    with pytest.raises(ValidationError) as info:
        build_problem(scenario, "2027-12", units=0, lifetime="10 kW", min_sites={"no-block": 2},
                      unmet_penalty="5 kW")
    assert {p.path for p in info.value.problems} == {
        "units", "lifetime", "min_sites.no-block", "unmet_penalty"}


def test_a_spread_rule_is_a_mapping_of_whole_site_counts(scenario):
    with pytest.raises(ValidationError) as info:
        build_problem(scenario, "2027-12", min_sites=["government-cloud"])
    assert "min_sites: must map demand block names" in str(info.value.problems[0])
    block = scenario.demands[0].name
    for count in ("2", True, 1.5, -1):
        with pytest.raises(ValidationError) as info:
            build_problem(scenario, "2027-12", min_sites={block: count})
        assert [(e.path, e.reason) for e in info.value.problems] == [
            (f"min_sites.{block}", "must be a whole number of sites ≥ 0")]


def test_the_allocation_serves_the_demand_a_voucher_induces():
    from pathlib import Path

    from capacity import Scenario

    voucher = Scenario.from_toml(Path(__file__).resolve().parents[1] / "scenarios"
                                 / "ganzhou-voucher.toml")
    built = build_problem(voucher, "2027-12")
    placed = built.placement(allocate(built.problem, time_limit=10))
    # a 30 % voucher, caps and budget not reached: users pay 0.7 of list, elasticity -0.8
    served = sum(q.m_as("PFLOPS_fp16") for q in placed["enterprise-ai"].values())
    assert served == pytest.approx(40 * 0.7 ** -0.8, rel=1e-9)
    # research-hpc buys no priced resource: a voucher lowers no price it pays
    hpc = sum(q.m_as("PFLOPS_fp64") for q in placed["research-hpc"].values())
    assert hpc == pytest.approx(1.5, rel=1e-9)
