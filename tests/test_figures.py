"""Figures: units a planner reads, legible demand, explained bands, labelled values."""

import matplotlib

matplotlib.use("Agg")  # these tests draw into memory only

from pathlib import Path

import attrs
import matplotlib.pyplot as plt
import numpy as np
import pytest

from capacity import Resource, Scenario, allocate, project
from capacity.allocation import build_problem
from capacity.datasets import ganzhou
from capacity.errors import CapacityError
from capacity.plot import (
    appraisal_chart,
    display_unit,
    fan_chart,
    frontier_chart,
    grid_heatmap,
    headroom_chart,
    outlay_chart,
    save_figures,
    shadow_price_chart,
    tornado_chart,
    utilisation_heatmap,
)
from capacity.policy import appraise, cost_policy, voucher_frontier
from capacity.report import run_study
from capacity.sensitivity import appraisal_tornado

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def base():
    return project(ganzhou(), start="2025-01", end="2030-12", n_paths=300, seed=0)


def _labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_compute_is_shown_in_pflops_not_hundreds_of_thousands_of_tflops(base):
    assert f"{display_unit(Resource.COMPUTE_FP16, 130_000):~P}" == "PFLOPS_fp16"
    assert f"{display_unit(Resource.COMPUTE_FP64, 900):~P}" == "TFLOPS_fp64"
    assert f"{display_unit(Resource.STORAGE, 315_600):~P}" == "PB"
    ax = fan_chart(base, Resource.COMPUTE_FP16)
    assert ax.get_ylabel() == "compute (FP16) [PFLOPS_fp16]"
    assert ax.get_xlabel() == "month"
    # the 2027 target reads as 130 on this axis, not 130,000
    peak = next(line for line in ax.get_lines() if line.get_linestyle() == ":")
    assert np.max(peak.get_ydata()) == pytest.approx(130)


def test_bands_are_explained_and_the_legend_sits_below_the_data(base):
    ax = fan_chart(base, Resource.VCPU)
    labels = _labels(ax)
    assert "shaded: middle 50 % of paths (25–75 %)" in labels
    assert "shaded: 90 % of paths (5–95 %)" in labels
    anchor = ax.get_legend().get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert anchor.y1 < 0  # under the axes, over no data
    # vCPU is short where government-cloud may run: that room is drawn, not the estate's
    assert any(t.startswith("room where government-cloud may run") for t in labels)


def test_demand_stays_legible_when_capacity_dwarfs_it():
    # with a tenth of the demand nothing is short, so the chart compares the estate's
    # 3 million vCPU with a demand of a few thousand
    s = ganzhou()
    small = attrs.evolve(s, demands=tuple(
        attrs.evolve(b, growth=b.growth.scaled(0.1)) for b in s.demands))
    p = project(small, start="2025-01", end="2030-12", n_paths=200, seed=0)
    assert p.shortfall_probability(Resource.VCPU).max() == 0
    ax = fan_chart(p, Resource.VCPU)
    demand_top = np.quantile(p.demand_paths(Resource.VCPU).m_as("vCPU"), 0.95, axis=0).max()
    top = ax.get_ylim()[1]
    assert demand_top < top < 2 * demand_top  # the axis follows demand
    note = [t.get_text() for t in ax.texts]
    assert any("above this chart" in t for t in note)


def test_headroom_is_capacity_less_demand_with_zero_marked(base):
    ax = headroom_chart(base, Resource.COMPUTE_FP16, unit="PFLOPS_fp16")
    median = next(line for line in ax.get_lines() if line.get_label() == "headroom (median)")
    left = base.available_paths(Resource.COMPUTE_FP16).m_as("PFLOPS_fp16")
    need = base.demand_paths(Resource.COMPUTE_FP16).m_as("PFLOPS_fp16")
    np.testing.assert_allclose(median.get_ydata(), np.median(left - need, axis=0))
    assert any(line.get_ydata()[0] == 0 and line.get_ydata()[-1] == 0
               for line in ax.get_lines() if len(line.get_ydata()) == 2)
    assert "below zero: demand runs short" in _labels(ax)


def test_the_outlay_chart_draws_the_budget_and_explains_its_whiskers():
    voucher = Scenario.from_toml(SCENARIOS / "ganzhou-voucher.toml")
    cost = cost_policy(project(voucher, start="2025-01", end="2030-12", n_paths=200, seed=0))
    v = voucher.policies[0]
    ax = outlay_chart(cost, budgets={v.name: v.annual_budget})
    budget = [line for line in ax.get_lines() if "annual budget" in str(line.get_label())]
    assert budget
    assert budget[0].get_ydata()[0] == pytest.approx(3000)
    assert "5–95 % of paths" in _labels(ax)
    assert ax.get_ylim()[1] > 3000  # the budget line is inside the frame
    assert ax.get_xlabel() == "year"
    with pytest.raises(CapacityError, match="budgets"):
        outlay_chart(cost, budgets={"nope": v.annual_budget})


def test_heatmaps_write_each_value_on_its_cell():
    built = build_problem(ganzhou(), "2027-12")
    result = allocate(built.problem, node_limit=20_000)
    ax = utilisation_heatmap(result, built.problem)
    texts = [t.get_text() for t in ax.texts]
    util = result.utilisation
    for j in range(built.problem.n_pools):
        for r in range(built.problem.n_resources):
            if built.problem.capacity[j, r] > 0:
                assert f"{util[j, r] * 100:.0f} %" in texts
    assert "–" in texts  # the smart centre offers no vCPU: a blank cell, not 0 %
    ax = shadow_price_chart(result, built.problem)
    priced = int((result.shadow_price > 0).sum())
    assert len(ax.patches) == priced > 0
    import xarray as xr

    grid = xr.DataArray([[1.0, 2.0], [3.0, 4.5]], dims=("rate", "budget"),
                        coords={"rate": [0.1, 0.2], "budget": ["a", "b"]})
    ax = grid_heatmap(grid, label="outlay [10⁴ yuan]", fmt="{:.1f}")
    assert sorted(t.get_text() for t in ax.texts) == ["1.0", "2.0", "3.0", "4.5"]
    assert ax.get_ylabel() == "rate"
    assert ax.get_xlabel() == "budget"


def test_figure_files_carry_the_scenario_name_and_a_file_is_refused(tmp_path):
    study = run_study(ganzhou(), n_paths=200)
    written = save_figures(study, str(tmp_path / "figs"))
    assert written
    assert all(p.rsplit("/", 1)[1].startswith("ganzhou-baseline-")
                           for p in written)
    not_a_folder = tmp_path / "taken"
    not_a_folder.write_text("")
    with pytest.raises(CapacityError, match="is a file"):
        save_figures(study, str(not_a_folder))


@pytest.fixture(scope="module")
def voucher():
    return Scenario.from_toml(SCENARIOS / "ganzhou-voucher.toml")


def _no_cjk(ax):
    texts = [t.get_text() for t in ax.findobj(matplotlib.text.Text)]
    assert not [t for t in texts if any("\u4e00" <= c <= "\u9fff" for c in t)]


def test_the_appraisal_chart_stacks_deadweight_and_the_rest_to_the_median_outlay(voucher):
    a = appraise(voucher, n_paths=40)
    ax = appraisal_chart(a)
    bars = [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]
    n = len(a.years)
    assert len(bars) == 2 * n  # deadweight, then the rest, per year
    dead, rest = bars[:n], bars[n:]
    top = np.array([d.get_height() + r.get_height() for d, r in zip(dead, rest, strict=True)])
    np.testing.assert_allclose(top, a.outlay().m_as("万元"))
    for d, r in zip(dead, rest, strict=True):  # stacked: the rest starts on the deadweight
        assert r.get_y() == pytest.approx(d.get_height())
    np.testing.assert_allclose([d.get_height() for d in dead],
                               np.minimum(np.median(a.deadweight_paths(), axis=0) / 1e4,
                                          a.outlay().m_as("万元")))
    net = next(line for line in ax.get_lines() if "net fiscal cost" in str(line.get_label()))
    np.testing.assert_allclose(net.get_ydata(), a.net_fiscal_cost().m_as("万元"))
    labels = _labels(ax)
    assert all("median" in t for t in labels)
    assert ax.get_ylabel() == "10⁴ yuan per year"
    assert list(ax.get_xticks()) == list(a.years)
    _no_cjk(ax)


@pytest.fixture(scope="module")
def tornado(voucher):
    return appraisal_tornado(voucher, n_paths=30)


def test_the_tornado_draws_each_input_around_the_base_and_marks_what_flips(tornado):
    ax = tornado_chart(tornado)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == [b.range.label for b in tornado.bars]  # one row per input
    assert len(ax.patches) == 2 * len(tornado.bars)  # a bar to each end of each range
    base = tornado.base["net_fiscal_cost"] / 1e4
    assert all(p.get_x() == pytest.approx(base) for p in ax.patches)  # from the base out
    for k, b in enumerate(tornado.bars):
        ends = sorted(p.get_x() + p.get_width() for p in ax.patches
                      if p.get_y() < k < p.get_y() + p.get_height())
        assert ends == pytest.approx(sorted(v / 1e4 for v in b.net_fiscal_cost))
    # the largest swing on top (the axis runs downward)
    bottom, top = ax.get_ylim()
    assert top < bottom
    swings = [b.swing() for b in tornado.bars]
    assert swings == sorted(swings, reverse=True)
    verticals = {round(line.get_xdata()[0], 6): line.get_linestyle()
                 for line in ax.get_lines() if len(line.get_xdata()) == 2
                 and line.get_xdata()[0] == line.get_xdata()[1]}
    assert verticals[round(base, 6)] == "-"
    assert verticals[0] == "--"  # zero: pays for itself
    flipped = {b.range.label for b in tornado.flips()}
    assert flipped  # the elasticity's responsive end makes the voucher pay for itself
    bold = {t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"}
    assert bold == flipped
    diamonds = [line for line in ax.get_lines() if line.get_marker() == "D"
                and len(line.get_xdata()) == 1]
    assert len(diamonds) == sum(p != tornado.base["pays_off"] for b in tornado.flips()
                                for p in b.pays_off)
    # each end is labelled with the input's value there
    texts = {t.get_text() for t in ax.texts}
    assert {"−0.3", "0.06", "0.1", "0.7", "1.3"} <= texts
    assert "15 yuan/h/PFLOPS_fp16" in texts
    assert ax.get_xlabel() == "net fiscal cost, present value [10⁴ yuan]"
    _no_cjk(ax)


def test_the_frontier_highlights_exactly_the_efficient_designs(voucher):
    points = voucher_frontier(voucher, n_paths=30, rates=(0.2, 0.3),
                              budgets=("500 万元/year", "1000 万元/year"))
    assert 0 < sum(p.efficient for p in points) < len(points)
    ax = frontier_chart(points)
    good = next(c for c in ax.collections if str(c.get_label()).startswith("efficient"))
    bad = next(c for c in ax.collections if str(c.get_label()).startswith("dominated"))
    scale = 1 / 1e3  # TFLOPS_fp16-hours to PFLOPS_fp16-hours
    want = sorted((p.net_fiscal_cost / 1e4, p.additional * scale) for p in points
                  if p.efficient)
    np.testing.assert_allclose(sorted(map(tuple, good.get_offsets())), want)
    assert len(bad.get_offsets()) == sum(not p.efficient for p in points)
    line = next(line for line in ax.get_lines() if line.get_label() == "the frontier")
    np.testing.assert_allclose(sorted(zip(line.get_xdata(), line.get_ydata(), strict=True)),
                               want)
    assert np.all(np.diff(line.get_xdata()) >= 0)  # joined in order of cost
    assert ax.get_ylabel() == "additional compute (FP16) served [PFLOPS_fp16-hours]"
    assert sorted(t.get_text() for t in ax.texts) == ["20 %/1000", "20 %/500", "30 %/1000",
                                                     "30 %/500"]
    _no_cjk(ax)
    # designs that land on one point share one label
    same = [attrs.evolve(points[0], budget=b) for b in (points[0].budget, points[1].budget)]
    ax = frontier_chart(same)
    assert [t.get_text() for t in ax.texts] == ["20 %/500, 1000"]
    with pytest.raises(CapacityError, match="points"):
        frontier_chart([])
