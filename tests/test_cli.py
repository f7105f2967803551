import json
import subprocess
import sys

import pytest

from capacity import Q_
from capacity.cli import main


def test_report_text_shows_the_letter(capsys):
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    for figure in ("451", "46,000", "5,600", "623", "5,300", "赣南数据湖", "TFLOPS_fp32",
                   "Assumptions"):
        assert figure in out


def test_report_json_quantities_read_back(capsys):
    assert main(["report", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    totals = {k: Q_(v) for k, v in data["estate"]["totals"].items()}
    assert totals["cabinets"] == Q_("451 cabinet")
    assert totals["vcpu"].m_as("vCPU") == pytest.approx(46_000)
    assert totals["compute_fp32"].m_as("TFLOPS_fp32") == pytest.approx(623)
    assert len(data["estate"]["sites"]) == 3
    assert any(a["field"] == "estate.split" for a in data["assumptions"])


@pytest.mark.parametrize("argv", [["report", "--bogus"], [], ["nope"],
                                  ["report", "--format", "xml"]])
def test_bad_usage_exits_2_with_one_line(argv):
    proc = subprocess.run([sys.executable, "-m", "capacity.cli", *argv], capture_output=True,
                          text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("capacity")
    assert ": error: " in lines[0]
    assert "Traceback" not in proc.stderr
