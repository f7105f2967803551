"""The HTML report of each shipped scenario, rendered by a real browser (headless Chromium).

CI installs Chromium from the system packages (``.ci/run``); elsewhere the browser tests
skip, saying so, when no Chromium is on the PATH.
"""

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the report draws into SVG strings only

import attrs
import numpy as np
import pytest
from PIL import Image

from capacity import Scenario
from capacity.cli import main
from capacity.datasets import ganzhou
from capacity.html_report import render_appraisal_html, render_comparison_html, render_html
from capacity.policy import appraise, voucher_frontier
from capacity.report import _money, run_study
from capacity.sensitivity import appraisal_tornado

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SHIPPED = ["embedded", *sorted(p.stem for p in SCENARIOS.glob("*.toml"))]
BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(b)), None)


def _browser():
    if BROWSER is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Chromium (.ci/run installs the 'chromium' package)")
        pytest.skip("no Chromium on the PATH: install the system's 'chromium' package")
    return BROWSER


def _chromium(*args):
    return subprocess.run([_browser(), "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", "--no-first-run", *args],
                          capture_output=True, text=True, timeout=180, check=True)


def _scenario(name):
    return ganzhou() if name == "embedded" else Scenario.from_toml(SCENARIOS / f"{name}.toml")


@pytest.fixture(scope="module", params=SHIPPED)
def rendered(request, tmp_path_factory):
    study = run_study(_scenario(request.param), n_paths=300)
    page = render_html(study, sensitivity_paths=60)
    path = tmp_path_factory.mktemp("html") / f"{request.param}.html"
    path.write_text(page, encoding="utf-8")
    return study, page, path


def _self_contained(page):
    assert "<script" not in page
    # nothing to fetch: no links, images or styles from elsewhere
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "@import" not in page
    assert not re.search(r"url\((?!#)", page)
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "figures' ids collide: one figure's clip is another's"
    assert "@media print" in page


def test_the_page_is_self_contained(rendered):
    _, page, _ = rendered
    _self_contained(page)


def test_the_page_holds_the_studys_key_numbers(rendered):
    study, page, _ = rendered
    for e in study.projection.exhaustion(0.5):
        assert e.resource.name.lower() in page
        if e.month is not None:
            assert str(e.month) in page
    if study.allocation.success:
        assert _money(study.allocation.objective) in page
    assert study.scenario.name in page
    # measured and assumed are told apart
    assert "stated by the source" in page
    assert "assumption" in page
    assert page.count("<svg") >= 5


def _drawn(shot, path):
    """The page's screenshot is not blank; its DOM and the figures it holds, in order."""
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (4000, 1200)
    ink = (pixels < 200).mean()
    assert ink > 0.02, f"the render is blank ({ink:.1%} of pixels drawn)"
    assert pixels.std() > 20
    dom = _chromium("--dump-dom", path.as_uri()).stdout
    return dom, re.findall(r"<figure data-figure=\"([^\"]+)\"", dom)


def test_chromium_renders_the_report_with_its_figures(rendered, tmp_path):
    study, _, path = rendered
    shot = tmp_path / "page.png"
    _chromium("--window-size=1200,4000", f"--screenshot={shot}", path.as_uri())
    dom, figures = _drawn(shot, path)
    assert f"{study.scenario.name}-estate" in figures
    assert any("-fan-" in f for f in figures)
    assert dom.count("<svg") == len(figures)
    # the figures' text is text in the DOM: the fan chart's axis is in PFLOPS
    assert "PFLOPS_fp16" in dom
    assert "At a glance" in dom


def test_compare_writes_one_page_for_two_scenarios(tmp_path, capsys):
    out = tmp_path / "cmp.html"
    assert main(["compare", str(SCENARIOS / "ganzhou-baseline.toml"),
                 str(SCENARIOS / "ganzhou-voucher.toml"), "--paths", "200",
                 "--html", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "ganzhou-baseline against ganzhou-voucher" in page
    assert "outlay (ganzhou-voucher, 2030)" in page
    assert f"wrote {out}" in capsys.readouterr().err
    a = run_study(ganzhou(), n_paths=100)
    assert render_comparison_html(a, a).count("others are the same") == 1


@pytest.mark.parametrize(("option", "where", "reason"), [
    ("--html", "", "is a folder"),
    ("--html", "missing/report.html", "does not exist"),
    ("--plots", "a-file", "is a file, not a folder"),
])
def test_an_output_that_cannot_be_written_is_refused_before_the_study_runs(
        tmp_path, capsys, option, where, reason):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(SystemExit) as info:
        main(["run", str(SCENARIOS / "ganzhou-baseline.toml"), "--paths", "100",
              option, str(tmp_path / where)])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""  # refused before any of the report is printed
    assert f"argument {option}" in err
    assert reason in err
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def appraised(tmp_path_factory):
    s = Scenario.from_toml(SCENARIOS / "ganzhou-voucher.toml")
    a = appraise(s, n_paths=40)
    t = appraisal_tornado(s, n_paths=20)
    f = voucher_frontier(s, n_paths=20, rates=(0.2, 0.3),
                         budgets=("500 万元/year", "1000 万元/year"))
    page = render_appraisal_html(a, t, f, title="Appraisal of ganzhou-voucher")
    path = tmp_path_factory.mktemp("html") / "appraisal.html"
    path.write_text(page, encoding="utf-8")
    return a, t, f, page, path


def test_the_appraisal_page_is_self_contained_and_holds_the_appraisals_figures(appraised):
    a, t, f, page, _ = appraised
    _self_contained(page)
    for title in ("At a glance", "Year by year", "Sites", "What moves the answer", "Designs",
                  "Assumptions"):
        assert f"<h2>{title}" in page
    # the headline, as the appraisal words it (the cost per additional unit is shown per
    # PFLOPS_fp16-hour rather than per TFLOPS_fp16-hour)
    head = a.headline()
    nfc = f"{a.totals()['net_fiscal_cost'] / 1e4:,.0f} 万元"
    assert head["net fiscal cost (PV)"] == nfc
    for key in ("outlay (PV)", "net fiscal cost (PV)", "deadweight share"):
        assert f"{key}, median<b>{html.escape(head[key])}</b>" in page
    per = a.totals()["cost_per_additional"][next(iter(a.bought["ganzhou-voucher"]))] * 1e3
    assert f"outlay per additional PFLOPS_fp16-hour, median<b>{per:,.1f} yuan</b>" in page
    assert f"does it pay for itself?<b>{'yes' if a.pays_off() else 'no'}</b>" in page
    # year by year: the median net fiscal cost of each year, in 万元 as the tables write it
    for v in a.net_fiscal_cost():
        assert f"<td class='n'>{_money(v).removesuffix(' 万元')}</td>" in page
    for r, (without, with_) in a.exhaustion().items():
        if with_ is not None:
            assert f"{r.label} runs short (P ≥ 0.5)" in page
            assert f"{with_} with the policy" in page
            assert f"{without or 'after ' + str(a.months[-1])} without; " in page
    # public sites first, and marked
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td><td>utilisation</td>", page)
    public = [s for s, p in zip(a.site_ids, a.public, strict=True) if p]
    assert rows[:len(public)] == [f"{s} (public)" for s in public]
    assert sorted(rows) == sorted([f"{s} (public)" if p else s
                                   for s, p in zip(a.site_ids, a.public, strict=True)])
    # every input of the tornado, and which flip the conclusion, said plainly
    for b in t.bars:
        assert html.escape(b.range.label) in page
    flips = t.flips()
    assert flips
    assert f"Inside its range, the {html.escape(flips[0].range.label)} flips the conclusion" \
        in page
    for p in f:
        assert f"<td class='n'>{_money(p.budget)}</td>" in page
    assert page.count("<td class='efficient'>yes</td>") == sum(p.efficient for p in f)
    for field, _ in a.assumptions:
        assert f"<td>{html.escape(field)}</td>" in page
    # without the sensitivity and designs, their sections are left out
    bare = render_appraisal_html(a)
    _self_contained(bare)
    assert "What moves the answer" not in bare
    assert "Designs" not in bare
    assert bare.count("<svg") == 1


def test_the_appraisal_page_with_no_input_that_flips_says_so(appraised):
    a, t, _, _, _ = appraised
    held = attrs.evolve(t, bars=tuple(b for b in t.bars if b not in t.flips()))
    page = render_appraisal_html(a, held)
    assert "No input flips the conclusion inside its range" in page


def test_chromium_renders_the_appraisal_with_its_figures(appraised, tmp_path):
    _, t, _, _, path = appraised
    shot = tmp_path / "appraisal.png"
    _chromium("--window-size=1200,4000", f"--screenshot={shot}", path.as_uri())
    dom, figures = _drawn(shot, path)
    assert figures == ["appraisal-years", "appraisal-tornado", "appraisal-frontier"]
    assert dom.count("<svg") == len(figures)
    # the figures' text is text in the DOM: units a planner reads, the tornado's inputs
    assert "PFLOPS_fp16-hours" in dom
    assert "10⁴ yuan per year" in dom
    for b in t.bars:
        assert dom.count(html.escape(b.range.label)) >= 2  # in the table and the figure
    assert "At a glance" in dom
