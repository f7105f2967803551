"""The run and compare commands, and their handling of bad scenario files."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from capacity import Q_
from capacity.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BAD = Path(__file__).resolve().parent / "data" / "bad_scenarios"
FAST = ["--paths", "300", "--time-limit", "10"]


@pytest.mark.parametrize("name", ["ganzhou-baseline", "ganzhou-voucher", "ganzhou-green-power"])
def test_shipped_scenarios_run(name, capsys):
    assert main(["run", str(SCENARIOS / f"{name}.toml"), "--format", "json", *FAST]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scenario"] == name
    assert data["allocation"]["status"] == "optimal"
    assert Q_(data["estate"]["totals"]["cabinets"]) == Q_("451 cabinet")
    if name != "ganzhou-baseline":
        assert data["policy"]["instruments"]


def test_a_month_before_the_smart_centre_opens_gives_the_whole_report(capsys):
    assert main(["run", str(SCENARIOS / "ganzhou-baseline.toml"), "--month", "2025-01",
                 *FAST]) == 0
    out = capsys.readouterr().out
    assert "Allocation of the demand at 2025-01: optimal" in out
    assert "Demand short where it may run" in out
    assert "Assumptions (" in out


def test_the_report_names_the_government_clouds_vcpu_shortfall(capsys):
    assert main(["run", str(SCENARIOS / "ganzhou-baseline.toml"), "--format", "json",
                 *FAST]) == 0
    short = json.loads(capsys.readouterr().out)["projection"]["shortfalls"]
    gov = next(g for g in short if g["blocks"] == ["government-cloud"] and g["limit"] == "vcpu")
    assert len(gov["pools"]) == 3
    device = next(g for g in short if g["limit"] == "device_time")
    assert set(device["resources"]) == {"compute_fp16", "compute_fp64"}


def test_voucher_outlay_stays_within_its_budget(capsys):
    assert main(["run", str(SCENARIOS / "ganzhou-voucher.toml"), "--format", "json",
                 *FAST]) == 0
    data = json.loads(capsys.readouterr().out)
    for low_high in data["policy"]["instruments"]["ganzhou-voucher"]["outlay_5_95"]:
        assert Q_(low_high[1]) <= Q_("3000 万元")


def test_compare_shows_what_the_voucher_changes(capsys):
    assert main(["compare", str(SCENARIOS / "ganzhou-baseline.toml"),
                 str(SCENARIOS / "ganzhou-voucher.toml"), *FAST]) == 0
    out = capsys.readouterr().out
    assert "outlay (ganzhou-voucher, 2030)" in out
    assert "induced demand (compute_fp16" in out
    assert "other figures are the same" in out
    # the voucher's induced demand reaches the projection: FP16 runs short months earlier
    row = next(line for line in out.splitlines()
               if line.startswith("exhaustion at P(shortfall) ≥ 0.5 (compute_fp16)"))
    assert row.rstrip().endswith("months")
    assert " -" in row


def test_compare_rows_are_fields_and_json_numbers_are_in_full(capsys):
    assert main(["compare", str(SCENARIOS / "ganzhou-baseline.toml"),
                 str(SCENARIOS / "ganzhou-voucher.toml"), *FAST, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    fields = {"metric", "resource", "site", "profile", "instrument", "month", "year", "a",
              "b", "change"}
    assert all(set(r) == fields for r in data["rows"])
    moved = next(r for r in data["rows"] if r["metric"].startswith("exhaustion")
                 and r["resource"] == "compute_fp16" and r["change"] is not None)
    assert Q_(moved["change"]).units == Q_("1 month").units
    assert Q_(moved["change"]).magnitude < 0
    util = [r for r in data["rows"] if r["metric"] == "utilisation"]
    assert util
    assert all(isinstance(r["a"], float) and 0 <= r["a"] <= 1.5 for r in util)  # fractions
    assert all(isinstance(r["year"], int) for r in util)
    cost = next(r for r in data["rows"] if r["metric"] == "allocation cost")
    # full precision: the string reads back to the exact float the study computed
    assert len(str(Q_(cost["a"]).magnitude).replace(".", "")) > 6


def test_month_differences_are_counted_in_months():
    from capacity.compare import _delta, _shown
    from capacity.months import month

    assert _delta(month("2028-10"), month("2028-07")) == Q_(-3, "month")
    assert _shown(_delta(month("2027-12"), month("2029-01")), change=True) == "+13 months"
    assert _delta(Q_("2 PFLOPS_fp16"), Q_("2000 TFLOPS_fp16")) is None
    assert _delta(Q_("2 PFLOPS_fp16"), Q_("2500 TFLOPS_fp16")) == Q_("0.5 PFLOPS_fp16")
    assert _delta("never", month("2029-01")) == "changed"


def test_compare_of_a_scenario_with_itself_finds_nothing(capsys):
    path = str(SCENARIOS / "ganzhou-baseline.toml")
    assert main(["compare", path, path, "--format", "json", *FAST]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] == 0


def test_compare_refuses_studies_on_other_draws_and_arguments_by_name():
    # on another seed every drawn figure differs a little, and each counted as a change
    from capacity.compare import compare
    from capacity.datasets import ganzhou
    from capacity.errors import FieldError
    from capacity.report import run_study

    kw = {"n_paths": 20, "end": "2026-12", "month": "2026-12"}
    a, b = run_study(ganzhou(), seed=0, **kw), run_study(ganzhou(), seed=1, **kw)
    assert compare(a, run_study(ganzhou(), seed=0, **kw))["changed"] == 0
    for call, path in ((lambda: compare(a, b), "b"), (lambda: compare(a, a, alpha=0), "alpha"),
                       (lambda: compare(a, a.scenario), "b")):
        with pytest.raises(FieldError) as info:
            call()
        assert info.value.path == path
    with pytest.raises(FieldError, match="seed 1, A on 20 with seed 0"):
        compare(a, b)


def test_plots_are_written(tmp_path, capsys):
    assert main(["run", str(SCENARIOS / "ganzhou-green-power.toml"), "--plots",
                 str(tmp_path), *FAST]) == 0
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    # named after the scenario, so several runs can share a folder
    assert "ganzhou-green-power-outlay.png" in names
    assert "ganzhou-green-power-fan-compute_fp16.png" in names
    assert "ganzhou-green-power-utilisation.png" in names
    assert all((tmp_path / n).stat().st_size > 1000 for n in names)


def _expected(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    match = re.search(r"^# expect: (.*)$", text, re.MULTILINE)
    assert match, f"{path.name} has no '# expect:' line"
    return [p.strip() for p in match.group(1).split(";")]


@pytest.mark.parametrize("path", sorted(BAD.glob("*.toml")), ids=lambda p: p.name)
def test_every_bad_file_exits_2_naming_file_and_field(path):
    proc = subprocess.run([sys.executable, "-m", "capacity.cli", "run", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert lines
    assert all(line.startswith("capacity: error:") and path.name in line for line in lines)
    for field in _expected(path):
        assert any(field in line for line in lines), (field, proc.stderr)


def test_missing_file_exits_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "capacity.cli", "run",
                           str(tmp_path / "nope.toml")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "nope.toml" in proc.stderr


def test_a_run_too_large_for_the_machine_exits_2_naming_paths(capsys):
    assert main(["run", str(SCENARIOS / "ganzhou-voucher.toml"),
                 "--paths", "100000000000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("capacity: error: --paths: ")  # the option, not the argument
    assert "GiB" in err
