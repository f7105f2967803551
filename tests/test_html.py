"""The HTML report of each shipped scenario, rendered by a real browser (headless Chromium).

CI installs Chromium from the system packages (``.ci/run``); elsewhere the browser tests
skip, saying so, when no Chromium is on the PATH.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # the report draws into SVG strings only

import numpy as np
import pytest
from PIL import Image

from capacity import Scenario
from capacity.cli import main
from capacity.datasets import ganzhou
from capacity.html_report import render_comparison_html, render_html
from capacity.report import _money, run_study

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


def test_the_page_is_self_contained(rendered):
    _, page, _ = rendered
    assert "<script" not in page
    # nothing to fetch: no links, images or styles from elsewhere
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "@import" not in page
    assert not re.search(r"url\((?!#)", page)
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "figures' ids collide: one figure's clip is another's"
    assert "@media print" in page


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


def test_chromium_renders_the_report_with_its_figures(rendered, tmp_path):
    study, _, path = rendered
    shot = tmp_path / "page.png"
    _chromium("--window-size=1200,4000", f"--screenshot={shot}", path.as_uri())
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (4000, 1200)
    ink = (pixels < 200).mean()
    assert ink > 0.02, f"the render is blank ({ink:.1%} of pixels drawn)"
    assert pixels.std() > 20
    dom = _chromium("--dump-dom", path.as_uri()).stdout
    figures = re.findall(r"<figure data-figure=\"([^\"]+)\"", dom)
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


def test_html_to_a_folder_is_refused_naming_the_option(tmp_path, capsys):
    assert main(["run", str(SCENARIOS / "ganzhou-baseline.toml"), "--paths", "100",
                 "--html", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--html" in err
    assert "is a folder" in err
    assert "Traceback" not in err
