"""The appraisal as a planner reads it: plain data (for JSON) and text tables.

:func:`appraisal_report` turns an :class:`~capacity.policy.Appraisal`, and optionally its
:class:`~capacity.sensitivity.Tornado` and a voucher frontier, into a dict of quantities
(:func:`capacity.report.to_data` makes it JSON); :func:`render_appraisal` lays it out as
text. Money is in 万元 (10⁴ yuan); compute in PFLOPS-hours of its precision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from capacity.plot import display_unit
from capacity.policy.appraise import Appraisal, FrontierPoint
from capacity.report import _money, _number, _table
from capacity.resources import Resource
from capacity.scenario import Scenario
from capacity.sensitivity import Tornado
from capacity.units import Quantity, ureg

__all__ = ["appraisal_report", "render_appraisal"]


def _hours(r: Resource, amount: float, largest: float | None = None) -> Quantity:
    """Resource-hours in the unit a planner reads (PFLOPS_fp16·h, vCPU·h, TB·h).

    The unit suits `largest` (resource-hours; `amount` itself by default): a year's
    average of at least one unit.
    """
    big = abs(amount if largest is None else largest) / 8766.0
    unit = display_unit(r, big) * ureg.hour
    return ureg.Quantity(amount, r.unit * ureg.hour).to(unit)


def _hour_unit(q: Quantity) -> str:
    """``PFLOPS_fp16·h`` rather than pint's ``h·PFLOPS_fp16``."""
    rest = q.units / ureg.hour
    return f"{rest:~P}·h"


def _yuan(v: float) -> Quantity:
    return ureg.Quantity(v, "yuan").to("万元")


def _or_none(v: float) -> float | None:
    return None if math.isnan(v) else float(v)


def appraisal_report(appraisal: Appraisal, policy: Scenario, *,
                     baseline: Scenario | None = None, tornado: Tornado | None = None,
                     frontier: Sequence[FrontierPoint] | None = None,
                     alone: Mapping[str, Appraisal] | None = None,
                     seed: int = 0) -> dict[str, Any]:
    """The appraisal's figures as data: medians, 5-95 % bands, and what moves them.

    Parameters
    ----------
    appraisal
        The appraisal (:func:`capacity.policy.appraise`).
    policy, baseline
        The scenarios appraised (`baseline` ``None``: the policy without its instruments).
    tornado, frontier
        The sensitivity (:func:`capacity.sensitivity.appraisal_tornado`) and the voucher
        designs (:func:`capacity.policy.voucher_frontier`), if computed.
    alone
        Each instrument appraised on its own (:func:`capacity.policy.compare_instruments`),
        for a side-by-side per yuan of outlay.
    seed
        The seed the appraisal was drawn with (reported).
    """
    a = appraisal
    t = a.totals()
    band = a.net_fiscal_cost((0.05, 0.95), present_value=True).to("万元")
    prices = policy.market.priced()
    instruments = []
    for name in a.instruments:
        cost = {}
        for r in a.bought[name]:
            per = a.cost_per_additional(name, r)
            total = abs(float(a.additional(r, name).magnitude.sum()))
            unit = prices[r].units if r in prices else (
                ureg.yuan / (display_unit(r, total / 8766.0) * ureg.hour))
            cost[r.name.lower()] = {
                "per_additional": per.to(unit) if math.isfinite(per.magnitude) else None,
                "list_price": prices[r].to(unit) if r in prices else None}
        instruments.append({
            "name": name, "outlay": a.present_value(a.outlay_paths(name)).to("万元"),
            "deadweight_share": _or_none(float(a.deadweight_share(name))),
            "buys": [r.name.lower() for r in a.bought[name]], "cost": cost})
    years = []
    med = {k: np.median(v, axis=0) for k, v in (
        ("outlay", a.outlay_paths()), ("baseline_outlay", a.baseline_outlay),
        ("deadweight", a.deadweight_paths()),
        ("additional_outlay", a.additional_outlay_paths()), ("gain", a.public_gain_paths()))}
    nfc = a.net_fiscal_cost((0.05, 0.5, 0.95)).to("万元")
    bought = list(dict.fromkeys(r for n in a.instruments for r in a.bought[n]))
    shown = bought + [r for r in a.resources() if r not in bought and np.any(
        a.additional(r).magnitude)]  # what the policy buys, then what it crowds out
    largest = {r: float(np.abs(a.additional(r).magnitude).max(initial=0.0)) for r in shown}
    for i, y in enumerate(a.years):
        years.append({
            "year": int(y), "outlay": _yuan(med["outlay"][i]),
            "baseline_outlay": _yuan(med["baseline_outlay"][i]),
            "deadweight": _yuan(med["deadweight"][i]),
            "additional_outlay": _yuan(med["additional_outlay"][i]),
            "public_gain": _yuan(med["gain"][i]), "net_fiscal_cost": nfc[1][i],
            "net_fiscal_cost_band": [nfc[0][i], nfc[2][i]],
            "additional": {r.name.lower(): _hours(r, float(a.additional(r).magnitude[i]),
                                                  largest[r]) for r in shown}})
    p_pays = float(a.pays_off_paths().mean())
    exhaustion = []
    for r, (without, with_) in a.exhaustion().items():
        if without is None and with_ is None:
            continue
        exhaustion.append({"resource": r.name.lower(), "without": without, "with": with_,
                           "months_earlier": float(a.months_earlier(r))})
    capex = [{"profile": c.profile, "resources": [r.name.lower() for r in c.resources],
              "cabinets_without": c.cabinets_without, "cabinets_with": c.cabinets_with,
              "earlier": _yuan(float(np.median(c.earlier))),
              "more": _yuan(float(np.median(c.more)))} for c in a.capex]
    sites = []
    for s, public in sorted(zip(a.site_ids, a.public, strict=True), key=lambda x: not x[1]):
        sites.append({
            "site": s, "public": public,
            "utilisation_without": [_or_none(v) for v in a.utilisation(s, policy=False)],
            "utilisation_with": [_or_none(v) for v in a.utilisation(s)],
            "revenue_without": list(a.revenue(s, policy=False).to("万元")),
            "revenue_with": list(a.revenue(s).to("万元"))})
    data: dict[str, Any] = {
        "policy": policy.name,
        "baseline": baseline.name if baseline is not None
        else f"{policy.name} without its instruments",
        "paths": a.n_paths, "seed": seed, "horizon": [a.months[0], a.months[-1]],
        "discount_rate": a.discount_rate,
        "public_sites": [s for s, p in zip(a.site_ids, a.public, strict=True) if p],
        "totals": {"outlay": a.present_value(a.outlay_paths()).to("万元"),
                   "baseline_outlay": a.present_value(a.baseline_outlay).to("万元"),
                   "net_fiscal_cost": _yuan(t["net_fiscal_cost"]),
                   "net_fiscal_cost_band": list(band), "public_gain": _yuan(t["public_gain"]),
                   "deadweight_share": _or_none(t["deadweight_share"]),
                   "spend_per_yuan": _or_none(t["spend_per_yuan"]),
                   "pays_off": a.pays_off(), "p_pays_off": p_pays,
                   "capex": {k: _yuan(v) for k, v in t["capex"].items()}},
        "additional": {r.name.lower(): _hours(r, v) for r, v in t["additional"].items()},
        "instruments": instruments, "years": years, "exhaustion": exhaustion,
        "capex": capex, "sites": sites,
        "assumptions": [{"field": f, "kind": pv.kind.value, "note": pv.note}
                        for f, pv in a.assumptions]}
    if tornado is not None:
        data["sensitivity"] = _tornado(tornado)
    if alone is not None:
        data["side_by_side"] = [_per_yuan(name, x) for name, x in alone.items()]
    if frontier is not None:
        data["frontier"] = [
            {"rate": p.rate, "budget": p.budget, "outlay": _yuan(p.outlay),
             "net_fiscal_cost": _yuan(p.net_fiscal_cost),
             "additional": _hours(p.resource, p.additional) if p.resource is not None
             else None, "deadweight_share": _or_none(p.deadweight_share),
             "efficient": p.efficient} for p in frontier]
    return data


def _per_yuan(name: str, a: Appraisal) -> dict[str, Any]:
    """One instrument alone: what each 万元 of its outlay buys and costs the city."""
    t = a.totals()
    wan = t["outlay"] / 1e4
    per = {r.name.lower(): _hours(r, v / wan) if wan > 0 else None
           for r, v in t["additional"].items() if r in a.bought[name]}
    return {"instrument": name, "outlay": _yuan(t["outlay"]),
            "deadweight_share": _or_none(t["deadweight_share"]),
            "additional_per_wan": per,
            "net_fiscal_cost_per_yuan": t["net_fiscal_cost"] / t["outlay"]
            if t["outlay"] > 0 else None}


def _tornado(t: Tornado) -> dict[str, Any]:
    r = t.resource

    def extra(v: float) -> Any:
        return _hours(r, v) if r is not None else None

    flips = {id(b) for b in t.flips()}
    return {
        "paths": t.n_paths, "seed": t.seed,
        "resource": r.name.lower() if r is not None else None,
        "base": {"net_fiscal_cost": _yuan(t.base["net_fiscal_cost"]),
                 "additional": extra(t.base["additional"]),
                 "pays_off": bool(t.base["pays_off"])},
        "bars": [{"field": b.range.field, "label": b.range.label,
                  "low": b.range.low, "high": b.range.high,
                  "kind": b.range.provenance.kind.value, "note": b.range.provenance.note,
                  "net_fiscal_cost": [_yuan(v) for v in b.net_fiscal_cost],
                  "additional": [extra(v) for v in b.additional],
                  "pays_off": list(b.pays_off), "flips": id(b) in flips,
                  "reason": b.reason} for b in t.bars],
        "flips": [b.range.label for b in t.flips()]}


def _q(q: Any) -> str:
    """A value of a range or a result, short."""
    if q is None:
        return "-"
    if isinstance(q, bool):
        return "yes" if q else "no"
    if isinstance(q, float):
        return f"{q:g}"
    if hasattr(q, "units"):
        if q.check("[currency]") or q.check("[currency] / [time]"):
            return _money(q)
        if "[currency]" not in q.dimensionality and "[time]" in q.dimensionality:
            return f"{_number(float(q.magnitude))} {_hour_unit(q)}"  # resource-hours
        return f"{_number(float(q.magnitude))} {q.units:~P}"
    return str(q)


def _wan(q: Quantity) -> str:
    return _money(q).removesuffix(" 万元")


def render_appraisal(report: dict[str, Any]) -> str:
    """Lay out an :func:`appraisal_report` as text."""
    t = report["totals"]
    start, end = report["horizon"]
    out = [f"Appraisal of {report['policy']} against {report['baseline']}",
           f"{report['paths']:,} paths, seed {report['seed']}, {start} to {end}; money in 万元 "
           f"(10⁴ yuan), present values at {report['discount_rate']:.0%} a year to {start}; "
           f"public sites: {', '.join(report['public_sites']) or 'none'}", ""]
    lo, hi = t["net_fiscal_cost_band"]
    net = float(t["net_fiscal_cost"].m_as("万元"))
    verdict = ("does not pay for itself" if not t["pays_off"] else
               "more than pays for itself" if net < -0.05 else
               "costs the city nothing net (its outlay goes to public sites)")
    rows = [["outlay, present value", _money(t["outlay"])]]
    if t["baseline_outlay"].magnitude:
        rows.append(["less the baseline's own outlay", _money(t["baseline_outlay"])])
    rows += [
            ["public sites' gain in margin", _money(t["public_gain"])],
            ["net fiscal cost, present value", f"{_money(t['net_fiscal_cost'])} "
             f"(5-95 %: {_wan(lo)} to {_wan(hi)}): the policy {verdict} at the median; "
             f"it does on {t['p_pays_off']:.0%} of paths"]]
    if t["deadweight_share"] is not None:
        rows.append(["deadweight", f"{t['deadweight_share']:.0%} of the outlay pays for "
                     "demand that would have been bought anyway"])
    for x in report["instruments"]:
        for r, c in x["cost"].items():
            if c["per_additional"] is None:
                rows.append([f"{x['name']}: per additional {r}", "buys none"])
                continue
            versus = f" (list price {_q(c['list_price'])})" if c["list_price"] is not None \
                else ""
            rows.append([f"{x['name']}: outlay per additional {r}-hour",
                         f"{_q(c['per_additional'])}{versus}"])
    if t["spend_per_yuan"] is not None:
        rows.append(["extra spend per yuan of outlay", f"{t['spend_per_yuan']:.2f} yuan"])
    for e in report["exhaustion"]:
        rows.append([f"{e['resource']} first short (P ≥ 0.5)",
                     f"{e['without'] or 'after ' + str(end)} without, "
                     f"{e['with'] or 'after ' + str(end)} with: "
                     f"{e['months_earlier']:g} months earlier (median over paths)"])
    for c in report["capex"]:
        if c["cabinets_with"] != c["cabinets_without"] or c["earlier"].magnitude:
            rows.append([f"capex to keep up: {c['profile']}",
                         f"{_number(float(c['cabinets_without'].magnitude))} → "
                         f"{_number(float(c['cabinets_with'].magnitude))} cabinets; "
                         f"{_money(c['more'])} more, {_money(c['earlier'])} from building "
                         "earlier (present values)"])
    width = max(len(k) for k, _ in rows)
    out += ["At a glance (medians over paths):",
            *(f"  {k:<{width}}  {v}" for k, v in rows), ""]
    years = [str(y["year"]) for y in report["years"]]
    right = [False, *([True] * len(years))]
    rows = [["outlay", *(_wan(y["outlay"]) for y in report["years"])],
            ["  deadweight", *(_wan(y["deadweight"]) for y in report["years"])],
            ["  on additional demand", *(_wan(y["additional_outlay"]) for y in report["years"])]]
    if any(y["baseline_outlay"].magnitude for y in report["years"]):
        rows.append(["less the baseline's outlay",
                     *(_wan(y["baseline_outlay"]) for y in report["years"])])
    rows += [
            ["public sites' gain", *(_wan(y["public_gain"]) for y in report["years"])],
            ["net fiscal cost", *(_wan(y["net_fiscal_cost"]) for y in report["years"])],
            ["  5 %", *(_wan(y["net_fiscal_cost_band"][0]) for y in report["years"])],
            ["  95 %", *(_wan(y["net_fiscal_cost_band"][1]) for y in report["years"])]]
    for r in report["years"][0]["additional"] if report["years"] else ():
        first = report["years"][0]["additional"][r]
        rows.append([f"additional {r} [{_hour_unit(first)}]",
                     *(_number(float(y["additional"][r].m_as(first.units)))
                       for y in report["years"])])
    out += ["Year by year (medians; 万元 unless stated):", _table(["", *years], rows, right),
            "  Deadweight + on additional demand = outlay; additional demand below zero is "
            "demand the policy's extra demand crowds out where both may run.", ""]
    rows = []
    for s in report["sites"]:
        label = s["site"] + (" (public)" if s["public"] else "")
        rows.append([label, *(f"{a:.0%}→{b:.0%}" if a is not None and b is not None else "-"
                              for a, b in zip(s["utilisation_without"], s["utilisation_with"],
                                              strict=True))])
        rows.append(["  revenue, 万元", *(f"{_wan(a)}→{_wan(b)}" for a, b in zip(
            s["revenue_without"], s["revenue_with"], strict=True))])
    out += ["Sites: utilisation and revenue at list price, without → with the policy:",
            _table(["", *years], rows, right), ""]
    if "side_by_side" in report:
        rows = [[x["instrument"], _wan(x["outlay"]),
                 "-" if x["deadweight_share"] is None else f"{x['deadweight_share']:.0%}",
                 "; ".join(f"{_q(v)} {r}" for r, v in x["additional_per_wan"].items()
                           if v is not None) or "none",
                 "-" if x["net_fiscal_cost_per_yuan"] is None
                 else f"{x['net_fiscal_cost_per_yuan']:.2f}"]
                for x in report["side_by_side"]]
        out += ["Each instrument alone against the same baseline (medians; present values):",
                _table(["instrument", "outlay, 万元", "deadweight", "additional per 万元",
                        "net cost per yuan"], rows, [False, True, True, False, True]), ""]
    if "sensitivity" in report:
        out += _render_tornado(report["sensitivity"])
    if "frontier" in report:
        rows = [[f"{p['rate']:.0%}", _q(p["budget"]), _wan(p["outlay"]),
                 _wan(p["net_fiscal_cost"]), _q(p["additional"]),
                 "-" if p["deadweight_share"] is None else f"{p['deadweight_share']:.0%}",
                 "yes" if p["efficient"] else ""] for p in report["frontier"]]
        out += ["Voucher designs (medians; present values in 万元):",
                _table(["rate", "budget", "outlay", "net fiscal cost", "additional",
                        "deadweight", "efficient"], rows,
                       [False, False, True, True, True, True, False]),
                "  Efficient: no other design serves at least as much additional demand for "
                "no more net fiscal cost.", ""]
    out.append("Assumptions of the appraisal:")
    out += [f"  {x['field']}: {x['note']}" for x in report["assumptions"]]
    return "\n".join(out)


def _render_tornado(s: dict[str, Any]) -> list[str]:
    rows = []
    for b in s["bars"]:
        lo, hi = b["net_fiscal_cost"]
        lo, hi = ("refused" if math.isnan(q.magnitude) else _wan(q) for q in (lo, hi))
        rows.append([b["label"], f"{_q(b['low'])} to {_q(b['high'])}", lo, hi,
                     "yes" if b["flips"] else "", b["reason"]])
    base = s["base"]
    out = [f"What moves the net fiscal cost most ({s['paths']:,} paths each; base "
           f"{_money(base['net_fiscal_cost'])}, which "
           f"{'pays' if base['pays_off'] else 'does not pay'} for itself):",
           _table(["input", "range", "at low end", "at high end", "flips", ""], rows,
                  [False, False, True, True, False, False])]
    if s["flips"]:
        out.append("  The conclusion flips inside the plausible range of: "
                   + "; ".join(s["flips"]) + ".")
    else:
        out.append("  No input's plausible range flips the conclusion.")
    out.append("  Where each range comes from:")
    out += [f"    {b['label']}: {b['note']}" for b in s["bars"]]
    out.append("")
    return out
