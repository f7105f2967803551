"""AllocationProblem validation, permutation and the GAP file reader."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pint
import pytest

from capacity.allocation import AllocationProblem, read_orlib_gap
from capacity.errors import FieldError, ValidationError
from capacity.units import Q_


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


def problems_of(**changes: object) -> dict[str, str]:
    """Each field path the problem is refused for, with its reason."""
    with pytest.raises(ValidationError) as info:
        small(**changes)
    return {e.path: e.reason for e in info.value.problems}


def test_quantities_are_converted_to_each_fields_unit() -> None:
    p = small(use=Q_(np.ones((2, 3, 2)), "kW"), capacity=Q_(np.full((3, 2), 4.0), "MW"),
              cost=Q_(np.arange(6.0).reshape(2, 3), "yuan"), fixed_cost=Q_(5, "kyuan"),
              resource_units=["kW", "W"], cost_unit="yuan")
    assert p.use[0, 0].tolist() == [1.0, 1000.0]  # 1 kW is 1000 W
    assert p.capacity[0].tolist() == [4000.0, 4e6]
    assert p.cost[1, 2] == 5.0
    assert p.fixed_cost == 5000.0
    assert not p.capacity.flags.writeable


def test_a_quantity_is_never_stripped_of_its_unit() -> None:
    assert "resource_units is not given" in problems_of(capacity=Q_(np.ones((3, 2)), "MW"))[
        "capacity"]
    assert "cost_unit is not given" in problems_of(fixed_cost=Q_(5, "yuan"))["fixed_cost"]
    wrong = problems_of(capacity=Q_(np.ones((3, 2)), "m**2"), resource_units=["kW", "kW"])
    assert "not a unit of resource_units[0] (kW)" in wrong["capacity"]
    assert "not a unit of" in problems_of(grid=Q_([1.0, 2.0, 3.0], "yuan"),
                                          power_use=np.ones((2, 3)))["grid"]
    other = pint.UnitRegistry()
    assert "another unit registry" in problems_of(size=other.Quantity([2, 1], ""))["size"]


@pytest.mark.parametrize(("changes", "path", "reason"), [
    ({"eligible": [["no", "yes", "yes"], ["yes"] * 3]}, "eligible", "true/false"),
    ({"eligible": np.full((2, 3), 0.5)}, "eligible", "true/false"),
    ({"splittable": "false"}, "splittable", "true/false"),
    ({"size": ["2", "1"]}, "size", "numeric"),
    ({"size": [True, True]}, "size", "numeric"),
    ({"use": np.ones((2, 3, 2)) * (1 + 1j)}, "use", "numeric"),
    ({"fixed_cost": "5"}, "fixed_cost", "must be a number"),
    ({"fixed_cost": True}, "fixed_cost", "must be a number"),
    ({"capacity": np.full((3, 2), 5e16)}, "capacity[0,0]", "absurdly large"),
    ({"size": [2**70, 1]}, "size[0]", "absurdly large"),
    ({"cost_unit": "metre"}, "cost_unit", "must be money"),
    ({"demand_names": "ab"}, "demand_names", "a list"),
    ({"resource_units": "kW"}, "resource_units", "a list"),
    ({"pool_names": ["a", None, "c"]}, "pool_names[1]", "text"),
    # the answer's tables give unserved demand that site: a pool of that name would clash
    ({"pool_names": ["a", "unmet", "c"]}, "pool_names[1]", "names unserved demand"),
    ({"pool_names": ["a", "b/x", "unmet/"]}, "pool_names[2]", "its site, 'unmet',"),
    ({"pool_site": [0, 1e12, 1]}, "pool_site[1]", "below the number of pools"),
    ({"pue": [1e300, 1, 1]}, "pue[0]", "absurdly large"),
    ({"size": Q_([2, 1], "cabinet")}, "size", "it is a plain number"),
    ({"capacity": [Q_([4, 4], "kW")] * 3, "resource_units": ["kW", "kW"]}, "capacity",
     "one quantity of an array"),
    ({"capacity": Q_(np.ones((3, 1)), "kW"), "resource_units": ["kW"]}, "resource_units",
     "must have 2 entries"),
])
def test_values_of_the_wrong_kind_are_refused_not_coerced(changes: dict[str, object],
                                                          path: str, reason: str) -> None:
    found = problems_of(**changes)
    assert reason in found[path], found


def test_whole_numbers_are_labels_and_any_real_number_a_fixed_cost() -> None:
    p = small(demand_names=[10, 11], pool_names=np.arange(3), fixed_cost=np.array(3.0))
    assert p.demand_names == ("10", "11")
    assert p.pool_names == ("0", "1", "2")
    assert p.fixed_cost == 3.0
    assert small(fixed_cost=Fraction(1, 2)).fixed_cost == 0.5


def test_flags_may_be_written_as_zero_and_one() -> None:
    p = small(eligible=[[0, 1, 1], [1, 1, 0]], splittable=1)
    assert p.eligible is not None
    assert p.eligible.tolist() == [[False, True, True], [True, True, False]]
    assert bool(p.splittable)


def test_an_array_too_large_for_free_memory_is_refused_by_name_before_it_is_copied(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import capacity.allocation.problem as module

    monkeypatch.setattr(module, "available_bytes", lambda: 2**30)
    huge = np.broadcast_to(np.ones(1), (20_000, 20_000))  # 3 GiB as float64, a view here
    with pytest.raises(FieldError, match=r"cost: holds 400,000,000 entries, about 3.0 GiB"):
        small(cost=huge)


def test_permute_refuses_an_order_that_drops_or_repeats() -> None:
    p = small()
    for order in ([0, 0], [1], [-1, 0], [0, 5], [0.0, 1.0]):
        with pytest.raises(FieldError, match="demand_order: must list each index 0 … 1 once"):
            p.permute(demand_order=order)
    with pytest.raises(FieldError, match="pool_order"):
        p.permute(pool_order=[2, 1, 1])


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
    ("2 3 x 4", "not a whole number"),
    ("", "too short"),
    ("inf inf 1 2 3", "not a whole number"),
    ("2 3\n6_0 2 3\n4 5 6\n1 1 1\n2 2 2\n5 6\n", "not a whole number"),
    ("2 3\n1.5 2 3\n4 5 6\n1 1 1\n2 2 2\n5 6\n", "not a whole number"),
    ("2 3\n1 2 3\n4 5 6\n1 1 1\n2 2 2\n5 99999999999999999999\n", "too large"),
    ("2\n2 3\n1 2 3\n4 5 6\n1 1 1\n2 2 2\n5 6\n0 3\n", "problem 2 declares 0 agents"),
    ("1\n99999 99999\n1 2 3", "ends inside problem 1"),
    ("-1 2 3", "declares -1 problems"),
    ("2 3\n1 2 3\n4 5 6\n-1 1 1\n2 2 2\n5 6\n",
     r"problem 1 is not a valid GAP problem \(use\[0,0,0\]: must be ≥ 0; jobs are demands "
     r"and agents pools"),
])
def test_reader_rejects_malformed_files(tmp_path: Path, text: str, reason: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(FieldError, match=reason) as info:
        read_orlib_gap(path)
    assert info.value.path == str(path)


def test_reader_refuses_a_binary_file_and_reads_a_first_cost_of_zero(tmp_path: Path) -> None:
    binary = tmp_path / "gapx.bin"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(FieldError, match="is not a text file"):
        read_orlib_gap(binary)
    zero = read_orlib_gap(write(tmp_path, "2 3\n0 2 3\n4 5 6\n1 1 1\n2 2 2\n5 6\n"))
    assert zero[0].cost[:, 0].tolist() == [0, 2, 3]


def test_reader_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FieldError, match="cannot read"):
        read_orlib_gap(tmp_path / "missing.txt")
