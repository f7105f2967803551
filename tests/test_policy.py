"""Policy instruments and their costing: budget laws, neutrality, units, presets, Ganzhou."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity import Q_, Resource, ValidationError, project
from capacity.datasets import ganzhou
from capacity.policy import (
    PRESETS,
    SOURCES,
    ComputeVoucher,
    ConstructionSubsidy,
    Elasticity,
    ElectricitySubsidy,
    PolicyCost,
    amortised,
    cost_policy,
    energy_cost,
    hours_in_month,
)
from capacity.provenance import Kind, Provenance

PRICES = {"compute_fp16": "30 yuan/(PFLOPS_fp16*hour)", "vcpu": "50 yuan/vCPU/month"}
NO_RESPONSE = Elasticity(0, Provenance.assumption("no demand response"))
RESPONSIVE = Elasticity(-0.8, Provenance.assumption("test value"))


@pytest.fixture(scope="module")
def scenario():
    return ganzhou()


@pytest.fixture(scope="module")
def small(scenario):
    # Few paths keep each hypothesis example cheap; the laws hold path by path.
    return project(scenario, start="2025-01", end="2028-12", n_paths=16, seed=3)


@pytest.fixture(scope="module")
def full(scenario):
    return project(scenario, start="2025-01", end="2030-12", n_paths=200, seed=0)


def voucher(rate=0.3, cap="300 万元/year", budget="1000 万元/year", **kw):
    return ComputeVoucher("v", rate=rate, cap_per_enterprise=cap, annual_budget=budget,
                          eligible_kinds={"enterprise-ai"}, **kw)


def cost(projection, scenario, policies, elasticity=NO_RESPONSE, **kw) -> PolicyCost:
    return cost_policy(projection, scenario.demands, policies, prices=PRICES,
                       elasticity=elasticity, **kw)


rates = st.floats(0, 1)
wan = st.floats(0, 5000)  # 万元


# -- vouchers -------------------------------------------------------------------------
@given(rate=rates, cap=wan, budget=wan, n=st.integers(1, 30))
def test_voucher_outlay_within_budget_rate_and_caps(small, scenario, rate, cap, budget, n):
    c = cost(small, scenario, [voucher(rate, Q_(cap, "万元/year"), Q_(budget, "万元/year"))],
             enterprises=n)
    # Eligible spend: a voucher paying all of it, without cap or budget.
    whole = cost(small, scenario, [voucher(1.0, Q_(1e12, "yuan/year"), None)])
    spend = whole.outlay_paths("v").m_as("万元")
    out = c.outlay_paths("v").m_as("万元")
    tol = 1e-9 * (1 + spend)
    assert np.all(out >= 0)
    assert np.all(out <= budget + tol)
    assert np.all(out <= rate * spend + tol)
    assert np.all(out <= n * cap + tol)


@given(rate=rates, elasticity=st.floats(-2, 0))
def test_zero_rate_voucher_changes_nothing(small, scenario, rate, elasticity):
    e = Elasticity(elasticity, Provenance.assumption("test"))
    base = cost(small, scenario, [], e)
    zero = cost(small, scenario, [voucher(0.0), ElectricitySubsidy("e", amount="0 yuan/kWh")],
                e)
    assert not np.any(zero.outlay_paths("v").magnitude)
    assert not np.any(zero.outlay_paths("e").magnitude)
    for r in (Resource.COMPUTE_FP16, Resource.VCPU):
        np.testing.assert_array_equal(zero.effective_price(r).magnitude,
                                      base.effective_price(r).magnitude)
        np.testing.assert_array_equal(zero.induced_demand(r).magnitude, 0.0)
    np.testing.assert_array_equal(zero.utilisation_with, base.utilisation_with)
    np.testing.assert_array_equal(zero.utilisation_with, zero.utilisation_without)
    np.testing.assert_array_equal(zero.energy_cost(net=True).magnitude,
                                  base.energy_cost().magnitude)


@given(r1=rates, r2=rates, b1=wan, b2=wan)
def test_outlay_non_decreasing_in_rate_and_budget(small, scenario, r1, r2, b1, b2):
    (r1, r2), (b1, b2) = sorted((r1, r2)), sorted((b1, b2))

    def paid(rate, budget):
        return cost(small, scenario, [voucher(rate, budget=Q_(budget, "万元/year"))]
                    ).outlay_paths("v").magnitude

    assert np.all(paid(r1, b1) <= paid(r2, b1) + 1e-6)
    assert np.all(paid(r1, b1) <= paid(r1, b2) + 1e-6)


def test_higher_rate_induces_demand_and_lowers_price(small, scenario):
    lo = cost(small, scenario, [voucher(0.2)], RESPONSIVE)
    hi = cost(small, scenario, [voucher(0.5)], RESPONSIVE)
    assert lo.converged
    assert hi.converged
    f16 = Resource.COMPUTE_FP16
    assert np.all(hi.effective_price(f16).magnitude <= lo.effective_price(f16).magnitude)
    assert np.all(hi.induced_demand(f16).magnitude >= lo.induced_demand(f16).magnitude)
    assert np.all(lo.induced_demand(f16).magnitude >= 0)


def test_budget_runs_out_in_a_month_and_is_reported(small, scenario):
    c = cost(small, scenario, [voucher(0.5, budget="1 万元/year")])
    assert np.all(c.outlay("v").m_as("万元")[1:] == pytest.approx(1.0))
    when = c.budget_exhausted("v")
    assert when[0] is None or str(when[0]).startswith("2025")
    assert [str(m)[:4] for m in when[1:]] == ["2026", "2027", "2028"]
    np.testing.assert_array_equal(c.exhaustion_probability("v")[1:], 1.0)
    assert cost(small, scenario, [voucher(0.5, budget=None)]).budget_exhausted("v") == \
        [None] * 4


def test_voucher_outside_its_validity_pays_nothing(small, scenario):
    c = cost(small, scenario, [voucher(0.3, start="2027-01", end="2027-12")])
    out = c.outlay("v").magnitude
    assert out[0] == out[1] == out[3] == 0
    assert out[2] > 0


# -- electricity and construction --------------------------------------------------------
def test_electricity_subsidy_pays_nothing_above_max_pue(small, scenario):
    strict = ElectricitySubsidy("e", amount="0.06 yuan/kWh", years=3, max_pue=1.2)
    c = cost(small, scenario, [strict])
    assert not np.any(c.outlay_paths("e").magnitude)
    np.testing.assert_array_equal(c.energy_cost(net=True).magnitude, c.energy_cost().magnitude)
    # The smart-computing centre (PUE 1.25) qualifies at 1.25; the clouds (1.5) do not.
    c = cost(small, scenario, [ElectricitySubsidy("e", amount="0.06 yuan/kWh", years=3,
                                                  max_pue=1.25)])
    assert np.any(c.outlay_paths("e").magnitude > 0)
    for site in ("tianyi-huawei", "mobile-inspur", "gannan-data-lake"):
        np.testing.assert_array_equal(c.energy_cost(site, net=True).magnitude,
                                      c.energy_cost(site).magnitude)


def test_green_share_condition(small, scenario):
    karamay = PRESETS["karamay-2024"]
    unknown = cost(small, scenario, [karamay], green_share={})
    assert not np.any(unknown.outlay_paths(karamay.name).magnitude)
    green = cost(small, scenario, [karamay], green_share={"smart-computing-centre": 0.8})
    assert np.any(green.outlay_paths(karamay.name).magnitude > 0)


def test_construction_subsidy_pays_per_cabinet_once(full, scenario):
    c = cost(full, scenario, [ConstructionSubsidy("c", per_cabinet="2 万元/cabinet",
                                                  eligible_tags={"ai"})])
    # 200 smart-AI cabinets × 2 万元, all online by 2030 on every path.
    total = c.outlay_paths("c").m_as("万元").sum(axis=1)
    np.testing.assert_allclose(total, 400.0)


# -- costs -----------------------------------------------------------------------------
@given(kw=st.floats(0, 1e5), price=st.floats(0, 5), pue=st.floats(1, 3),
       load=st.floats(0, 1))
def test_energy_cost_unchanged_in_other_units(kw, price, pue, load):
    months = np.array(["2024-02", "2025-07"], dtype="datetime64[M]")
    a = energy_cost(Q_(np.full(2, kw), "kW"), Q_(price, "yuan/kWh"), pue=pue,
                    load_factor=load, months=months)
    b = energy_cost(Q_(np.full(2, kw / 1000), "MW"), Q_(price * 100, "万元/GWh"), pue=pue,
                    load_factor=load, months=months)
    np.testing.assert_allclose(a.m_as("yuan"), b.m_as("yuan"), rtol=1e-12, atol=1e-9)


def test_energy_cost_counts_calendar_hours():
    months = np.array(["2024-02", "2025-02", "2025-07"], dtype="datetime64[M]")
    np.testing.assert_array_equal(hours_in_month(months), [696, 672, 744])
    c = energy_cost(Q_(np.ones(3), "MW"), Q_(0.5, "yuan/kWh"), pue=1.25, load_factor=0.8,
                    months=months)
    np.testing.assert_allclose(c.m_as("yuan"), 1000 * 0.8 * 1.25 * 0.5 * np.array(
        [696, 672, 744]))


def test_amortised_is_straight_line():
    assert amortised(Q_(315_000, "万元"), years=10).m_as("亿元/year") == pytest.approx(3.15)
    with pytest.raises(ValueError, match="years"):
        amortised(Q_(1, "yuan"), years=0)


# -- validation ------------------------------------------------------------------------
def test_voucher_validation_lists_every_problem():
    with pytest.raises(ValidationError) as info:
        ComputeVoucher("", rate=1.5, cap_per_enterprise="5 kW", annual_budget="3 yuan",
                       eligible_kinds=(), start="2026-01", end="2025-01",
                       min_claim="-1 yuan")
    paths = {e.path for e in info.value.problems}
    assert paths == {"name", "rate", "cap_per_enterprise", "annual_budget", "eligible_kinds",
                     "end", "min_claim"}


def test_other_instruments_list_every_problem():
    with pytest.raises(ValidationError) as info:
        ElectricitySubsidy("e", amount="0.06 yuan", years=-1, start="2025-01", max_pue=0.9,
                           min_green_share=1.5, annual_budget="2 kWh")
    assert {e.path for e in info.value.problems} == {
        "amount", "years", "max_pue", "min_green_share", "annual_budget"}
    with pytest.raises(ValidationError) as info:
        ConstructionSubsidy("c", per_cabinet="1 万元/cabinet", share_of_capex=2, cap="1 kW")
    assert {e.path for e in info.value.problems} == {"per_cabinet", "share_of_capex", "cap"}


def test_cost_policy_validation_lists_every_problem(small, scenario):
    with pytest.raises(ValidationError) as info:
        cost_policy(small, scenario.demands, [voucher(), voucher()],
                    prices={"vcpu": "5 yuan", "nonsense": "1 yuan"}, elasticity=0.5,
                    enterprises=0, load_factor=2, green_share={"nowhere": 0.5})
    assert {e.path for e in info.value.problems} == {
        "prices.vcpu", "prices.nonsense", "enterprises", "elasticity", "load_factor",
        "policies[1].name", "green_share.nowhere"}
    with pytest.raises(ValidationError) as info:
        cost_policy(small, scenario.demands[:2], [], prices=PRICES, elasticity=NO_RESPONSE)
    assert [e.path for e in info.value.problems] == ["demands"]
    with pytest.raises(ValidationError) as info:
        Elasticity(0.3, Provenance.assumption("wrong sign"))
    assert [e.path for e in info.value.problems] == ["value"]


# -- presets ---------------------------------------------------------------------------
def test_presets_load_with_sources():
    expected = {"chengdu-2023", "chengdu-2025", "beijing", "beijing-etown", "shanghai-2025",
                "shenzhen", "hangzhou", "qingyang", "henan-2025", "karamay-2024"}
    assert expected <= set(PRESETS)
    addresses = [a.split(": ", 1)[1] for a in SOURCES.values()]
    for name, x in PRESETS.items():
        assert x.name == name
        sources = [pv for pv in x.provenance.values() if pv.kind is Kind.SOURCE]
        assert sources, name
        assert all(any(a in pv.note for a in addresses) for pv in sources), name
    assert PRESETS["qingyang"].min_claim == Q_(5000, "yuan")
    assert PRESETS["beijing"].annual_budget is None


def test_the_henan_preset_pays_what_its_published_rule_implies():
    from capacity.response import budget, claims

    henan = PRESETS["henan-2025"]
    assert (henan.rate, henan.cap_per_enterprise, henan.annual_budget) == (
        0.2, Q_(100, "万元/year"), Q_(5000, "万元/year"))
    # 20 % of the fee, at most 100 万元 a user: a user spending 300 万元 gets 60 万元, one
    # spending 1,000 万元 gets 100 万元; the scheme pays at most 5,000 万元 a year
    for users, each, paid in ((20, 300, 20 * 60), (40, 1000, 40 * 100), (72, 1000, 5000)):
        spend = np.array([users * each * 1e4])  # yuan in the year, shared equally
        total = min(float(claims(spend, henan, np.full(users, 1 / users))[0]), budget(henan))
        assert total == pytest.approx(paid * 1e4)
    # the budget leverages at most budget ÷ rate of spend: 2.5 亿元
    assert (henan.annual_budget / henan.rate).m_as("亿元/year") == pytest.approx(2.5)
    assert "guizhou-2024" not in PRESETS


# -- Ganzhou ---------------------------------------------------------------------------
def test_ganzhou_chengdu_voucher_and_karamay_subsidy(full, scenario):
    chengdu, karamay = PRESETS["chengdu-2023"], PRESETS["karamay-2024"]
    c = cost_policy(full, scenario.demands, [chengdu, karamay], prices=PRICES,
                    elasticity=RESPONSIVE, enterprises=20,
                    green_share={"smart-computing-centre": 0.8})
    assert c.converged
    assert list(c.years) == list(range(2025, 2031))
    voucher_wan = c.outlay(chengdu.name).m_as("万元")
    # AI demand grows from ~0 in 2025 to the 1000 万元 budget by the end of the decade.
    assert 0 < voucher_wan[0] < 100
    assert np.all(np.diff(voucher_wan) >= 0)
    assert voucher_wan[-1] == pytest.approx(1000)
    assert c.budget_exhausted(chengdu.name)[-1] is not None
    # 30 % off 30 yuan per PFLOPS-hour while no cap or budget binds.
    price = c.effective_price(Resource.COMPUTE_FP16).m_as("yuan/(PFLOPS_fp16*hour)")
    assert price[1] == pytest.approx(21.0)
    assert c.effective_price(Resource.VCPU).m_as("yuan/vCPU/month") == pytest.approx(50.0)
    assert c.induced_demand(Resource.COMPUTE_FP16).m_as("PFLOPS_fp16")[2] > 0
    smart = c.utilisation("smart-computing-centre")
    assert smart[-1] >= c.utilisation("smart-computing-centre", policy=False)[-1]
    assert np.all(np.isfinite(smart))  # averaged over the months it is open
    assert np.all(np.isnan(c.utilisation("k1-plot-dc")))  # announced without a size
    # Karamay pays the smart centre only (tag 'ai'): at most 200 cabinets × 8 kW × 0.6 load
    # × PUE 1.25 × 8,784 h × 0.06 yuan/kWh ≈ 63 万元 a year, for 3 years from opening.
    elec = c.outlay(karamay.name).m_as("万元")
    assert np.all(elec <= 63.3)
    assert elec[2] > 30
    assert np.all(elec[4:] == 0)
    bill = c.energy_cost().m_as("万元")
    assert 5_000 < bill[-1] < 15_000  # ~3,650 cabinets, mostly 6 kW at 0.6 yuan/kWh
