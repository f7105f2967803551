"""What moves an appraisal, voucher designs, and the `capacity appraise` command."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import numpy as np
import pytest

from capacity import Q_, Scenario
from capacity.cli import main
from capacity.errors import FieldError
from capacity.policy import appraise, voucher_frontier
from capacity.provenance import Provenance
from capacity.report import schema
from capacity.sensitivity import CPB_ANALOGUE, Range, appraisal_ranges, appraisal_tornado

SCENARIOS = Path(__file__).parents[1] / "scenarios"
VOUCHER = SCENARIOS / "ganzhou-voucher.toml"
KW = {"n_paths": 30, "seed": 2, "end": "2029-12"}


@pytest.fixture(scope="module")
def voucher() -> Scenario:
    return Scenario.from_toml(VOUCHER)


@pytest.fixture(scope="module")
def tornado(voucher):
    return appraisal_tornado(voucher, **KW)


def test_every_range_says_where_it_comes_from_and_the_elasticity_reaches_the_analogue(voucher):
    ranges = {r.field: r for r in appraisal_ranges(voucher)}
    assert all(r.provenance.note for r in ranges.values())
    assert {"market.elasticity.value", "policies[ganzhou-voucher].take_up",
            "market.prices.compute_fp16", "demands[enterprise-ai].scale",
            "market.load_factor", "market.discount_rate"} <= set(ranges)
    e = ranges["market.elasticity.value"]
    assert CPB_ANALOGUE in e.provenance.note
    # 8 in 10 voucher yuan additional at a 30 % rate: demand × 5 at 0.7 of the price
    assert 0.7 ** e.high == pytest.approx(5.0)


def test_variants_share_the_base_paths(tornado, voucher):
    base = appraise(voucher, **KW).totals()
    assert tornado.base["net_fiscal_cost"] == pytest.approx(base["net_fiscal_cost"])
    take_up = next(b for b in tornado.bars if b.range.field.endswith("take_up"))
    # the high end is the scenario's own take-up (1): the same paths give the same answer
    assert take_up.net_fiscal_cost[1] == pytest.approx(base["net_fiscal_cost"], rel=1e-12)
    assert take_up.net_fiscal_cost[0] < take_up.net_fiscal_cost[1]  # half claims, half paid


def test_bars_are_ranked_and_the_flips_are_those_that_change_the_conclusion(tornado):
    swings = [b.swing() for b in tornado.bars]
    assert swings == sorted(swings, reverse=True)
    assert tornado.bars[0].range.field == "market.elasticity.value"
    for b in tornado.bars:
        assert (b in tornado.flips()) == any(p != tornado.base["pays_off"] for p in b.pays_off)
    # at the analogue's response the voucher's extra demand pays for it through the public
    # smart-computing centre's margin; at an inelastic -0.3 it does not
    elasticity = tornado.bars[0]
    assert elasticity.pays_off == (False, True)
    assert elasticity in tornado.flips()


def test_a_refused_end_is_reported_not_raised(voucher):
    bad = Range("market.load_factor", "load factor", 0.5, 1.5,
                Provenance.assumption("test: 1.5 is no share"))
    t = appraisal_tornado(voucher, ranges=[bad], **KW)
    assert "1.5 is refused" in t.bars[0].reason
    assert "load_factor" in t.bars[0].reason


def test_designs_buy_more_with_a_higher_rate_and_spend_more_with_a_larger_budget(voucher):
    rates, budgets = (0.1, 0.3, 0.5), ("200 万元/year", "2000 万元/year")
    points = voucher_frontier(voucher, rates=rates, budgets=budgets, **KW)
    grid = {(p.rate, float(p.budget.m_as("万元/year"))): p for p in points}
    for b in (200.0, 2000.0):
        extra = [grid[r, b].additional for r in rates]
        assert extra == sorted(extra)
    for r in rates:
        assert grid[r, 200.0].outlay <= grid[r, 2000.0].outlay + 1e-6
    efficient = [p for p in points if p.efficient]
    assert efficient
    for p in efficient:  # nothing serves as much for less
        assert not any(o.additional >= p.additional and o.net_fiscal_cost < p.net_fiscal_cost
                       for o in points)
    with pytest.raises(FieldError, match="no such compute voucher"):
        voucher_frontier(voucher, "chengdu", **KW)


def test_a_refused_end_has_no_figures_and_a_path_that_names_nothing_is_refused(voucher):
    # a load factor of -1 and of 5 are both refused: that bar holds nothing measured
    # (it used to show the base appraisal at both ends, and only the last refusal)
    why = Provenance.assumption("test")
    t = appraisal_tornado(voucher, ranges=[Range("market.load_factor", "bad", -1.0, 5.0, why),
                                           Range("market.load_factor", "ok", 0.5, 0.6, why)],
                          **KW)
    bad = next(b for b in t.bars if b.range.label == "bad")
    assert all(np.isnan(v) for v in (*bad.net_fiscal_cost, *bad.additional,
                                     *bad.deadweight_share))
    assert bad.pays_off == (None, None)
    assert "-1.0 is refused" in bad.reason
    assert "5.0 is refused" in bad.reason
    assert bad not in t.flips()
    ok = next(b for b in t.bars if b.range.label == "ok")
    assert all(np.isfinite(ok.net_fiscal_cost))
    # the report writes it as refused, and its JSON follows the schema
    from capacity.appraisal_report import appraisal_report, render_appraisal
    from capacity.report import to_data

    report = appraisal_report(appraise(voucher, **KW), voucher, tornado=t, seed=KW["seed"])
    row = next(line for line in render_appraisal(report).splitlines()
               if line.startswith("bad "))
    assert row.split()[4:6] == ["refused", "refused"]
    data = json.loads(json.dumps(to_data(report)))
    assert [b["pays_off"] for b in data["sensitivity"]["bars"] if b["label"] == "bad"] == [
        [None, None]]
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a dev dependency")
    jsonschema.Draft202012Validator(schema("appraise")).validate(data)
    for ranges, path in (([Range("nosuch.field", "x", 1, 2, why)], "ranges[0].field"),
                         (["market.load_factor"], "ranges[0]")):
        with pytest.raises(FieldError) as info:
            appraisal_tornado(voucher, ranges=ranges, **KW)
        assert info.value.path == path


def test_the_command_prints_the_appraisal_and_what_moves_it(capsys):
    assert main(["appraise", str(VOUCHER), "--paths", "40", "--sensitivity-paths", "20",
                 "--end", "2029-12"]) == 0
    out = capsys.readouterr().out
    for text in ("net fiscal cost, present value", "deadweight", "outlay per additional "
                 "compute_fp16-hour", "What moves the net fiscal cost most",
                 "price elasticity of covered demand", "CPB Discussion Paper 58",
                 "smart-computing-centre (public)"):
        assert text in out


def test_the_commands_json_follows_its_schema(capsys):
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a dev dependency")
    assert main(["appraise", str(VOUCHER), "--paths", "40", "--sensitivity-paths", "20",
                 "--end", "2028-12", "--format", "json", "--frontier"]) == 0
    data = json.loads(capsys.readouterr().out)
    s = schema("appraise")
    jsonschema.Draft202012Validator.check_schema(s)
    jsonschema.Draft202012Validator(s).validate(data)
    assert Q_(data["totals"]["net_fiscal_cost"]).check("[currency]")
    assert data["public_sites"] == ["smart-computing-centre"]
    bad = {**data, "totals": {**data["totals"], "p_pays_off": 1.5}}
    assert not jsonschema.Draft202012Validator(s).is_valid(bad)


def test_a_baseline_of_other_demand_exits_2_naming_the_option(tmp_path, capsys):
    s = Scenario.from_toml(VOUCHER)
    other = attrs.evolve(s, demands=s.demands[:1], policies=())
    path = tmp_path / "other.toml"
    other.to_toml(path)
    assert main(["appraise", str(VOUCHER), "--baseline", str(path), "--paths", "10",
                 "--sensitivity-paths", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("capacity: error: --baseline: has other demand blocks")
    assert np.char.count(err, "\n") == 1


def test_a_scenario_with_no_instruments_exits_2_saying_so(tmp_path, capsys):
    bare = attrs.evolve(Scenario.from_toml(VOUCHER), policies=())
    path = tmp_path / "bare.toml"
    bare.to_toml(path)
    for baseline in ([], ["--baseline", str(path)]):
        assert main(["appraise", str(path), "--paths", "10", "--sensitivity-paths", "0",
                     *baseline]) == 2
        err = capsys.readouterr().err
        assert err == (f"capacity: error: {path}: has no instruments ([[policies]]), so "
                       "against its baseline there is nothing to appraise: add one, or give "
                       "a --baseline FILE that differs\n")
