"""Every message a user sees says what is wrong and what to write, in the user's words."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest

from capacity import Resource, allocate, project
from capacity.allocation import build_problem
from capacity.cli import main
from capacity.datasets import ganzhou
from capacity.errors import CapacityError, FieldError, ValidationError
from capacity.policy import cost_policy
from capacity.scenario import Scenario, load_scenario, scenario_from_dict
from capacity.sweep import sweep
from capacity.units import parse_quantity

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "ganzhou-baseline.toml"
BAD = Path(__file__).resolve().parent / "data" / "bad_scenarios"


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    return capsys.readouterr().err


# -- 1. the command line names no internals --------------------------------------------------
@pytest.mark.parametrize(("argv", "expected"), [
    (["--paths", "1e6"], "argument --paths: must be a positive whole number of paths, got "
                         "'1e6' (write 1000000)"),
    (["--paths", "46,000"], "argument --paths: must be a positive whole number of paths, got "
                            "'46,000' (has a thousands separator; write 46000)"),
    (["--paths", "0"], "argument --paths: must be a positive whole number of paths, got '0' "
                       "(see"),
    (["--seed", "1.5"], "argument --seed: must be a whole number, 0 or more, got '1.5' (see"),
    (["--node-limit", "2e4"], "argument --node-limit: must be a positive whole number of "
                              "nodes, got '2e4' (write 20000)"),
    (["--time-limit", "inf"], "argument --time-limit: must be a positive, finite number of "
                              "seconds, got 'inf'"),
    (["--alpha", "5%"], "argument --alpha: must be a probability between 0 and 1, got '5%' "
                        "(write 0.05)"),
    (["--month", "2027-13"], "argument --month: must be a month written YYYY-MM, got "
                             "'2027-13'"),
    (["--end", "2024-01"], "argument --end: 2024-01 is before --start 2025-01"),
])
def test_options_say_what_they_expect(argv, expected, capsys):
    err = _usage_error(["run", *argv, str(BASELINE)], capsys)
    assert expected in err
    assert "invalid" not in err  # argparse's "invalid _positive_int value"
    assert "_" not in err.split(": error: ")[1].split(",")[0]


def test_options_that_10_000_style_grouping_reads(capsys):
    from capacity.cli import _parser

    args = _parser().parse_args(["run", "--paths", "10_000", "x.toml"])
    assert args.paths == 10_000


# -- 2. one file name per line ---------------------------------------------------------------
def test_each_line_names_the_file_once(capsys):
    path = str(BAD / "many_problems.toml")
    assert main(["run", path]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 5
    assert all(line.count(path) == 1 for line in lines)
    assert f"capacity: error: invalid scenario: {path}: sites[c].pue: must be at least 1 " \
        "(got 0.8)" in lines
    with pytest.raises(ValidationError) as info:
        load_scenario(path)
    assert all(f"{info.value.message}: {p}".count(path) == 1 for p in info.value.problems)


def test_a_missing_file_is_named_once(tmp_path, capsys):
    path = tmp_path / "nothing.toml"
    assert main(["run", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"capacity: error: invalid scenario: {path}: cannot be read: No such file or "
        "directory\n")


# -- 3. an item is named by its id -----------------------------------------------------------
def test_list_items_are_named_by_id_or_name_in_file_errors():
    with pytest.raises(ValidationError) as info:
        load_scenario(BAD / "many_problems.toml")
    paths = {p.path.split(": ", 1)[1] for p in info.value.problems}
    assert {"sites[c].pue", "plan.projects[hall-2].completion",
            "demands[ai].growth.rate"} <= paths


def test_a_duplicated_key_keeps_the_position():
    with pytest.raises(ValidationError) as info:
        load_scenario(BAD / "duplicate_ids.toml")
    assert any(p.path.endswith(": plan.projects[1].name") for p in info.value.problems)


@pytest.mark.parametrize(("site_id", "written"), [("dc.1", 'sites["dc.1"]'),
                                                  ("7", 'sites["7"]')])
def test_a_key_with_a_dot_or_only_digits_is_quoted(site_id, written):
    data = tomllib.loads((BAD / "wrong_units.toml").read_text(encoding="utf-8"))
    data["sites"][0]["id"] = site_id
    with pytest.raises(ValidationError) as info:
        scenario_from_dict(data, source="x.toml")
    assert f"x.toml: {written}.grid: is TB" in str(info.value)


# -- 4. dimensions in the words of units -----------------------------------------------------
@pytest.mark.parametrize(("text", "unit", "expected"), [
    ("0.6 yuan/kW", "yuan/kWh", "electricity_price: is yuan/kW (currency per power), "
                                "expected a price per energy such as yuan/kWh (got "
                                "'0.6 yuan/kW')"),
    ("1 MWh", "kW", "electricity_price: is MWh (energy), expected power such as kW"),
    ("300 kWh", "yuan/year", "is kWh (energy), expected a money rate such as yuan/yr"),
    ("2 TB/vCPU", "TB/cabinet", "is TB/vCPU (information per vCPU), expected information "
                                "per cabinet such as TB/cabinet"),
    ("30", "yuan/month/TFLOPS_fp16", "has no unit; give it in yuan/month/TFLOPS_fp16 "
                                     "(e.g. '30 yuan/month/TFLOPS_fp16')"),
])
def test_wrong_dimensions_are_said_in_units(text, unit, expected):
    with pytest.raises(FieldError) as info:
        parse_quantity(text, unit, "electricity_price")
    assert expected in str(info.value)
    assert "[mass]" not in str(info.value)
    assert "[length]" not in str(info.value)


# -- 5. did you mean, for units --------------------------------------------------------------
@pytest.mark.parametrize(("text", "meant"), [("1 kw", "kW"), ("1 KW", "kW"),
                                             ("8 kilowat", "kilowatt"), ("100 tb", "TB"),
                                             ("1 mwh", "MWh"), ("1 ｋＷ", "kW"),
                                             ("3 pflops_fp16", "PFLOPS_fp16")])
def test_a_misspelt_unit_gets_a_suggestion(text, meant):
    with pytest.raises(FieldError, match=f"is not a unit; did you mean '{meant}'"):
        parse_quantity(text, None, "grid")


def test_a_unit_far_from_any_gets_no_wild_guess():
    with pytest.raises(FieldError) as info:
        parse_quantity("3 gbps", None, "grid")
    assert "'gbps' is not a unit (got '3 gbps')" in str(info.value)


# -- 6. hints for compute without precision, full-width digits and separators ------------
@pytest.mark.parametrize(("text", "expected"), [
    ("130 PFLOPS", "compute needs its precision: write PFLOPS_fp16, PFLOPS_fp32 or "
                   "PFLOPS_fp64"),
    ("1 FLOPS", "compute needs its precision: write FLOPS_fp16, FLOPS_fp32 or FLOPS_fp64"),
    ("8 TOPS", "compute needs its precision: write TOPS_int8"),
    ("４６０００ vCPU", "is written with non-ASCII digits; write '46000 vCPU'"),
    ("46,000 vCPU", "has a thousands separator; write '46000 vCPU'"),
    ("46_000 vCPU", "has a thousands separator; write '46000 vCPU'"),
])
def test_numbers_and_units_people_write_get_a_hint(text, expected):
    with pytest.raises(FieldError) as info:
        parse_quantity(text, None, "vcpu")
    assert f"vcpu: {expected} (got {text!r})" == str(info.value)


def test_a_file_with_a_byte_order_mark_reads_as_without(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASELINE.read_bytes())
    assert Scenario.from_toml(path) == Scenario.from_toml(BASELINE)


# -- 7. --help shows every default -----------------------------------------------------------
def test_help_shows_every_default(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option, default in (("--format", "text"), ("--start", "2025-01"),
                            ("--end", "2030-12"), ("--month", "2027-12"), ("--paths", "2000"),
                            ("--seed", "0"), ("--alpha", "0.05"), ("--node-limit", "20000"),
                            ("--time-limit", "60.0")):
        after = text.split(f" {option} ", 2)[-1]
        assert f"(default: {default})" in after.split(" --", 1)[0], option


# -- 8. compare reports both files -----------------------------------------------------------
def test_compare_reports_every_problem_of_both_files(capsys):
    a, b = str(BAD / "wrong_units.toml"), str(BAD / "non_finite.toml")
    assert main(["compare", a, b]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert sum(a in line for line in lines) == 3
    assert sum(b in line for line in lines) == 3
    assert all(line.count(a) + line.count(b) == 1 for line in lines)


# -- 9. a bad argument is a CapacityError naming it -----------------------------------------
@pytest.fixture(scope="module")
def projection():
    return project(ganzhou(), start="2025-01", end="2026-12", n_paths=20, seed=0)


@pytest.fixture(scope="module")
def built():
    return build_problem(ganzhou(), "2027-12")


def _raises(call, expected: str) -> None:
    with pytest.raises(CapacityError) as info:
        call()
    assert expected in str(info.value)


def test_projection_methods_name_bad_arguments(projection):
    _raises(lambda: projection.exhaustion(probability="0.5"),
            "probability: expected a number, not str")
    for bad in (math.nan, -1, 2):
        _raises(lambda bad=bad: projection.shortfalls(bad), "probability: ")
    _raises(lambda: projection.device_time("2040-01"), "when: is outside the axis")
    _raises(lambda: projection.chunks(0).__next__(), "size: must be a positive whole number")
    _raises(lambda: projection.paths(3), "which: must be a slice")
    _raises(lambda: projection.exhaustion_date("vcpu"), "write Resource.VCPU")
    _raises(lambda: projection.cabinets_needed("smart_ai"), "did you mean 'smart-ai'?")
    _raises(lambda: projection.cabinets_needed(["smart-ai"]), "profile: unknown cabinet")


@pytest.mark.parametrize(("kw", "expected"), [
    ({"scenario": None}, "scenario: must be a Scenario"),
    ({"executor": 3}, "executor: must be an Executor"),
    ({"induced": "yes"}, "induced: must be True or False"),
    ({"seed": 1.5}, "seed: must be a whole number, zero or more"),
])
def test_project_names_bad_arguments(kw, expected):
    args = {"scenario": ganzhou(), "start": "2025-01", "end": "2025-03", "n_paths": 5} | kw
    _raises(lambda: project(args.pop("scenario"), **args), expected)


@pytest.mark.parametrize(("kw", "expected"), [
    ({"time_limit": 1e300}, "time_limit: must be at most"),
    ({"seed": 2**40}, "seed: must be at most 2147483647"),
    ({"node_limit": 2**40}, "node_limit: must be at most 2147483647"),
    ({"method": "MILP"}, "method: must be one of auto, milp, heuristic; did you mean 'milp'?"),
])
def test_allocate_names_arguments_the_solver_cannot_take(built, kw, expected):
    _raises(lambda: allocate(built.problem, **kw), expected)


def test_allocation_answers_are_checked(built):
    _raises(lambda: allocate(None), "problem: must be an AllocationProblem")  # type: ignore[arg-type]
    _raises(lambda: build_problem(None, "2027-12"), "scenario: must be a Scenario")
    _raises(lambda: built.placement(None), "result: must be an Allocation")
    _raises(lambda: build_problem(ganzhou(), "2027-12", splittable="no"),
            "splittable: must be True or False")


def test_policy_costing_names_bad_arguments(projection):
    _raises(lambda: cost_policy(None), "projection: must be a Projection")  # type: ignore[arg-type]
    _raises(lambda: cost_policy(projection, prices=[1]), "prices: expected a table")
    _raises(lambda: cost_policy(projection, enterprises="x"),
            "enterprises: must be a whole number of enterprises or a sequence of weights, "
            "not str")
    _raises(lambda: cost_policy(projection, load_factor="x"),
            "load_factor: is not a quantity (write a share as 0.3 or '30 %')")
    voucher = Scenario.from_toml(ROOT / "scenarios" / "ganzhou-voucher.toml")
    cost = cost_policy(project(voucher, start="2025-01", end="2025-12", n_paths=10))
    _raises(lambda: cost.budget_exhausted([]), "name: unknown instrument")
    _raises(lambda: cost.outlay("ganzhou-vouchr"), "did you mean 'ganzhou-voucher'?")


@pytest.mark.parametrize(("kw", "expected"), [
    ({"executor": 3}, "executor: must be an Executor"),
    ({"batch_size": 0}, "batch_size: must be a positive whole number"),
    ({"npaths": 10}, "npaths: is not an option of the default figures (options: start, end, "
                     "n_paths, alpha); did you mean 'n_paths'?"),
    ({"alpha": 2}, "alpha: must be in (0, 1]"),
    ({"evaluate": 3}, "evaluate: must be a function"),
])
def test_sweep_names_bad_arguments(kw, expected):
    grid = {"sites[tianyi-huawei].pue": [1.3]}
    _raises(lambda: sweep(ganzhou(), grid, n_paths=10, **kw), expected)


def test_estate_totals_and_resources_name_the_resource():
    estate = ganzhou().estate
    _raises(lambda: estate.total("vcpu"), "resource: must be a Resource: write Resource.VCPU")
    _raises(lambda: estate.total(None), "resource: must be a Resource, such as")
    _raises(lambda: Resource.parse("vpcu"), "unknown resource; expected one of cabinets, "
            "it_power, floor_area, vcpu, storage, compute_fp64, compute_fp32, compute_fp16, "
            "compute_int8; did you mean 'vcpu'?")
