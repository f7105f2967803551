"""Scenario files: exact round trips, the shipped Ganzhou file, and malformed files."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import tomli_w
from hypothesis import given, settings

from capacity.datasets import ganzhou
from capacity.errors import CapacityError, FieldError, ValidationError
from capacity.scenario import (
    Scenario,
    load_scenario,
    save_scenario,
    scenario_from_dict,
    scenario_to_dict,
)
from capacity.testing import scenarios

ROOT = Path(__file__).resolve().parents[1]
GANZHOU_FILE = ROOT / "scenarios" / "ganzhou-baseline.toml"
BAD = Path(__file__).resolve().parent / "data" / "bad_scenarios"
BAD_FILES = sorted(BAD.glob("*.toml"))


# Generating a scenario costs ~50 ms; cap the examples so the file stays fast under "dev".
@settings(max_examples=min(settings.default.max_examples, 60))
@given(scenarios())
def test_generated_scenarios_survive_a_round_trip_exactly(scenario: Scenario) -> None:
    text = tomli_w.dumps(scenario_to_dict(scenario))
    back = scenario_from_dict(tomllib.loads(text), source="generated.toml")
    assert back == scenario
    # Writing what was read gives the same text: nothing drifts from save to save.
    assert tomli_w.dumps(scenario_to_dict(back)) == text


def test_ganzhou_file_describes_the_embedded_scenario() -> None:
    assert Scenario.from_toml(GANZHOU_FILE) == ganzhou()


def test_ganzhou_file_is_what_save_scenario_writes(tmp_path: Path) -> None:
    # Guards against the file and ganzhou() drifting apart in figures equality misses,
    # such as a note's wording in provenance the file does not compare by value.
    out = tmp_path / "ganzhou.toml"
    ganzhou().to_toml(out)
    assert out.read_text(encoding="utf-8") == GANZHOU_FILE.read_text(encoding="utf-8")


def test_saved_file_loads_back_equal(tmp_path: Path) -> None:
    scenario = ganzhou()
    save_scenario(scenario, tmp_path / "s.toml")
    assert load_scenario(tmp_path / "s.toml") == scenario
    assert load_scenario(str(tmp_path / "s.toml")).assumptions() == scenario.assumptions()


def _expected_paths(path: Path) -> list[str]:
    found = re.search(r"^# expect: (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert found, f"{path.name} has no '# expect:' header"
    return [p.strip() for p in found[1].split(";")]


def test_the_corpus_covers_every_kind_of_mistake() -> None:
    assert len(BAD_FILES) >= 15


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_malformed_file_names_file_and_every_field(path: Path) -> None:
    with pytest.raises(CapacityError) as info:
        load_scenario(path)
    error = info.value
    assert isinstance(error, ValidationError)
    source = str(path)
    assert all(isinstance(p, FieldError) and p.path.startswith(f"{source}: ")
               for p in error.problems)
    paths = {p.path.removeprefix(f"{source}: ") for p in error.problems}
    missing = [e for e in _expected_paths(path) if e not in paths]
    assert not missing, f"not reported: {missing}\n{error}"
    assert source in str(error)


def test_problem_message_shows_file_path_value_and_reason() -> None:
    path = BAD / "many_problems.toml"
    with pytest.raises(ValidationError) as info:
        load_scenario(path)
    assert f"{path}: sites[c].pue: must be at least 1 (got 0.8)" in str(info.value)


def test_close_misspelling_is_suggested() -> None:
    with pytest.raises(ValidationError) as info:
        load_scenario(BAD / "unknown_keys.toml")
    assert "did you mean 'pue'?" in str(info.value)
    assert "did you mean 'demands'?" in str(info.value)


def test_syntax_error_names_line_and_column() -> None:
    with pytest.raises(ValidationError) as info:
        load_scenario(BAD / "broken_syntax.toml")
    (problem,) = info.value.problems
    assert problem.path.endswith("broken_syntax.toml: line 7, column 6")
    assert "is not valid TOML" in problem.reason


def test_injected_code_is_read_as_text_never_run() -> None:
    with pytest.raises(ValidationError) as info:
        load_scenario(BAD / "code_injection.toml")
    values = {p.value for p in info.value.problems}
    assert "__import__('os').system('echo pwned') kW" in values
    assert "10**10**10 kW" in values


def test_missing_file_is_a_validation_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        load_scenario(tmp_path / "nothing.toml")
    assert "nothing.toml: cannot be read" in str(info.value)


def test_file_that_is_not_utf8_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "Gan\u00e7hou"\n'.encode("latin-1"))
    with pytest.raises(ValidationError) as info:
        load_scenario(path)
    assert "latin1.toml: line 1, column 12: is not UTF-8 text (byte 0xe7); save the file " \
        "as UTF-8" in str(info.value)


def test_document_that_is_not_a_table_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        scenario_from_dict([1, 2])  # type: ignore[arg-type]
    assert "<scenario>: expected a table, not an array" in str(info.value)


def test_policies_and_market_survive_a_round_trip(tmp_path: Path) -> None:
    import attrs

    from capacity.datasets import ganzhou
    from capacity.policy import PRESETS

    scenario = attrs.evolve(ganzhou(), policies=tuple(PRESETS.values()))
    path = tmp_path / "all-presets.toml"
    scenario.to_toml(path)
    again = Scenario.from_toml(path)
    assert again.policies == scenario.policies
    assert again.market == scenario.market
    assert again == scenario


def test_tags_no_site_carries_are_refused_from_python_as_from_files() -> None:
    import attrs

    from capacity.demand import DemandBlock
    from capacity.growth import Linear

    s = ganzhou()
    odd = DemandBlock("odd", "x", "vcpu", Linear("10 vCPU", "2025-01", "0 vCPU/year"),
                      eligible={"quantum"})
    with pytest.raises(ValidationError) as info:
        attrs.evolve(s, demands=(*s.demands, odd))
    assert [p.path for p in info.value.problems] == ["demands[4].eligible"]
    assert "'quantum': no site carries it" in str(info.value)
    typo = attrs.evolve(odd, eligible={"hcp"})
    with pytest.raises(ValidationError) as info:
        attrs.evolve(s, demands=(*s.demands, typo))
    assert "'hcp': no site carries it" in str(info.value)
    assert "did you mean 'hpc'?" in str(info.value)
    # beside a tag that matches, one no site carries is accepted: a what-if without the
    # site that carries it keeps the block's definition
    assert attrs.evolve(s, demands=(*s.demands, attrs.evolve(odd, eligible={"ai", "quantum"})))
    # nor are names padded with spaces, which no tag equals, or a scenario without a name
    for make, problem in ((lambda: attrs.evolve(odd, eligible=["ai "]),
                           "eligible[0]: has spaces at its ends (write 'ai') (got 'ai ')"),
                          (lambda: attrs.evolve(s, name=" "),
                           "name: must not be empty (got ' ')"),
                          # a due date of no target would be dropped unseen
                          (lambda: attrs.evolve(s.plan.projects[0], target=None,
                                                target_by="2027-12"),
                           "target_by: is the month a target is due, and the project has no "
                           "target (got '2027-12')"),
                          # its pools' rows would share the allocation tables' unmet site
                          (lambda: attrs.evolve(s.estate.sites[0], id="unmet"),
                           "id: 'unmet' is the site the allocation's tables give unserved "
                           "demand; give the site another id (got 'unmet')")):
        with pytest.raises(ValidationError) as info:
            make()
        assert [str(p) for p in info.value.problems] == [problem]
