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
import os
import re
from collections.abc import Sequence
from typing import Any

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
from capacity.sensitivity import GROUPS, Effect, group_of, rank_assumptions

__all__ = ["render_comparison_html", "render_html", "write_html"]

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


def _sides(pair: tuple[float | None, float | None] | None, missing: str) -> str:
    """A lower/higher pair of relative changes, e.g. ``-11.0 % / +11.0 %``."""
    if pair is None:
        return missing
    return " / ".join("none feasible" if v is None else "0 %" if round(v, 3) == 0
                      else f"{v:+.1%}".replace("%", " %") for v in pair)


def _moves(e: Effect) -> tuple[str, str, str]:
    months = "; ".join(f"{r} {lo:+d} / {hi:+d}" for r, (lo, hi) in e.exhaustion.items()
                       if (lo, hi) != (0, 0)) or "no change"
    return (months, _sides(e.cost, "no allocation"),
            _sides(e.outlay, "no policy outlay"))


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

