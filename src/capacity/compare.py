"""Compare two studies: the differences that matter to a planner.

Capacity and demand at each year end, exhaustion dates, cabinets still needed, the
allocation's cost, policy outlays and the energy bill, side by side with their change.
Both studies should use the same seed, so differences come from the scenarios, not from
the draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pint

from capacity.report import Study, format_quantity
from capacity.units import Q_, Quantity, ureg

__all__ = ["compare", "render_comparison"]

#: A figure of a study: an amount, a month, or a word (a status, "never").
Figure = Quantity | np.datetime64 | str


def _figures(study: Study, alpha: float) -> dict[str, Figure]:
    p = study.projection
    out: dict[str, Figure] = {}
    years = [m for m in p.months if str(m).endswith("-12")]
    for e in p.exhaustion(0.5):
        r = e.resource
        for m in years:
            out[f"capacity {r.name.lower()} {m}"] = p.capacity_at(m, r)
            out[f"demand {r.name.lower()} {m}"] = p.demand_at(m, r)
    for prob in (0.5, alpha):
        for e in p.exhaustion(prob):
            out[f"exhaustion P≥{prob:g} {e.resource.name.lower()}"] = (
                e.month if e.month is not None else "never")
    for name in study.scenario.estate.profiles:
        need = p.cabinets_needed(name, alpha)
        out[f"cabinets needed ({name}, α={alpha:g})"] = need.cabinets
    a = study.allocation
    out[f"allocation {study.built.when} status"] = a.status.value
    if a.success:
        out[f"allocation {study.built.when} cost"] = Q_(a.objective_value,
                                                         "yuan/year").to("万元/year")
    if study.cost is not None:
        c = study.cost
        for name in c.instruments:
            for y, v in zip(c.years, c.outlay(name).to("万元"), strict=True):
                out[f"outlay {name} {y}"] = v
        for y, v in zip(c.years, c.energy_cost(net=True).to("万元"), strict=True):
            out[f"energy bill, net {y}"] = v
        for r in c.list_prices:
            name = r.name.lower()
            for y, paid, more in zip(c.years, c.effective_price(r), c.induced_demand(r),
                                     strict=True):
                out[f"price paid {name} {y}"] = paid
                out[f"induced demand {name} {y}"] = more
        for site in c.site_ids:
            for y, u in zip(c.years, c.utilisation(site), strict=True):
                if u == u:  # nan: the site has no capacity that year
                    out[f"utilisation {site} {y}"] = Q_(100 * float(u), "%")
    return out


def _same(a: Figure | None, b: Figure | None) -> bool:
    if isinstance(a, pint.Quantity) and isinstance(b, pint.Quantity):
        return bool(a.dimensionality == b.dimensionality and
                    float(a.magnitude) == float(b.to(a.units).magnitude))
    return type(a) is type(b) and bool(a == b)


def _delta(a: Figure | None, b: Figure | None) -> Figure | None:
    """B − A: an amount's difference, the months a date moved, or None when unchanged."""
    if a is None or b is None:
        return None if a is b else "only in B" if a is None else "only in A"
    if _same(a, b):
        return None
    if isinstance(a, np.datetime64) and isinstance(b, np.datetime64):
        return Q_(int((b - a).astype(np.int64)), "month")
    if isinstance(a, pint.Quantity) and isinstance(b, pint.Quantity) and \
            a.dimensionality == b.dimensionality:
        difference: Quantity = (b - a).to(a.units)
        return difference
    return "changed"  # a status, or never against a month: the change is the new value


def _shown(value: Figure | None, *, change: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, pint.Quantity):
        if change and value.units == ureg.month:
            return f"{int(value.magnitude):+d} months"
        return format_quantity(value)
    return str(value)


def compare(a: Study, b: Study, alpha: float = 0.05) -> dict[str, Any]:
    """Side by side figures of two studies and which of them differ.

    Returns
    -------
    dict
        ``{"a": name, "b": name, "rows": [{"figure", "a", "b", "change"}], "changed": n}``
        with typed figures (quantities, months, words; :func:`capacity.report.to_data`
        writes them for JSON); a figure present in one study only shows ``None`` for the
        other, and ``change`` is ``None`` for a figure that did not change.
    """
    fa, fb = _figures(a, alpha), _figures(b, alpha)
    keys = list(fa) + [k for k in fb if k not in fa]
    rows = [{"figure": k, "a": fa.get(k), "b": fb.get(k), "change": _delta(fa.get(k), fb.get(k))}
            for k in keys]
    return {"a": a.scenario.name, "b": b.scenario.name, "rows": rows,
            "changed": sum(1 for r in rows if r["change"] is not None),
            "policies": {"a": [p.name for p in a.scenario.policies],
                         "b": [p.name for p in b.scenario.policies]}}


def render_comparison(data: dict[str, Any]) -> str:
    """The figures that differ, as a text table (unchanged ones are counted, not shown)."""
    from capacity.report import _table

    rows = [[r["figure"], _shown(r["a"]), _shown(r["b"]), _shown(r["change"], change=True)]
            for r in data["rows"] if r["change"] is not None]
    same = len(data["rows"]) - len(rows)
    head = (f"A = {data['a']} (policies: {', '.join(data['policies']['a']) or 'none'})\n"
            f"B = {data['b']} (policies: {', '.join(data['policies']['b']) or 'none'})\n")
    if not rows:
        return head + f"No differences in {same} figures."
    return (head + _table(["figure", "A", "B", "B - A"], rows) +
            f"\n{same} other figures are the same.")
