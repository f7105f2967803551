"""Scenario files: a :class:`~capacity.scenario.Scenario` as TOML, read and written exactly.

A scenario file is plain data. Every amount with a unit is a ``"value unit"`` string
(``"8.0 kW"``, ``"315000.0 万元"``, ``"130.0 PFLOPS_fp16"``), months are ``"YYYY-MM"``
strings, and every figure may carry its provenance. :func:`write_file` writes
magnitudes with ``repr(float)``, so loading a saved file gives back an equal scenario.

The layout mirrors the field paths the domain classes report::

    schema = 1
    name = "ganzhou-baseline"
    description = "..."
    estate = "Ganzhou municipal clouds"          # the estate's name

    [[notes]]                                    # scenario-wide assumptions
    field = "estate.split"
    kind = "assumption"
    note = "split pro rata by cabinets"

    [profiles.smart-ai]                          # cabinet profiles, keyed by name
    it_power = "8.0 kW"
    floor_area = "12.0 m**2"
    compute = { fp16 = "0.65 PFLOPS_fp16" }
    kind = "ai"
    [profiles.smart-ai.provenance.it_power]
    kind = "assumption"
    note = "8 kW: ..."
    reference = "S13, S17"

    [[sites]]
    id = "tianyi-huawei"
    name = "天翼华为云"
    cabinets = { cloud-general = 104 }
    pue = 1.5
    tags = ["general", "government-cloud"]

    [reported.cabinets]                          # totals as a source states them
    value = "451.0 cabinet"
    provenance = { kind = "source", note = "letter, §I.2" }

    [[plan.sites]]                               # sites the plan builds
    [[plan.projects]]
    name = "smart-computing-centre"
    site = "smart-computing-centre"
    cabinets = { smart-ai = 200 }
    start = "2025-03"
    completion = "2027-09"
    slippage = { mean = 2.0, sd = 2.0 }

    [[demands]]
    name = "government-cloud"
    kind = "government-cloud"
    resource = "vcpu"
    per_unit = { storage = "0.12 TB/vCPU" }
    [demands.growth]
    kind = "compound"                            # linear, compound, logistic, milestones,
    start = "27600.0 vCPU"                       # or fitted
    at = "2025-01"
    rate = "12.0 %"

Reading never executes anything from the file: unit strings must match a plain
``number unit`` grammar before pint's parser sees them, which also keeps out strings
pint would choke on (``"10**10**10 kW"`` would compute for ever).

Errors
------
:func:`read_file` and :func:`from_dict` raise one
:class:`~capacity.errors.ValidationError` listing every problem in the file. Each
problem is a :class:`~capacity.errors.FieldError` whose ``path`` is the file (or the
`source` given) and the field path, ``"ganzhou.toml: sites[2].pue"``, so its message
reads ``ganzhou.toml: sites[2].pue: must be finite and at least 1 (got 0.9)``. Syntax
errors name the line and column, ``"ganzhou.toml: line 3, column 8"``. Problems within
each value are reported together; references between values (a site's or project's
profile, a project's site) are checked once the values they join are themselves valid.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

import attrs
import numpy as np
import pint
import tomli_w

from capacity.demand import DemandBlock
from capacity.errors import FieldError, Problems, ValidationError
from capacity.growth import Compound, Fitted, GrowthModel, Linear, Logistic, Milestones
from capacity.instruments import (
    ComputeVoucher,
    ConstructionSubsidy,
    Elasticity,
    ElectricitySubsidy,
    Instrument,
    Market,
)
from capacity.inventory import CabinetProfile, Estate, Reported, Site, Status
from capacity.months import MonthLike, month
from capacity.plan import Plan, Project, Slippage
from capacity.provenance import Assumption, Kind, Provenance
from capacity.resources import Resource
from capacity.units import (
    Q_,
    Precision,
    Quantity,
    parse_quantity,
    plain_quantity,
    plain_unit,
    ureg,
)

__all__ = [
    "MAX_MAGNITUDE",
    "SCHEMA",
    "from_dict",
    "read_file",
    "to_dict",
    "write_file",
]

#: Version of the file layout :func:`write_file` writes and :func:`read_file` reads.
SCHEMA = 1

#: Largest magnitude any figure may have, in the unit of its field (1e15 cabinets, kW,
#: yuan, ...): larger is a typo or a unit slip, never a city's estate.
MAX_MAGNITUDE = 1e15

_T = TypeVar("_T")
_E = TypeVar("_E", bound=enum.Enum)
S = TypeVar("S")


class _ScenarioLike(Protocol):
    """What the writer reads of a scenario (:class:`capacity.Scenario` is one).

    The format sits below the scenario class (imports flow downward only), so the class
    is passed in to the reader as its factory and read back here through this protocol.
    """

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def estate(self) -> Estate: ...
    @property
    def plan(self) -> Plan: ...
    @property
    def demands(self) -> tuple[DemandBlock, ...]: ...
    @property
    def policies(self) -> tuple[Instrument, ...]: ...
    @property
    def market(self) -> Market: ...
    @property
    def notes(self) -> tuple[Assumption, ...]: ...

# ---------------------------------------------------------------- writing


def _unit_text(unit: pint.Unit) -> str:
    text = f"{unit:~C}"
    # pint writes a pure reciprocal as "1/yr"; after a magnitude that reads as two numbers.
    return "/" + text[2:] if text.startswith("1/") else text


def _quantity_text(q: Quantity) -> str:
    unit = _unit_text(ureg.Unit(q.units))
    number = repr(float(q.magnitude))
    return f"{number} {unit}" if unit else number


def _ratio_value(q: Quantity | float) -> float | str:
    # A plain ratio stays a TOML number; one with a unit (percent) keeps its unit.
    if isinstance(q, pint.Quantity):
        return _quantity_text(q) if _unit_text(ureg.Unit(q.units)) else float(q.magnitude)
    return float(q)


def _months_value(value: float | Quantity) -> float | str:
    # Spreads in months may be a bare number of months or a [time] quantity; each is
    # written as given so it reads back equal.
    return _quantity_text(value) if isinstance(value, pint.Quantity) else value


def _month_text(value: MonthLike) -> str:
    return str(month(value))


def _provenance_dict(p: Provenance) -> dict[str, str]:
    out = {"kind": p.kind.value, "note": p.note}
    if p.reference:
        out["reference"] = p.reference
    return out


def _provenances(value: Mapping[str, Provenance]) -> dict[str, dict[str, str]]:
    return {field: _provenance_dict(p) for field, p in value.items()}


def _drop_empty(data: dict[str, Any], *required: str) -> dict[str, Any]:
    # None has no TOML spelling, and empty optional values are the defaults anyway;
    # required keys stay even when empty ("" is a valid name).
    return {k: v for k, v in data.items()
            if k in required or (v is not None and v != "" and v != {} and v != [])}


def _profile_dict(p: CabinetProfile) -> dict[str, Any]:
    return _drop_empty({
        "it_power": _quantity_text(p.it_power),
        "floor_area": _quantity_text(p.floor_area),
        "vcpu": _quantity_text(p.vcpu),
        "storage": _quantity_text(p.storage),
        "compute": {k.name.lower(): _quantity_text(q) for k, q in p.compute.items()},
        "kind": p.kind,
        "cooling": p.cooling,
        "capex": None if p.capex is None else _quantity_text(p.capex),
        "provenance": _provenances(p.provenance),
    })


def _site_dict(s: Site) -> dict[str, Any]:
    return _drop_empty({
        "id": s.id,
        "name": s.name,
        "name_en": s.name_en,
        "operator": s.operator,
        "cabinets": dict(s.cabinets),
        "pue": s.pue,
        "grid": None if s.grid is None else _quantity_text(s.grid),
        "electricity_price": (None if s.electricity_price is None
                              else _quantity_text(s.electricity_price)),
        "status": s.status.value,
        "commissioned": None if s.commissioned is None else _month_text(s.commissioned),
        "region": s.region,
        "tags": sorted(s.tags),
        "provenance": _provenances(s.provenance),
    }, "id", "name")


def _project_dict(p: Project) -> dict[str, Any]:
    return _drop_empty({
        "name": p.name,
        "site": p.site,
        "cabinets": dict(p.cabinets),
        "start": _month_text(p.start),
        "completion": _month_text(p.completion),
        "ramp": p.ramp.value,
        "slippage": {"mean": p.slippage.mean, "sd": p.slippage.sd},
        "capex": None if p.capex is None else _quantity_text(p.capex),
        "status": p.status.value,
        "target": None if p.target is None else _quantity_text(p.target),
        "target_by": None if p.target_by is None else _month_text(p.target_by),
        "provenance": _provenances(p.provenance),
    }, "name", "site")


def _growth_dict(g: GrowthModel, path: str) -> dict[str, Any]:
    if isinstance(g, Linear):
        return _drop_empty({
            "kind": "linear", "start": _quantity_text(g.start), "at": _month_text(g.at),
            "slope": _quantity_text(g.slope),
            "slope_sd": None if g.slope_sd is None else _quantity_text(Q_(g.slope_sd)),
        })
    if isinstance(g, Compound):
        return {"kind": "compound", "start": _quantity_text(g.start), "at": _month_text(g.at),
                "rate": _ratio_value(g.rate), "rate_sd": _ratio_value(g.rate_sd)}
    if isinstance(g, Logistic):
        return {"kind": "logistic", "ceiling": _quantity_text(g.ceiling),
                "midpoint": _month_text(g.midpoint), "rate": _quantity_text(g.rate),
                "floor": _quantity_text(Q_(g.floor)),
                "ceiling_sd": _quantity_text(Q_(g.ceiling_sd)),
                "midpoint_sd_months": _months_value(g.midpoint_sd_months)}
    if isinstance(g, Milestones):
        return {"kind": "milestones",
                "points": [{"month": _month_text(m), "value": _quantity_text(q)}
                           for m, q in g.points],
                "interpolation": g.interpolation, "before": g.before,
                "rel_sd": _ratio_value(g.rel_sd),
                "delay_sd_months": _months_value(g.delay_sd_months)}
    if isinstance(g, Fitted):
        return {"kind": "fitted", "curve": g.kind, "anchor": _month_text(g.anchor),
                "unit": _unit_text(g.unit), "estimate": [float(x) for x in g.estimate],
                "covariance": [[float(x) for x in row] for row in g.covariance]}
    raise ValidationError("scenario cannot be written", [FieldError(
        path, "is a growth model scenario files do not know (linear, compound, logistic, "
        "milestones, fitted)", type(g).__name__)])


def _demand_dict(d: DemandBlock, path: str) -> dict[str, Any]:
    return _drop_empty({
        "name": d.name,
        "kind": d.kind,
        "resource": d.resource.name.lower(),
        "per_unit": {r.name.lower(): _quantity_text(q) for r, q in d.per_unit.items()},
        "eligible": sorted(d.eligible),
        "value": None if d.value is None else _quantity_text(d.value),
        "growth": _growth_dict(d.growth, f"{path}.growth"),
        "provenance": _provenances(d.provenance),
    }, "name", "kind")


# Instruments by their ``type`` in a file, and how each field is written and read:
# "quantity" (any unit; the instrument checks the dimension), "ratio", "number", "month",
# "strings".
_INSTRUMENTS: dict[str, tuple[type, dict[str, str]]] = {
    "voucher": (ComputeVoucher, {
        "rate": "ratio", "cap_per_enterprise": "quantity", "annual_budget": "quantity",
        "eligible_kinds": "strings", "start": "month", "end": "month",
        "min_claim": "quantity"}),
    "electricity": (ElectricitySubsidy, {
        "amount": "quantity", "years": "number", "start": "month", "end": "month",
        "max_pue": "number", "min_green_share": "ratio", "annual_budget": "quantity",
        "eligible_tags": "strings"}),
    "construction": (ConstructionSubsidy, {
        "per_cabinet": "quantity", "share_of_capex": "ratio", "cap": "quantity",
        "eligible_tags": "strings"}),
}
_REQUIRED = {"voucher": ("rate", "cap_per_enterprise"), "electricity": ("amount",),
             "construction": ()}


def _write_field(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "quantity":
        return _quantity_text(value)
    if kind == "ratio":
        return _ratio_value(value)
    if kind == "month":
        return _month_text(value)
    if kind == "strings":
        return sorted(value)
    return value


def _instrument_dict(pol: Instrument) -> dict[str, Any]:
    kind = next(k for k, (cls, _) in _INSTRUMENTS.items() if isinstance(pol, cls))
    fields = _INSTRUMENTS[kind][1]
    return _drop_empty({"type": kind, "name": pol.name,
                        **{f: _write_field(how, getattr(pol, f)) for f, how in fields.items()},
                        "provenance": _provenances(pol.provenance)}, "type", "name")


def _market_dict(m: Market) -> dict[str, Any]:
    return _drop_empty({
        "prices": {k: _quantity_text(v) for k, v in m.prices.items()},
        "elasticity": {"value": m.elasticity.value,
                       "provenance": _provenance_dict(m.elasticity.provenance)},
        "enterprises": m.enterprises,
        "load_factor": m.load_factor,
        "idle_share": m.idle_share,
        "green_share": dict(m.green_share),
        "provenance": _provenances(m.provenance),
    })


def to_dict(scenario: _ScenarioLike) -> dict[str, Any]:
    """The scenario as plain TOML-ready data (strings, numbers, lists, tables).

    Parameters
    ----------
    scenario
        The scenario to write.

    Returns
    -------
    dict
        The document :func:`from_dict` reads back into an equal scenario.

    Raises
    ------
    ValidationError
        If a demand uses a growth model of a kind the file format does not know.
    """
    estate = scenario.estate
    out: dict[str, Any] = {
        "schema": SCHEMA,
        "name": scenario.name,
        "description": scenario.description,
        "estate": estate.name,
        "notes": [{"field": a.field, **_provenance_dict(a.provenance)} for a in scenario.notes],
        "profiles": {name: _profile_dict(p) for name, p in estate.profiles.items()},
        "sites": [_site_dict(s) for s in estate.sites],
        "reported": {r.name.lower(): {"value": _quantity_text(rep.value),
                                      "provenance": _provenance_dict(rep.provenance)}
                     for r, rep in estate.reported.items()},
        "plan": _drop_empty({"sites": [_site_dict(s) for s in scenario.plan.sites],
                             "projects": [_project_dict(p) for p in scenario.plan.projects]}),
        "demands": [_demand_dict(d, f"demands[{i}]") for i, d in enumerate(scenario.demands)],
        "policies": [_instrument_dict(p) for p in scenario.policies],
        "market": _market_dict(scenario.market),
    }
    return _drop_empty(out, "name", "estate", "profiles", "sites")


def write_file(scenario: _ScenarioLike, path: str | os.PathLike[str]) -> None:
    """Write a scenario to a TOML file that :func:`read_file` reads back equal.

    Parameters
    ----------
    scenario
        The scenario to write.
    path
        The file to write (UTF-8); replaced if it exists.
    """
    text = tomli_w.dumps(to_dict(scenario))
    header = f"# capacity scenario file (schema {SCHEMA}); written by capacity.save_scenario\n\n"
    Path(path).write_text(header + text, encoding="utf-8")


# ---------------------------------------------------------------- reading

_MONTH = re.compile(r"\d{4}-\d{2}")



def _toml_type(value: object) -> str:
    kinds: tuple[tuple[type, str], ...] = (
        (bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"),
        (list, "an array"), (dict, "a table"), (dt.datetime, "a date-time"),
        (dt.date, "a date"), (dt.time, "a time"))
    return next((name for t, name in kinds if isinstance(value, t)), type(value).__name__)


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Reader:
    """Reads one scenario document, recording every problem with its field path.

    Each ``read`` method returns the value ready for the domain constructor, or None after
    recording why it is not; the constructors then check values, and their problems are
    recorded under the path of the value being built.
    """

    def __init__(self) -> None:
        self.problems = Problems("scenario")

    def add(self, path: str, reason: str, value: object = None) -> None:
        self.problems.add(path, reason, value)

    # -- structure -------------------------------------------------------------------
    def table(self, value: object, path: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.add(path, f"expected a table, not {_toml_type(value)}", value)
        return None

    def array(self, value: object, path: str) -> list[Any] | None:
        if isinstance(value, list):
            return value
        self.add(path, f"expected an array, not {_toml_type(value)}", value)
        return None

    def keys(self, table: Mapping[str, Any], path: str, required: Iterable[str],
             optional: Iterable[str] = ()) -> bool:
        """Reject unknown keys (suggesting the closest) and report missing ones.

        Returns True when every required key is present.
        """
        required = tuple(required)
        allowed = (*required, *optional)
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = (f"did you mean {close[0]!r}?" if close
                        else f"expected one of {', '.join(allowed)}")
                self.add(_at(path, key), f"unknown key; {hint}")
        missing = [k for k in required if k not in table]
        for key in missing:
            self.add(_at(path, key), "is required")
        return not missing

    def build(self, factory: Callable[..., _T], path: str, /, *args: Any,
              **kwargs: Any) -> _T | None:
        """Call a domain constructor, recording its problems under `path`."""
        try:
            return factory(*args, **kwargs)
        except ValidationError as error:
            self.problems.absorb(error, path)
        except FieldError as error:
            self.problems.extend([error], path)
        return None

    # -- scalars ---------------------------------------------------------------------
    def string(self, value: object, path: str) -> str | None:
        if isinstance(value, str):
            return value
        self.add(path, f"expected a string, not {_toml_type(value)}", value)
        return None

    def strings(self, value: object, path: str) -> list[str] | None:
        items = self.array(value, path)
        if items is None:
            return None
        good = [self.string(v, _at(path, i)) for i, v in enumerate(items)]
        return [s for s in good if s is not None] if len(good) == len(items) else None

    def number(self, value: object, path: str) -> float | int | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(path, f"expected a number, not {_toml_type(value)}", value)
            return None
        if not math.isfinite(value):
            self.add(path, "must be finite", value)
            return None
        if abs(value) > MAX_MAGNITUDE:
            self.add(path, f"is absurdly large (more than {MAX_MAGNITUDE:g})", value)
            return None
        return value

    def count(self, value: object, path: str) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"expected a whole number, not {_toml_type(value)}", value)
            return None
        if not 0 <= value <= MAX_MAGNITUDE:
            reason = "must not be negative" if value < 0 else \
                f"is absurdly large (more than {MAX_MAGNITUDE:g})"
            self.add(path, reason, value)
            return None
        return value

    def month(self, value: object, path: str) -> np.datetime64 | None:
        if not isinstance(value, str) or not _MONTH.fullmatch(value.strip()):
            self.add(path, "is not a month (write it as 'YYYY-MM')", value)
            return None
        try:
            return month(value, path)
        except FieldError as error:
            self.problems.extend([error])
            return None

    def unit(self, value: object, path: str) -> pint.Unit | None:
        text = self.string(value, path)
        if text is None:
            return None
        if not plain_unit(text):
            self.add(path, "is not a unit", text)
            return None
        try:
            return ureg.Unit(text)
        except Exception as exc:  # pint raises many kinds; none may escape as a traceback
            self.add(path, f"is not a unit: {exc}", text)
            return None

    def quantity(self, value: object, unit: str | pint.Unit | None,
                 path: str) -> Quantity | None:
        """A ``"value unit"`` string, of `unit`'s dimension when `unit` is given."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            example = f"'{value} {unit:~P}'" if isinstance(unit, pint.Unit) else \
                f"'{value} {unit}'" if unit else "'5 kW'"
            self.add(path, f"has no unit; write it as a string such as {example}", value)
            return None
        text = self.string(value, path)
        if text is None:
            return None
        if not plain_quantity(text) or not text.strip():
            self.add(path, "is not a quantity (write '<number> <unit>', e.g. '8 kW')", text)
            return None
        try:
            q: Quantity = Q_(text)
        except Exception as exc:  # pint raises many kinds; none may escape as a traceback
            self.add(path, f"cannot be read as a quantity: {exc}", text)
            return None
        if not isinstance(q, pint.Quantity):  # a bare number in a string
            q = Q_(q)
        try:
            q = parse_quantity(q, unit if unit is not None else ureg.Unit(q.units), path)
        except FieldError as error:
            self.problems.extend([error])
            return None
        size = abs(float(q.m_as(unit))) if unit is not None else abs(float(q.magnitude))
        if size > MAX_MAGNITUDE:
            shown = f"{q.units:~P}" if unit is None else f"{ureg.Unit(unit):~P}"
            self.add(path, f"is absurdly large (more than {MAX_MAGNITUDE:g} {shown})", text)
            return None
        return q

    def ratio(self, value: object, path: str) -> Quantity | float | None:
        """A dimensionless figure: a number, or a string such as ``"12 %"``."""
        if isinstance(value, str):
            return self.quantity(value, ureg.dimensionless, path)
        return self.number(value, path)

    def months_spread(self, value: object, path: str) -> Quantity | float | None:
        """A duration in months: a number of months, or a ``[time]`` string."""
        if isinstance(value, str):
            return self.quantity(value, "month", path)
        return self.number(value, path)

    def choice(self, value: object, path: str, kinds: type[_E]) -> _E | None:
        text = self.string(value, path)
        if text is None:
            return None
        try:
            return kinds(text)
        except ValueError:
            names = [str(e.value) for e in kinds]
            close = difflib.get_close_matches(text, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.add(path, f"must be one of {', '.join(names)}{hint}", text)
            return None

    # -- provenance ------------------------------------------------------------------
    def provenance(self, value: object, path: str) -> Provenance | None:
        table = self.table(value, path)
        if table is None or not self.keys(table, path, ("kind", "note"), ("reference",)):
            return None
        return self._provenance(table, path)

    def _provenance(self, table: Mapping[str, Any], path: str) -> Provenance | None:
        kind = self.choice(table["kind"], _at(path, "kind"), Kind)
        note = self.string(table["note"], _at(path, "note"))
        if note is not None and not note.strip():
            self.add(_at(path, "note"), "must not be empty", note)
            note = None
        reference = self.string(table.get("reference", ""), _at(path, "reference"))
        if kind is None or note is None or reference is None:
            return None
        return Provenance(kind, note, reference)

    def provenances(self, table: Mapping[str, Any], path: str,
                    fields: Iterable[str]) -> dict[str, Provenance]:
        """The optional ``provenance`` table of a value: one entry per field it documents."""
        where = _at(path, "provenance")
        raw = self.table(table.get("provenance", {}), where)
        if raw is None:
            return {}
        self.keys({k: v for k, v in raw.items()}, where, (), fields)
        out = {}
        for field, value in raw.items():
            if field in fields:
                p = self.provenance(value, _at(where, field))
                if p is not None:
                    out[field] = p
        return out


def _fields(cls: Any) -> tuple[str, ...]:
    # The fields a provenance table may document: the public init fields but provenance.
    return tuple(f.name for f in attrs.fields(cls) if f.init and f.name != "provenance")


def _built(r: _Reader, cls: Callable[..., _T], table: Mapping[str, Any], path: str, ok: bool,
           args: tuple[Any, ...], kwargs: dict[str, Any]) -> _T | None:
    """Read a value's provenance table, then build it if its required fields were read."""
    provenance = r.provenances(table, path, _fields(cls))
    return r.build(cls, path, *args, provenance=provenance, **kwargs) if ok else None


def _optional(reader: _Reader, table: Mapping[str, Any], key: str,
              read: Callable[[object, str], _T | None], path: str) -> dict[str, _T]:
    """``{key: value}`` when the key is present and readable, else empty (its default)."""
    if key not in table:
        return {}
    value = read(table[key], _at(path, key))
    return {} if value is None else {key: value}


_PROFILE_KEYS = ("vcpu", "storage", "compute", "kind", "cooling", "capex", "provenance")
_PROFILE_UNITS = {"it_power": "kW", "floor_area": "m**2", "vcpu": "vCPU", "storage": "TB",
                  "capex": "yuan"}


def _profile(r: _Reader, name: str, value: object, path: str) -> CabinetProfile | None:
    table = r.table(value, path)
    if table is None:
        return None
    ok = r.keys(table, path, ("it_power", "floor_area"), _PROFILE_KEYS)
    kwargs: dict[str, Any] = {}
    for key, unit in _PROFILE_UNITS.items():
        if key in table:
            q = r.quantity(table[key], unit, _at(path, key))
            kwargs |= {} if q is None else {key: q}
    ok = ok and "it_power" in kwargs and "floor_area" in kwargs
    if "compute" in table:
        compute = r.table(table["compute"], _at(path, "compute"))
        kwargs["compute"] = {}
        for key, v in (compute or {}).items():
            here = _at(_at(path, "compute"), key)
            try:
                precision = Precision[key.strip().upper()]
            except KeyError:
                names = [p.name.lower() for p in Precision]
                r.add(here, f"unknown precision; use {', '.join(names)}", key)
                continue
            q = r.quantity(v, Resource.compute(precision).unit, here)
            if q is not None:
                kwargs["compute"][precision] = q
    for key in ("kind", "cooling"):
        kwargs |= _optional(r, table, key, r.string, path)
    return _built(r, CabinetProfile, table, path, ok, (name,), kwargs)


_SITE_KEYS = ("cabinets", "operator", "name_en", "pue", "grid", "electricity_price", "status",
              "commissioned", "region", "tags", "provenance")


def _counts(r: _Reader, value: object, path: str) -> dict[str, int] | None:
    table = r.table(value, path)
    if table is None:
        return None
    counts = {k: r.count(v, _at(path, k)) for k, v in table.items()}
    return {k: n for k, n in counts.items() if n is not None}


def _site(r: _Reader, value: object, path: str) -> Site | None:
    table = r.table(value, path)
    if table is None:
        return None
    ok = r.keys(table, path, ("id", "name"), _SITE_KEYS)
    kwargs: dict[str, Any] = {}
    for key in ("id", "name", "operator", "name_en", "region"):
        kwargs |= _optional(r, table, key, r.string, path)
    ok = ok and "id" in kwargs and "name" in kwargs
    kwargs |= _optional(r, table, "cabinets", lambda v, p: _counts(r, v, p), path)
    kwargs |= _optional(r, table, "pue", r.number, path)
    kwargs |= _optional(r, table, "grid", lambda v, p: r.quantity(v, "kW", p), path)
    kwargs |= _optional(r, table, "electricity_price",
                        lambda v, p: r.quantity(v, "yuan/kWh", p), path)
    kwargs |= _optional(r, table, "status", lambda v, p: r.choice(v, p, Status), path)
    kwargs |= _optional(r, table, "commissioned", r.month, path)
    kwargs |= _optional(r, table, "tags", r.strings, path)
    return _built(r, Site, table, path, ok, (), kwargs)


def _items(r: _Reader, value: object, path: str,
           read: Callable[[_Reader, object, str], _T | None]) -> list[_T] | None:
    """Read an array item by item; None when it or any item is bad."""
    items = r.array(value, path)
    if items is None:
        return None
    out = [read(r, v, _at(path, i)) for i, v in enumerate(items)]
    good = [x for x in out if x is not None]
    return good if len(good) == len(out) else None


def _reported(r: _Reader, value: object, path: str) -> dict[Resource, Reported] | None:
    table = r.table(value, path)
    if table is None:
        return None
    out: dict[Resource, Reported] = {}
    ok = True
    for key, item in table.items():
        here = _at(path, key)
        resource = _resource(r, key, here)
        entry = r.table(item, here)
        if resource is None or entry is None:
            ok = False
            continue
        if not r.keys(entry, here, ("value",), ("provenance",)):
            ok = False
            continue
        q = r.quantity(entry["value"], resource.unit, _at(here, "value"))
        # Without a provenance table the total keeps Reported's default provenance.
        extra = _optional(r, entry, "provenance", r.provenance, here)
        if q is None or len(extra) < len(entry) - 1:
            ok = False
            continue
        out[resource] = Reported(q, **extra)
    return out if ok else None


def _resource(r: _Reader, value: object, path: str) -> Resource | None:
    text = r.string(value, path)
    if text is None:
        return None
    try:
        return Resource.parse(text)
    except ValueError:
        names = [m.name.lower() for m in Resource]
        close = difflib.get_close_matches(text.lower(), names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        r.add(path, f"unknown resource; use one of {', '.join(names)}{hint}", text)
        return None


_PROJECT_KEYS = ("cabinets", "ramp", "slippage", "capex", "status", "target", "target_by",
                 "provenance")


def _slippage(r: _Reader, value: object, path: str) -> Slippage | None:
    table = r.table(value, path)
    if table is None or not r.keys(table, path, (), ("mean", "sd")):
        return None
    kwargs = {}
    for key in ("mean", "sd"):
        n = r.number(table.get(key, 0.0), _at(path, key))
        if n is None:
            return None
        kwargs[key] = n
    return r.build(Slippage, path, **kwargs)


def _project(r: _Reader, value: object, path: str) -> Project | None:
    table = r.table(value, path)
    if table is None:
        return None
    ok = r.keys(table, path, ("name", "site", "start", "completion"), _PROJECT_KEYS)
    kwargs: dict[str, Any] = {}
    for key in ("name", "site"):
        kwargs |= _optional(r, table, key, r.string, path)
    for key in ("start", "completion", "target_by"):
        kwargs |= _optional(r, table, key, r.month, path)
    ok = ok and all(k in kwargs for k in ("name", "site", "start", "completion"))
    kwargs |= _optional(r, table, "cabinets", lambda v, p: _counts(r, v, p), path)
    kwargs |= _optional(r, table, "ramp", r.string, path)
    kwargs |= _optional(r, table, "slippage", lambda v, p: _slippage(r, v, p), path)
    kwargs |= _optional(r, table, "capex", lambda v, p: r.quantity(v, "yuan", p), path)
    kwargs |= _optional(r, table, "status", lambda v, p: r.choice(v, p, Status), path)
    kwargs |= _optional(r, table, "target", lambda v, p: r.quantity(v, None, p), path)
    return _built(r, Project, table, path, ok, (), kwargs)


def _plan(r: _Reader, value: object, path: str) -> Plan | None:
    table = r.table(value, path)
    if table is None or not r.keys(table, path, (), ("sites", "projects")):
        return None
    sites = _items(r, table.get("sites", []), _at(path, "sites"), _site)
    projects = _items(r, table.get("projects", []), _at(path, "projects"), _project)
    if sites is None or projects is None:
        return None
    return Plan(projects=projects, sites=sites)


# Growth models: required keys, optional keys, and how to read each key given the unit of
# the demand's resource (None when that is itself invalid: only the presence of a unit is
# then checked, and the model's own validation reports the rest).
_Read = Callable[[_Reader, object, str, pint.Unit | None], Any]


def _amount(r: _Reader, v: object, p: str, u: pint.Unit | None) -> Quantity | None:
    return r.quantity(v, u, p)


def _per_year(r: _Reader, v: object, p: str, u: pint.Unit | None) -> Quantity | None:
    return r.quantity(v, None if u is None else u / ureg.year, p)


def _points(r: _Reader, v: object, p: str, u: pint.Unit | None) -> list[Any] | None:
    items = r.array(v, p)
    if items is None:
        return None
    out = []
    for i, item in enumerate(items):
        here = _at(p, i)
        table = r.table(item, here)
        if table is None or not r.keys(table, here, ("month", "value")):
            return None
        m = r.month(table["month"], _at(here, "month"))
        q = r.quantity(table["value"], u, _at(here, "value"))
        if m is None or q is None:
            return None
        out.append((m, q))
    return out


def _matrix(r: _Reader, v: object, p: str, u: pint.Unit | None) -> list[Any] | None:
    rows = r.array(v, p)
    if rows is None:
        return None
    good = [_vector(r, row, _at(p, i), u) for i, row in enumerate(rows)]
    return good if all(row is not None for row in good) else None


def _vector(r: _Reader, v: object, p: str, u: pint.Unit | None) -> list[float] | None:
    items = r.array(v, p)
    if items is None:
        return None
    good = [r.number(x, _at(p, i)) for i, x in enumerate(items)]
    return [float(x) for x in good if x is not None] if None not in good else None


def _text(r: _Reader, v: object, p: str, u: pint.Unit | None) -> str | None:
    return r.string(v, p)


_GROWTH: dict[str, tuple[Callable[..., GrowthModel], dict[str, _Read], tuple[str, ...]]] = {
    "linear": (Linear, {
        "start": _amount, "at": lambda r, v, p, u: r.month(v, p), "slope": _per_year,
        "slope_sd": _per_year}, ("start", "at", "slope")),
    "compound": (Compound, {
        "start": _amount, "at": lambda r, v, p, u: r.month(v, p),
        "rate": lambda r, v, p, u: r.ratio(v, p), "rate_sd": lambda r, v, p, u: r.ratio(v, p),
    }, ("start", "at", "rate")),
    "logistic": (Logistic, {
        "ceiling": _amount, "midpoint": lambda r, v, p, u: r.month(v, p),
        "rate": lambda r, v, p, u: r.quantity(v, "1/year", p), "floor": _amount,
        "ceiling_sd": _amount, "midpoint_sd_months": lambda r, v, p, u: r.months_spread(v, p),
    }, ("ceiling", "midpoint", "rate")),
    "milestones": (Milestones, {
        "points": _points, "interpolation": _text, "before": _text,
        "rel_sd": lambda r, v, p, u: r.ratio(v, p),
        "delay_sd_months": lambda r, v, p, u: r.months_spread(v, p),
    }, ("points",)),
    "fitted": (Fitted, {
        "curve": _text, "anchor": lambda r, v, p, u: r.month(v, p),
        "unit": lambda r, v, p, u: r.unit(v, p), "estimate": _vector, "covariance": _matrix,
    }, ("curve", "anchor", "unit", "estimate", "covariance")),
}
_FITTED_CURVES = ("linear", "compound", "logistic")


def _growth(r: _Reader, value: object, path: str,
            unit: pint.Unit | None) -> GrowthModel | None:
    table = r.table(value, path)
    if table is None:
        return None
    if "kind" not in table:
        r.add(_at(path, "kind"), f"is required: one of {', '.join(_GROWTH)}")
        return None
    kind = r.string(table["kind"], _at(path, "kind"))
    if kind is None:
        return None
    if kind not in _GROWTH:
        close = difflib.get_close_matches(kind, list(_GROWTH), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        r.add(_at(path, "kind"), f"unknown growth model; use one of {', '.join(_GROWTH)}{hint}",
              kind)
        return None
    factory, readers, required = _GROWTH[kind]
    fields = {k: v for k, v in table.items() if k != "kind"}
    ok = r.keys(fields, path, required, [k for k in readers if k not in required])
    kwargs: dict[str, Any] = {}
    for key, read in readers.items():
        if key in fields:
            v = read(r, fields[key], _at(path, key), unit)
            if v is None:
                ok = False
            else:
                kwargs[key] = v
    if kind == "fitted" and kwargs.get("curve", _FITTED_CURVES[0]) not in _FITTED_CURVES:
        r.add(_at(path, "curve"), f"must be one of {', '.join(_FITTED_CURVES)}",
              kwargs["curve"])
        ok = False
    if not ok:
        return None
    if kind == "fitted":
        kwargs["kind"] = kwargs.pop("curve")
    return r.build(factory, path, **kwargs)


_DEMAND_KEYS = ("per_unit", "eligible", "value", "provenance")


def _demand(r: _Reader, value: object, path: str) -> DemandBlock | None:
    table = r.table(value, path)
    if table is None:
        return None
    ok = r.keys(table, path, ("name", "kind", "resource", "growth"), _DEMAND_KEYS)
    kwargs: dict[str, Any] = {}
    for key in ("name", "kind"):
        kwargs |= _optional(r, table, key, r.string, path)
    kwargs |= _optional(r, table, "resource", lambda v, p: _resource(r, v, p), path)
    resource: Resource | None = kwargs.get("resource")
    kwargs |= _optional(r, table, "growth", lambda v, p: _growth(
        r, v, p, None if resource is None else resource.unit), path)
    ok = ok and all(k in kwargs for k in ("name", "kind", "resource", "growth"))
    if "per_unit" in table:
        where = _at(path, "per_unit")
        per_unit: dict[Resource, Quantity] = {}
        for key, v in (r.table(table["per_unit"], where) or {}).items():
            companion = _resource(r, key, _at(where, key))
            unit = None if companion is None or resource is None else \
                companion.unit / resource.unit
            q = r.quantity(v, unit, _at(where, key))
            if companion is not None and q is not None:
                per_unit[companion] = q
        kwargs["per_unit"] = per_unit
    kwargs |= _optional(r, table, "eligible", r.strings, path)
    kwargs |= _optional(r, table, "value", lambda v, p: r.quantity(v, None, p), path)
    return _built(r, DemandBlock, table, path, ok, (), kwargs)


def _instrument(r: _Reader, value: object, path: str) -> Instrument | None:
    table = r.table(value, path)
    if table is None:
        return None
    kind = r.string(table.get("type"), _at(path, "type")) if "type" in table else None
    if "type" not in table:
        r.add(_at(path, "type"), "is required (voucher, electricity or construction)")
        return None
    if kind not in _INSTRUMENTS:
        if kind is not None:
            close = difflib.get_close_matches(kind, list(_INSTRUMENTS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            r.add(_at(path, "type"), f"must be one of {', '.join(_INSTRUMENTS)}{hint}", kind)
        return None
    cls, fields = _INSTRUMENTS[kind]
    required = ("type", "name", *_REQUIRED[kind])
    ok = r.keys(table, path, required,
                [f for f in fields if f not in required] + ["provenance"])
    readers: dict[str, Callable[[object, str], Any]] = {
        "quantity": lambda v, p: r.quantity(v, None, p), "ratio": r.ratio,
        "number": r.number, "month": r.month, "strings": r.strings}
    kwargs: dict[str, Any] = _optional(r, table, "name", r.string, path)
    for field, how in fields.items():
        kwargs |= _optional(r, table, field, readers[how], path)
    ok = ok and all(k in kwargs for k in required if k != "type")
    return _built(r, cls, table, path, ok, (), kwargs)


def _market(r: _Reader, value: object, path: str) -> Market | None:
    table = r.table(value, path)
    if table is None:
        return None
    ok = r.keys(table, path, (), ("prices", "elasticity", "enterprises", "load_factor",
                                  "idle_share", "green_share", "provenance"))
    kwargs: dict[str, Any] = {}
    if "prices" in table:
        where = _at(path, "prices")
        prices = {}
        for key, v in (r.table(table["prices"], where) or {}).items():
            if _resource(r, key, _at(where, key)) is not None:
                q = r.quantity(v, None, _at(where, key))
                if q is not None:
                    prices[key] = q
        kwargs["prices"] = prices
    if "elasticity" in table:
        where = _at(path, "elasticity")
        e = r.table(table["elasticity"], where)
        if e is not None and r.keys(e, where, ("value", "provenance")):
            number = r.number(e["value"], _at(where, "value"))
            prov = r.provenance(e["provenance"], _at(where, "provenance"))
            if number is not None and prov is not None:
                built = r.build(Elasticity, where, number, prov)
                if built is not None:
                    kwargs["elasticity"] = built
    kwargs |= _optional(r, table, "enterprises", r.count, path)
    kwargs |= _optional(r, table, "load_factor", r.number, path)
    kwargs |= _optional(r, table, "idle_share", r.number, path)
    if "green_share" in table:
        where = _at(path, "green_share")
        shares = {k: r.number(v, _at(where, k))
                  for k, v in (r.table(table["green_share"], where) or {}).items()}
        kwargs["green_share"] = {k: v for k, v in shares.items() if v is not None}
    return _built(r, Market, table, path, ok, (), kwargs)


def _note(r: _Reader, value: object, path: str) -> Assumption | None:
    table = r.table(value, path)
    if table is None or not r.keys(table, path, ("field", "kind", "note"), ("reference",)):
        return None
    field = r.string(table["field"], _at(path, "field"))
    provenance = r._provenance(table, path)
    if field is None or provenance is None:
        return None
    return Assumption(field, provenance)


_TOP_KEYS = ("schema", "description", "estate", "notes", "reported", "plan", "demands",
             "policies", "market")


def _scenario(r: _Reader, data: Mapping[str, Any], factory: Callable[..., S]) -> S | None:
    ok = r.keys(data, "", ("name", "profiles", "sites"), _TOP_KEYS)
    if "schema" in data and data["schema"] != SCHEMA:
        r.add("schema", f"this version of capacity reads schema {SCHEMA}", data["schema"])
    name = r.string(data.get("name", ""), "name")
    description = r.string(data.get("description", ""), "description")
    estate_name = r.string(data.get("estate", "estate"), "estate")
    notes = _items(r, data.get("notes", []), "notes", _note)
    profiles: dict[str, CabinetProfile] | None = None
    if "profiles" in data:
        raw = r.table(data["profiles"], "profiles")
        if raw is not None:
            built = {k: _profile(r, k, v, _at("profiles", k)) for k, v in raw.items()}
            profiles = {k: p for k, p in built.items() if p is not None}
            profiles = profiles if len(profiles) == len(built) else None
    sites = _items(r, data["sites"], "sites", _site) if "sites" in data else None
    reported = _reported(r, data.get("reported", {}), "reported")
    plan = _plan(r, data.get("plan", {}), "plan")
    demands = _items(r, data.get("demands", []), "demands", _demand)
    if demands is not None:
        seen: set[str] = set()
        for i, d in enumerate(demands):
            if d.name in seen:
                r.add(f"demands[{i}].name", "duplicate demand block name", d.name)
            seen.add(d.name)
    policies: list[Instrument] | None = _items(r, data.get("policies", []), "policies",
                                               _instrument)
    if policies is not None:
        names: set[str] = set()
        for i, pol in enumerate(policies):
            if pol.name in names:
                r.add(f"policies[{i}].name", "duplicate policy name", pol.name)
            names.add(pol.name)
    market = _market(r, data.get("market", {}), "market")
    if (not ok or name is None or description is None or estate_name is None or notes is None
            or profiles is None or sites is None or reported is None or plan is None
            or demands is None or policies is None or market is None):
        return None
    estate = r.build(Estate, "", sites=sites, profiles=profiles, reported=reported,
                     name=estate_name)
    if estate is None:
        return None
    return r.build(factory, "", name=name, estate=estate, plan=plan, demands=demands,
                   policies=policies, market=market, description=description, notes=notes)


def from_dict(data: Mapping[str, Any], factory: Callable[..., S], *,
              source: str = "<scenario>") -> S:
    """Build a scenario from the data of a scenario file (as :mod:`tomllib` reads it).

    Parameters
    ----------
    data
        The document: tables as dicts, arrays as lists, strings and numbers.
    source
        Where the data came from, named in every problem (a file name).

    Returns
    -------
    S
        What `factory` builds of the data (a :class:`~capacity.Scenario`).

    Raises
    ------
    ValidationError
        Listing every problem, each a :class:`~capacity.errors.FieldError` whose ``path``
        is ``"<source>: <field path>"``.
    """
    r = _Reader()
    scenario = _scenario(r, data, factory) if isinstance(data, Mapping) else None
    if scenario is None and not r.problems:
        r.add("", f"expected a table, not {_toml_type(data)}")
    if r.problems:
        raise _invalid(source, r.problems.items)
    assert scenario is not None
    return scenario


def _invalid(source: str, problems: list[FieldError]) -> ValidationError:
    """The problems as one error, each path led by the file (or other source) name."""
    named = [type(e)(f"{source}: {e.path}" if e.path else source, e.reason, e.value)
             for e in problems]
    return ValidationError(f"invalid scenario {source}", named)


_WHERE = re.compile(r"^(?P<reason>.*?)\s*\(at (?P<where>line \d+, column \d+|end of document)\)$")


def read_file(path: str | os.PathLike[str], factory: Callable[..., S]) -> S:
    """Read a scenario from a TOML file.

    Parameters
    ----------
    path
        The scenario file (UTF-8 TOML), as :func:`write_file` writes it.
    factory
        The scenario class, called with the scenario's fields.

    Returns
    -------
    S
        What `factory` builds of the file's fields.

    Raises
    ------
    ValidationError
        Listing every problem in the file, each path starting with the file's name: a
        syntax error with its line and column, or every invalid field with its path.
    """
    source = os.fspath(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise _invalid(source, [FieldError("", f"cannot be read: {exc.strerror or exc}")]
                       ) from None
    except UnicodeDecodeError as exc:
        raise _invalid(source, [FieldError(f"byte {exc.start}", "is not UTF-8 text")]
                       ) from None
    except tomllib.TOMLDecodeError as exc:
        found = _WHERE.match(str(exc))
        where, reason = (found["where"], found["reason"]) if found else ("", str(exc))
        raise _invalid(source, [FieldError(where, f"is not valid TOML: {reason}")]) from None
    return from_dict(data, factory, source=source)
