"""The text report reads like a planner's brief: marks, one number format, alternatives."""

import re
from pathlib import Path

import pytest

from capacity import Scenario
from capacity.cli import main
from capacity.report import full_report, render_text, run_study

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def text():
    study = run_study(Scenario.from_toml(SCENARIOS / "ganzhou-voucher.toml"), n_paths=300)
    return render_text(full_report(study))


def _row(text, site_id):
    return next(line for line in text.splitlines() if f"  {site_id}  " in line)


def test_measured_derived_and_assumed_figures_are_marked(text):
    assert "† marks a figure derived" in text
    assert "* marks an assumption" in text
    row = _row(text, "gannan-data-lake")
    assert " 242 " in row  # cabinets: stated by the letter, unmarked
    assert "24,683†" in row  # vCPU: the letter's total split pro rata
    assert "334*" in row  # FP32 compute: the precision is an assumption
    assert "1.5*" in row  # PUE: assumed
    total = next(line for line in text.splitlines() if line.startswith("total"))
    assert "46,000 " in total + " "  # the letter states the total: unmarked
    assert "623*" in total


def test_one_number_format(text):
    assert not re.search(r"\d[eE][+-]\d", text)  # no 3.17165e+07
    assert "m**2" not in text
    assert "m²" in text
    assert not re.search(r"(?<![\d,.\-])\d{5,}(?![\d\-])", text.split("Assumptions (")[0]), \
        "a number of five or more digits without separators"
    assert "3,000 × base-general" in text
    assert " yuan/yr" not in text.replace("万元/yr", "")  # money in 万元


def test_cabinets_needed_are_labelled_as_alternatives(text):
    block = text.split("Cabinets still needed")[1].split("Median capacity")[0]
    assert "alternatives, any one of them on its own (not a sum)" in block
    lines = [line.strip() for line in block.splitlines()[1:] if line.strip()]
    assert lines[0].startswith("either ")
    assert all(line.startswith("or ") for line in lines[1:])


def test_full_sites_without_shortfall_are_explained(text):
    assert "full, which is not the same as short" in text
    assert "Full pools (the next part of a demand block no longer fits" in text


def test_assumptions_come_grouped_by_what_they_decide(text):
    tail = text.split("Assumptions (")[1]
    heads = [line.strip() for line in tail.splitlines() if line.startswith("  ")
             and not line.startswith("    ")]
    assert heads == ["The estate today (what we have):",
                     "The build-out plan (what we will have, and when):",
                     "Demand (what will be needed):",
                     "Prices, market and policy (what a subsidy costs):"]


def test_a_resource_never_short_says_so(capsys):
    assert main(["run", str(SCENARIOS / "ganzhou-baseline.toml"), "--paths", "200",
                 "--end", "2026-12"]) == 0
    out = capsys.readouterr().out
    assert "no shortfall by 2026-12" in out
    assert "not within the horizon" not in out
