"""AllocationProblem validation, permutation and the GAP file reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from capacity.allocation import AllocationProblem, read_orlib_gap
from capacity.errors import FieldError, ValidationError


def small(**changes: object) -> AllocationProblem:
    fields: dict[str, object] = {
        "use": np.ones((2, 3, 2)), "capacity": np.full((3, 2), 4.0),
        "cost": np.arange(6.0).reshape(2, 3), "size": [2, 1]}
    fields.update(changes)
    return AllocationProblem(**fields)  # type: ignore[arg-type]


def test_arrays_are_read_only_float64() -> None:
    p = small()
    assert p.use.dtype == np.float64
    assert not p.use.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        p.capacity[0, 0] = 1


def test_every_problem_is_reported_with_its_path() -> None:
    use = np.ones((2, 3, 2))
    use[1, 2, 0] = -1
    capacity = np.full((3, 2), 4.0)
    capacity[2, 1] = np.nan
    with pytest.raises(ValidationError) as info:
        small(use=use, capacity=capacity, cost=np.ones((2, 2)), size=[1.5, 1],
              penalty=[-1, np.inf], pue=[0.5, 1, 1])
    paths = {e.path for e in info.value.problems}
    assert {"use[1,2,0]", "capacity[2,1]", "cost", "size[0]", "penalty[0]", "pue[0]"} <= paths
    assert "use[1,2,0]: must be ≥ 0" in str(info.value)


def test_demand_that_must_be_served_without_an_eligible_pool_is_infeasible() -> None:
    from capacity import allocate

    eligible = np.ones((2, 3), dtype=bool)
    eligible[1] = False
    result = allocate(small(eligible=eligible), time_limit=5)
    assert result.status.value == "infeasible"
    assert "demand 1 must be served but may use no pool" in result.explanation
    # served in part when the demand may go unmet
    assert allocate(small(eligible=eligible, penalty=[np.inf, 10.0]), time_limit=5).success


def test_spread_rule_needs_splittable_and_enough_sites() -> None:
    with pytest.raises(ValidationError) as info:
        small(min_sites=[2, 4], pool_site=[0, 0, 1])
    reasons = " ".join(e.reason for e in info.value.problems)
    assert "splittable" in reasons
    assert "more sites" in reasons


def test_power_envelope_fields_come_together() -> None:
    with pytest.raises(ValidationError) as info:
        small(power_use=np.ones((2, 3)))
    assert "given together" in str(info.value)
    with pytest.raises(ValidationError) as info:
        small(power_use=np.ones((2, 3)), grid=[1.0, 2.0])
    assert "grid: without pool_site" in str(info.value)


def test_non_numeric_and_bad_units_are_reported() -> None:
    with pytest.raises(ValidationError) as info:
        small(cost=[["a", "b", "c"], [1, 2, 3]], resource_units=["cabinet", "parsec_of_joy"],
              cost_unit="not a unit", sense="biggest")
    paths = {e.path for e in info.value.problems}
    assert {"cost", "resource_units[1]", "cost_unit", "sense"} <= paths


def test_permute_reorders_every_per_demand_and_per_pool_field() -> None:
    p = small(demand_names=["a", "b"], pool_names=["x", "y", "z"], penalty=[3.0, np.inf])
    q = p.permute([1, 0], [2, 0, 1])
    assert q.demand_names == ("b", "a")
    assert q.pool_names == ("z", "x", "y")
    assert q.cost[0, 0] == p.cost[1, 2]
    assert q.penalty is not None
    assert q.penalty[1] == 3.0


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gapx.txt"
    path.write_text(text)
    return path


def test_reader_reads_both_layouts(tmp_path: Path) -> None:
    block = "2 3\n1 2 3\n4 5 6\n1 1 1\n2 2 2\n5 6\n"
    single = read_orlib_gap(write(tmp_path, block))
    assert [p.name for p in single] == ["gapx.txt"]
    assert single[0].cost.tolist() == [[1, 4], [2, 5], [3, 6]]
    assert single[0].capacity.tolist() == [[5], [6]]
    multi = read_orlib_gap(write(tmp_path, "2\n" + block + block))
    assert [p.name for p in multi] == ["gapx.txt#1", "gapx.txt#2"]


@pytest.mark.parametrize(("text", "reason"), [
    ("2 3\n1 2 3\n", "ends inside"),
    ("1\n2 3\n1 2 3\n4 5 6\n1 1 1\n2 2 2\n5 6 7 8\n", "declares"),
    ("1\n2 3 1 2\n", "ends inside|declares"),
    ("2 3 x 4", "not a number"),
    ("", "too short"),
])
def test_reader_rejects_malformed_files(tmp_path: Path, text: str, reason: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(FieldError, match=reason) as info:
        read_orlib_gap(path)
    assert info.value.path == str(path)


def test_reader_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FieldError, match="cannot read"):
        read_orlib_gap(tmp_path / "missing.txt")
