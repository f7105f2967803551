"""Compare two studies: the differences that matter to a planner.

Capacity and demand at each year end, exhaustion dates, cabinets still needed, the
allocation's cost, policy outlays and the energy bill, side by side with their change.
Both studies should use the same seed, so differences come from the scenarios, not from
the draws.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from capacity.report import Study, format_quantity
from capacity.units import Q_, Quantity

__all__ = ["compare", "render_comparison"]

_MONTH = re.compile(r"\d{4}-\d{2}")


def _figures(study: Study, alpha: float) -> dict[str, str]:
    p = study.projection
    out: dict[str, str] = {}
    years = [m for m in p.months if str(m).endswith("-12")]
    for e in p.exhaustion(0.5):
        r = e.resource
        for m in years:
            out[f"capacity {r.name.lower()} {m}"] = format_quantity(p.capacity_at(m, r))
            out[f"demand {r.name.lower()} {m}"] = format_quantity(p.demand_at(m, r))
    for prob in (0.5, alpha):
        for e in p.exhaustion(prob):
            out[f"exhaustion P≥{prob:g} {e.resource.name.lower()}"] = (
                str(e.month) if e.month is not None else "never")
    for name in study.scenario.estate.profiles:
        need = p.cabinets_needed(name, alpha)
        out[f"cabinets needed ({name}, α={alpha:g})"] = format_quantity(need.cabinets)
    a = study.allocation
    out[f"allocation {study.built.when} status"] = a.status.value
    if a.success:
        out[f"allocation {study.built.when} cost"] = format_quantity(
            Q_(a.objective_value, "yuan/year").to("万元/year"))
    if study.cost is not None:
        c = study.cost
        for name in c.instruments:
            for y, v in zip(c.years, c.outlay(name).m_as("万元"), strict=True):
                out[f"outlay {name} {y}"] = f"{v:.6g} 万元"
        for y, v in zip(c.years, c.energy_cost(net=True).m_as("万元"), strict=True):
            out[f"energy bill, net {y}"] = f"{v:.6g} 万元"
        for r in c.list_prices:
            name = r.name.lower()
            for y, paid, more in zip(c.years, c.effective_price(r), c.induced_demand(r),
                                     strict=True):
                out[f"price paid {name} {y}"] = format_quantity(paid)
                out[f"induced demand {name} {y}"] = format_quantity(more)
        for site in c.site_ids:
            for y, u in zip(c.years, c.utilisation(site), strict=True):
                if u == u:  # nan: the site has no capacity that year
                    out[f"utilisation {site} {y}"] = f"{100 * u:.4g} %"
    return out


def _delta(a: str | None, b: str | None) -> str:
    if a is None or b is None or a == b:
        return ""
    if _MONTH.fullmatch(a) and _MONTH.fullmatch(b):
        # months are dates, not quantities: pint would read "2028-07" as 2028 - 7
        moved = int((np.datetime64(b, "M") - np.datetime64(a, "M")).astype(np.int64))
        return f"{moved:+d} months"
    try:
        qa: Quantity = Q_(a)
        qb: Quantity = Q_(b)
        return format_quantity((qb - qa).to(qa.units))
    except Exception:  # dates, statuses: no arithmetic, the change is the new value
        return "changed"


def compare(a: Study, b: Study, alpha: float = 0.05) -> dict[str, Any]:
    """Side by side figures of two studies and which of them differ.

    Returns
    -------
    dict
        ``{"a": name, "b": name, "rows": [{"figure", "a", "b", "change"}], "changed": n}``;
        a figure present in one study only shows ``None`` for the other.
    """
    fa, fb = _figures(a, alpha), _figures(b, alpha)
    keys = list(fa) + [k for k in fb if k not in fa]
    rows = [{"figure": k, "a": fa.get(k), "b": fb.get(k), "change": _delta(fa.get(k), fb.get(k))}
            for k in keys]
    return {"a": a.scenario.name, "b": b.scenario.name, "rows": rows,
            "changed": sum(1 for r in rows if r["a"] != r["b"]),
            "policies": {"a": [p.name for p in a.scenario.policies],
                         "b": [p.name for p in b.scenario.policies]}}


def render_comparison(data: dict[str, Any]) -> str:
    """The figures that differ, as a text table (unchanged ones are counted, not shown)."""
    from capacity.report import _table

    rows = [[r["figure"], r["a"] or "-", r["b"] or "-", r["change"]]
            for r in data["rows"] if r["a"] != r["b"]]
    same = len(data["rows"]) - len(rows)
    head = (f"A = {data['a']} (policies: {', '.join(data['policies']['a']) or 'none'})\n"
            f"B = {data['b']} (policies: {', '.join(data['policies']['b']) or 'none'})\n")
    if not rows:
        return head + f"No differences in {same} figures."
    return (head + _table(["figure", "A", "B", "B - A"], rows) +
            f"\n{same} other figures are the same.")
