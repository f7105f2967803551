"""Reports of a scenario as plain data (for JSON) and as readable text tables.

:func:`scenario_report` gathers the figures into a dict of plain values, quantities
written as ``"value unit"`` strings that :data:`capacity.Q_` reads back;
:func:`render_text` lays the same dict out as tables. Both are thin: the figures come
from the model's own methods.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from capacity.projection import Projection
from capacity.resources import Resource, ResourceVector
from capacity.scenario import Scenario
from capacity.units import Q_, Quantity

__all__ = ["format_quantity", "plan_report", "projection_report", "render_text",
           "scenario_report"]


def format_quantity(q: Quantity, digits: int = 6) -> str:
    """Write a quantity as ``"value unit"``, a string :data:`capacity.Q_` parses back."""
    mag = float(q.magnitude)
    value = f"{mag:.{digits}g}" if mag != int(mag) or abs(mag) >= 1e15 else f"{int(mag)}"
    return f"{value} {q.units:~C}"


def _vector(v: ResourceVector, keep: Sequence[Resource]) -> dict[str, str]:
    return {r.name.lower(): format_quantity(v[r]) for r in keep}


def _shown(matrix: np.ndarray[Any, Any]) -> list[Resource]:
    return [r for r in Resource if np.any(matrix[..., r.index] != 0)]


def scenario_report(scenario: Scenario) -> dict[str, Any]:
    """Gather a scenario's report as plain JSON-ready data.

    The estate per site and in total, densities, reported vs computed totals, the sanity
    findings and every assumption.
    """
    estate = scenario.estate
    matrix = estate.capacity_matrix()
    shown = _shown(matrix)
    sites = []
    for site in estate.sites:
        sites.append({
            "id": site.id,
            "name": site.name,
            "name_en": site.name_en,
            "operator": site.operator,
            "status": site.status.value,
            "pue": site.pue,
            "electricity_price": (format_quantity(site.electricity_price)
                                  if site.electricity_price is not None else None),
            "grid": format_quantity(site.grid) if site.grid is not None else None,
            "cabinets_by_profile": dict(site.cabinets),
            "capacity": _vector(estate.capacity(site.id), shown),
            "standard_racks": format_quantity(estate.standard_racks(site.id)),
        })
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "estate": {
            "name": estate.name,
            "sites": sites,
            "totals": _vector(estate.totals(), shown),
            "densities": {r.name.lower(): format_quantity(q)
                          for r, q in estate.densities().items()},
            "standard_racks": format_quantity(estate.standard_racks()),
            "reconciliation": [
                {"resource": rec.resource.name.lower(),
                 "reported": format_quantity(rec.reported),
                 "computed": format_quantity(rec.computed),
                 "difference": format_quantity(rec.difference),
                 "source": rec.provenance.note}
                for rec in estate.reconciliation()
            ],
        },
        "findings": [
            {"code": f.code, "severity": f.severity.value, "subject": f.subject,
             "message": f.message, "reference": f.reference}
            for f in estate.findings()
        ],
        "assumptions": [
            {"field": a.field, "note": a.provenance.note, "reference": a.provenance.reference}
            for a in scenario.assumptions()
        ],
    }


def _width(text: str) -> int:
    # CJK characters take two columns on a terminal.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def plan_report(scenario: Scenario, projection: Projection | None = None) -> list[dict[str, Any]]:
    """Describe each project of a scenario's plan.

    Site, cabinets, dates (planned, and median with slippage), capex, and its stated
    target with the cabinets of its profile that target needs.
    """
    out = []
    for proj in scenario.plan.projects:
        delay = proj.slippage.median()
        row: dict[str, Any] = {
            "name": proj.name,
            "site": proj.site,
            "status": proj.status.value,
            "cabinets": dict(proj.cabinets) if proj.sized else "size unknown (contributes "
                                                                  "nothing)",
            "start": str(proj.start),
            "completion": str(proj.completion),
            "median_completion": str(proj.completion + np.timedelta64(round(delay), "M")),
            "ramp": proj.ramp.value,
            "capex": format_quantity(proj.capex) if proj.capex is not None else None,
        }
        if proj.target is not None:
            r = Resource.for_quantity(proj.target)
            sizing = {}
            for name in proj.cabinets:
                prof = scenario.estate.profiles[name]
                if prof.vector.values[r.index] > 0:
                    sizing[name] = {
                        "per_cabinet": format_quantity(prof.amount(r)),
                        "cabinets_needed": prof.cabinets_for(proj.target),
                        "cabinets_planned": proj.cabinets[name],
                    }
            row["target"] = {"amount": format_quantity(proj.target),
                             "by": str(proj.target_by) if proj.target_by is not None else None,
                             "sizing": sizing}
            if projection is not None and proj.target_by is not None:
                paths = projection.capacity_paths(r, proj.site).m_as(r.unit)
                i = int((proj.target_by - projection.months[0]).astype(int))
                if 0 <= i < projection.months.size:
                    reached = float(np.median(paths[:, i]))
                    row["target"]["median_at_due_date"] = format_quantity(Q_(reached, r.unit))
                    row["target"]["met_on_median_path"] = bool(
                        reached >= proj.target.m_as(r.unit) * (1 - 1e-9))
        out.append(row)
    return out


def projection_report(projection: Projection, alpha: float = 0.05) -> dict[str, Any]:
    """Summarise a projection.

    Exhaustion dates, the binding resource, cabinets still needed per profile, and median
    capacity against demand at each year end.
    """
    resources = [e.resource for e in projection.exhaustion(0.5)]
    years = [m for m in projection.months if str(m).endswith("-12")]
    return {
        "horizon": [str(projection.months[0]), str(projection.months[-1])],
        "paths": projection.n_paths,
        "seed": projection.seed,
        "exhaustion": [
            {"resource": e.resource.name.lower(), "probability": e.probability,
             "month": str(e.month) if e.month is not None else None}
            for p in (0.5, alpha) for e in projection.exhaustion(p)
        ],
        "binding_resource": {str(p): (r.name.lower() if (r := projection.binding_resource(p))
                                      else None) for p in (0.5, alpha)},
        "cabinets_needed": [
            {"profile": need.profile, "alpha": alpha,
             "cabinets": format_quantity(need.cabinets),
             "binding": need.binding.name.lower() if need.binding else None,
             "uncovered": [r.name.lower() for r in need.uncovered]}
            for name in projection.estate.profiles
            if (need := projection.cabinets_needed(name, alpha))
        ],
        "year_end": [
            {"month": str(m), "resource": r.name.lower(),
             "capacity": format_quantity(projection.capacity_at(m, r)),
             "demand": format_quantity(projection.demand_at(m, r)),
             "p_shortfall": float(projection.shortfall_probability(r)[
                 int((m - projection.months[0]).astype(int))])}
            for r in resources for m in years
        ],
    }


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]],
           right: Sequence[bool] | None = None) -> str:
    right = right or [False] * len(headers)
    widths = [max(_width(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]

    def cell(text: str, width: int, flush_right: bool) -> str:
        pad = " " * (width - _width(text))
        return pad + text if flush_right else text + pad

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell(str(c), w, r)
                         for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _num(text: str) -> str:
    value = text.partition(" ")[0]
    v = float(value)
    return f"{v:,.0f}" if v == round(v) or abs(v) >= 100 else f"{v:,.4g}"


def _header(key: str, amount: str) -> str:
    label = "compute" if key.startswith("compute") else Resource.parse(key).label
    return f"{label} [{amount.partition(' ')[2].replace('**2', '²')}]"


def render_text(report: dict[str, Any]) -> str:
    """Lay out a :func:`scenario_report` as readable text tables."""
    est = report["estate"]
    out = [f"{report['scenario']}: {report['description']}", ""]
    keys = list(est["totals"])
    headers = ["site", "id", "status", "PUE", *(_header(k, est["totals"][k]) for k in keys)]
    rows = [[s["name"], s["id"], s["status"], f"{s['pue']:g}",
             *(_num(s["capacity"][k]) for k in keys)] for s in est["sites"]]
    rows.append(["total", "", "", "", *(_num(est["totals"][k]) for k in keys)])
    out += [f"Estate: {est['name']} ({len(est['sites'])} sites, "
            f"{_num(est['standard_racks'])} standard racks of 2.5 kW)",
            _table(headers, rows, [False, False, False, True, *([True] * len(keys))]), ""]
    out += ["Per cabinet (estate-wide): " + ", ".join(
        f"{k} {float(v.partition(' ')[0]):,.4g} {v.partition(' ')[2]}"
        for k, v in est["densities"].items()), ""]
    if est["reconciliation"]:
        out += ["Reported vs computed:", _table(
            ["resource", "reported", "computed", "difference"],
            [[r["resource"], r["reported"], r["computed"], r["difference"]]
             for r in est["reconciliation"]]), ""]
    if report["findings"]:
        out.append("Findings:")
        out += [f"  {f['severity']:<7} {f['subject']}: {f['message']}"
                + (f" [{f['reference']}]" if f["reference"] else "")
                for f in report["findings"]]
        out.append("")
    if report.get("plan"):
        out.append("Plan:")
        for p in report["plan"]:
            cab = (", ".join(f"{n} × {k}" for k, n in p["cabinets"].items())
                   if isinstance(p["cabinets"], dict) else p["cabinets"])
            out.append(f"  {p['name']} at {p['site']} ({p['status']}): {cab}; "
                       f"{p['start']} → {p['completion']} (median with slippage "
                       f"{p['median_completion']}), {p['ramp']} ramp"
                       + (f", capex {p['capex']}" if p["capex"] else ""))
            if "target" in p:
                t = p["target"]
                line = f"    target {t['amount']} by {t['by']}"
                if "median_at_due_date" in t:
                    line += (f": {t['median_at_due_date']} on the median path "
                             f"({'met' if t['met_on_median_path'] else 'NOT met'})")
                out.append(line)
                out += [f"    {n}: {z['per_cabinet']}/cabinet → {z['cabinets_needed']} "
                        f"cabinets needed, {z['cabinets_planned']} planned"
                        for n, z in t["sizing"].items()]
        out.append("")
    if report.get("projection"):
        pr = report["projection"]
        out.append(f"Projection {pr['horizon'][0]} to {pr['horizon'][1]}, {pr['paths']:,} "
                   f"paths, seed {pr['seed']}:")
        out.append(_table(["resource", "P(shortfall) ≥", "from"],
                          [[e["resource"], f"{e['probability']:g}",
                            e["month"] or "not within the horizon"]
                           for e in pr["exhaustion"]]))
        out.append("Cabinets still needed to keep P(shortfall) ≤ "
                   f"{pr['cabinets_needed'][0]['alpha']:g} every month:"
                   if pr["cabinets_needed"] else "")
        out += [f"  {c['profile']}: {_num(c['cabinets'])}"
                + (f" (binding: {c['binding']})" if c["binding"] else "")
                + (f"; cannot cover {', '.join(c['uncovered'])}" if c["uncovered"] else "")
                for c in pr["cabinets_needed"]]
        out.append("Median capacity and demand at year end:")
        out.append(_table(["month", "resource", "capacity", "demand", "P(shortfall)"],
                          [[y["month"], y["resource"], y["capacity"], y["demand"],
                            f"{y['p_shortfall']:.3f}"] for y in pr["year_end"]]))
        out.append("")
    out.append(f"Assumptions ({len(report['assumptions'])}):")
    out += [f"  {a['field']}: {a['note']}" + (f" [{a['reference']}]" if a["reference"] else "")
            for a in report["assumptions"]]
    return "\n".join(out)
