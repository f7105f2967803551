"""Figures for notebooks and reports (needs the ``plot`` extra: matplotlib).

Thin: every figure draws what the model's own methods return.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from capacity.projection import Projection
from capacity.resources import Resource

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["fan_chart"]


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
    shown = unit or str(resource.unit)
    x = projection.months.astype("datetime64[D]").astype(object)
    styles: dict[str, dict[str, Any]] = {"capacity": {"color": "tab:blue"},
                                         "demand": {"color": "tab:red"}}
    for of, style in styles.items():
        qs = sorted({*bands, 0.5, *(1 - b for b in bands)})
        values = projection.quantiles(resource, qs, of=of).m_as(shown)
        median = values[qs.index(0.5)]
        ax.plot(x, median, label=f"{of} (median)", **style)
        for b in bands:
            lo, hi = values[qs.index(b)], values[qs.index(1 - b)]
            ax.fill_between(x, lo, hi, alpha=0.15 + 0.1 * (b > min(bands)), lw=0, **style)
    p = projection.shortfall_probability(resource)
    first = np.flatnonzero(p >= 0.5)
    if first.size:
        ax.axvline(x[first[0]], color="k", ls="--", lw=1,
                   label=f"P(shortfall) ≥ 0.5 from {projection.months[first[0]]}")
    ax.set_ylabel(f"{resource.label} [{shown}]")
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    return ax
