"""Reports of a scenario: one structure of typed figures, rendered as text or as JSON.

:func:`scenario_report` and the other builders gather the figures into one dict whose
amounts are :class:`pint.Quantity` values and whose months are ``"YYYY-MM"`` strings;
:func:`render_text` lays that dict out as tables, reading the quantities themselves, and
:func:`to_data` writes it as plain JSON-ready data, each quantity a ``"value unit"``
string that :func:`capacity.units.parse_quantity` reads back. Nothing is formatted and
parsed again on the way: the figures come from the model's own methods.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Sequence
from importlib import resources
from typing import Any

import attrs
import numpy as np
import pint

from capacity.allocation import Allocation, ScenarioProblem, allocate, build_problem
from capacity.checks import check_accelerator_density
from capacity.errors import FieldError
from capacity.months import month_index
from capacity.plan import Project
from capacity.policy import PolicyCost, cost_policy
from capacity.projection import Projection, project
from capacity.provenance import Kind
from capacity.resources import Resource, ResourceVector
from capacity.scenario import Scenario
from capacity.sensitivity import GROUPS, group_of
from capacity.units import Q_, Quantity

__all__ = [
    "Study",
    "allocation_report",
    "format_quantity",
    "full_report",
    "plan_report",
    "policy_report",
    "projection_report",
    "render_text",
    "run_study",
    "scenario_report",
    "schema",
    "to_data",
]


def format_quantity(q: Quantity, digits: int | None = None) -> str:
    """Write a quantity as ``"value unit"``, a string :data:`capacity.Q_` parses back.

    With `digits` the value is rounded to that many significant digits (for reading);
    without, it is written in full, so that parsing it gives the same float back.
    """
    mag = float(q.magnitude)
    if math.isfinite(mag) and mag == int(mag) and abs(mag) < 1e15:  # (inf, nan: as such)
        value = f"{int(mag)}"
    else:
        value = repr(mag) if digits is None else f"{mag:.{digits}g}"
    unit = f"{q.units:~C}"
    # "1/yr" after a number would read as a second number; the plain spelling is "/yr".
    unit = "/" + unit[2:] if unit.startswith("1/") else unit
    return f"{value} {unit}".rstrip()


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a command's ``--format json`` output, as shipped in the package.

    `name` is ``"run"`` (also ``capacity report``), ``"compare"`` or ``"appraise"``.
    """
    if name not in ("run", "compare", "appraise"):
        raise FieldError("name", "must be 'run', 'compare' or 'appraise'", name)
    text = resources.files("capacity").joinpath("schemas", f"{name}.schema.json").read_text(
        encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def to_data(report: Any) -> Any:
    """A report as plain JSON-ready data: each quantity a ``"value unit"`` string.

    Examples
    --------
    >>> to_data({"grid": Q_(2.5, "MW"), "years": (2025, np.int64(2026))})
    {'grid': '2.5 MW', 'years': [2025, 2026]}
    """
    if isinstance(report, pint.Quantity):
        return format_quantity(report)
    if isinstance(report, dict):
        return {str(k): to_data(v) for k, v in report.items()}
    if isinstance(report, (list, tuple)):
        return [to_data(v) for v in report]
    if isinstance(report, np.datetime64):
        return str(report)
    if isinstance(report, np.generic):
        return report.item()
    return report


def _vector(v: ResourceVector, keep: Sequence[Resource]) -> dict[str, Quantity]:
    return {r.name.lower(): v[r] for r in keep}


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
            "electricity_price": site.electricity_price,
            "grid": site.grid,
            "cabinets_by_profile": dict(site.cabinets),
            "capacity": _vector(estate.capacity(site.id), shown),
            "basis": _basis(estate.basis(site.id), shown),
            "standard_racks": estate.standard_racks(site.id),
        })
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "estate": {
            "name": estate.name,
            "sites": sites,
            "totals": _vector(estate.totals(), shown),
            "totals_basis": _basis(estate.basis(), shown),
            "densities": {r.name.lower(): q
                          for r, q in estate.densities().items()},
            "standard_racks": estate.standard_racks(),
            "reconciliation": [
                {"resource": rec.resource.name.lower(),
                 "reported": rec.reported,
                 "computed": rec.computed,
                 "difference": rec.difference,
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
            {"field": a.field, "group": group_of(a.field), "note": a.provenance.note,
             "reference": a.provenance.reference}
            for a in scenario.assumptions()
        ],
    }


def _basis(basis: dict[Resource, Kind | None], keep: Sequence[Resource]
           ) -> dict[str, str | None]:
    """How each figure is known, as a report writes it: source, derived or assumption."""
    return {r.name.lower(): (k.value if (k := basis.get(r)) is not None else None)
            for r in keep}


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
            "capex": proj.capex,
        }
        if proj.target is not None:
            row["target"] = _target(scenario, proj, projection)
        out.append(row)
    return out


def _target(scenario: Scenario, proj: Project, projection: Projection | None,
            ) -> dict[str, Any]:
    """A project's stated target, what sizes it, and what the library can check of it.

    A target the plan's cabinets are sized to (cabinets × density = target) holds by
    construction on any path where the project completes: that is reported as the plan's
    statement. What is checked: whether the density is hardware one can fit
    (:func:`capacity.checks.check_accelerator_density`), and, for compute, what is left
    for the target's precision once the other precisions' demand on the same devices runs.
    """
    target = proj.target
    assert target is not None  # called only for projects with a target
    r = Resource.for_quantity(target)
    sizing: dict[str, dict[str, Any]] = {}
    findings = []
    for name in proj.cabinets:
        prof = scenario.estate.profiles[name]
        if prof.vector.values[r.index] > 0:
            sizing[name] = {"per_cabinet": prof.amount(r),
                            "cabinets_needed": prof.cabinets_for(target),
                            "cabinets_planned": proj.cabinets[name]}
            findings += [{"code": f.code, "severity": f.severity.value, "subject": f.subject,
                          "message": f.message, "reference": f.reference}
                         for f in check_accelerator_density(prof)]
    sized = bool(sizing) and all(z["cabinets_planned"] >= z["cabinets_needed"]
                                 for z in sizing.values())
    out: dict[str, Any] = {
        "amount": target,
        "by": str(proj.target_by) if proj.target_by is not None else None,
        "kind": "stated target" + (" (the planned cabinets are sized to it)" if sized else ""),
        "sizing": sizing, "findings": findings}
    if projection is not None and proj.target_by is not None:
        i = int((proj.target_by - projection.months[0]).astype(int))
        if 0 <= i < projection.months.size:
            peak = float(np.median(projection.capacity_paths(r, proj.site).m_as(r.unit)[:, i]))
            out["median_at_due_date"] = Q_(peak, r.unit)
            out["met_on_median_path"] = bool(peak >= target.m_as(r.unit) * (1 - 1e-9))
            if r.precision is not None:
                left = float(np.median(projection.available_paths(r).m_as(r.unit)[:, i]))
                out["left_after_other_precisions"] = Q_(left, r.unit)
    return out


def projection_report(projection: Projection, alpha: float = 0.05) -> dict[str, Any]:
    """Summarise a projection.

    Exhaustion dates where demand may run, the groups of demand that run short and where,
    accelerator device time each precision needs, cabinets still needed per profile (each
    an alternative on its own, at the site where it helps most), and median capacity
    against demand at each year end.
    """
    resources = [e.resource for e in projection.exhaustion(0.5)]
    years = [m for m in projection.months if str(m).endswith("-12")]
    p_short = projection.shortfall_probability()
    left = {r: np.median(projection.available_paths(r).m_as(r.unit), axis=0)
            for r in resources if r.precision is not None}
    # each resource's medians once, over all months, not once per year end
    median = {(of, r): projection.quantiles(r, (0.5,), of=of)[0]
              for r in resources for of in ("capacity", "demand")}

    def need(name: str) -> dict[str, Any]:
        n = projection.cabinets_needed(name, alpha)
        return {"profile": n.profile, "alpha": alpha, "site": n.site,
                "cabinets": n.cabinets,
                "binding": n.binding.name.lower() if n.binding else None,
                "competing": [r.name.lower() for r in n.competing],
                "uncovered": [r.name.lower() for r in n.uncovered],
                "alternatives": dict(n.alternatives)}

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
        "shortfalls": [{**g, "from": str(g["from"])} for g in projection.shortfalls(alpha)],
        "device_time": [{"month": str(m), "groups": projection.device_time(m)}
                        for m in years],
        "cabinets_needed": [need(name) for name in projection.estate.profiles],
        "year_end": [
            {"month": str(m), "resource": r.name.lower(),
             "capacity": Q_(float(median["capacity", r][t].magnitude), r.unit),
             "left_after_other_precisions": Q_(float(left[r][t]), r.unit)
             if r in left else None,
             "demand": Q_(float(median["demand", r][t].magnitude), r.unit),
             "p_shortfall": float(p_short[t, r.index])}
            for r in resources for m in years
            for t in (month_index(projection.months, m),)
        ],
    }


def allocation_report(built: ScenarioProblem, result: Allocation) -> dict[str, Any]:
    """Summarise an allocation of a scenario's demand at one month.

    Status, cost per year and proven bound, where each block went, the utilisation of each
    pool, binding limits with their shadow prices, and the explanation when infeasible.
    """
    p = built.problem
    pools = p.pool_names or ()
    out: dict[str, Any] = {
        "month": str(built.when),
        "status": result.status.value,
        "message": result.message,
        "objective": Q_(result.objective_value, "yuan/year")
        if result.success else None,
        "bound": Q_(result.bound_value, "yuan/year")
        if np.isfinite(result.bound_value) else None,
        "gap": result.gap if result.success else None,
        "placement": {b: dict(row)
                      for b, row in built.placement(result).items()},
        "utilisation": {},
        "binding": [],
        "explanation": result.explanation,
    }
    util, prices = result.utilisation, (result.shadow_price if result.success else None)
    if util is not None:
        names = p.resource_names or ()
        out["utilisation"] = {pools[j]: {names[r]: float(util[j, r])
                                         for r in range(p.n_resources) if p.capacity[j, r] > 0}
                              for j in range(p.n_pools)}
    if result.binding is not None:
        for j, r in np.argwhere(result.binding):
            out["binding"].append({
                "pool": pools[j], "resource": (p.resource_names or ())[r],
                "shadow_price": None if prices is None else float(prices[j, r])})
    return out


def policy_report(cost: PolicyCost, scenario: Scenario) -> dict[str, Any]:
    """Summarise what each instrument costs per year and what it changes.

    Outlay (median and 5-95 %), when a budget runs out, the effective price users pay,
    the demand induced, the energy bill, and each site's utilisation without and with the
    policy.
    """
    years = [int(y) for y in cost.years]
    out: dict[str, Any] = {"years": years, "instruments": {}, "prices": {}, "sites": {},
                           "converged": cost.converged}
    for name in cost.instruments:
        lo, mid, hi = cost.outlay(name, (0.05, 0.5, 0.95)).to("万元")
        out["instruments"][name] = {
            "outlay_median": list(mid),
            "outlay_5_95": [[a, b] for a, b in zip(lo, hi, strict=True)],
            "budget_exhausted": [str(m) if m is not None else None
                                 for m in cost.budget_exhausted(name)],
        }
    out["total_outlay_median"] = list(cost.total_outlay().to("万元"))
    for r in cost.list_prices:
        listed = cost.effective_price(r, policy=False)
        paid = cost.effective_price(r)
        out["prices"][r.name.lower()] = {
            "list": list(listed),
            "paid": list(paid),
            "induced_demand": list(cost.induced_demand(r)),
        }
    out["energy_bill"] = list(cost.energy_cost().to("万元"))
    out["energy_bill_net"] = list(cost.energy_cost(net=True).to("万元"))
    for site in cost.site_ids:
        out["sites"][site] = {
            "utilisation_without": [_share(v) for v in cost.utilisation(site, policy=False)],
            "utilisation_with": [_share(v) for v in cost.utilisation(site)],
        }
    return out


def _share(v: float) -> float | None:
    """A ratio as JSON has every ratio: a plain fraction (0.78, not 78 %), in full."""
    return None if not np.isfinite(v) else float(v)


@attrs.frozen
class Study:
    """The results of running a scenario: projection, allocation and policy costs."""

    scenario: Scenario
    projection: Projection
    built: ScenarioProblem
    allocation: Allocation
    cost: PolicyCost | None


#: Branch-and-bound nodes a study's allocation may take: a work budget, not a clock.
NODE_LIMIT = 20_000


def run_study(scenario: Scenario, *, start: str = "2025-01", end: str = "2030-12",
              n_paths: int = 2000, seed: int = 0, month: str = "2027-12",
              time_limit: float = 60.0, node_limit: int = NODE_LIMIT) -> Study:
    """Project a scenario, allocate its demand at `month`, and cost its policies.

    Policies are costed when the scenario has any (or a market with prices), so a baseline
    still shows its energy bill and site utilisation. The allocation runs on a work
    budget of `node_limit` branch-and-bound nodes, so the same scenario and seed give the
    same study on any machine under any load; `time_limit` is only a ceiling.
    """
    projection = project(scenario, start=start, end=end, n_paths=n_paths, seed=seed)
    built = build_problem(scenario, month)
    result = allocate(built.problem, time_limit=time_limit, node_limit=node_limit, seed=seed)
    cost = None
    if scenario.policies or scenario.market.prices:
        cost = cost_policy(projection)
    return Study(scenario, projection, built, result, cost)


def full_report(study: Study, alpha: float = 0.05) -> dict[str, Any]:
    """Every section of a study's report as plain JSON-ready data."""
    data = scenario_report(study.scenario)
    data["plan"] = plan_report(study.scenario, study.projection)
    data["projection"] = projection_report(study.projection, alpha)
    data["allocation"] = allocation_report(study.built, study.allocation)
    if study.cost is not None:
        data["policy"] = policy_report(study.cost, study.scenario)
    data["policies"] = [p.name for p in study.scenario.policies]
    return data


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


def _num(q: Quantity) -> str:
    return _number(float(q.magnitude))


def _number(v: float) -> str:
    """The one number format of the text report: thousands separated, four figures."""
    if v == round(v) or abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:,.4g}"


def _money(q: Quantity) -> str:
    """Money in 万元 (per year for a rate), as every money figure of the text report."""
    unit = "万元/year" if q.check("[currency] / [time]") else "万元"
    v = float(q.m_as(unit))
    v = 0.0 if abs(v) < 0.05 else v  # no "-0.0"
    return (f"{v:,.0f}" if abs(v) >= 100 or v == 0 else f"{v:,.1f}") + (
        " 万元/yr" if unit != "万元" else " 万元")


def _unit(q: Quantity) -> str:
    return f"{q.units:~P}"


def _header(key: str, amount: Quantity) -> str:
    label = "compute" if key.startswith("compute") else Resource.parse(key).label
    return f"{label} [{_unit(amount)}]"


def _text(q: Quantity | None) -> str:
    if q is None:
        return "-"
    if q.check("[currency]") or q.check("[currency] / [time]"):
        return _money(q)
    return f"{_num(q)} {_unit(q)}"


#: How the text report marks a figure that is not stated by the source.
MARKS = {"derived": "†", "assumption": "*"}


def _marked(q: Quantity, basis: str | None) -> str:
    return _num(q) + MARKS.get(basis or "", "")


def _reading_guide(report: dict[str, Any]) -> str:
    n = len(report["assumptions"])
    return ("How to read: unmarked figures are stated by the source; † marks a figure "
            "derived from stated ones (an estate-wide total split over the sites pro rata "
            f"by cabinets); * marks an assumption (all {n} are listed at the end, grouped "
            "by what they decide). Money is in 万元 (10⁴ yuan).")


def render_text(report: dict[str, Any]) -> str:
    """Lay out a :func:`scenario_report` as readable text tables."""
    est = report["estate"]
    out = [f"{report['scenario']}: {report['description']}", "", _reading_guide(report), ""]
    keys = list(est["totals"])
    headers = ["site", "id", "status", "PUE", *(_header(k, est["totals"][k]) for k in keys)]
    pue_assumed = {a["field"] for a in report["assumptions"]}
    rows = [[s["name"], s["id"], s["status"],
             f"{s['pue']:g}" + ("*" if f"sites[{s['id']}].pue" in pue_assumed else ""),
             *(_marked(s["capacity"][k], s.get("basis", {}).get(k)) for k in keys)]
            for s in est["sites"]]
    rows.append(["total", "", "", "", *(_marked(est["totals"][k],
                                                est.get("totals_basis", {}).get(k))
                                        for k in keys)])
    out += [f"Estate: {est['name']} ({len(est['sites'])} sites, "
            f"{_num(est['standard_racks'])} standard racks of 2.5 kW)",
            _table(headers, rows, [False, False, False, True, *([True] * len(keys))]), ""]
    out += ["Per cabinet (estate-wide): " + ", ".join(
        f"{Resource.parse(k).label} {float(v.magnitude):,.4g} {_unit(v)}"
        for k, v in est["densities"].items()), ""]
    if est["reconciliation"]:
        out += ["Reported vs computed:", _table(
            ["resource", "reported", "computed", "difference"],
            [[r["resource"], _text(r["reported"]), _text(r["computed"]),
              _text(r["difference"])] for r in est["reconciliation"]]), ""]
    if report["findings"]:
        out.append("Findings:")
        out += [f"  {f['severity']:<7} {f['subject']}: {f['message']}"
                + (f" [{f['reference']}]" if f["reference"] else "")
                for f in report["findings"]]
        out.append("")
    if report.get("plan"):
        out += _render_plan(report["plan"])
    if report.get("projection"):
        out += _render_projection(report["projection"])
    if report.get("allocation"):
        out += _render_allocation(report["allocation"])
    if report.get("policy"):
        out += _render_policy(report["policy"])
    out.append(f"Assumptions ({len(report['assumptions'])}), by what they decide:")
    for group, title in GROUPS.items():
        mine = [a for a in report["assumptions"] if a.get("group", group_of(a["field"]))
                == group]
        if mine:
            out.append(f"  {title[0].upper()}{title[1:]}:")
            out += [f"    {a['field']}: {a['note']}"
                    + (f" [{a['reference']}]" if a["reference"] else "") for a in mine]
    return "\n".join(out)


def _render_plan(plan: list[dict[str, Any]]) -> list[str]:
    out = ["Plan:"]
    for p in plan:
        cab = (", ".join(f"{n:,} × {k}" for k, n in p["cabinets"].items())
               if isinstance(p["cabinets"], dict) else p["cabinets"])
        out.append(f"  {p['name']} at {p['site']} ({p['status']}): {cab}; "
                   f"{p['start']} → {p['completion']} (median with slippage "
                   f"{p['median_completion']}), {p['ramp']} ramp"
                   + (f", capex {_text(p['capex'])}" if p["capex"] is not None else ""))
        if "target" not in p:
            continue
        t = p["target"]
        line = f"    {t['kind']}: {_text(t['amount'])} by {t['by']}"
        if "median_at_due_date" in t:
            line += (f"; peak {_text(t['median_at_due_date'])} on the median path "
                     f"({'reached' if t['met_on_median_path'] else 'NOT reached'})")
        out.append(line)
        if "left_after_other_precisions" in t:
            out.append(f"    finding: {_text(t['left_after_other_precisions'])} of it left "
                       "once the other precisions' demand on the same devices runs (median)")
        out += [f"    {n}: {_text(z['per_cabinet'])}/cabinet → {z['cabinets_needed']:,} "
                f"cabinets needed, {z['cabinets_planned']:,} planned"
                for n, z in t["sizing"].items()]
        out += [f"    finding ({f['severity']}): {f['message']} [{f['reference']}]"
                for f in t["findings"]]
    out.append("")
    return out


def _render_projection(pr: dict[str, Any]) -> list[str]:
    end = pr["horizon"][1]
    out = [f"Projection {pr['horizon'][0]} to {end}, {pr['paths']:,} paths, seed "
           f"{pr['seed']} (medians over paths unless a probability is given):"]
    out.append(_table(["resource", "P(shortfall) ≥", "from"],
                      [[e["resource"], f"{e['probability']:g}",
                        e["month"] or f"no shortfall by {end}"]
                       for e in pr["exhaustion"]]))
    alpha = pr["cabinets_needed"][0]["alpha"] if pr["cabinets_needed"] else 0.05
    if pr["shortfalls"]:
        out.append(f"Demand short where it may run (P ≥ {alpha:g}):")
        out += [f"  {', '.join(g['blocks'])} on {', '.join(g['pools'])}: "
                f"{g['limit'].replace('_', ' ')} ({', '.join(g['resources'])}) from "
                f"{g['from']}; P = {g['p_end']:.2f} in {end}, median "
                f"deficit {_number(g['deficit_end'])} {g['unit']}" for g in pr["shortfalls"]]
    if pr["device_time"]:
        out.append("Accelerator device time each block needs, in cabinets' worth (median; "
                   "precisions of one device share it):")
        out += [f"  {d['month']} {', '.join(g['pools'])}: " + ", ".join(
            f"{b} {v:,.1f}" for b, v in g["needs"].items())
            + f"; has {g['has']:,.0f}" for d in pr["device_time"] for g in d["groups"]]
    out += _render_needs(pr["cabinets_needed"], alpha)
    out.append("Median capacity and demand at year end (compute: peak, and what is left "
               "once other precisions run on the same devices):")
    out.append(_table(["month", "resource", "capacity", "left", "demand", "P(shortfall)"],
                      [[y["month"], y["resource"], _text(y["capacity"]),
                        _text(y["left_after_other_precisions"]), _text(y["demand"]),
                        f"{y['p_shortfall']:.3f}"] for y in pr["year_end"]],
                      [False, False, True, True, True, True]))
    out.append("  Capacity here is the whole estate's; demand may run only where its tags "
               "allow, so a resource can run short while the estate-wide capacity is far "
               "above demand (see the demand short where it may run, above).")
    out.append("")
    return out


def _render_needs(needs: list[dict[str, Any]], alpha: float) -> list[str]:
    """Cabinets still needed: each profile an alternative, said so, never read as a sum."""
    if not needs:
        return []
    out = [f"Cabinets still needed to keep P(shortfall) ≤ {alpha:g} every month: "
           "alternatives, any one of them on its own (not a sum):"]
    for k, c in enumerate(needs):
        lead = "  either" if k == 0 else "  or    "
        uncovered = ", ".join(c["uncovered"])
        if c["site"] is None:
            out.append(f"{lead} {c['profile']}: no number of these helps"
                       + (f" ({uncovered} run short where it cannot serve them)"
                          if uncovered else ""))
            continue
        if not c["cabinets"].magnitude:
            out.append(f"{lead} {c['profile']}: none needed for what it can serve"
                       + (f"; it cannot serve {uncovered}, which run short elsewhere"
                          if uncovered else ""))
            continue
        why = (f"binding: {', '.join(c['competing'])} sharing device time" if c["competing"]
               else f"binding: {c['binding']}" if c["binding"] else "")
        out.append(f"{lead} {_num(c['cabinets'])} {c['profile']} cabinets at {c['site']}"
                   + (f" ({why})" if why else "")
                   + (f"; it cannot serve {uncovered}, still short elsewhere"
                      if uncovered else ""))
    return out


def _render_allocation(a: dict[str, Any]) -> list[str]:
    head = f"Allocation of the demand at {a['month']}: {a['status']}"
    if a["objective"] is not None:
        head += f", {_money(a['objective'])}"
        if a["bound"] is not None:
            head += f" (proven bound {_money(a['bound'])}, gap {a['gap']:.2%})"
    out = [head]
    rows = [[block, pool, _text(amount)] for block, places in a["placement"].items()
            for pool, amount in places.items()]
    if rows:
        out.append(_table(["block", "pool", "amount"], rows, [False, False, True]))
    if a["utilisation"]:
        names = list(dict.fromkeys(r for res in a["utilisation"].values() for r in res))
        out.append("Share of each pool's capacity used:")
        out.append(_table(["pool", *names], [
            [pool, *(f"{res[r]:.0%}" if r in res else "-" for r in names)]
            for pool, res in a["utilisation"].items()], [False, *([True] * len(names))]))
    if a["binding"]:
        out.append("  Full pools (the next part of a demand block no longer fits; blocks are "
                   "placed in equal parts, so a full pool can show under 100 %):")
        out += [f"    {b['resource']} at {b['pool']}"
                + (f": one more unit would save {b['shadow_price']:,.2f} yuan/year"
                   if b["shadow_price"] else "") for b in a["binding"]]
    if a["explanation"]:
        out.append(a["explanation"])
    out.append("")
    return out


def _render_policy(p: dict[str, Any]) -> list[str]:
    years = [str(y) for y in p["years"]]
    right = [False, *([True] * len(years))]
    out = ["Policy outlay and energy bill per year (median over paths):"]

    def wan(values: Sequence[Quantity]) -> list[str]:
        return [_money(v).removesuffix(" 万元") for v in values]

    rows = [[name, *wan(d["outlay_median"])] for name, d in p["instruments"].items()]
    rows.append(["total", *wan(p["total_outlay_median"])])
    rows.append(["energy bill", *wan(p["energy_bill"])])
    rows.append(["energy bill, net", *wan(p["energy_bill_net"])])
    out.append(_table(["万元", *years], rows, right))
    for name, d in p["instruments"].items():
        dates = [f"{y}: {m}" for y, m in zip(years, d["budget_exhausted"], strict=True) if m]
        if dates:
            out.append(f"  {name}: budget runs out " + ", ".join(dates))
    rows = []
    for r, d in p["prices"].items():
        unit = _unit(d["list"][0])
        rows.append([f"{r} list [{unit}]", *(_num(v) for v in d["list"])])
        rows.append([f"{r} paid [{unit}]", *(_num(v) for v in d["paid"])])
        more = d["induced_demand"]
        rows.append([f"{r} induced [{_unit(more[0])}]", *(_num(v) for v in more)])
    if rows:
        out.append("Prices users pay and the demand the policy induces (median):")
        out.append(_table(["", *years], rows, right))
    rows = [[site, *(f"{a:.0%}→{b:.0%}" if a is not None and b is not None else "-"
                     for a, b in zip(d["utilisation_without"], d["utilisation_with"],
                                     strict=True))]
            for site, d in p["sites"].items()]
    out.append("Utilisation without → with the policy (the busiest resource of each site, "
               "mean over the year):")
    out.append(_table(["site", *years], rows, right))
    full = [site for site, d in p["sites"].items()
            if any(u is not None and u >= 0.995 for u in d["utilisation_with"])]
    if full:
        out.append(f"  {', '.join(full)} reach 100 %: full, which is not the same as short. "
                   "Demand that may also run elsewhere moves to other sites once a site is "
                   "full; demand runs short only where none of the sites it may use has "
                   "room, which the projection's P(shortfall) measures.")
    out.append("")
    return out
