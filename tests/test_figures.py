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
    display_unit,
    fan_chart,
    grid_heatmap,
    headroom_chart,
    outlay_chart,
    save_figures,
    shadow_price_chart,
    utilisation_heatmap,
)
from capacity.policy import cost_policy
from capacity.report import run_study

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
