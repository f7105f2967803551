"""Figures for notebooks and reports (needs the ``plot`` extra: matplotlib).

Thin: every figure draws what the model's own methods return. Each figure labels its
axes with units, explains its bands and whiskers in its legend, and keeps the legend
clear of the data (below the axes). Amounts are shown in a unit that keeps the numbers
short (compute in PFLOPS rather than 100,000s of TFLOPS) unless the caller names one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pint

from capacity.errors import DimensionError, FieldError
from capacity.placement import DIRECT
from capacity.policy import PolicyCost
from capacity.projection import Projection
from capacity.provenance import Kind
from capacity.resources import Resource
from capacity.units import Quantity, read_unit, ureg

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from capacity.allocation import Allocation, AllocationProblem
    from capacity.inventory import Estate
    from capacity.policy import Appraisal, FrontierPoint
    from capacity.report import Study
    from capacity.sensitivity import Tornado

__all__ = ["appraisal_chart", "estate_chart", "fan_chart", "frontier_chart", "grid_heatmap",
           "headroom_chart", "outlay_chart", "save_figures", "shadow_price_chart",
           "tornado_chart", "utilisation_heatmap"]

#: Units a figure may show each kind of amount in, smallest first.
_LADDERS = {
    "TB": ("TB", "PB"),
    "kW": ("kW", "MW"),
    "yuan": ("yuan", "万元", "亿元"),
}

#: Colours of what a figure compares.
_CAPACITY, _DEMAND = "tab:blue", "tab:red"

#: The quantile bands every fan shades, as (lower, upper, opacity, legend text).
_BANDS = ((0.25, 0.75, 0.3, "middle 50 % of paths (25–75 %)"),
          (0.05, 0.95, 0.14, "90 % of paths (5–95 %)"))


def display_unit(resource: Resource, largest: float) -> pint.Unit:
    """The unit that shows amounts up to `largest` (canonical units) with short numbers.

    Compute goes from TFLOPS to PFLOPS and EFLOPS of its precision, storage from TB to
    PB, power from kW to MW: the largest unit in which `largest` is still at least 1.

    Examples
    --------
    >>> f"{display_unit(Resource.COMPUTE_FP16, 130_000):~P}"
    'PFLOPS_fp16'
    >>> f"{display_unit(Resource.VCPU, 3e6):~P}"
    'vCPU'
    """
    base = f"{resource.unit:~C}"
    if resource.precision is not None:
        tail = base.removeprefix("T")
        ladder: Sequence[str] = tuple(f"{p}{tail}" for p in ("T", "P", "E"))
    else:
        ladder = _LADDERS.get(base, (base,))
    chosen = ladder[0]
    for name in ladder:
        if ureg.Quantity(largest, resource.unit).m_as(name) >= 1:
            chosen = name
    return read_unit(chosen, "unit")


def _unit_for(resource: Resource, unit: str | None, largest: float) -> pint.Unit:
    if unit is None:
        return display_unit(resource, largest)
    shown = read_unit(unit, "unit")
    if shown.dimensionality != resource.unit.dimensionality:
        raise DimensionError("unit", f"is not a unit of {resource.label} "
                             f"({resource.unit:~P})", unit)
    return shown


def _thousands(ax: Axes, axis: str = "y") -> None:
    """Tick labels with thousands separators (130,000, not 130000 or 1.3e5)."""
    from matplotlib.ticker import FuncFormatter

    def tick(v: float, _pos: int) -> str:
        if v == round(v):
            return f"{v:,.0f}"
        return f"{v:,.2f}".rstrip("0").rstrip(".")

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(tick))


def _legend_below(ax: Axes, *, bands: bool = False, ncol: int = 2) -> None:
    """The legend under the axes, where it hides no data; with `bands`, what shading means."""
    from matplotlib.patches import Patch

    handles, labels = ax.get_legend_handles_labels()
    if bands:
        for _, _, alpha, text in _BANDS:
            handles.append(Patch(color="0.35", alpha=alpha, lw=0))
            labels.append(f"shaded: {text}")
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol,
              frameon=False, fontsize="small")


def _axes(ax: Axes | None, size: tuple[float, float] = (8, 4)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=size)
    return new


def _months(projection: Projection) -> Any:
    return projection.months.astype("datetime64[D]").astype(object)


def _compared(projection: Projection, resource: Resource
              ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], str, str]:
    """Capacity and demand paths a figure of `resource` compares, with their labels.

    Demand confined to some pools is drawn against the room of those pools (the Hall
    condition most often short); compute against what is left for this precision once
    the others' demand runs on the same devices; anything else estate-wide.
    """
    group = _tightest_group(projection, resource)
    if group is not None:
        need, room = projection.condition_paths(group[0])
        return room, need, f"room where {group[1]} may run", f"demand of {group[1]}"
    demand = projection.demand_paths(resource).m_as(resource.unit)
    if resource.precision is not None:
        left = projection.available_paths(resource).m_as(resource.unit)
        return left, demand, "capacity left after other precisions' demand", "demand"
    return projection.capacity_paths(resource).m_as(resource.unit), demand, "capacity", \
        "demand"


def _fan(ax: Axes, x: Any, paths: np.ndarray[Any, Any], scale: float, colour: str,
         label: str) -> None:
    qs = np.quantile(paths, [0.5, *(q for lo, hi, _, _ in _BANDS for q in (lo, hi))], axis=0)
    ax.plot(x, qs[0] * scale, color=colour, label=f"{label} (median)")
    for k, (_, _, alpha, _) in enumerate(_BANDS):
        ax.fill_between(x, qs[1 + 2 * k] * scale, qs[2 + 2 * k] * scale, color=colour,
                        alpha=alpha, lw=0)


def _shortfall_lines(ax: Axes, projection: Projection, resource: Resource, x: Any) -> None:
    p = projection.shortfall_probability(resource)
    for level, style in ((0.05, "-."), (0.5, "--")):
        first = np.flatnonzero(p >= level)
        if first.size:
            ax.axvline(x[first[0]], color="k", ls=style, lw=1,
                       label=f"P(shortfall) ≥ {level:g} from {projection.months[first[0]]}")


def fan_chart(projection: Projection, resource: Resource, *, unit: str | None = None,
              ax: Axes | None = None) -> Axes:
    """Capacity against demand over time: median lines and quantile bands.

    Demand that may run only in some pools is drawn against the room of those pools,
    compute against what is left for its precision once the other precisions' demand
    runs on the same devices (with the peak, all device time on this precision, dotted).
    The shading holds the middle 50 % and 90 % of paths. When capacity dwarfs demand, the
    vertical axis follows demand and a note gives the capacity above it; see
    :func:`headroom_chart` for the margin itself.

    Parameters
    ----------
    projection
        The projection to draw.
    resource
        The resource to draw.
    unit
        Unit of the vertical axis, of the resource's dimension; if omitted, one that keeps
        the numbers short (:func:`display_unit`).
    ax
        Axes to draw on; a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    x = _months(projection)
    room, need, room_label, need_label = _compared(projection, resource)
    peak = None
    if resource.precision is not None and room_label.startswith("capacity left"):
        peak = projection.capacity_paths(resource).m_as(resource.unit)
    largest = float(max(np.max(room), np.max(need), np.max(peak) if peak is not None else 0))
    shown = _unit_for(resource, unit, largest)
    scale = ureg.Quantity(1.0, resource.unit).m_as(shown)
    if peak is not None:
        ax.plot(x, np.median(peak, axis=0) * scale, color=_CAPACITY, ls=":", lw=1,
                label="peak if every device ran this precision (median)")
    _fan(ax, x, room, scale, _CAPACITY, room_label)
    _fan(ax, x, need, scale, _DEMAND, need_label)
    low_room = float(np.quantile(room, 0.05, axis=0).min())
    high_need = float(np.quantile(need, 0.95, axis=0).max())
    if high_need > 0 and low_room > 4 * high_need:
        ax.set_ylim(0, high_need * 1.35 * scale)
        ax.text(0.01, 0.97, f"{room_label}: {low_room * scale:,.0f} {shown:~P} or more, "
                f"above this chart; demand reaches at most {high_need / low_room:.1%} of it",
                transform=ax.transAxes, va="top", fontsize="small", color=_CAPACITY)
    _shortfall_lines(ax, projection, resource, x)
    ax.set_ylabel(f"{resource.label} [{shown:~P}]")
    ax.set_xlabel("month")
    _thousands(ax)
    ax.grid(alpha=0.3)
    _legend_below(ax, bands=True)
    return ax


def headroom_chart(projection: Projection, resource: Resource, *, unit: str | None = None,
                   ax: Axes | None = None) -> Axes:
    """Capacity less demand, per path: how much margin is left, and how surely.

    The same comparison as :func:`fan_chart` (the tightest pools a demand is confined
    to, or what is left of shared devices), drawn as its difference, so the margin reads
    at any scale. Below zero demand runs short.

    Parameters
    ----------
    projection
        The projection to draw.
    resource
        The resource to draw.
    unit
        Unit of the vertical axis; if omitted, one that keeps the numbers short.
    ax
        Axes to draw on; a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    x = _months(projection)
    room, need, _, _ = _compared(projection, resource)
    margin = room - need
    shown = _unit_for(resource, unit, float(np.max(np.abs(margin))) or 1.0)
    scale = ureg.Quantity(1.0, resource.unit).m_as(shown)
    _fan(ax, x, margin, scale, "tab:green", "headroom")
    ax.axhline(0, color="k", lw=1)
    lo = float(np.quantile(margin, 0.05, axis=0).min()) * scale
    if lo < 0:
        ax.axhspan(lo * 1.1, 0, color=_DEMAND, alpha=0.06, lw=0,
                   label="below zero: demand runs short")
    _shortfall_lines(ax, projection, resource, x)
    ax.set_ylabel(f"headroom, {resource.label} [{shown:~P}]")
    ax.set_xlabel("month")
    _thousands(ax)
    ax.grid(alpha=0.3)
    _legend_below(ax, bands=True)
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


def outlay_chart(cost: PolicyCost, *, budgets: Mapping[str, Quantity] | None = None,
                 ax: Axes | None = None) -> Axes:
    """Yearly outlay of each instrument in 万元 (10⁴ yuan): median bars, 5–95 % whiskers.

    Parameters
    ----------
    cost
        The costing to draw.
    budgets
        Annual budget of some instruments (a ``[currency] / [time]`` quantity), drawn as a
        dashed line in the instrument's colour.
    ax
        Axes to draw on; a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    years = np.asarray(cost.years)
    budgets = dict(budgets or {})
    for name in budgets:
        if name not in cost.instruments:
            raise FieldError("budgets", "names no instrument of this costing (known: "
                             + ", ".join(cost.instruments) + ")", name)
    width = 0.8 / max(len(cost.instruments), 1)
    top = 0.0
    for k, name in enumerate(cost.instruments):
        lo, mid, hi = cost.outlay(name, (0.05, 0.5, 0.95)).m_as("万元")
        x = years + (k - (len(cost.instruments) - 1) / 2) * width
        bars = ax.bar(x, mid, width, label=f"{name} (median)")
        colour = bars.patches[0].get_facecolor() if bars.patches else None
        top = max(top, float(np.max(hi, initial=0.0)))
        ax.errorbar(x, mid, yerr=[mid - lo, hi - mid], fmt="o", ms=3, color="k", capsize=3,
                    lw=1, label="5–95 % of paths" if k == 0 else None)
        if name in budgets:
            cap = budgets[name].m_as("万元/year")
            top = max(top, cap)
            ax.axhline(cap, color=colour, ls="--", lw=1.2,
                       label=f"{name} annual budget ({cap:,.0f} × 10⁴ yuan)")
    # 万元 as "10⁴ yuan" on the axis: the default fonts have no CJK glyphs
    ax.set_ylabel("outlay [10⁴ yuan per year]")
    ax.set_xlabel("year")
    ax.set_xticks(years)
    ax.set_ylim(0, top * 1.1 or 1.0)
    _thousands(ax)
    ax.grid(alpha=0.3, axis="y")
    _legend_below(ax)
    return ax


#: Colours of an appraisal's parts: outlay bought anyway, outlay on additional demand.
_DEADWEIGHT, _ADDITIONAL = "0.62", "tab:green"

#: Hours in a mean year: resource-hours over this read as an average amount held a year.
_YEAR_HOURS = 8766.0


def _hours_unit(resource: Resource, largest: float) -> tuple[pint.Unit, str]:
    """The unit of resource-hours that shows amounts up to `largest` with short numbers.

    `largest` is in canonical resource-hours (``TFLOPS_fp16·h``). The unit is the
    :func:`display_unit` of the amount held for a year (`largest` ÷ 8,766 hours), times an
    hour, so compute reads in PFLOPS-hours where the estate's compute reads in PFLOPS.

    Returns
    -------
    tuple of (pint.Unit, str)
        The unit, and its name in words (``"PFLOPS_fp16-hours"``).

    Examples
    --------
    >>> _hours_unit(Resource.COMPUTE_FP16, 4.4e8)[1]
    'PFLOPS_fp16-hours'
    """
    shown = display_unit(resource, abs(largest) / _YEAR_HOURS)
    return shown * ureg.hour, f"{shown:~P}-hours"


def _latin(text: str) -> str:
    """Figure text without CJK glyphs (the default fonts have none): 万元 as 10⁴ yuan."""
    return text.replace("亿元", "10⁸ yuan").replace("万元", "10⁴ yuan")


def _value(v: Any) -> str:
    """One end of an input's range, short: ``0.7``, ``−4.51``, ``15 yuan/h/PFLOPS_fp16``."""
    if isinstance(v, pint.Quantity):
        return f"{float(v.magnitude):.3g}".replace("-", "−") + _latin(f" {v.units:~P}")
    if isinstance(v, float):
        return f"{v:.3g}".replace("-", "−")
    return _latin(str(v))


def appraisal_chart(appraisal: Appraisal, *, ax: Axes | None = None) -> Axes:
    """A policy's outlay per year, split into deadweight and the rest, with its net cost.

    Each year's bar is the median outlay of the policy's instruments over paths, in 万元
    (10⁴ yuan): its lower part the median deadweight (paid on demand that would have been
    bought anyway), its upper part the rest of the median outlay (paid on additional
    demand), so the stack sums to the median outlay. The line is the median net fiscal
    cost: the outlay (less the baseline's own) less what publicly owned sites gain.

    Parameters
    ----------
    appraisal
        The appraisal to draw (:func:`capacity.policy.appraise`).
    ax
        Axes to draw on; a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    years = np.asarray(appraisal.years)
    outlay = np.median(appraisal.outlay_paths(), axis=0) / 1e4
    # medians do not add: the median deadweight, capped at the median outlay, and the rest
    dead = np.minimum(np.median(appraisal.deadweight_paths(), axis=0) / 1e4, outlay)
    rest = outlay - dead
    net = appraisal.net_fiscal_cost().m_as("万元")
    ax.bar(years, dead, 0.6, color=_DEADWEIGHT,
           label="deadweight: paid on demand bought anyway (median)")
    ax.bar(years, rest, 0.6, bottom=dead, color=_ADDITIONAL,
           label="paid on additional demand (the rest of the median outlay)")
    less = "outlay − baseline's outlay − public sites' gain" \
        if np.any(appraisal.baseline_outlay) else "outlay − public sites' gain"
    ax.plot(years, net, "D-", color="k", ms=5, lw=1.5,
            label=f"net fiscal cost: {less} (median)")
    ax.axhline(0, color="k", lw=0.8)
    low = min(0.0, float(np.min(net, initial=0.0)))
    high = max(float(np.max(outlay, initial=0.0)), float(np.max(net, initial=0.0)))
    span = (high - low) or 1.0
    for year, top, cost in zip(years, outlay, net, strict=True):
        # the total above its bar, clear of the net cost's marker where that sits on top
        lift = 9 if 0 <= cost - top < 0.05 * span or abs(cost - top) < 0.03 * span else 2
        ax.annotate(f"{top:,.0f}", (year, max(top, 0.0)), xytext=(0, lift),
                    textcoords="offset points", ha="center", va="bottom", fontsize="small")
    ax.set_ylim(low - 0.05 * span * (low < 0), high + 0.12 * span)
    # 万元 as "10⁴ yuan" on the axis: the default fonts have no CJK glyphs
    ax.set_ylabel("10⁴ yuan per year")
    ax.set_xlabel("year")
    ax.set_xticks(years)
    _thousands(ax)
    ax.grid(alpha=0.3, axis="y")
    _legend_below(ax, ncol=1)
    return ax


def tornado_chart(tornado: Tornado, *, ax: Axes | None = None) -> Axes:
    """The net fiscal cost at both ends of each input's range: which inputs move it most.

    One row per input, the largest swing on top: a bar from the base value (the solid
    line) to the present value of the net fiscal cost with the input at the low end of its
    range, another to that at the high end, each end labelled with the input's value. Left
    of the dashed line at zero the policy pays for itself; an input whose range holds the
    opposite conclusion to the base has its label in bold and a diamond at the end that
    flips it.

    Parameters
    ----------
    tornado
        The tornado to draw (:func:`capacity.sensitivity.appraisal_tornado`).
    ax
        Axes to draw on; a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    bars = tornado.bars
    ax = _axes(ax, (9, 0.55 * max(len(bars), 1) + 2.2))
    base = float(tornado.base["net_fiscal_cost"]) / 1e4
    base_pays = bool(tornado.base["pays_off"])
    flipped = {id(b) for b in tornado.flips()}
    colours = ("tab:blue", "tab:orange")
    words = ("input at the low end of its range", "input at the high end of its range")
    ends: list[float] = [base, 0.0]
    for i, b in enumerate(bars):
        spans = [v / 1e4 for v in b.net_fiscal_cost]
        for k, (end, colour) in enumerate(zip(spans, colours, strict=True)):
            if not math.isfinite(end):
                continue
            ends.append(end)
            ax.barh(i, end - base, left=base, height=0.6, color=colour, alpha=0.85,
                    label=words[k] if i == 0 else None)
            if b.pays_off[k] != base_pays:
                ax.plot(end, i, "D", color="tab:red", ms=7, mec="k", mew=0.6, zorder=4)
        values = [_value(b.range.low), _value(b.range.high)]
        finite = [(v, k) for k, v in enumerate(spans) if math.isfinite(v)]
        if len(finite) < 2:
            ax.text(base, i, "  an end is refused", va="center", fontsize="small")
            continue
        (left, k_left), (right, k_right) = min(finite), max(finite)
        if k_left == k_right:  # both ends equal: the low end's value left, the high right
            k_left, k_right = 0, 1
        # each value beyond its end of the row, clear of a diamond drawn there
        gap = [9 if b.pays_off[k] != base_pays else 3 for k in (0, 1)]
        ax.annotate(values[k_left], (min(left, base), i), xytext=(-gap[k_left], 0),
                    textcoords="offset points", ha="right", va="center", fontsize="small",
                    color=colours[k_left])
        ax.annotate(values[k_right], (max(right, base), i), xytext=(gap[k_right], 0),
                    textcoords="offset points", ha="left", va="center", fontsize="small",
                    color=colours[k_right])
    ax.axvline(base, color="k", lw=1.2,
               label=f"base: {base:,.0f} × 10⁴ yuan (median)")
    ax.axvline(0, color="k", ls="--", lw=1, label="zero: left of it the policy pays for itself")
    if flipped:
        ax.plot([], [], "D", color="tab:red", mec="k", mew=0.6, ls="",
                label="end at which the conclusion flips (label in bold)")
    ax.set_yticks(range(len(bars)), [b.range.label for b in bars])
    for tick, b in zip(ax.get_yticklabels(), bars, strict=True):
        if id(b) in flipped:
            tick.set_fontweight("bold")
    ax.set_ylim(len(bars) - 0.5, -0.5)  # the largest swing on top
    lo, hi = min(ends), max(ends)
    pad = 0.45 * ((hi - lo) or abs(base) or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel("net fiscal cost, present value [10⁴ yuan]")
    _thousands(ax, "x")
    ax.grid(alpha=0.3, axis="x")
    _legend_below(ax, ncol=2)
    return ax


def _design(p: FrontierPoint) -> tuple[str, str]:
    """A design's rate and budget as a label shows them: ``("30 %", "1000")``."""
    budget = "no cap" if p.budget is None else f"{p.budget.m_as('万元/year'):.0f}"
    return f"{p.rate:.0%}".replace("%", " %"), budget


def _label_points(ax: Axes, xy: Sequence[tuple[float, float]], texts: Sequence[str]) -> None:
    """Write each point's text beside it, moving it round the point to clear the others.

    Greedy: each label takes the first of right-above, right-below, left-above and
    left-below of its point where its box (estimated from its length) overlaps no label
    already placed and no other point.
    """
    ax.autoscale_view()
    to_px = ax.transData
    fig = ax.get_figure(root=True)
    size = 0.8 * float(fig.dpi if fig is not None else 100) / 72 * 8.3  # "small", px
    dots = [tuple(to_px.transform(p)) for p in xy]
    placed: list[tuple[float, float, float, float]] = []
    where = ((5, 3, "left", "bottom"), (5, -3, "left", "top"), (-5, 3, "right", "bottom"),
             (-5, -3, "right", "top"))
    for k, ((px, py), text) in enumerate(zip(dots, texts, strict=True)):
        w, h = 0.62 * size * len(text), 1.25 * size
        for dx, dy, ha, va in where:
            x0 = px + dx * size / 8 - (w if ha == "right" else 0)
            y0 = py + dy * size / 8 - (h if va == "top" else 0)
            box = (x0, y0, x0 + w, y0 + h)
            clear = not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                            for b in placed)
            # no other point between this one and its label either, or it reads as theirs
            near = (min(px, box[0]) - 6, box[1] - 6, max(px, box[2]) + 6, box[3] + 6)
            clear = clear and not any(near[0] < qx < near[2] and near[1] < qy < near[3]
                                      for j, (qx, qy) in enumerate(dots) if j != k)
            if clear:
                break
        placed.append(box)
        ax.annotate(text, xy[k], xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                    fontsize="small")


def frontier_chart(points: Sequence[FrontierPoint], *, ax: Axes | None = None) -> Axes:
    """Voucher designs by net fiscal cost and additional demand: the efficient frontier.

    Each design (rate × annual budget, labelled ``30 %/1000``: the rate and the budget in
    10⁴ yuan a year) is a point at the median present value of its net fiscal cost and the
    median additional demand it serves over the horizon, in resource-hours of the resource
    the voucher buys. Efficient designs (none serves as much for less) are highlighted and
    joined; designs that land on the same point share a label.

    Parameters
    ----------
    points
        The designs (:func:`capacity.policy.voucher_frontier`).
    ax
        Axes to draw on; a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    FieldError
        If there are no points, or they measure the demand of different resources.
    """
    points = list(points)
    if not points:
        raise FieldError("points", "must hold at least one design")
    measured = {p.resource for p in points if p.resource is not None}
    if len(measured) > 1:
        raise FieldError("points", "measure the additional demand of different resources",
                         ", ".join(sorted(r.name.lower() for r in measured)))
    ax = _axes(ax, (8, 5))
    resource = next(iter(measured), None)
    if resource is not None:
        unit, words = _hours_unit(resource, max(abs(p.additional) for p in points))
        scale = ureg.Quantity(1.0, resource.unit * ureg.hour).m_as(unit)
        ax.set_ylabel(f"additional {resource.label} served [{words}]")
    else:
        scale = 1.0
        ax.set_ylabel("additional demand served (the vouchers buy none)")
    x = np.array([p.net_fiscal_cost / 1e4 for p in points])
    y = np.array([p.additional * scale for p in points])
    good = np.array([p.efficient for p in points])
    ax.scatter(x[~good], y[~good], s=30, color="0.55", zorder=3,
               label="dominated: another design serves as much for less")
    ax.scatter(x[good], y[good], s=60, color="tab:red", edgecolors="k", linewidths=0.6,
               zorder=4, label="efficient: no design serves as much for less")
    order = np.argsort(x[good], kind="stable")
    ax.plot(x[good][order], y[good][order], color="tab:red", lw=1.2, zorder=3,
            label="the frontier")
    ax.axvline(0, color="k", ls="--", lw=1, label="zero: left of it a design pays for itself")
    ax.margins(x=0.15, y=0.1)
    shared: dict[tuple[float, float], list[tuple[str, str]]] = {}
    for xi, yi, p in zip(x, y, points, strict=True):
        shared.setdefault((float(xi), float(yi)), []).append(_design(p))
    texts = []
    for names in shared.values():
        rates = list(dict.fromkeys(r for r, _ in names))
        texts.append(f"{rates[0]}/" + ", ".join(b for _, b in names) if len(rates) == 1
                     else "; ".join(f"{r}/{b}" for r, b in names))
    _label_points(ax, list(shared), texts)
    ax.plot([], [], ls="", label="labels: voucher rate / annual budget [10⁴ yuan a year]")
    ax.set_xlabel("net fiscal cost, present value [10⁴ yuan]")
    _thousands(ax, "x")
    _thousands(ax)
    ax.grid(alpha=0.3)
    _legend_below(ax, ncol=2)
    return ax


def _annotated(ax: Axes, values: np.ndarray[Any, Any], text: Sequence[Sequence[str]],
               cmap: str, vmax: float | None = None) -> Any:
    """An image of `values` with each cell's text written on it, legible on any shade."""
    im = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, aspect="auto", vmin=0, vmax=vmax)
    finite = values[np.isfinite(values)]
    top = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    for i, row in enumerate(text):
        for j, cell in enumerate(row):
            dark = np.isfinite(values[i, j]) and values[i, j] > 0.6 * top
            ax.text(j, i, cell, ha="center", va="center", fontsize="small",
                    color="white" if dark else "black")
    return im


def utilisation_heatmap(result: Allocation, problem: AllocationProblem, *,
                        ax: Axes | None = None) -> Axes:
    """Share of each pool's capacity an allocation uses, each cell labelled.

    A cell is blank where the pool offers none of that resource.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, (7, 0.5 * problem.n_pools + 1.5))
    util = result.utilisation
    if util is None:
        raise FieldError("result", f"has no assignment to draw ({result.status.value})",
                         result.message)
    values = np.where(problem.capacity > 0, util * 100, np.nan)
    text = [["–" if not np.isfinite(v) else f"{v:.0f} %" for v in row] for row in values]
    im = _annotated(ax, values, text, "Blues", vmax=100)
    pools = [problem.label("pool", j) for j in range(problem.n_pools)]
    resources = [problem.label("resource", r) for r in range(problem.n_resources)]
    ax.set_yticks(range(len(pools)), pools)
    ax.set_xticks(range(len(resources)), resources)
    ax.set_xlabel("resource")
    fig = ax.get_figure()
    if fig is not None:
        fig.colorbar(im, ax=ax, label="used [% of the pool's capacity]")
    return ax


def shadow_price_chart(result: Allocation, problem: AllocationProblem, *,
                       ax: Axes | None = None) -> Axes:
    """What one more unit of each binding capacity would save per year.

    One bar per (pool, resource) with a positive shadow price (the dual of the LP
    relaxation), in yuan per year per unit of the resource; a note when none binds.

    Returns
    -------
    matplotlib.axes.Axes
    """
    prices = result.shadow_price
    if prices is None:
        raise FieldError("result", f"has no shadow prices ({result.status.value})",
                         result.message)
    found = [(float(prices[j, r]), j, r) for j, r in np.argwhere(prices > 0)]
    ax = _axes(ax, (7, 0.45 * max(len(found), 1) + 1.5))
    units = problem.resource_units or ("unit",) * problem.n_resources
    labels = [f"{problem.label('pool', j)}: {problem.label('resource', r)} [yuan/yr per "
              f"{units[r]}]" for _, j, r in found]
    values = [v for v, _, _ in found]
    bars = ax.barh(range(len(found)), values, color="tab:purple")
    ax.set_yticks(range(len(found)), labels)
    ax.bar_label(bars, labels=[f"{v:,.2f}" for v in values], padding=3, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel("shadow price: yearly saving from one more unit of capacity [yuan/yr]")
    if not found:
        ax.text(0.5, 0.5, "no capacity limit binds at the margin: one more unit anywhere "
                "saves nothing", ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
    ax.grid(alpha=0.3, axis="x")
    ax.margins(x=0.25)
    return ax


def grid_heatmap(data: Any, *, label: str, fmt: str = "{:,.0f}", cmap: str = "viridis",
                 ax: Axes | None = None) -> Axes:
    """A two-dimensional labelled array (such as a sweep's) as an image with its values.

    Parameters
    ----------
    data
        An ``xarray.DataArray`` of two dimensions: rows are the first, columns the second.
    label
        What the values are, with their unit, for the colour bar.
    fmt
        Format of each cell's value.
    ax
        Axes to draw on; a new figure if omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if getattr(data, "ndim", None) != 2:
        raise FieldError("data", "must be a two-dimensional xarray.DataArray",
                         type(data).__name__)
    ax = _axes(ax, (6, 4))
    values = np.asarray(data.values, dtype=float)
    text = [[fmt.format(v) if np.isfinite(v) else "–" for v in row] for row in values]
    im = _annotated(ax, values, text, cmap)
    rows, cols = data.dims
    ax.set_yticks(range(values.shape[0]), [str(v) for v in data[rows].values])
    ax.set_xticks(range(values.shape[1]), [str(v) for v in data[cols].values])
    ax.set_ylabel(str(rows))
    ax.set_xlabel(str(cols))
    fig = ax.get_figure()
    if fig is not None:
        fig.colorbar(im, ax=ax, label=label)
    return ax


#: How a figure marks a figure's basis: hatch and legend text.
_BASIS_STYLE = {Kind.SOURCE: ("", "stated by the source"),
                Kind.DERIVED: ("..", "derived (e.g. a pro-rata split of a stated total)"),
                Kind.ASSUMPTION: ("//", "assumed"),
                None: ("", "given")}


def estate_chart(estate: Estate, *, axes: Sequence[Axes] | None = None) -> Sequence[Axes]:
    """Each site's cabinets, IT power, floor, vCPU, storage and compute, one panel each.

    Bars are labelled with their values; a hatched bar is an assumed figure, a dotted one
    a derived one (such as an estate total split pro rata over sites), a plain one stated
    by the source (:meth:`capacity.inventory.Estate.basis`).

    Parameters
    ----------
    estate
        The estate to draw.
    axes
        One axes per resource the estate has; a new figure if omitted.

    Returns
    -------
    list of matplotlib.axes.Axes
    """
    from matplotlib.patches import Patch

    matrix = estate.capacity_matrix()
    shown = [r for r in Resource if np.any(matrix[:, r.index] != 0)]
    if axes is None:
        import matplotlib.pyplot as plt

        cols = 3
        rows = -(-len(shown) // cols)
        fig, grid = plt.subplots(rows, cols, figsize=(11, 3.2 * rows), squeeze=False)
        axes = list(grid.ravel())
        for extra in axes[len(shown):]:
            fig.delaxes(extra)
    if len(axes) < len(shown):
        raise FieldError("axes", f"needs {len(shown)} axes, one per resource", len(axes))
    ids = [s.id for s in estate.sites]
    bases = [estate.basis(s) for s in ids]
    for ax, r in zip(axes, shown, strict=False):
        values = matrix[:, r.index]  # in the units the report's tables use
        kinds = [b.get(r) for b in bases]
        bars = ax.barh(ids, values, color="tab:blue", alpha=0.75,
                       hatch=None, edgecolor="white")
        for bar, kind in zip(bars, kinds, strict=True):
            bar.set_hatch(_BASIS_STYLE[kind][0])
        ax.bar_label(bars, labels=[f"{v:,.0f}" if v >= 10 else f"{v:,.3g}" for v in values],
                     padding=3, fontsize="small")
        ax.set_title(f"{r.label} [{r.unit:~P}]", fontsize="medium")
        ax.invert_yaxis()
        ax.margins(x=0.3)
        _thousands(ax, "x")
    used = {k for b in bases for k in b.values()}
    handles = [Patch(facecolor="tab:blue", alpha=0.75, hatch=_BASIS_STYLE[k][0],
                     edgecolor="white", label=_BASIS_STYLE[k][1])
               for k in (Kind.SOURCE, Kind.DERIVED, Kind.ASSUMPTION, None) if k in used]
    root = axes[0].get_figure(root=True)
    if root is not None:
        root.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False,
                    bbox_to_anchor=(0.5, -0.02))
        root.tight_layout(rect=(0, 0.05, 1, 0.94))
    return list(axes[:len(shown)])


def study_figures(study: Study) -> list[tuple[str, str, Any]]:
    """Every figure of a study, as (file stem, title, matplotlib figure).

    The estate; a fan chart and a headroom chart per resource with demand; the
    allocation's utilisation and shadow prices when it has an answer; the policy
    outlays if any were costed. File stems begin with the scenario's name, so the figures
    of several scenarios can share a folder.
    """
    import matplotlib.pyplot as plt

    name = study.scenario.name
    out: list[tuple[str, str, Any]] = []

    def add(stem: str, title: str, ax: Axes) -> None:
        fig = ax.get_figure(root=True)
        assert fig is not None  # an Axes drawn by this module always has its figure
        out.append((f"{name}-{stem}", title, fig))

    axes = estate_chart(study.scenario.estate)
    whole = axes[0].get_figure(root=True)
    assert whole is not None  # drawn by this module on a figure of its own
    whole.suptitle(f"{name}: the estate today")
    out.append((f"{name}-estate", "The estate today", whole))
    for e in study.projection.exhaustion(0.5):
        r = e.resource
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7.5), sharex=True)
        fan_chart(study.projection, r, ax=top)
        headroom_chart(study.projection, r, ax=bottom)
        top.set_title(f"{name}: {r.label}, capacity against demand")
        bottom.set_title("headroom: the same capacity less demand, path by path")
        top.set_xlabel("")
        top.tick_params(labelbottom=True)
        fig.tight_layout()
        out.append((f"{name}-fan-{r.name.lower()}", f"{r.label}: capacity against demand",
                     fig))
    if study.allocation.utilisation is not None:
        ax = utilisation_heatmap(study.allocation, study.built.problem)
        ax.set_title(f"{name}: utilisation at {study.built.when}")
        add("utilisation", f"Utilisation at {study.built.when}", ax)
    if study.allocation.shadow_price is not None:
        ax = shadow_price_chart(study.allocation, study.built.problem)
        ax.set_title(f"{name}: shadow prices at {study.built.when}")
        add("shadow-prices", f"Shadow prices at {study.built.when}", ax)
    if study.cost is not None and study.cost.instruments:
        budgets = {p.name: cap for p in study.scenario.policies
                   if (cap := getattr(p, "annual_budget", None)) is not None
                   and p.name in study.cost.instruments}
        ax = outlay_chart(study.cost, budgets=budgets)
        ax.set_title(f"{name}: policy outlay per year")
        add("outlay", "Policy outlay per year", ax)
    return out


def save_figures(study: Study, folder: str) -> list[str]:
    """Write a study's figures (:func:`study_figures`) as PNG files into `folder`.

    The folder is created if needed; each file is named after the scenario and the
    figure (``ganzhou-voucher-fan-vcpu.png``).

    Returns
    -------
    list of str
        The files written.
    """
    from pathlib import Path

    import matplotlib.pyplot as plt

    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise FieldError("folder", "is a file, not a folder to write figures into",
                         str(folder))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, _, fig in study_figures(study):
        path = out / f"{stem}.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        written.append(str(path))
    return written
