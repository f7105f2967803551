"""Figures for notebooks and reports (needs the ``plot`` extra: matplotlib).

Thin: every figure draws what the model's own methods return.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from capacity.errors import DimensionError
from capacity.placement import DIRECT
from capacity.policy import PolicyCost
from capacity.projection import Projection
from capacity.resources import Resource
from capacity.units import read_unit, ureg

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from capacity.report import Study

__all__ = ["fan_chart", "outlay_chart", "save_figures"]


def fan_chart(projection: Projection, resource: Resource, *, unit: str | None = None,
              ax: Axes | None = None, bands: tuple[float, ...] = (0.05, 0.25)) -> Axes:
    """Capacity against demand over time: median lines and quantile bands.

    Parameters
    ----------
    projection
        The projection to draw.
    resource
        The resource to draw.
    unit
        Unit of the vertical axis, of the resource's dimension; its canonical unit if
        omitted.
    ax
        Axes to draw on; a new figure if omitted.
    bands
        Lower quantiles of the shaded bands; each is mirrored (0.05 shades 5 %-95 %).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    shown = resource.unit if unit is None else read_unit(unit, "unit")
    if shown.dimensionality != resource.unit.dimensionality:
        raise DimensionError("unit", f"is not a unit of {resource.label} "
                             f"({resource.unit:~P})", unit)
    x = projection.months.astype("datetime64[D]").astype(object)
    # Precisions of one accelerator are alternatives: draw what is left for this one once
    # the others' demand runs, with the peak (all device time on this one) for reference.
    shared = resource.precision is not None and not np.allclose(
        projection.available_paths(resource).magnitude, projection.capacity_paths(
            resource).magnitude)
    styles: dict[str, dict[str, Any]] = {"available" if shared else "capacity":
                                         {"color": "tab:blue"}, "demand": {"color": "tab:red"}}
    labels = {"capacity": "capacity", "demand": "demand",
              "available": "capacity left after other precisions' demand"}
    if shared:
        peak = np.median(projection.capacity_paths(resource).m_as(shown), axis=0)
        ax.plot(x, peak, color="tab:blue", ls=":", lw=1,
                label="peak if every device ran this precision (median)")
    qs = sorted({*bands, 0.5, *(1 - b for b in bands)})
    group = _tightest_group(projection, resource)
    amounts = projection.condition_paths(group[0]) if group is not None else None
    for of, style in styles.items():
        if group is not None and amounts is not None:
            # demand that may run only in some pools, against what those pools hold
            names = group[1]
            paths = amounts[1] if of == "capacity" else amounts[0]
            values = ureg.Quantity(np.quantile(paths, qs, axis=0), resource.unit).m_as(shown)
            label = (f"room where {names} may run" if of == "capacity"
                     else f"demand of {names}")
        else:
            values = projection.quantiles(resource, qs, of=of).m_as(shown)
            label = labels[of]
        median = values[qs.index(0.5)]
        ax.plot(x, median, label=f"{label} (median)", **style)
        for b in bands:
            lo, hi = values[qs.index(b)], values[qs.index(1 - b)]
            ax.fill_between(x, lo, hi, alpha=0.15 + 0.1 * (b > min(bands)), lw=0, **style)
    p = projection.shortfall_probability(resource)
    first = np.flatnonzero(p >= 0.5)
    if first.size:
        ax.axvline(x[first[0]], color="k", ls="--", lw=1,
                   label=f"P(shortfall) ≥ 0.5 from {projection.months[first[0]]}")
    ax.set_ylabel(f"{resource.label} [{shown:~P}]")
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def _tightest_group(projection: Projection, resource: Resource) -> tuple[int, str] | None:
    """The Hall condition of a non-compute resource most often short, if it is short at all.

    Returns its index and the names of the blocks confined to it.
    """
    if resource not in DIRECT:
        return None
    limit = DIRECT.index(resource)
    p = projection.short.violated.mean(axis=1)  # (C, T)
    found = [(float(p[c].max()), c) for c, cond in enumerate(projection.short.conditions)
             if cond.limit == limit]
    worst = max(found, default=(0.0, -1))
    if worst[0] <= 0:
        return None
    cond = projection.short.conditions[worst[1]]
    return worst[1], ", ".join(projection.uses.blocks[b].name for b in cond.blocks)


def outlay_chart(cost: PolicyCost, *, ax: Axes | None = None) -> Axes:
    """Yearly outlay of each instrument: median bars with 5-95 % whiskers, in 万元 (10⁴ yuan)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    years = np.asarray(cost.years)
    width = 0.8 / max(len(cost.instruments), 1)
    for k, name in enumerate(cost.instruments):
        lo, mid, hi = cost.outlay(name, (0.05, 0.5, 0.95)).m_as("万元")
        x = years + (k - (len(cost.instruments) - 1) / 2) * width
        ax.bar(x, mid, width, label=name)
        ax.errorbar(x, mid, yerr=[mid - lo, hi - mid], fmt="none", ecolor="k", lw=1)
    # 万元 as "10⁴ yuan": the default fonts have no CJK glyphs
    ax.set_ylabel("outlay [10⁴ yuan per year]")
    ax.set_xticks(years)
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3, axis="y")
    return ax


def save_figures(study: Study, folder: str) -> list[str]:
    """Write a study's figures as PNG files into `folder` (created if needed).

    One fan chart per resource with demand, and the policy outlays if any were costed.

    Returns
    -------
    list of str
        The files written.
    """
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def save(ax: Axes, name: str) -> None:
        fig = ax.get_figure(root=True)
        assert fig is not None  # an Axes drawn by this module always has its figure
        path = out / name
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(str(path))

    for e in study.projection.exhaustion(0.5):
        ax = fan_chart(study.projection, e.resource)
        ax.set_title(f"{study.scenario.name}: {e.resource.label}")
        save(ax, f"fan-{e.resource.name.lower()}.png")
    if study.cost is not None and study.cost.instruments:
        ax = outlay_chart(study.cost)
        ax.set_title(f"{study.scenario.name}: policy outlay")
        save(ax, "outlay.png")
    return written
