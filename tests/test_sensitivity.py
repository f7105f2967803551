"""Ranking assumptions by how much they move the answer: laws a one-at-a-time study obeys."""

from pathlib import Path

import pytest

from capacity import Scenario
from capacity.datasets import ganzhou
from capacity.errors import CapacityError
from capacity.sensitivity import group_of, grouped, rank_assumptions
from capacity.sweep import value_at, vary

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def effects():
    return rank_assumptions(Scenario.from_toml(SCENARIOS / "ganzhou-voucher.toml"),
                            n_paths=100)


def _effect(effects, field):
    return next(e for e in effects if e.field == field)


def test_every_assumption_is_listed_once_varied_first_most_moving_first(effects):
    fields = [a.field for a in Scenario.from_toml(
        SCENARIOS / "ganzhou-voucher.toml").assumptions()]
    assert sorted(e.field for e in effects) == sorted(fields)
    varied = [e for e in effects if e.varied]
    assert [e.score() for e in varied] == sorted((e.score() for e in varied), reverse=True)
    assert all(not e.varied for e in effects[len(varied):])
    assert all(e.reason for e in effects if not e.varied)


def test_more_demand_never_runs_short_later(effects):
    for e in effects:
        if e.varied and e.varied.endswith(".scale"):
            for lower, higher in e.exhaustion.values():
                assert lower >= 0 >= higher  # 20 % less demand: not sooner; more: not later


def test_a_figure_no_answer_reads_moves_nothing(effects):
    # no site has ai-dense-910b cabinets: its power enters no projection, cost or outlay
    e = _effect(effects, "profiles.ai-dense-910b.it_power")
    assert e.varied
    assert e.score() == (0, 0.0, 0.0)


def test_energy_assumptions_move_the_allocation_cost_both_ways(effects):
    e = _effect(effects, "market.load_factor")
    low, high = e.cost
    assert low < 0 < high
    assert e.months_moved() == 0  # power drawn does not change where demand runs short


def test_months_are_stepped_in_months_and_readings_are_not_varied(effects):
    e = _effect(effects, "plan.projects[smart-computing-centre].completion")
    assert e.step == "±6 months"
    assert _effect(effects, "estate.split").reason.startswith("a reading of the source")
    assert group_of("plan.sites[x].pue") == "plan"
    assert group_of("demands[a].growth") == "demand"
    assert group_of("market.prices") == group_of("policies[v].rate") == "market"
    assert group_of("sites[a].pue") == "estate"
    assert next(g for g, _ in grouped(effects)) == "demand"


def test_value_at_reads_what_vary_sets():
    s = ganzhou()
    assert value_at(vary(s, "sites[tianyi-huawei].pue", 1.3), "sites[tianyi-huawei].pue") == 1.3
    with pytest.raises(CapacityError, match="nope"):
        value_at(s, "sites[nope].pue")


@pytest.mark.parametrize("kw", [{"change": 0}, {"change": 1.5}, {"change": "0.2"},
                                {"months": 0}, {"months": 2.5}])
def test_bad_steps_are_refused_naming_them(kw):
    with pytest.raises(CapacityError, match=next(iter(kw))):
        rank_assumptions(ganzhou(), n_paths=50, **kw)


def test_a_refused_side_is_reported_as_refused_not_as_no_change():
    # halved, a PUE of 1.5 is 0.75, below 1: refused, so that side has no figures (it
    # used to be measured as the base case and read as "no change")
    effects = rank_assumptions(ganzhou(), change=0.5, n_paths=20, end="2027-12")
    e = _effect(effects, "sites[tianyi-huawei].pue")
    assert e.refused == (True, False)
    assert "0.75 is refused" in e.reason
    assert e.cost is not None
    assert e.cost[0] is None
    assert e.cost[1] is not None
    assert all(low is None and high is not None for low, high in e.exhaustion.values())


def test_a_bad_month_is_named_as_the_argument():
    with pytest.raises(CapacityError) as info:
        rank_assumptions(ganzhou(), month="x", n_paths=8)
    assert info.value.path == "month"


def test_a_field_that_is_no_text_is_named():
    with pytest.raises(CapacityError) as info:
        group_of(5)
    assert info.value.path == "field"
