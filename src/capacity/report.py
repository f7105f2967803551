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

from capacity.resources import Resource, ResourceVector
from capacity.scenario import Scenario
from capacity.units import Quantity

__all__ = ["format_quantity", "render_text", "scenario_report"]


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
    out.append(f"Assumptions ({len(report['assumptions'])}):")
    out += [f"  {a['field']}: {a['note']}" + (f" [{a['reference']}]" if a["reference"] else "")
            for a in report["assumptions"]]
    return "\n".join(out)
