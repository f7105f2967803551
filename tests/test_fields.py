"""One reader, one source per field, values that stay frozen, validation once.

The reader property drives every field that reads text, on every public class that
declares one, with hostile and ordinary strings: pint must only ever see plain
"number unit" text, and whatever is accepted must keep the number it was given.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import pkgutil
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pint
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import capacity
from capacity import Q_, Resource, Scenario, fields, project, ureg
from capacity.allocation import allocate, build_problem
from capacity.datasets import ganzhou
from capacity.demand import DemandBlock
from capacity.errors import CapacityError, FieldError, ValidationError
from capacity.growth import Compound, Fitted, Linear, Logistic, Milestone, Milestones, target
from capacity.instruments import (
    ComputeVoucher,
    ConstructionSubsidy,
    Elasticity,
    ElectricitySubsidy,
    Market,
)
from capacity.inventory import CabinetProfile, Estate, Reported, Site
from capacity.months import month
from capacity.paths import Item, join, parse
from capacity.plan import Project, Slippage
from capacity.policy import cost_policy
from capacity.provenance import Provenance
from capacity.scenario import scenario_from_dict, scenario_to_dict
from capacity.sweep import vary
from capacity.units import parse_quantity, plain_quantity, plain_unit, read_unit


@contextlib.contextmanager
def refused(pattern: str, kind: type[Exception] = CapacityError) -> Iterator[None]:
    """Expect `kind` whose whole text (every problem) matches `pattern`."""
    with pytest.raises(kind) as info:
        yield
    assert re.search(pattern, str(info.value)), str(info.value)


# -- a valid instance of every class that reads text, to vary one field of ----------------
PROFILE = {"name": "g", "it_power": "5 kW", "floor_area": "12 m**2"}
BASE: dict[type, dict[str, Any]] = {
    CabinetProfile: PROFILE,
    Site: {"id": "a", "name": "A"},
    Reported: {"value": "451 cabinet"},
    Project: {"name": "p", "site": "a", "start": "2025-01", "completion": "2026-01"},
    Slippage: {"mean": 2.0, "sd": 1.0},
    Linear: {"start": "100 vCPU", "at": "2025-01", "slope": "10 vCPU/year"},
    Compound: {"start": "100 vCPU", "at": "2025-01", "rate": 0.1},
    Logistic: {"ceiling": "100 vCPU", "midpoint": "2027-01", "rate": "1/year"},
    Milestone: {"month": "2025-01", "value": "1 PFLOPS_fp16"},
    Milestones: {"points": [("2025-01", "1 PFLOPS_fp16")]},
    Fitted: {"curve": "linear", "anchor": "2025-01", "unit": "vCPU", "estimate": [1.0, 1.0],
             "covariance": [[0.0, 0.0], [0.0, 0.0]]},
    DemandBlock: {"name": "d", "kind": "k", "resource": "vcpu",
                  "growth": Linear("100 vCPU", "2025-01", "10 vCPU/year")},
    ComputeVoucher: {"name": "v", "rate": 0.3, "cap_per_enterprise": "300 万元/year",
                     "eligible_kinds": {"enterprise-ai"}},
    ElectricitySubsidy: {"name": "e", "amount": "0.06 yuan/kWh"},
    ConstructionSubsidy: {"name": "c", "per_cabinet": "2 万元/cabinet"},
    Elasticity: {"value": -0.5, "provenance": Provenance.assumption("test")},
    Market: {},
}
# Tables whose values read text: one entry of each to vary.
TABLE_ENTRIES: dict[tuple[type, str], str] = {
    (CabinetProfile, "compute"): "fp16",
    (DemandBlock, "per_unit"): "storage",
    (Market, "prices"): "compute_fp16",
    (Market, "green_share"): "a",
}
# An accepted example per kind, in the unit each field expects (for the number law).
UNIT_OF: dict[tuple[type, str], str] = {
    (CabinetProfile, "it_power"): "kW", (CabinetProfile, "floor_area"): "m**2",
    (CabinetProfile, "vcpu"): "vCPU", (CabinetProfile, "storage"): "TB",
    (CabinetProfile, "capex"): "万元", (CabinetProfile, "compute"): "PFLOPS_fp16",
    (Site, "grid"): "MW", (Site, "electricity_price"): "yuan/kWh",
    (Reported, "value"): "cabinet", (Project, "capex"): "万元",
    (Project, "target"): "PFLOPS_fp16", (Linear, "start"): "vCPU",
    (Linear, "slope"): "vCPU/year", (Linear, "slope_sd"): "vCPU/year",
    (Compound, "start"): "vCPU", (Logistic, "ceiling"): "vCPU", (Logistic, "rate"): "/year",
    (Logistic, "floor"): "vCPU", (Logistic, "ceiling_sd"): "vCPU",
    (Milestone, "value"): "PFLOPS_fp16", (DemandBlock, "per_unit"): "TB/vCPU",
    (DemandBlock, "value"): "yuan/vCPU/year", (ComputeVoucher, "cap_per_enterprise"):
    "万元/year", (ComputeVoucher, "annual_budget"): "万元/year",
    (ComputeVoucher, "min_claim"): "万元", (ElectricitySubsidy, "amount"): "yuan/kWh",
    (ElectricitySubsidy, "annual_budget"): "万元/year",
    (ConstructionSubsidy, "per_cabinet"): "万元/cabinet", (ConstructionSubsidy, "cap"): "万元",
    (Market, "prices"): "yuan/(PFLOPS_fp16*hour)",
}


def _public_classes() -> Iterator[type]:
    for info in pkgutil.walk_packages(capacity.__path__, "capacity."):
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if isinstance(obj, type) and attrs.has(obj) and obj.__module__ == module.__name__:
                yield obj


PUBLIC = sorted(set(_public_classes()), key=lambda c: c.__qualname__)
TEXT_FIELDS = sorted(
    ((cls, f.name, spec.parses) for cls in PUBLIC for f in attrs.fields(cls)
     if (spec := fields.spec_of(f)) is not None and spec.parses is not None),
    key=lambda t: (t[0].__qualname__, t[1]))


# Fields that exclude another field of the base instance.
ALONE: dict[tuple[type, str], dict[str, Any]] = {
    (ConstructionSubsidy, "share_of_capex"): {"name": "c"},
    # a due date is read only with a target
    (Project, "target_by"): {**BASE[Project], "target": "130 PFLOPS_fp16"},
}


def _build(cls: type, name: str, text: Any) -> Any:
    kwargs = dict(ALONE.get((cls, name), BASE[cls]))
    entry = TABLE_ENTRIES.get((cls, name))
    kwargs[name] = {entry: text} if entry is not None else text
    return cls(**kwargs)


def _read_back(obj: Any, cls: type, name: str) -> Any:
    value = getattr(obj, name)
    entry = TABLE_ENTRIES.get((cls, name))
    if entry is None:
        return value
    return next(iter(value.values()))


def test_every_class_that_reads_text_is_driven_by_the_property():
    # Adding a text field to a public class without a base instance here fails this test.
    assert {cls for cls, _, _ in TEXT_FIELDS} <= set(BASE)
    assert {(c, n) for c, n, _ in TEXT_FIELDS if (c, n) in TABLE_ENTRIES} == set(TABLE_ENTRIES)
    assert len(TEXT_FIELDS) >= 40


def test_every_public_class_resolves_its_annotations():
    assert len(PUBLIC) >= 30
    for cls in PUBLIC:
        attrs.resolve_types(cls)  # raises NameError on a string alias that does not resolve


# -- the reader property -----------------------------------------------------------------
_UNITS = ["kW", "MW", "vCPU", "TB", "PFLOPS_fp16", "cabinet", "yuan", "万元", "%", "month",
          "yuan/kWh", "1/year", "vCPU/year", "TB/vCPU", "m**2", "万元/year"]
_NUMBER = st.one_of(st.integers(-10**6, 10**6).map(str),
                    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr))
hostile = st.one_of(
    st.text(max_size=40),
    st.builds(lambda a, b, u: f"{a} {b} {u}", _NUMBER, _NUMBER, st.sampled_from(_UNITS)),
    st.builds(lambda a, op, b, u: f"{a}{op}{b} {u}", _NUMBER,
              st.sampled_from(["**", "*", "+", "-", "/", " ", "e"]), _NUMBER,
              st.sampled_from(_UNITS)),
    st.builds(lambda u, n: f"{n} {u}", st.sampled_from(_UNITS), _NUMBER),
    st.builds(lambda n, u: f"({n}) {u}", _NUMBER, st.sampled_from(_UNITS)),
    st.sampled_from(["10**10**10 kW", "1 2 3 kW", "5 5 MW", "1e400 kW", "nan kW", "inf MW",
                     "__import__('os') kW", "kW kW", "2025-03 garbage", "2025-13", "",
                     "1_000 kW", "1,5 kW", "٣ kW", "8 kW" * 40]),
)


class _Spy:
    """Records every string that reaches pint's parser."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[str] = []
        for method in ("parse_expression", "parse_units"):
            original = getattr(ureg, method)

            def spy(text: Any, *args: Any, _original: Callable[..., Any] = original,
                    **kwargs: Any) -> Any:
                if isinstance(text, str):
                    self.seen.append(text)
                return _original(text, *args, **kwargs)

            monkeypatch.setattr(ureg, method, spy)


_LEADING = re.compile(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)")


@pytest.mark.parametrize(("cls", "name", "kind"), TEXT_FIELDS,
                         ids=[f"{c.__name__}.{n}" for c, n, _ in TEXT_FIELDS])
@given(text=hostile)
@example(text="10**10**10 kW")
@example(text="1 2 3 kW")
def test_no_string_reaches_pint_unless_plain_and_none_changes_a_number(
        cls: type, name: str, kind: str, text: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        spy = _Spy(patch)
        try:
            obj = _build(cls, name, text)
        except CapacityError:
            obj = None
    assert all(plain_quantity(s) or plain_unit(s) for s in spy.seen), spy.seen
    if obj is None:
        return
    value = _read_back(obj, cls, name)
    number = _LEADING.match(text)
    if kind == "quantity" and isinstance(value, pint.Quantity):
        # what was written is what is held: the same number, in the unit written
        assert number is not None, text
        assert float(value.magnitude) == float(number[1])
    elif kind == "share" and number is not None:
        assert value == pytest.approx(float(number[1]) / (100 if "%" in text else 1))
    elif kind == "month":
        assert str(value) == text.strip()[:7]


_MODEL = Linear("100 vCPU", "2025-01", "10 vCPU/year")
_GANZHOU = ganzhou()
_SMALL = project(_GANZHOU, start="2025-01", end="2025-03", n_paths=2, seed=0)
# Every public function that takes text, as (name, call, what the text is read as).
FUNCTIONS: list[tuple[str, Callable[[str], Any], str]] = [
    ("parse_quantity", lambda t: parse_quantity(t, "kW", "grid"), "quantity"),
    ("read_unit", lambda t: read_unit(t, "unit"), "unit"),
    ("month", month, "month"),
    ("target", lambda t: target(f"{t} by 2027-12")[1], "quantity"),
    ("Milestones.parse", lambda t: Milestones.parse([f"{t} by 2027-12"]).points[0].value,
     "quantity"),
    ("GrowthModel.magnitudes", lambda t: _MODEL.magnitudes(["2025-01"], t), "unit"),
    ("GrowthModel.sample", lambda t: _MODEL.sample(["2025-01"], 2, np.random.default_rng(0),
                                                   t), "unit"),
    ("project", lambda t: project(_GANZHOU, start=t, end="2025-02", n_paths=2), "month"),
    ("Projection.capacity_at", lambda t: _SMALL.capacity_at(t, Resource.VCPU), "month"),
    ("build_problem.lifetime", lambda t: build_problem(_GANZHOU, "2027-12", lifetime=t),
     "quantity"),
    ("build_problem.when", lambda t: build_problem(_GANZHOU, t), "month"),
    ("AllocationProblem.cost_unit", lambda t: attrs.evolve(
        build_problem(_GANZHOU, "2027-12").problem, cost_unit=t), "unit"),
]


@pytest.mark.parametrize(("name", "call", "kind"), FUNCTIONS, ids=[n for n, _, _ in FUNCTIONS])
@given(text=hostile)
@example(text="10**10**10 kW")
def test_no_function_hands_pint_anything_but_plain_text(name: str, call: Callable[[str], Any],
                                                         kind: str, text: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        spy = _Spy(patch)
        try:
            value = call(text)
        except CapacityError:
            value = None
    assert all(plain_quantity(s) or plain_unit(s) for s in spy.seen), spy.seen
    number = _LEADING.match(text)
    if kind == "quantity" and isinstance(value, pint.Quantity):
        assert number is not None, text
        assert float(value.magnitude) == float(number[1])


@pytest.mark.parametrize(("cls", "name", "kind"), TEXT_FIELDS,
                         ids=[f"{c.__name__}.{n}" for c, n, _ in TEXT_FIELDS])
def test_each_text_field_reads_a_plain_example_and_refuses_arithmetic(
        cls: type, name: str, kind: str) -> None:
    good = {"quantity": f"7 {UNIT_OF.get((cls, name), 'vCPU')}", "share": "30 %",
            "month": "2025-06", "months": "6 month", "unit": "TB"}[kind]
    obj = _build(cls, name, good)
    assert _read_back(obj, cls, name) is not None
    for bad in ("1 2 3 kW", "10**10**10 kW", "2*3 kW"):
        with pytest.raises(CapacityError) as info:
            _build(cls, name, bad)
        assert any(p.path.startswith(name) for p in info.value.problems)


def test_the_examples_of_the_issue_are_refused_not_misread():
    for make in (lambda: CabinetProfile("g", it_power="1 2 3 kW", floor_area="1 m**2"),
                 lambda: Site("a", "A", grid="5 5 MW"),
                 lambda: CabinetProfile("g", it_power="10**10**10 kW", floor_area="1 m**2"),
                 lambda: DemandBlock("d", "k", "vcpu", BASE[DemandBlock]["growth"],
                                     per_unit={"storage": "1 2 TB/vCPU"}),
                 lambda: Market(prices={"vcpu": "3 3 yuan/(vCPU*hour)"}),
                 lambda: ComputeVoucher("v", rate="3 0 %", cap_per_enterprise="1 万元/year",
                                        eligible_kinds={"x"})):
        with refused("is not a quantity", ValidationError):
            make()
    with refused("is not a month", FieldError):
        month("2025-03 garbage")
    with refused("is not a unit", FieldError):
        read_unit("kW**10**10", "unit")
    with pytest.raises(FieldError):
        parse_quantity("1e400 kW", "kW", "grid")


def test_function_entry_points_read_through_the_same_reader():
    model = Linear("100 vCPU", "2025-01", "10 vCPU/year")
    with refused("is not a unit", ValidationError):
        model.magnitudes(["2025-01"], "vCPU*10**10")
    with refused("is not a quantity", ValidationError):
        target("1 2 PFLOPS_fp16 by 2027-12")
    with refused("is not a quantity", CapacityError):
        build_problem(ganzhou(), "2027-12", lifetime="1 2 year")
    with refused("is not a month", CapacityError):
        project(ganzhou(), start="2025-01 x", end="2026-01", n_paths=2)


# -- one source per field ----------------------------------------------------------------
def test_the_file_layout_is_the_classes_fields():
    # Every key a saved scenario writes for a site is a field of Site, with its spelling.
    data = scenario_to_dict(ganzhou())
    site_fields = {f.name for f in attrs.fields(Site)}
    assert all(set(s) <= site_fields for s in data["sites"])
    profile_fields = {f.name for f in attrs.fields(CabinetProfile)} - {"name"}
    assert all(set(p) <= profile_fields for p in data["profiles"].values())
    # defaults are left out, and read back as the defaults
    assert "cooling" not in data["profiles"]["cloud-general"]
    assert scenario_from_dict(data) == ganzhou()


def test_a_field_added_to_a_class_is_read_and_written_without_other_edits():
    # What "one edit" means: the reader and the writer take their keys from the class.
    @attrs.frozen
    class Feed:
        power: Any = fields.quantity("kW")
        since: Any = fields.month(optional=True)

        def __attrs_post_init__(self) -> None:
            fields.settle(self, "feed")

    from capacity.scenario_io import _converter

    feed = _converter.structure({"power": "2 MW", "since": "2025-03"}, Feed)
    assert feed == Feed("2 MW", "2025-03")
    assert _converter.unstructure(feed) == {"power": "2.0 MW", "since": "2025-03"}
    with pytest.raises(ValidationError) as info:
        _converter.structure({"power": "2 MWh", "sinse": "2025-03"}, Feed)
    assert {p.path for p in info.value.problems} == {"power", "sinse"}
    assert "did you mean 'since'?" in str(info.value)


# -- values that stay what they claim ----------------------------------------------------
def _instances() -> list[Any]:
    s = Scenario.from_toml(Path(__file__).parents[1] / "scenarios" / "ganzhou-voucher.toml")
    p = project(s, start="2025-01", end="2027-12", n_paths=8, seed=1)
    built = build_problem(s, "2027-12")
    result = allocate(built.problem, time_limit=5)
    cost = cost_policy(p)
    estate = s.estate
    out: list[Any] = [s, estate, s.plan, s.market, s.market.elasticity, *estate.sites,
                      *estate.profiles.values(), *estate.reported.values(), *s.plan.projects,
                      *(pr.slippage for pr in s.plan.projects), *s.demands,
                      *(d.growth for d in s.demands), *s.policies, *s.notes,
                      p, p.pools, p.uses, p.short, built, built.problem, result, cost,
                      p.cabinets_needed("smart-ai", 0.05), *p.exhaustion(0.5)]
    return out


def _mutations(obj: Any) -> Iterator[tuple[str, Callable[[], None]]]:
    for f in attrs.fields(type(obj)):
        value = getattr(obj, f.name)

        def set_field(name: str = f.name) -> None:
            setattr(obj, name, None)

        yield f"{type(obj).__name__}.{f.name} =", set_field
        if isinstance(value, np.ndarray) and value.size:
            def write(a: np.ndarray = value) -> None:
                a.flat[0] = 0
            yield f"{type(obj).__name__}.{f.name}[0] =", write
        if isinstance(value, (dict, fields.FrozenMap)):
            def put(m: Any = value) -> None:
                m["x"] = 1
            yield f"{type(obj).__name__}.{f.name}['x'] =", put
            for k, v in value.items():
                if isinstance(v, np.ndarray) and v.size:
                    def write_in(a: np.ndarray = v) -> None:
                        a.flat[0] = 0
                    yield f"{type(obj).__name__}.{f.name}[{k!r}][0] =", write_in


def test_no_public_value_or_result_can_be_changed():
    tried = 0
    for obj in _instances():
        for what, mutate in _mutations(obj):
            try:
                mutate()
            except (attrs.exceptions.FrozenInstanceError, TypeError, ValueError):
                tried += 1
            else:
                pytest.fail(f"{what} changed a frozen value")
    assert tried > 200


def test_no_field_holds_a_type_other_than_its_annotation():
    s = ganzhou()
    for block in s.demands:
        g = block.growth
        for name in ("at", "midpoint", "anchor"):
            if hasattr(g, name):
                assert isinstance(getattr(g, name), np.datetime64)
    compound = Compound("1 vCPU", "2025-01", "12 %")
    assert isinstance(compound.rate, float)
    assert compound.rate == pytest.approx(0.12)
    assert isinstance(s.estate.sites[0].cabinets, fields.FrozenMap)
    assert isinstance(s.demands[0].eligible, frozenset)


def test_the_estate_cache_cannot_go_stale():
    estate = ganzhou().estate
    with pytest.raises(TypeError):
        estate.sites[0].cabinets["cloud-general"] = 10_000  # type: ignore[index]
    assert estate.total(Resource.CABINETS) == Q_(451, "cabinet")
    assert sum(s.n_cabinets for s in estate.sites) == 451


# -- validation once, the same from Python and from files --------------------------------
def test_duplicate_demand_names_are_refused_from_python_as_from_files():
    s = ganzhou()
    with pytest.raises(ValidationError) as info:
        attrs.evolve(s, demands=(*s.demands, s.demands[0]))
    assert [(p.path, p.reason) for p in info.value.problems] == [
        (f"demands[{len(s.demands)}].name", "duplicate demand block name")]
    data = scenario_to_dict(s)
    data["demands"].append(data["demands"][0])
    with refused(r"demands\[4\].name: duplicate demand block", ValidationError):
        scenario_from_dict(data)


def test_documented_zero_spread_round_trips():
    s = ganzhou()
    model = Linear("100 vCPU", "2025-01", "10 vCPU/year", slope_sd=0)
    block = attrs.evolve(s.demands[0], growth=model)
    varied = attrs.evolve(s, demands=(block, *s.demands[1:]))
    back = scenario_from_dict(scenario_to_dict(varied))
    assert back == varied
    assert back.demands[0].growth.slope_sd == Q_(0, "vCPU/year")


def test_a_spread_of_delay_needs_a_positive_mean():
    assert Slippage(0, 0).draw(3, np.random.default_rng(0)).tolist() == [0, 0, 0]
    with refused("needs a positive mean", ValidationError):
        Slippage(0, 3)
    delays = Slippage(0.5, 3).draw(10_000, np.random.default_rng(0))
    assert delays.mean() == pytest.approx(0.5, abs=0.1)


def test_every_rule_is_the_same_from_python_and_from_a_file(tmp_path):
    # The same bad site, built in Python and read from a file, gives the same problems.
    bad = {"id": "a b", "name": "A", "pue": 0.9, "grid": "5 5 MW", "status": "operatin",
           "cabinets": {"general": -1}}
    with pytest.raises(ValidationError) as python:
        Site(**bad)
    data = {"name": "s", "profiles": {"general": {"it_power": "5 kW", "floor_area": "1 m**2"}},
            "sites": [bad]}
    with pytest.raises(ValidationError) as file:
        scenario_from_dict(data, source="f.toml")
    from_python = {(p.path, p.reason) for p in python.value.problems}
    from_file = {(p.path.removeprefix("f.toml: sites[0]."), p.reason)
                 for p in file.value.problems}
    assert from_python == from_file
    assert {p for p, _ in from_python} == {"id", "pue", "grid", "status", "cabinets.general"}
    assert "did you mean 'operating'?" in str(python.value)


# -- one path syntax ---------------------------------------------------------------------
def test_paths_parse_and_join_back():
    for text in ("sites[2].pue", "sites[tianyi-huawei].pue", "market.load_factor",
                 "plan.projects[smart-computing-centre].slippage.mean",
                 'market.green_share."a.b"', "profiles.smart-ai.compute.fp16"):
        assert join(*parse(text)) == text
    assert parse("sites[2].pue") == ("sites", Item(2), "pue")
    for bad in ("", "[2].pue", "sites..pue", "sites[2]pue", ".sites"):
        with refused("field path", FieldError):
            parse(bad)


def test_error_assumption_and_sweep_paths_are_one_syntax():
    s = ganzhou()
    # an error names a site by position; the same path (or one by id) varies it
    with pytest.raises(ValidationError) as info:
        vary(s, "sites[1].pue", 0.9)
    assert [p.path for p in info.value.problems] == ["sites[1].pue"]
    assert vary(s, "sites[1].pue", 1.2) == vary(s, f"sites[{s.estate.sites[1].id}].pue", 1.2)
    # every figure an assumption names can be varied by that very path
    named = [a for a in s.assumptions() if a.field.split(".")[0].split("[")[0] in
             {"sites", "profiles", "plan", "demands", "policies", "market", "reported"}]
    assert len(named) >= 10
    for a in named:
        parts = parse(a.field)
        current: Any = s if parts[0] not in ("sites", "profiles", "reported") else s.estate
        for part in parts:
            if isinstance(part, Item):
                current = next(x for x in current
                               if getattr(x, "id", None) == part.key or x.name == part.key)
            elif isinstance(current, fields.FrozenMap | dict):
                current = current[part]
            else:
                current = getattr(current, part)
        assert vary(s, a.field, current) == s, a.field
    with refused("pick an element", FieldError):
        vary(s, "sites.tianyi-huawei.pue", 1.2)


def test_magnitudes_are_bounded_and_finite():
    with refused("absurdly large", ValidationError):
        Site("a", "A", grid="1e20 kW")
    with refused("must be finite", ValidationError):
        Site("a", "A", pue=math.inf)


# -- what a bad-input hunt found: each a clear error with its path, nothing kept silently --
def _problems_of(make: Callable[[], Any]) -> dict[str, str]:
    with pytest.raises(CapacityError) as info:
        make()
    error = info.value
    problems = error.problems if isinstance(error, ValidationError) else (error,)
    return {p.path: p.reason for p in problems}


def test_odd_python_values_are_field_problems_not_tracebacks():
    cases: list[tuple[Callable[[], Any], str, str]] = [
        (lambda: Site("s", "S", pue=10**400), "pue", "absurdly large"),
        (lambda: CabinetProfile("p", it_power=Q_(np.array([8.0, 9.0]), "kW"),
                                floor_area="1 m**2"), "it_power", "one real amount"),
        (lambda: CabinetProfile("p", it_power=Q_(8 + 1j, "kW"), floor_area="1 m**2"),
         "it_power", "real amount"),
        (lambda: Compound("100 vCPU", "2025-01", "12"), "rate", "percent sign"),
        (lambda: CabinetProfile("p", it_power="8 kW %", floor_area="1 m**2"), "it_power",
         "'%' is a unit on its own"),
        (lambda: Fitted("linear", "2025-01", "vCPU", ["1", True], [[1, 0], [0, 1]]),
         "estimate", "plain numbers"),
        (lambda: Fitted("linear", "2025-01", "vCPU", [1.0, 1.0], [[1, 5], [0, 1]]),
         "covariance", "positive semi-definite"),
        (lambda: DemandBlock("d", "k", "vcpu", BASE[DemandBlock]["growth"],
                             per_unit={"vcpu": "2 vCPU/vCPU"}), "per_unit.vcpu", "own resource"),
        (lambda: Site("a]b", "S"), "id", "brackets"),
    ]
    for make, path, reason in cases:
        problems = _problems_of(make)
        assert reason in problems.get(path, ""), (path, problems)


def test_keys_that_read_the_same_are_refused_not_collapsed():
    problems = _problems_of(lambda: CabinetProfile(
        "p", it_power="8 kW", floor_area="1 m**2",
        compute={"fp16": "1 PFLOPS_fp16", "FP16": "9 PFLOPS_fp16"}))
    assert "duplicate key" in problems["compute.fp16"]
    problems = _problems_of(lambda: Market(prices={"vcpu": "1 yuan/vCPU/month",
                                                   "VCPU": "9 yuan/vCPU/month"}))
    assert "duplicate key" in problems["prices.vcpu"]


def test_a_frozen_amount_keeps_a_float_magnitude():
    p = CabinetProfile("p", it_power=Q_(np.array(8.0), "kW"), floor_area="1 m**2")
    assert type(p.it_power.magnitude) is float


def test_reported_problems_keep_their_key():
    problems = _problems_of(lambda: Estate(sites=(), profiles={}, reported={
        "cabinets": {"value": "1 cabinet"}, "vcpu": 3}))
    assert set(problems) == {"reported.cabinets.value", "reported.vcpu.value"}


def test_file_shape_mistakes_are_named_where_they_are():
    base = scenario_to_dict(ganzhou())
    cases = [({"sites": {"s": {"id": "s", "name": "S"}}}, "sites", "array of tables"),
             ({"sites": "x"}, "sites", "array of tables"),
             ({"profiles": [1]}, "profiles", "expected a table"),
             ({"schema": True}, "schema", "reads schema 1")]
    for change, path, reason in cases:
        with pytest.raises(ValidationError) as info:
            scenario_from_dict({**base, **change}, source="f")
        found = {p.path.removeprefix("f: "): p.reason for p in info.value.problems}
        assert reason in found.get(path, ""), (change, found)
    data = scenario_to_dict(ganzhou())
    data["demands"][0]["growth"]["kind"] = ["compound"]
    data["sites"][0]["provenance"]["pue"].pop("note")
    with pytest.raises(ValidationError) as info:
        scenario_from_dict(data, source="f")
    found = {p.path.removeprefix("f: "): p.reason for p in info.value.problems}
    # an item with an id is named by it, as a reader finds it in the file
    assert "must be one of" in found["demands[government-cloud].growth.kind"]
    assert found["sites[tianyi-huawei].provenance.pue.note"] == "is required"
    with refused("unknown key", ValidationError):
        scenario_from_dict({1: 2})  # type: ignore[dict-item]


def test_vary_reaches_what_errors_name_and_refuses_the_rest():
    s = ganzhou()
    fp16 = vary(s, "profiles.smart-ai.compute.fp16", "1 PFLOPS_fp16")
    assert next(iter(fp16.estate.profiles["smart-ai"].compute.values())) == Q_(1, "PFLOPS_fp16")
    ai = "demands[enterprise-ai]"
    for path, value, where in ((f"{ai}.scale", "x", f"{ai}.scale"),
                               (f"{ai}.scale", 1e300, f"{ai}.growth.points[1].value"),
                               ("market.green_share.nowhere", 0.5, "market.green_share.nowhere")):
        assert where in _problems_of(lambda p=path, v=value: vary(s, p, v))
    for path in ("demands[0]._ratios", 3, "sites[ ].pue"):
        with pytest.raises(FieldError):
            vary(s, path, 1)  # type: ignore[arg-type]
