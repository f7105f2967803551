"""Compare two studies: the differences that matter to a planner.

Capacity and demand at each year end, exhaustion dates, cabinets still needed, the
allocation's cost, policy outlays and the energy bill, side by side with their change.
Both studies must be projected on the same paths and seed, so differences come from the
scenarios, not from the draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pint

from capacity import fields
from capacity.errors import FieldError
from capacity.report import Study, format_quantity
from capacity.units import Q_, Quantity, ureg

__all__ = ["compare", "render_comparison"]

#: A figure of a study: an amount, a month, a ratio (a plain fraction) or a word.
Figure = Quantity | np.datetime64 | float | str

#: What locates a figure, besides its metric; a row has each of them (``None``: not
#: applicable).
WHERE = ("resource", "site", "profile", "instrument", "month", "year")

_Key = tuple[str, ...]


def _key(metric: str, **where: Any) -> tuple[Any, ...]:
    unknown = set(where) - set(WHERE)
    assert not unknown, unknown
    return (metric, *(None if where.get(f) is None else int(where[f]) if f == "year"
                      else str(where[f]) for f in WHERE))


def _figures(study: Study, alpha: float) -> dict[tuple[Any, ...], Figure]:
    p = study.projection
    out: dict[tuple[Any, ...], Figure] = {}
    years = [m for m in p.months if str(m).endswith("-12")]
    for e in p.exhaustion(0.5):
        label = e.resource.name.lower()
        for m in years:
            out[_key("capacity", resource=label, month=m)] = p.capacity_at(m, e.resource)
            out[_key("demand", resource=label, month=m)] = p.demand_at(m, e.resource)
    for prob in (0.5, alpha):
        for e in p.exhaustion(prob):
            out[_key(f"exhaustion at P(shortfall) ≥ {prob:g}",
                     resource=e.resource.name.lower())] = (
                e.month if e.month is not None else "never")
    for name in study.scenario.estate.profiles:
        need = p.cabinets_needed(name, alpha)
        out[_key(f"cabinets needed at α = {alpha:g}", profile=name)] = need.cabinets
    a = study.allocation
    when = study.built.when
    out[_key("allocation status", month=when)] = a.status.value
    if a.success:
        out[_key("allocation cost", month=when)] = Q_(a.objective_value,
                                                       "yuan/year").to("万元/year")
    if study.cost is not None:
        c = study.cost
        for name in c.instruments:
            for y, v in zip(c.years, c.outlay(name).to("万元"), strict=True):
                out[_key("outlay", instrument=name, year=y)] = v
        for y, v in zip(c.years, c.energy_cost(net=True).to("万元"), strict=True):
            out[_key("energy bill, net", year=y)] = v
        for r in c.list_prices:
            name = r.name.lower()
            for y, paid, more in zip(c.years, c.effective_price(r), c.induced_demand(r),
                                     strict=True):
                out[_key("price paid", resource=name, year=y)] = paid
                out[_key("induced demand", resource=name, year=y)] = more
        for site in c.site_ids:
            for y, u in zip(c.years, c.utilisation(site), strict=True):
                if u == u:  # nan: the site has no capacity that year
                    out[_key("utilisation", site=site, year=y)] = float(u)
    return out


def _same(a: Figure | None, b: Figure | None) -> bool:
    if isinstance(a, pint.Quantity) and isinstance(b, pint.Quantity):
        return bool(a.dimensionality == b.dimensionality and
                    float(a.magnitude) == float(b.to(a.units).magnitude))
    if isinstance(a, float) and isinstance(b, float):
        return a == b
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
    if isinstance(a, float) and isinstance(b, float):
        return b - a  # a ratio's change, as a fraction
    return "changed"  # a status, or never against a month: the change is the new value


def _shown(value: Figure | None, *, change: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:+.1%}" if change else f"{value:.1%}"
    if isinstance(value, pint.Quantity):
        if change and value.units == ureg.month:
            return f"{int(value.magnitude):+d} months"
        return format_quantity(value, digits=6)
    return str(value)


def compare(a: Study, b: Study, alpha: float = 0.05) -> dict[str, Any]:
    """Side by side figures of two studies and which of them differ.

    Returns
    -------
    dict
        ``{"a": name, "b": name, "rows": [...], "changed": n}``. Each row has the fields
        ``metric``, ``resource``, ``site``, ``profile``, ``instrument``, ``month``, ``year``
        (``None`` where they do not apply), ``a``, ``b`` and ``change`` (B − A: an amount,
        the months a date moved, a ratio's change as a fraction, ``"changed"`` for a word;
        ``None`` when unchanged). Figures are typed (quantities, months, fractions, words;
        :func:`capacity.report.to_data` writes them for JSON); a figure one study lacks is
        ``None`` there.

    Raises
    ------
    FieldError
        Naming the argument: `a` or `b` not a :class:`~capacity.report.Study`, `alpha`
        outside (0, 1], or studies projected on other paths or another seed.
    """
    fields.read_instance(a, Study, "a")
    fields.read_instance(b, Study, "b")
    fields.read_real(alpha, "alpha", low=0, high=1, low_open=True)
    pa, pb = a.projection, b.projection
    if (pa.seed, pa.n_paths) != (pb.seed, pb.n_paths):
        # on other draws every figure differs a little, and each would count as a change
        raise FieldError("b", f"was projected on {pb.n_paths:,} paths with seed {pb.seed}, "
                         f"A on {pa.n_paths:,} with seed {pa.seed}: compare studies on the "
                         "same paths and seed, so differences come from the scenarios, not "
                         "from the draws")
    fa, fb = _figures(a, alpha), _figures(b, alpha)
    keys = list(fa) + [k for k in fb if k not in fa]
    rows = [{"metric": k[0], **dict(zip(WHERE, k[1:], strict=True)), "a": fa.get(k),
             "b": fb.get(k), "change": _delta(fa.get(k), fb.get(k))} for k in keys]
    return {"a": a.scenario.name, "b": b.scenario.name, "rows": rows,
            "changed": sum(1 for r in rows if r["change"] is not None),
            "policies": {"a": [p.name for p in a.scenario.policies],
                         "b": [p.name for p in b.scenario.policies]}}


def _label(row: dict[str, Any]) -> str:
    """A row's metric and where it applies, as one line of text."""
    where = [str(row[f]) for f in WHERE if row.get(f) is not None]
    return f"{row['metric']} ({', '.join(where)})" if where else row["metric"]


def render_comparison(data: dict[str, Any]) -> str:
    """The figures that differ, as a text table (unchanged ones are counted, not shown)."""
    from capacity.report import _table

    rows = [[_label(r), _shown(r["a"]), _shown(r["b"]), _shown(r["change"], change=True)]
            for r in data["rows"] if r["change"] is not None]
    same = len(data["rows"]) - len(rows)
    head = (f"A = {data['a']} (policies: {', '.join(data['policies']['a']) or 'none'})\n"
            f"B = {data['b']} (policies: {', '.join(data['policies']['b']) or 'none'})\n")
    if not rows:
        return head + f"No differences in {same} figures."
    return (head + _table(["figure", "A", "B", "B - A"], rows) +
            f"\n{same} other figures are the same.")
