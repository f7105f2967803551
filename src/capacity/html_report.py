"""A study as one self-contained HTML file a planner can mail (needs the ``plot`` extra).

:func:`render_html` lays out the same figures as the text report (:func:`capacity.report.
full_report`) with the study's figures inline as SVG: no script, no network access, and
a print style that keeps tables and figures whole on A4. Figures stated by the source,
derived from stated ones and assumed are told apart by colour and by mark; the
assumptions are grouped by what they decide, those that move the answer most first
(:func:`capacity.sensitivity.rank_assumptions`). :func:`render_comparison_html` does the
same for two studies (``capacity compare --html``).
"""

from __future__ import annotations

import html
import io
import math
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from capacity import __version__
from capacity.errors import FieldError
from capacity.report import (
    MARKS,
    Study,
    _money,
    _number,
    _text,
    full_report,
)
from capacity.sensitivity import GROUPS, Effect, Tornado, group_of, rank_assumptions
from capacity.units import ureg

if TYPE_CHECKING:
    from capacity.policy import Appraisal, FrontierPoint

__all__ = ["render_appraisal_html", "render_comparison_html", "render_html", "write_html"]

_CSS = """
:root { --source: #ffffff; --derived: #e8f0fb; --assumption: #fff1d6; --ink: #1b1b1b; }
* { box-sizing: border-box; }
body { font: 14px/1.45 "Noto Sans", "Noto Sans CJK SC", "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; border-bottom: 2px solid #2c5d9c; padding-bottom: 3px; margin-top: 32px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.meta { color: #555; margin: 0 0 12px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid #c9c9c9; padding: 3px 7px; vertical-align: top; }
th { background: #eef1f5; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.source { background: var(--source); }
td.derived { background: var(--derived); }
td.assumption { background: var(--assumption); }
td.public { background: #e6f2e8; font-weight: 600; }
td.flips, td.efficient { font-weight: 600; color: #b03a2e; }
.key { display: inline-block; padding: 1px 8px; border: 1px solid #bbb; margin-right: 6px; }
.glance { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr));
          gap: 10px; margin: 10px 0 4px; }
.glance div { border: 1px solid #c9c9c9; border-left: 5px solid #2c5d9c; padding: 8px 10px; }
.glance b { display: block; font-size: 18px; }
.glance .short { border-left-color: #c0392b; }
figure { margin: 10px 0 18px; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: #444; }
.note { color: #444; font-size: 13px; }
.findings li { margin-bottom: 3px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-after: avoid; }
  table, figure, .glance div { break-inside: avoid; }
  @page { size: A4; margin: 14mm; }
}
"""

_KIND_WORDS = {"source": "stated by the source", "derived":
               "derived from stated figures (a total split over sites pro rata)",
               "assumption": "assumed"}


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]],
           numeric: Sequence[bool] | None = None, cls: str = "") -> str:
    """A table; a cell is text, or a (text, css class) pair."""
    numeric = numeric or [False] * len(headers)
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for value, num in zip(row, numeric, strict=True):
            text, kind = value if isinstance(value, tuple) else (value, "")
            classes = " ".join(c for c in ("n" if num else "", kind) if c)
            cells.append(f"<td class='{classes}'>{_e(text)}</td>" if classes
                         else f"<td>{_e(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    attr = f" class='{cls}'" if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _svg(fig: Any, salt: str) -> str:
    """A matplotlib figure as inline SVG whose text stays text (searchable, printable)."""
    import matplotlib
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    # several figures share one page: give each one's ids (and what refers to them) its
    # own prefix, so no clip path or marker of one figure is taken for another's
    prefix = re.sub(r"[^A-Za-z0-9_-]", "_", salt)
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    return re.sub(r'(url\(#|href="#)([^)"]+)', rf"\1{prefix}-\2", text)


def _figure(fig: Any, salt: str, caption: str) -> str:
    return (f"<figure data-figure='{_e(salt)}'>{_svg(fig, salt)}"
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _kind_cell(text: str, kind: str | None) -> tuple[str, str]:
    return text + MARKS.get(kind or "", ""), kind or ""


def _legend() -> str:
    return ("<p class='note'>" + "".join(
        f"<span class='key' style='background: var(--{k})'>{_e(w)}"
        f"{_e(MARKS.get(k, ''))}</span>" for k, w in _KIND_WORDS.items()) + "</p>")


def _glance(report: dict[str, Any]) -> str:
    pr, alloc = report["projection"], report["allocation"]
    end = pr["horizon"][1]
    boxes = []
    for e in pr["exhaustion"]:
        if e["probability"] != 0.5:
            continue
        soon = next((x["month"] for x in pr["exhaustion"] if x["resource"] == e["resource"]
                     and x["probability"] != 0.5), None)
        month = e["month"] or f"not by {end}"
        alpha = pr["cabinets_needed"][0]["alpha"] if pr["cabinets_needed"] else 0.05
        extra = f"with P ≥ {alpha:g} from {soon}" if soon else f"P < {alpha:g} until {end}"
        boxes.append((f"{e['resource']} runs short (P ≥ 0.5)", month, extra,
                      "short" if e["month"] else ""))
    if alloc["objective"] is not None:
        boxes.append((f"allocation of {alloc['month']} demand", _money(alloc["objective"]),
                      f"{alloc['status']}, gap {alloc['gap']:.2%}", ""))
    else:
        boxes.append((f"allocation of {alloc['month']} demand", alloc["status"], "", "short"))
    policy = report.get("policy")
    if policy and policy["instruments"]:
        last = policy["years"][-1]
        boxes.append((f"policy outlay in {last} (median)",
                      _money(policy["total_outlay_median"][-1]), "all instruments", ""))
    return "<div class='glance'>" + "".join(
        f"<div class='{c}' data-key='{_e(title)}'>{_e(title)}<b>{_e(value)}</b>"
        f"<span class='note'>{_e(extra)}</span></div>" for title, value, extra, c in boxes
    ) + "</div>"


def _estate(report: dict[str, Any]) -> str:
    est = report["estate"]
    keys = list(est["totals"])
    assumed = {a["field"] for a in report["assumptions"]}
    headers = ["site", "id", "status", "PUE",
               *(f"{k} [{est['totals'][k].units:~P}]" for k in keys)]
    rows: list[list[Any]] = []
    for s in est["sites"]:
        pue = "assumption" if f"sites[{s['id']}].pue" in assumed else "source"
        rows.append([s["name"], s["id"], s["status"], _kind_cell(f"{s['pue']:g}", pue),
                     *(_kind_cell(_number(float(s["capacity"][k].magnitude)),
                                  s["basis"].get(k)) for k in keys)])
    rows.append(["total", "", "", "", *(_kind_cell(_number(float(est["totals"][k].magnitude)),
                                                   est["totals_basis"].get(k)) for k in keys)])
    out = [f"<p>{_e(est['name'])}: {len(est['sites'])} sites, "
           f"{_e(_number(float(est['standard_racks'].magnitude)))} standard racks of 2.5 kW."
           "</p>", _legend(),
           _table(headers, rows, [False, False, False, True, *([True] * len(keys))])]
    if est["reconciliation"]:
        out.append("<h3>Reported against computed</h3>")
        out.append(_table(["resource", "reported", "computed", "difference"],
                          [[r["resource"], _text(r["reported"]), _text(r["computed"]),
                            _text(r["difference"])] for r in est["reconciliation"]],
                          [False, True, True, True]))
    if report["findings"]:
        out.append("<h3>Findings</h3><ul class='findings'>" + "".join(
            f"<li><b>{_e(f['severity'])}</b> {_e(f['subject'])}: {_e(f['message'])}"
            + (f" <span class='note'>[{_e(f['reference'])}]</span>" if f["reference"] else "")
            + "</li>" for f in report["findings"]) + "</ul>")
    return "".join(out)


def _plan(report: dict[str, Any]) -> str:
    rows = []
    for p in report["plan"]:
        cab = (", ".join(f"{n:,} × {k}" for k, n in p["cabinets"].items())
               if isinstance(p["cabinets"], dict) else p["cabinets"])
        target = ""
        if "target" in p:
            t = p["target"]
            target = f"{_text(t['amount'])} by {t['by']} ({t['kind']})"
            if "left_after_other_precisions" in t:
                target += (f"; {_text(t['left_after_other_precisions'])} left once the other "
                           "precisions' demand runs (median)")
        rows.append([p["name"], p["site"], p["status"], cab, p["start"], p["completion"],
                     p["median_completion"], p["ramp"],
                     _text(p["capex"]) if p["capex"] is not None else "-", target or "-"])
    return _table(["project", "site", "status", "cabinets", "start", "completion",
                   "median completion (with slippage)", "ramp", "capex", "target"], rows)


def _projection(report: dict[str, Any], figures: dict[str, tuple[str, Any]]) -> str:
    pr = report["projection"]
    end = pr["horizon"][1]
    alpha = pr["cabinets_needed"][0]["alpha"] if pr["cabinets_needed"] else 0.05
    out = [f"<p class='meta'>{pr['horizon'][0]} to {end}, {pr['paths']:,} Monte Carlo paths, "
           f"seed {pr['seed']}. Bands hold the middle 50 % and 90 % of paths; demand "
           "confined to some pools is drawn against the room of those pools.</p>",
           _table(["resource", "P(shortfall) ≥", "first month"],
                  [[e["resource"], f"{e['probability']:g}", e["month"] or f"not by {end}"]
                   for e in pr["exhaustion"]])]
    if pr["shortfalls"]:
        out.append(f"<h3>Demand short where it may run (P ≥ {alpha:g})</h3>")
        out.append(_table(["blocks", "pools", "limit", "from", f"P in {end}",
                           f"median deficit in {end}"],
                          [[", ".join(g["blocks"]), ", ".join(g["pools"]),
                            g["limit"].replace("_", " "), g["from"], f"{g['p_end']:.2f}",
                            f"{_number(g['deficit_end'])} {g['unit']}"]
                           for g in pr["shortfalls"]],
                          [False, False, False, False, True, True]))
    for stem, (caption, fig) in figures.items():
        if "-fan-" in stem:
            out.append(_figure(fig, stem, caption))
    out.append(f"<h3>Cabinets still needed to keep P(shortfall) ≤ {alpha:g} every month</h3>"
               "<p class='note'>Alternatives: any one row on its own, not a sum.</p>")
    rows = []
    for c in pr["cabinets_needed"]:
        if c["site"] is None:
            rows.append([c["profile"], "no number helps", "-", "-", ", ".join(c["uncovered"])])
        else:
            why = ", ".join(c["competing"]) + " (sharing device time)" if c["competing"] \
                else (c["binding"] or "-")
            rows.append([c["profile"], _number(float(c["cabinets"].magnitude)), c["site"],
                         why, ", ".join(c["uncovered"]) or "-"])
    out.append(_table(["profile (alternative)", "cabinets", "at", "binding",
                       "still short (it cannot serve them)"], rows,
                      [False, True, False, False, False]))
    return "".join(out)


def _allocation(report: dict[str, Any], figures: dict[str, tuple[str, Any]]) -> str:
    a = report["allocation"]
    head = f"Demand of {a['month']}: {a['status']}"
    if a["objective"] is not None:
        head += f", {_money(a['objective'])}"
        if a["bound"] is not None:
            head += f" (proven bound {_money(a['bound'])}, gap {a['gap']:.2%})"
    out = [f"<p>{_e(head)}</p>"]
    rows = [[block, pool, _text(amount)] for block, places in a["placement"].items()
            for pool, amount in places.items()]
    if rows:
        out.append(_table(["block", "pool", "amount"], rows, [False, False, True]))
    for stem, (caption, fig) in figures.items():
        if stem.endswith(("-utilisation", "-shadow-prices")):
            out.append(_figure(fig, stem, caption))
    if a["binding"]:
        out.append("<p class='note'>A pool is full when the next part of a demand block no "
                   "longer fits; blocks are placed in equal parts, so a full pool can show "
                   "under 100 %. A shadow price is what one more unit of that capacity "
                   "would save a year.</p>")
    if a["explanation"]:
        out.append(f"<pre>{_e(a['explanation'])}</pre>")
    return "".join(out)


def _policy(report: dict[str, Any], figures: dict[str, tuple[str, Any]]) -> str:
    p = report.get("policy")
    if not p:
        return "<p>The scenario has no policies and no market prices to cost.</p>"
    years = [str(y) for y in p["years"]]
    out = [_figure(fig, stem, caption) for stem, (caption, fig) in figures.items()
           if stem.endswith("-outlay")]

    def wan(values: Sequence[Any]) -> list[str]:
        return [_money(v).removesuffix(" 万元") for v in values]

    rows = [[name, *wan(d["outlay_median"])] for name, d in p["instruments"].items()]
    rows += [["total", *wan(p["total_outlay_median"])], ["energy bill", *wan(p["energy_bill"])],
             ["energy bill, net of subsidies", *wan(p["energy_bill_net"])]]
    out.append(_table(["万元 (median)", *years], rows, [False, *([True] * len(years))]))
    for name, d in p["instruments"].items():
        dates = [f"{y}: {m}" for y, m in zip(years, d["budget_exhausted"], strict=True) if m]
        if dates:
            out.append(f"<p>{_e(name)}: the budget runs out {_e(', '.join(dates))}.</p>")
    rows = [[site, *(f"{a:.0%} → {b:.0%}" if a is not None and b is not None else "-"
                     for a, b in zip(d["utilisation_without"], d["utilisation_with"],
                                     strict=True))] for site, d in p["sites"].items()]
    out.append("<h3>Utilisation without → with the policy</h3>")
    out.append(_table(["site", *years], rows, [False, *([True] * len(years))]))
    out.append("<p class='note'>A site at 100 % is full, which is not the same as short: "
               "demand that may also run elsewhere moves to other sites once it is full.</p>")
    return "".join(out)


def _sides(pair: tuple[float | None, float | None] | None, missing: str,
           refused: tuple[bool, bool] = (False, False)) -> str:
    """A lower/higher pair of relative changes, e.g. ``-11.0 % / +11.0 %``."""
    if all(refused):
        return "refused"
    if pair is None:
        return missing
    return " / ".join("refused" if no else "none feasible" if v is None else "0 %"
                      if round(v, 3) == 0 else f"{v:+.1%}".replace("%", " %")
                      for v, no in zip(pair, refused, strict=True))


def _months(m: int | None) -> str:
    return "refused" if m is None else f"{m:+d}"


def _moves(e: Effect) -> tuple[str, str, str]:
    months = "; ".join(f"{r} {_months(lo)} / {_months(hi)}"
                       for r, (lo, hi) in e.exhaustion.items()
                       if (lo, hi) != (0, 0)) or "no change"
    return (months, _sides(e.cost, "no allocation", e.refused),
            _sides(e.outlay, "no policy outlay", e.refused))


def _assumptions(report: dict[str, Any], effects: Sequence[Effect] | None) -> str:
    notes = {a["field"]: a for a in report["assumptions"]}
    out = []
    if effects is None:
        out.append("<p class='note'>Not ranked (the report was made without the "
                   "sensitivity runs).</p>")
        ranked: list[tuple[str, Effect | None]] = [(f, None) for f in notes]
    else:
        out.append("<p class='note'>Each assumption set lower and higher on its own (numbers "
                   "by the step shown, months by six), the rest held, on the same random "
                   "draws: the months each resource's first shortfall (P ≥ 0.5) moves, and "
                   "the change in the allocation's yearly cost and the policy outlay, "
                   "lower/higher. Within each group, those that move the answer most come "
                   "first.</p>")
        ranked = [(e.field, e) for e in effects]
        top = [e for e in effects if e.varied and any(e.score())][:10]
        if top:
            out.append("<h3>What moves the answer most</h3>")
            out.append(_table(["assumption", "step", "first shortfall moves [months]",
                               "allocation cost", "policy outlay"],
                              [[e.field, e.step, *_moves(e)] for e in top]))
    for group, title in GROUPS.items():
        mine = [(f, e) for f, e in ranked if group_of(f) == group]
        if not mine:
            continue
        out.append(f"<h3>{_e(title[0].upper() + title[1:])}</h3>")
        rows = []
        for field, e in mine:
            a = notes.get(field, {"note": e.note if e else "", "reference": ""})
            note = a["note"] + (f" [{a['reference']}]" if a.get("reference") else "")
            if e is None:
                rows.append([field, note, "-", "-", "-"])
            elif not e.varied:
                rows.append([field, note, f"not varied: {e.reason}", "-", "-"])
            else:
                rows.append([field, note, *_moves(e)])
        out.append(_table(["assumption", "rationale", "first shortfall moves [months]",
                           "allocation cost", "policy outlay"], rows))
    return "".join(out)


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>{body}"
            f"<p class='meta'>Made by capacity {_e(__version__)}.</p></body></html>")


def _figures(study: Study) -> dict[str, tuple[str, Any]]:
    from capacity.plot import study_figures

    return {stem: (title, fig) for stem, title, fig in study_figures(study)}


def render_html(study: Study, alpha: float = 0.05, *,
                effects: Sequence[Effect] | None = None, sensitivity: bool = True,
                sensitivity_paths: int = 400) -> str:
    """A study as one self-contained HTML page.

    Parameters
    ----------
    study
        The study to report (:func:`capacity.report.run_study`).
    alpha
        Accepted probability of shortfall for the cabinets still needed.
    effects
        The assumptions ranked by :func:`capacity.sensitivity.rank_assumptions`; computed
        here (with `sensitivity_paths` paths and the study's seed and horizon) when
        `sensitivity` is true and none are given.
    sensitivity
        Whether to rank the assumptions by how much they move the answer.
    sensitivity_paths
        Paths each sensitivity variant runs.

    Returns
    -------
    str
        The page: inline CSS and SVG, no script, nothing fetched.
    """
    report = full_report(study, alpha)
    if effects is None and sensitivity:
        p = study.projection
        effects = rank_assumptions(study.scenario, n_paths=sensitivity_paths, seed=p.seed,
                                   start=str(p.months[0]), end=str(p.months[-1]),
                                   month=str(study.built.when))
    figures = _figures(study)
    estate_fig = next(((c, f) for s, (c, f) in figures.items() if s.endswith("-estate")), None)
    name = report["scenario"]
    body = [f"<h1>{_e(name)}</h1><p class='meta'>{_e(report['description'])}</p>",
            "<h2>At a glance</h2>", _glance(report),
            "<p class='note'>Money is in 万元 (10⁴ yuan); figures are medians over paths "
            "unless a probability is given. Cells are coloured by how a figure is known: "
            + ", ".join(f"{MARKS.get(k, 'unmarked')} {w}" for k, w in _KIND_WORDS.items())
            + ".</p>",
            "<h2>What we have: the estate today</h2>", _estate(report)]
    if estate_fig is not None:
        body.append(_figure(estate_fig[1], f"{name}-estate", estate_fig[0]))
    body += ["<h2>What we will have: the build-out plan</h2>", _plan(report),
             "<h2>What will be needed, and when it runs short</h2>",
             _projection(report, figures),
             "<h2>Where each demand should go</h2>", _allocation(report, figures),
             "<h2>What the policies cost</h2>", _policy(report, figures),
             f"<h2>Assumptions ({len(report['assumptions'])}), by what they decide</h2>",
             _assumptions(report, effects)]
    return _page(f"{name}: capacity report", "".join(body))


def render_comparison_html(a: Study, b: Study, alpha: float = 0.05) -> str:
    """Two studies side by side: the figures that differ, and each one's figures.

    Returns
    -------
    str
        The page: inline CSS and SVG, no script, nothing fetched.
    """
    from capacity.compare import _label, _shown, compare

    data = compare(a, b, alpha)
    rows = [[_label(r), _shown(r["a"]), _shown(r["b"]), _shown(r["change"], change=True)]
            for r in data["rows"] if r["change"] is not None]
    same = len(data["rows"]) - len(rows)
    body = [f"<h1>{_e(data['a'])} against {_e(data['b'])}</h1>",
            f"<p class='meta'>A = {_e(data['a'])} (policies: "
            f"{_e(', '.join(data['policies']['a']) or 'none')}); B = {_e(data['b'])} "
            f"(policies: {_e(', '.join(data['policies']['b']) or 'none')}). The same seed "
            "for both, so differences come from the scenarios.</p>",
            f"<h2>What differs ({len(rows)} figures; {same} others are the same)</h2>",
            _table(["figure", "A", "B", "B − A"], rows, [False, True, True, True])]
    fa, fb = _figures(a), _figures(b)
    for stem, (caption, fig) in fa.items():
        other = stem.replace(data["a"], data["b"], 1)
        body.append(f"<h3>{_e(caption)}</h3>")
        body.append(_figure(fig, stem, f"A: {data['a']}"))
        if other in fb:
            _, fig_b = fb.pop(other)
            body.append(_figure(fig_b, other, f"B: {data['b']}"))
    for stem, (caption, fig) in fb.items():
        body.append(f"<h3>{_e(caption)}</h3>" + _figure(fig, stem, f"B: {data['b']}"))
    return _page(f"{data['a']} against {data['b']}", "".join(body))


#: Half a fen, yuan: a net fiscal cost below it is zero (what is left is rounding).


def _wan(yuan: float) -> str:
    """Yuan as 万元 without the unit, as the tables of money show them (``1,304``)."""
    return _money(ureg.Quantity(yuan, "yuan")).removesuffix(" 万元")


def _share(v: float) -> str:
    """A share as the page writes it: ``87 %``; ``n/a`` for ``nan``."""
    return "n/a" if math.isnan(v) else "0 %" if v == 0 else (
        f"{v:.0%}" if round(v * 100, 6) == round(v * 100) else f"{v:.1%}").replace("%", " %")


def _appraisal_glance(a: Appraisal) -> str:
    from capacity.plot import _hours_unit

    t = a.totals()
    end = a.months[-1]
    headline = a.headline()
    boxes = []
    for key, value in headline.items():
        if key.startswith("cost per additional"):
            continue  # shown below per resource-hour in the unit a planner reads
        own = " less the baseline's own" if np.any(a.baseline_outlay) else ""
        extra = {"outlay (PV)": f"the policy's instruments{own}, discounted at "
                 f"{_share(a.discount_rate)} a year to {a.months[0]}",
                 "net fiscal cost (PV)": "the outlay less what public sites gain "
                 f"(public gain {_money(ureg.Quantity(t['public_gain'], 'yuan'))})",
                 "deadweight share": "of the outlay pays for demand that would have been "
                 "bought anyway"}.get(key, "")
        boxes.append((f"{key}, median", re.sub(r"^-(0(\.0*)?) ", r"\1 ", value), extra, ""))
    pays = a.pays_off()
    p_pays = float(a.pays_off_paths().mean())
    boxes.append(("does it pay for itself?", "yes" if pays else "no",
                  ("public sites gain at least the outlay" if pays else
                   "the outlay is more than public sites gain") + f" (median); it pays for "
                  f"itself on {_share(p_pays)} of paths", "" if pays else "short"))
    for r, per in t["cost_per_additional"].items():
        unit, words = _hours_unit(r, abs(t["additional"].get(r, 0.0)))
        value = ureg.Quantity(per, ureg.yuan / (r.unit * ureg.hour)).m_as(ureg.yuan / unit)
        boxes.append((f"outlay per additional {words.removesuffix('s')}, median",
                      f"{value:,.1f} yuan" if math.isfinite(value) else "buys none",
                      "the vouchers' outlay ÷ the additional demand they pay for", ""))
    for r, (without, with_) in a.exhaustion().items():
        if without is None and with_ is None:
            continue
        earlier = float(a.months_earlier(r))
        boxes.append((f"{r.label} runs short (P ≥ 0.5)",
                      f"{with_ or 'after ' + str(end)} with the policy",
                      f"{without or 'after ' + str(end)} without; {earlier:g} months earlier "
                      "(median over paths)", "short" if earlier > 0 else ""))
    capex = t["capex"]
    grown = [f"{c.profile}: {_number(float(c.cabinets_without.m_as('cabinet')))} → "
             f"{_number(float(c.cabinets_with.m_as('cabinet')))} cabinets" for c in a.capex]
    boxes.append(("capex to keep up, change in PV", _money(ureg.Quantity(capex["total"],
                                                                          "yuan")),
                  f"{_money(ureg.Quantity(capex['more'], 'yuan'))} on more cabinets, "
                  f"{_money(ureg.Quantity(capex['earlier'], 'yuan'))} from building earlier"
                  + (f" ({'; '.join(grown)})" if grown else "; nothing runs short"), ""))
    return "<div class='glance'>" + "".join(
        f"<div class='{c}' data-key='{_e(title)}'>{_e(title)}<b>{_e(value)}</b>"
        f"<span class='note'>{_e(extra)}</span></div>" for title, value, extra, c in boxes
    ) + "</div>"


def _appraisal_years(a: Appraisal) -> str:
    from capacity.plot import _hours_unit, appraisal_chart

    outlay = np.median(a.outlay_paths(), axis=0)
    dead = np.minimum(np.median(a.deadweight_paths(), axis=0), outlay)  # as the chart
    gain = np.median(a.public_gain_paths(), axis=0)
    net = a.net_fiscal_cost().m_as("yuan")
    base = np.median(a.baseline_outlay, axis=0) if np.any(a.baseline_outlay) else None
    bought = list(dict.fromkeys(r for n in a.instruments for r in a.bought[n]))
    extra = {}
    for r in bought:
        values = a.additional(r).magnitude
        unit, words = _hours_unit(r, float(np.abs(values).max(initial=0.0)))
        extra[r] = (ureg.Quantity(values, r.unit * ureg.hour).m_as(unit), words)
    headers = ["year", "outlay", "deadweight", "on additional demand",
               *(["less the baseline's outlay"] if base is not None else []),
               "public sites' gain", "net fiscal cost",
               *(f"additional {r.label} [{w}]" for r, (_, w) in extra.items())]
    rows = []
    for i, y in enumerate(a.years):
        rows.append([str(y), _wan(outlay[i]), _wan(dead[i]), _wan(outlay[i] - dead[i]),
                     *([_wan(base[i])] if base is not None else []), _wan(gain[i]),
                     _wan(net[i]), *(_number(float(v[i])) for v, _ in extra.values())])
    ax = appraisal_chart(a)
    fig = ax.get_figure(root=True)
    return "".join([
        "<p class='note'>Medians over paths, money in 万元. Deadweight is the median; "
        "“on additional demand” the rest of the median outlay, so the two add up to it. "
        "The public sites' gain and the net fiscal cost are medians of their own, so they "
        "need not add up with the outlay exactly.</p>",
        _table(headers, rows, [False, *([True] * (len(headers) - 1))]),
        _figure(fig, "appraisal-years", "The policy's outlay per year (median), split into "
                "deadweight and the rest, and its net fiscal cost (10⁴ yuan = 1 万元)."),
    ])


def _appraisal_sites(a: Appraisal) -> str:
    years = [str(y) for y in a.years]
    order = sorted(range(len(a.site_ids)), key=lambda k: not a.public[k])
    rows: list[list[Any]] = []

    def pct(v: float) -> str:
        return "-" if math.isnan(v) else f"{v:.0%}".replace("%", " %")

    for k in order:
        s = a.site_ids[k]
        name = (f"{s} (public)", "public") if a.public[k] else s
        u0, u1 = a.utilisation(s, policy=False), a.utilisation(s)
        r0, r1 = a.revenue(s, policy=False).m_as("yuan"), a.revenue(s).m_as("yuan")
        rows.append([name, "utilisation", *(
            "-" if math.isnan(x) and math.isnan(y) else f"{pct(x)} → {pct(y)}"
            for x, y in zip(u0, u1, strict=True))])
        rows.append([("", "public") if a.public[k] else "", "revenue, 万元",
                     *(f"{_wan(x)} → {_wan(y)}"
                                           for x, y in zip(r0, r1, strict=True))])
    public = [s for s, p in zip(a.site_ids, a.public, strict=True) if p]
    return "".join([
        "<p class='note'>Without → with the policy, medians over paths; revenue at list "
        "price. Publicly owned sites come first and are shaded: their change in operating "
        "margin (revenue − energy bill + electricity subsidies received) offsets the outlay"
        + (f" ({_e(', '.join(public))})" if public else "; no site is public, so nothing "
           "offsets it") + ". “-”: the site has no capacity in that year.</p>",
        _table(["site", "", *years], rows, [False, False, *([True] * len(years))]),
    ])


def _appraisal_tornado(t: Tornado, n_paths: int) -> str:
    from capacity.plot import tornado_chart

    base_pays = bool(t.base["pays_off"])
    flips = t.flips()
    verdict = "pays for itself" if base_pays else "does not pay for itself"
    refused = any(b.reason for b in t.bars)
    rows = []
    for b in t.bars:
        rng = b.range
        pv = rng.provenance
        ends = [("refused" if not math.isfinite(v) else _wan(v)) for v in b.net_fiscal_cost]
        flipped = any(p is not None and p != base_pays for p in b.pays_off)
        rows.append([rng.label, _range_text(rng.low, rng.high),
                     (f"{pv.kind.value}: {pv.note}"
                      + (f" [{pv.reference}]" if pv.reference else ""), pv.kind.value),
                     ends[0], ends[1], ("yes", "flips") if flipped else "no",
                     *([b.reason or "-"] if refused else [])])
    if flips:
        names = [b.range.label for b in flips]
        at = "; ".join(f"{b.range.label} at " + " or ".join(
            _range_value(v) for v, p in zip((b.range.low, b.range.high), b.pays_off,
                                            strict=True) if p is not None and p != base_pays)
            for b in flips)
        sentence = (f"Inside its range, the {_words(names)} "
                    f"{'flips' if len(names) == 1 else 'each flip'} the conclusion: the "
                    f"policy {verdict} at the base, but it "
                    f"{'does not' if base_pays else 'does'} with the {at}.")
    else:
        sentence = (f"No input flips the conclusion inside its range: the policy {verdict} "
                    "at both ends of every range tried.")
    base = _money(ureg.Quantity(t.base["net_fiscal_cost"], "yuan"))
    fewer = "" if n_paths == t.n_paths else (
        f"; the appraisal above has {n_paths:,} paths, so its figures differ a little")
    ax = tornado_chart(t)
    fig = ax.get_figure(root=True)
    return "".join([
        f"<p class='verdict'><b>{_e(sentence)}</b></p>",
        f"<p class='note'>Each input set to the low and to the high end of its plausible "
        f"range, the rest held, on the same {t.n_paths:,} paths (seed {t.seed}) as a base "
        f"appraisal whose net fiscal cost is {_e(base)} (present value, median){fewer}. "
        "The net fiscal cost at each end is in 万元, present value, median; the largest "
        "swing first; “flips?”: the policy pays for itself at one end and not at the base, "
        "or the other way round.</p>",
        _table(["input", "range (low to high)", "why this range", "at the low end",
                "at the high end", "flips?", *(["refused"] if refused else [])], rows,
               [False, False, False, True, True, False, *([False] if refused else [])]),
        _figure(fig, "appraisal-tornado", "Net fiscal cost (present value, 10⁴ yuan) at "
                "the low and the high end of each input's range; left of the dashed line the "
                "policy pays for itself."),
    ])


def _appraisal_frontier(points: Sequence[FrontierPoint]) -> str:
    from capacity.plot import _hours_unit, frontier_chart

    resource = next((p.resource for p in points if p.resource is not None), None)
    if resource is not None:
        unit, words = _hours_unit(resource, max(abs(p.additional) for p in points))
        scale = ureg.Quantity(1.0, resource.unit * ureg.hour).m_as(unit)
        extra = f"additional {resource.label} [{words}]"
    else:
        scale, extra = 1.0, "additional demand (none bought)"
    rows = [[_share(p.rate),
             "no cap" if p.budget is None else _money(p.budget),
             _wan(p.outlay), _wan(p.net_fiscal_cost), _number(p.additional * scale),
             _share(p.deadweight_share), ("yes", "efficient") if p.efficient else "no"]
            for p in points]
    good = [p for p in points if p.efficient]
    best = max(good, key=lambda p: p.additional, default=None)
    ax = frontier_chart(points)
    fig = ax.get_figure(root=True)
    return "".join([
        f"<p>{len(good)} of {len(points)} designs are efficient: no other design serves at "
        "least as much additional demand for no more net fiscal cost."
        + (f" Of those, the one that buys most is a {_e(_share(best.rate))} voucher with "
           + _e("no budget cap" if best.budget is None else
                f"a budget of {_money(best.budget)}")
           + f", at a net fiscal cost of "
           f"{_e(_money(ureg.Quantity(best.net_fiscal_cost, 'yuan')))} (present value)."
           if best is not None else "") + "</p>",
        "<p class='note'>Each design is the voucher at that rate and annual budget, the rest "
        "as given, on the same paths. Outlay and net fiscal cost in 万元, present values; "
        "medians over paths; additional demand over the horizon.</p>",
        _table(["rate", "annual budget", "outlay", "net fiscal cost", extra,
                "deadweight share", "efficient"], rows,
               [True, True, True, True, True, True, False]),
        _figure(fig, "appraisal-frontier", "Voucher designs: net fiscal cost against "
                "additional demand served; the efficient ones joined."),
    ])


def _words(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _range_value(v: Any) -> str:
    """One end of an input's range as the page writes it: ``−4.51``, ``0.55 yuan/kWh``."""
    if hasattr(v, "units"):
        if v.check("[currency]") or v.check("[currency] / [time]"):
            return _money(v)
        return f"{float(v.magnitude):.3g}".replace("-", "−") + f" {v.units:~P}"
    if isinstance(v, float):
        return f"{v:.3g}".replace("-", "−")
    return str(v)


def _range_text(low: Any, high: Any) -> str:
    """An input's range: ``15 to 45 yuan/h/PFLOPS_fp16``, the unit once when they share it."""
    lo, hi = _range_value(low), _range_value(high)
    unit = lo.partition(" ")[2]
    if unit and hi.partition(" ")[2] == unit:
        return f"{lo.partition(' ')[0]} to {hi}"
    return f"{lo} to {hi}"


def _appraisal_assumptions(a: Appraisal) -> str:
    rows = [[field, (pv.note + (f" [{pv.reference}]" if pv.reference else "")
                     + MARKS.get(pv.kind.value, ""), pv.kind.value)]
            for field, pv in a.assumptions]
    return _legend() + _table(["field", "note"], rows)


def render_appraisal_html(appraisal: Appraisal, tornado: Tornado | None = None,
                          frontier: Sequence[FrontierPoint] | None = None, *,
                          title: str | None = None) -> str:
    """An appraisal of a policy as one self-contained HTML page.

    Sections: the headline figures at a glance (whether the policy pays for itself,
    what runs short earlier, the capex to keep up); year by year, the outlay split into
    deadweight and the rest, the public sites' gain, the net fiscal cost and the
    additional demand bought (table and figure); each site's utilisation and revenue
    without and with the policy, public sites first; what moves the answer (the tornado,
    with each range's provenance, and which inputs flip the conclusion); the voucher
    designs, if given; and every assumption.

    Parameters
    ----------
    appraisal
        The appraisal (:func:`capacity.policy.appraise`).
    tornado
        Which inputs move it (:func:`capacity.sensitivity.appraisal_tornado`), if computed.
    frontier
        Voucher designs (:func:`capacity.policy.voucher_frontier`), if computed.
    title
        The page's title; by default one naming the scenarios appraised.

    Returns
    -------
    str
        The page: inline CSS and SVG, no script, nothing fetched.
    """
    a = appraisal
    name = title or (f"Appraisal of {a.policy} against {a.baseline}" if a.policy else
                     "Appraisal of " + (", ".join(a.instruments) or "no instruments"))
    public = [s for s, p in zip(a.site_ids, a.public, strict=True) if p]
    body = [f"<h1>{_e(name)}</h1>",
            f"<p class='meta'>Against its baseline on {a.n_paths:,} Monte Carlo paths, "
            f"{_e(a.months[0])} to {_e(a.months[-1])}; present values at "
            f"{_e(_share(a.discount_rate))} a year to {_e(a.months[0])}; public sites: "
            f"{_e(', '.join(public) or 'none')}. Money is in 万元 (10⁴ yuan); figures are "
            "medians over paths unless a probability is given.</p>",
            "<h2>At a glance</h2>", _appraisal_glance(a),
            "<h2>Year by year</h2>", _appraisal_years(a),
            "<h2>Sites</h2>", _appraisal_sites(a)]
    if tornado is not None:
        body += ["<h2>What moves the answer</h2>", _appraisal_tornado(tornado, a.n_paths)]
    if frontier is not None and len(frontier):
        body += ["<h2>Designs</h2>", _appraisal_frontier(list(frontier))]
    body += [f"<h2>Assumptions ({len(a.assumptions)})</h2>", _appraisal_assumptions(a)]
    return _page(name, "".join(body))


def write_html(page: str, path: str | os.PathLike[str]) -> str:
    """Write a page made by :func:`render_html` to `path`; return the path written.

    Raises
    ------
    FieldError
        If the file cannot be written there (naming the path and the reason).
    """
    target = os.fspath(path)
    if os.path.isdir(target):
        raise FieldError("--html", "is a folder; give a file name such as report.html",
                         target)
    try:
        with open(target, "w", encoding="utf-8") as f:
            f.write(page)
    except OSError as exc:
        raise FieldError("--html", f"cannot write the report there: "
                         f"{exc.strerror or exc}", target) from None
    return target

