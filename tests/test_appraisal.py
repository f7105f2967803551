"""Policy appraisal: the laws it obeys, and a toy estate whose answers are worked by hand."""

from __future__ import annotations

import math

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity import Q_, Resource
from capacity.datasets import ganzhou
from capacity.demand import DemandBlock
from capacity.errors import FieldError
from capacity.growth import Linear
from capacity.instruments import ComputeVoucher, Elasticity, ElectricitySubsidy, Market
from capacity.inventory import CabinetProfile, Estate, Site
from capacity.policy import appraise, compare_instruments
from capacity.provenance import Provenance
from capacity.scenario import Scenario

FP16 = Resource.COMPUTE_FP16
SHORT = {"start": "2025-01", "end": "2027-12", "n_paths": 8, "seed": 1}
GPU = CabinetProfile("gpu", it_power="8 kW", floor_area="2 m**2",
                     compute={"fp16": "650 TFLOPS_fp16"}, kind="ai", capex="52 万元")


def _toy(cabinets: int = 100, demand_pf: float = 10.0, *, public: bool = True,
         elasticity: float = -0.8, rate: float = 0.3, money: str = "yuan") -> Scenario:
    """One AI site, one flat AI demand block and one uncapped voucher."""
    scale = {"yuan": 1.0, "万元": 1e4, "亿元": 1e8}[money]
    site = Site("city-ai", "City AI", cabinets={"gpu": cabinets}, pue=1.25,
                electricity_price="0.6 yuan/kWh", tags={"ai"}, public=public)
    block = DemandBlock("ai", "enterprise-ai", "compute_fp16",
                        Linear(Q_(demand_pf * 1000, "TFLOPS_fp16"), "2025-01",
                               Q_(0, "TFLOPS_fp16/year")), eligible={"ai"})
    voucher = ComputeVoucher("v", rate=rate, cap_per_enterprise=Q_(1e12 / scale,
                                                                   f"{money}/year"),
                             eligible_kinds={"enterprise-ai"})
    market = Market(prices={"compute_fp16": Q_(30 / scale, f"{money}/(PFLOPS_fp16*hour)")},
                    elasticity=Elasticity(elasticity, Provenance.assumption("test")),
                    enterprises=1, load_factor=0.6, idle_share=0.5)
    return Scenario("toy", Estate(sites=(site,), profiles={"gpu": GPU}), demands=(block,),
                    policies=(voucher,), market=market)


HOURS_2025 = 8760.0


# -- a toy estate, worked by hand ---------------------------------------------------------
def test_an_unconstrained_voucher_appraises_as_the_elasticity_says():
    a = appraise(_toy(), start="2025-01", end="2025-12", n_paths=2, seed=0)
    m = 0.7 ** -0.8  # demand with ÷ without at a 30 % lower price, ε = -0.8
    extra_pfh = 10.0 * (m - 1) * HOURS_2025
    outlay = 0.3 * 30 * 10.0 * m * HOURS_2025
    assert a.outlay("v").m_as("yuan")[0] == pytest.approx(outlay, rel=1e-9)
    assert a.additional(FP16).m_as("PFLOPS_fp16*hour")[0] == pytest.approx(extra_pfh)
    # what would have been bought anyway is 1/m of what is bought with the voucher
    assert float(a.deadweight_share("v")) == pytest.approx(1 / m)
    per = a.cost_per_additional("v", FP16).m_as("yuan/(PFLOPS_fp16*hour)")
    assert float(per) == pytest.approx(0.3 * 30 * m / (m - 1))
    # the public site earns the list price on the extra demand and pays the energy of the
    # cabinets it occupies: 8 kW × load 0.6 × (1 − idle 0.5) × PUE 1.25 × 0.6 yuan/kWh
    cabinets = 10_000 * (m - 1) / 650
    energy = cabinets * 8 * 0.6 * 0.5 * 1.25 * 0.6 * HOURS_2025
    gain = 30 * 10.0 * (m - 1) * HOURS_2025 - energy
    assert a.public_gain_paths()[0, 0] == pytest.approx(gain, rel=1e-9)
    assert a.net_fiscal_cost().m_as("yuan")[0] == pytest.approx(outlay - gain, rel=1e-9)


def test_a_private_site_offsets_nothing():
    a = appraise(_toy(public=False), start="2025-01", end="2025-12", n_paths=2)
    np.testing.assert_allclose(a.net_fiscal_cost_paths(), a.outlay_paths())
    assert not a.public_gain_paths().any()


def test_vouchers_pay_nothing_on_demand_the_estate_has_no_room_for():
    # 10 cabinets hold 6.5 PF: of the 10 PF asked (more with the voucher) 6.5 is served
    a = appraise(_toy(cabinets=10), start="2025-01", end="2025-12", n_paths=2)
    assert a.outlay("v").m_as("yuan")[0] == pytest.approx(0.3 * 30 * 6.5 * HOURS_2025)
    assert not a.additional(FP16).magnitude.any()  # full without the voucher, full with it
    assert float(a.deadweight_share("v")) == pytest.approx(1.0)
    assert math.isinf(float(a.cost_per_additional("v", FP16).magnitude))


def test_the_discount_rate_is_the_markets_and_present_values_follow_it():
    s = _toy()
    flat = attrs.evolve(s, market=attrs.evolve(s.market, discount_rate=0.0))
    a = appraise(s, start="2025-01", end="2026-12", n_paths=2)
    b = appraise(flat, start="2025-01", end="2026-12", n_paths=2)
    assert a.discount_rate == 0.08
    np.testing.assert_allclose(b.discount_factors(), 1.0)
    # the second year's yuan is worth 1/1.08 of the first's
    f = a.discount_factors()
    assert f[1] / f[0] == pytest.approx(1 / 1.08)


def test_money_in_wan_or_yi_yuan_changes_nothing():
    runs = [appraise(_toy(money=m), start="2025-01", end="2025-12", n_paths=2)
            for m in ("yuan", "万元", "亿元")]
    for other in runs[1:]:
        np.testing.assert_allclose(other.outlay_paths(), runs[0].outlay_paths(), rtol=1e-12)
        np.testing.assert_allclose(other.net_fiscal_cost_paths(),
                                   runs[0].net_fiscal_cost_paths(), rtol=1e-12)
        np.testing.assert_allclose(other.deadweight_paths(), runs[0].deadweight_paths(),
                                   rtol=1e-12)


# -- laws on the Ganzhou voucher scenario ----------------------------------------------------
@pytest.fixture(scope="module")
def voucher_scenario() -> Scenario:
    from pathlib import Path

    return Scenario.from_toml(Path(__file__).parents[1] / "scenarios" / "ganzhou-voucher.toml")


def _with(s: Scenario, **changes) -> Scenario:
    v = s.policies[0]
    return attrs.evolve(s, policies=(attrs.evolve(v, **changes),))


@settings(max_examples=10)
@given(rate=st.floats(0, 0.8), budget=st.floats(0, 1e4), elasticity=st.floats(-2, 0))
def test_deadweight_and_additional_make_the_outlay(voucher_scenario, rate, budget,
                                                   elasticity):
    s = _with(voucher_scenario, rate=rate, annual_budget=Q_(budget, "万元/year"))
    s = attrs.evolve(s, market=attrs.evolve(s.market, elasticity=Elasticity(
        elasticity, Provenance.assumption("test"))))
    a = appraise(s, **SHORT)
    name = s.policies[0].name
    dead, extra = a.deadweight_paths(name), a.additional_outlay_paths(name)
    assert np.all(dead >= -1e-9)
    assert np.all(extra >= -1e-6)
    np.testing.assert_allclose(dead + extra, a.outlays[name], rtol=1e-12, atol=1e-6)
    # public sites only gain from demand a voucher brings, so the city's net cost is less
    assert np.all(a.public_gain_paths() >= -1e-6)
    assert np.all(a.net_fiscal_cost_paths() <= a.outlay_paths() + 1e-6)


def test_a_zero_rate_voucher_appraises_to_zero_everywhere(voucher_scenario):
    a = appraise(_with(voucher_scenario, rate=0.0), **SHORT)
    for table in (a.outlay_paths(), a.deadweight_paths(), a.net_fiscal_cost_paths(),
                  a.public_gain_paths(), a.served_with - a.served_without,
                  a.revenue_with - a.revenue_without):
        assert not np.any(table)
    assert all(float(a.months_earlier(r)) == 0 for r in a.resources())
    assert all(float(v.magnitude) == 0 for v in a.capex_change().values())


def test_without_a_price_response_all_outlay_is_deadweight(voucher_scenario):
    s = attrs.evolve(voucher_scenario, market=attrs.evolve(
        voucher_scenario.market, elasticity=Elasticity(0, Provenance.assumption("none"))))
    a = appraise(s, **SHORT)
    assert a.outlay_paths().sum() > 0
    np.testing.assert_allclose(a.deadweight_paths(), a.outlay_paths(), rtol=1e-12)
    assert not np.any(a.served_with - a.served_without)


def test_a_scenario_against_itself_appraises_to_zeros(voucher_scenario):
    a = appraise(voucher_scenario, voucher_scenario, **SHORT)
    assert a.outlay_paths().sum() > 0  # it pays, but the baseline paid the same
    np.testing.assert_allclose(a.deadweight_paths(), a.outlay_paths(), rtol=1e-12)
    assert not np.any(a.net_fiscal_cost_paths())
    assert not np.any(a.served_with - a.served_without)
    assert all(float(a.months_earlier(r)) == 0 for r in a.resources())


def test_the_ganzhou_voucher_brings_exhaustion_forward_and_needs_more_smart_cabinets(
        voucher_scenario):
    a = appraise(voucher_scenario, n_paths=200, seed=0)
    without, with_ = a.exhaustion()[FP16]
    assert with_ < without
    assert float(a.months_earlier(FP16)) > 0
    smart = next(c for c in a.capex if c.profile == "smart-ai")
    assert smart.cabinets_with > smart.cabinets_without
    # induced AI demand takes device time research HPC would have had
    assert a.additional(Resource.COMPUTE_FP64).magnitude.sum() < 0
    t = a.totals()
    assert 0 < t["net_fiscal_cost"] < t["outlay"]
    assert 0.5 < t["deadweight_share"] < 1


def test_subsidies_to_operators_buy_no_demand_and_are_all_deadweight():
    s = Scenario.from_toml(__import__("pathlib").Path(__file__).parents[1] / "scenarios"
                           / "ganzhou-green-power.toml")
    a = appraise(s, **SHORT)
    for name in a.instruments:
        np.testing.assert_array_equal(a.deadweight_paths(name), a.outlay_paths(name))
        assert not a.additional_by[name].any()


def test_instruments_compare_alone_against_one_baseline(voucher_scenario):
    e = ElectricitySubsidy("e", amount="0.05 yuan/kWh", years=3, eligible_tags={"ai"})
    both = attrs.evolve(voucher_scenario, policies=(*voucher_scenario.policies, e))
    each = compare_instruments(both, **SHORT)
    assert list(each) == ["ganzhou-voucher", "e"]
    assert each["e"].instruments == ("e",)
    together = appraise(both, **SHORT)
    # alone, each pays what it pays together: the subsidy does not change the vouchers' base
    np.testing.assert_allclose(each["ganzhou-voucher"].outlay_paths(),
                               together.outlay_paths("ganzhou-voucher"), rtol=1e-9)


def test_a_baseline_of_other_demand_is_refused_by_name(voucher_scenario):
    other = attrs.evolve(ganzhou(), demands=ganzhou().demands[:2])
    with pytest.raises(FieldError) as info:
        appraise(voucher_scenario, other, **SHORT)
    assert info.value.path == "baseline"
    assert "demand blocks" in info.value.reason
    with pytest.raises(FieldError, match="unknown instrument"):
        appraise(voucher_scenario, **SHORT).outlay("ganzhou-vocher")


def test_a_scenario_with_no_instruments_and_no_baseline_is_refused(voucher_scenario):
    # its implied baseline is itself: every figure would be zero by construction
    bare = attrs.evolve(voucher_scenario, policies=())
    # nor against itself given as the baseline, under another name or not
    for baseline in (None, bare, attrs.evolve(bare, name="copy", description="the same")):
        with pytest.raises(FieldError) as info:
            appraise(bare, baseline, **SHORT)
        assert info.value.path == "policy.policies"
        assert "no instruments" in info.value.reason
    # against a baseline that differs there is something to appraise: here the one with
    # the voucher, whose outlay the bare scenario saves
    a = appraise(bare, voucher_scenario, **SHORT)
    assert a.outlay_paths().sum() == 0
    assert a.net_fiscal_cost_paths().sum() < 0


def test_the_appraisal_is_labelled(voucher_scenario):
    ds = appraise(voucher_scenario, **SHORT).to_xarray(q=(0.05, 0.5, 0.95))
    assert ds["net_fiscal_cost"].attrs["units"] == "yuan"
    from capacity import ureg

    units = ds["additional_compute_fp16"].attrs["units"]
    assert ureg.Unit(units) == ureg.Unit("PFLOPS_fp16*hour") / 1000
    assert list(ds["public"].values) == [s.public for s in
                                         voucher_scenario.plan.built_estate(
                                             voucher_scenario.estate).sites]


def test_subsidies_paid_to_a_public_site_stay_in_the_public_purse():
    from pathlib import Path

    green = Scenario.from_toml(Path(__file__).parents[1] / "scenarios"
                               / "ganzhou-green-power.toml")
    a = appraise(green, **SHORT)
    assert a.outlay_paths().sum() > 0  # both go to the city's own smart-computing centre
    np.testing.assert_allclose(a.net_fiscal_cost_paths(), 0, atol=1e-6)
    assert a.pays_off_paths().all()
    private = tuple(attrs.evolve(s, public=False) for s in green.plan.sites)
    b = appraise(attrs.evolve(green, plan=attrs.evolve(green.plan, sites=private)), **SHORT)
    np.testing.assert_allclose(b.net_fiscal_cost_paths(), b.outlay_paths())
    assert not b.pays_off_paths().any()
