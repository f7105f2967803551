"""The JSON of `run`, `report` and `compare` follows the schemas shipped in the package."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from capacity import Q_
from capacity.cli import main
from capacity.report import schema

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a dev dependency")

SCENARIOS = Path(__file__).parents[1] / "scenarios"
FAST = ["--paths", "200", "--format", "json"]


def _json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def _validator(name: str):
    s = schema(name)
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.glob("*.toml")))
def test_every_shipped_scenarios_run_output_follows_the_schema(name, capsys):
    data = _json(capsys, "run", str(SCENARIOS / name), *FAST)
    _validator("run").validate(data)
    # the quantities the pattern admits are ones capacity reads back
    assert Q_(data["allocation"]["objective"]).check("[currency]/[time]")


def test_the_embedded_report_and_a_comparison_follow_their_schemas(capsys):
    _validator("run").validate(_json(capsys, "report", *FAST))
    data = _json(capsys, "compare", str(SCENARIOS / "ganzhou-baseline.toml"),
                 str(SCENARIOS / "ganzhou-voucher.toml"), *FAST)
    _validator("compare").validate(data)


def test_the_schemas_refuse_what_the_output_must_not_be(capsys):
    good = _json(capsys, "run", str(SCENARIOS / "ganzhou-voucher.toml"), *FAST)
    run = _validator("run")
    for path, bad in ((("allocation", "gap"), "0 %"),
                      (("projection", "paths"), 0),
                      (("projection", "horizon"), ["2025-01", "2030-13"]),
                      (("policy", "converged"), "yes"),
                      (("allocation", "objective"), "about 6725 万元")):
        data = copy.deepcopy(good)
        at = data
        for key in path[:-1]:
            at = at[key]
        at[path[-1]] = bad
        assert not run.is_valid(data), path
    data = copy.deepcopy(good)
    data["projection"]["year_end"][0]["p_shortfall"] = 78.0  # a percent, not a fraction
    assert not run.is_valid(data)


def test_an_unknown_schema_is_refused_by_name():
    from capacity.errors import CapacityError

    with pytest.raises(CapacityError) as info:
        schema("sweep")
    assert info.value.path == "name"
