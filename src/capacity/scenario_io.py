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

The keys, types, units and defaults are those of the domain classes' fields
(:mod:`capacity.fields`): each table is the class of its place (a site, a project, a
growth model chosen by ``kind``, an instrument chosen by ``type``), read by :mod:`cattrs`
and built by the class's own constructor, which checks the values exactly as it does for
Python callers. Reading never executes anything from the file: every amount goes through
:func:`capacity.units.parse_quantity`, whose plain ``number unit`` grammar is checked
before pint's parser sees the text (``"10**10**10 kW"`` would compute for ever).

Errors
------
:func:`read_file` and :func:`from_dict` raise one
:class:`~capacity.errors.ValidationError` listing every problem in the file. Each
problem is a :class:`~capacity.errors.FieldError` whose ``path`` is the file (or the
`source` given) and the field path, ``"ganzhou.toml: sites[gannan-data-lake].pue"``, so
its message reads ``ganzhou.toml: sites[gannan-data-lake].pue: must be at least 1 (got
0.9)``; the error's own message is ``"invalid scenario"``, so a line of message and
problem names the file once. An element of a list is named by its id (a site) or name
(a project, demand block or policy) where the file gives it one, once only, else by its
position (``plan.projects[0].completion``). Syntax errors name the line and column,
``"ganzhou.toml: line 3, column 8"``, as does text that is not UTF-8; a byte-order mark
at the start is read as the UTF-8 it marks. Problems within each value are reported
together; references between values (a site's or project's profile, a project's site)
are checked once the values they join are themselves valid.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

import attrs
import cattrs
import tomli_w
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, override

from capacity import fields
from capacity.errors import FieldError, ValidationError, did_you_mean
from capacity.growth import Compound, Fitted, GrowthModel, Linear, Logistic, Milestones
from capacity.instruments import (
    ComputeVoucher,
    ConstructionSubsidy,
    ElectricitySubsidy,
    Instrument,
)
from capacity.inventory import Estate
from capacity.paths import Item, join, parse, under
from capacity.plan import Plan
from capacity.provenance import Assumption
from capacity.units import MAX_MAGNITUDE

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_MAGNITUDE",
    "SCHEMA",
    "from_dict",
    "read_file",
    "to_dict",
    "write_file",
]

#: Version of the file layout :func:`write_file` writes and :func:`read_file` reads.
SCHEMA = 1

S = TypeVar("S")


class _ScenarioLike(Protocol):
    """What the writer reads of a scenario (:class:`capacity.Scenario` is one).

    The format sits below the scenario class (imports flow downward only), so the class
    is passed in to the reader as its factory and read back here through this protocol.
    """

    @property
    def estate(self) -> Estate: ...
    @property
    def plan(self) -> Plan: ...


#: The classes a ``[demands.growth]`` table may be, by its ``kind``.
GROWTH: dict[str, type[GrowthModel]] = {
    "linear": Linear, "compound": Compound, "logistic": Logistic,
    "milestones": Milestones, "fitted": Fitted}
#: The classes a ``[[policies]]`` table may be, by its ``type``.
INSTRUMENTS: dict[str, type[Any]] = {
    "voucher": ComputeVoucher, "electricity": ElectricitySubsidy,
    "construction": ConstructionSubsidy}
# The top of a file: the scenario's own fields, with the estate's spread among them.
_ESTATE_KEYS = {"profiles": "profiles", "sites": "sites", "reported": "reported",
                "estate": "name"}
_TOP_KEYS = ("schema", "name", "description", "estate", "notes", "profiles", "sites",
             "reported", "plan", "demands", "policies", "market")


def _toml_type(value: object) -> str:
    kinds: tuple[tuple[type, str], ...] = (
        (bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"),
        (list, "an array"), (dict, "a table"), (dt.datetime, "a date-time"),
        (dt.date, "a date"), (dt.time, "a time"))
    return next((name for t, name in kinds if isinstance(value, t)), type(value).__name__)


def _hint(key: str, allowed: list[str]) -> str:
    return did_you_mean(key, allowed) or f"expected one of {', '.join(allowed)}"


def _problems(error: BaseException, path: str = "") -> list[FieldError]:
    """Every problem in a (nested) structuring error, each with its field path."""
    if isinstance(error, ValidationError):
        return [type(e)(under(path, e.path), e.reason, e.value) for e in error.problems]
    if isinstance(error, FieldError):
        return [type(error)(under(path, error.path), error.reason, error.value)]
    if isinstance(error, (ClassValidationError, IterableValidationError)):
        out: list[FieldError] = []
        for sub in error.exceptions:
            note = next((n for n in getattr(sub, "__notes__", ())
                         if isinstance(n, (AttributeValidationNote, IterableValidationNote))),
                        None)
            if isinstance(note, AttributeValidationNote):
                out += _problems(sub, under(path, note.name))
            elif isinstance(note, IterableValidationNote):
                index = note.index
                out += _problems(sub, f"{path}[{index}]" if isinstance(index, int)
                                 else join(path, str(index)))
            else:
                out += _problems(sub, path)
        return out
    if isinstance(error, KeyError):  # cattrs: a required key of an undeclared class
        return [FieldError(path, "is required")]
    return [FieldError(path, f"cannot be read: {error}")]


def _failed_fields(error: BaseException) -> list[str]:
    """The fields whose nested tables could not be structured (the constructor never ran)."""
    if not isinstance(error, ClassValidationError):
        return []
    return [note.name for _, note in error.group_exceptions()[0]]


def _table(data: Any, path: str = "") -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise FieldError(path, f"expected a table, not {_toml_type(data)}", None)
    return data


# ---------------------------------------------------------------- reading

_converter = cattrs.Converter(detailed_validation=True)


def _keep(value: Any, _: Any) -> Any:
    # Plain values go to the class's own converter as the file gives them.
    return value


def _class_hook(cls: type[Any]) -> Callable[[Any, Any], Any]:
    """Read a table into `cls`: unknown keys, missing keys and values, all reported."""
    attrs.resolve_types(cls)
    init = [f for f in attrs.fields(cls) if f.init]
    keys = [f.name for f in init]
    declared = {f.name for f in init if fields.spec_of(f) is not None}
    # A required field the file leaves out reaches the constructor as MISSING, which its
    # declaration reports with the other fields' problems; undeclared fields (provenance)
    # are left out, and cattrs reports them.
    required = [f.name for f in init if fields.spec_of(f) is not None and (
        f.default is attrs.NOTHING or f.default is fields.MISSING)]

    def nested_hook(kind: Any, nested: str) -> Callable[[Any, Any], Any]:
        def structure(value: Any, _: Any) -> Any:
            if value is fields.MISSING or value is fields.FAILED:
                return value
            # cattrs would iterate a table's keys or a string's characters as an array
            if nested == "many" and not isinstance(value, list):
                raise FieldError("", f"expected an array of tables, not {_toml_type(value)}")
            if nested == "table" and not isinstance(value, Mapping):
                raise FieldError("", f"expected a table, not {_toml_type(value)}")
            return _converter.structure(value, kind)
        return structure

    overrides = {}
    for f in init:
        spec = fields.spec_of(f)
        plain = spec is None or spec.nested is None
        overrides[f.name] = override(struct_hook=_keep if plain or spec is None
                                     else nested_hook(f.type, spec.nested or ""))
    inner = make_dict_structure_fn(cls, _converter, **overrides)  # type: ignore[arg-type]

    def hook(data: Any, _: Any) -> Any:
        table = _table(data)
        problems = [FieldError(str(k), f"unknown key; {_hint(str(k), keys)}") for k in table
                    if k not in keys]
        given = {k: v for k, v in table.items() if k in keys}
        given |= {k: fields.MISSING for k in required if k not in given}
        documented = given.get("provenance")
        by_field = next((fields.spec_of(f) for f in init if f.name == "provenance"), None)
        if by_field is not None and by_field.nested == "table" and \
                isinstance(documented, Mapping):
            # Checked here too: a bad entry keeps the table from reaching the constructor.
            problems += [e for k in documented if (e := fields.provenance_key_problem(
                cls, k, f"provenance.{k}")) is not None]
        try:
            value = inner(given, cls)
        except Exception as error:  # every failure becomes a field problem
            problems += _problems(error)
            # A nested table that failed kept the constructor from running; run it again
            # without them, so the other fields' problems are reported in the same pass.
            failed = [n for n in _failed_fields(error) if n in declared]
            if failed:
                try:
                    inner(given | dict.fromkeys(failed, fields.FAILED), cls)
                except Exception as again:
                    problems += [e for e in _problems(again)
                                 if e.reason != fields._FAILED_REASON]
        problems = list({(e.path, e.reason): e for e in problems}.values())
        if problems:
            raise ValidationError(f"invalid {cls.__name__}", problems)
        return value

    return hook


def _tagged(tag: str, classes: Mapping[str, type[Any]]) -> Callable[[Any, Any], Any]:
    """Read a table into the class its `tag` key names."""
    def hook(data: Any, _: Any) -> Any:
        if data is fields.MISSING:
            return data
        table = dict(_table(data))
        if tag not in table:
            raise FieldError(tag, f"is required: one of {', '.join(classes)}")
        kind = table.pop(tag)
        if isinstance(kind, str) and kind.strip().lower() in classes:
            kind = kind.strip().lower()
        if not isinstance(kind, str) or kind not in classes:
            raise FieldError(tag, f"must be one of {', '.join(classes)}"
                             f"{fields._hint(str(kind), classes)}", kind)
        return _converter.structure(table, classes[kind])

    return hook


def _assumption(data: Any, _: Any) -> Assumption:
    # A note is one flat table: the field it governs and its provenance's keys.
    table = dict(_table(data))
    field = table.pop("field", fields.MISSING)
    problems = [] if field is not fields.MISSING else [FieldError("field", "is required")]
    try:
        provenance = _converter.structure(table, Provenance)
    except Exception as error:  # every failure becomes a field problem
        problems += [type(e)(e.path.removeprefix("provenance."), e.reason, e.value)
                     for e in _problems(error)]
    if problems:
        raise ValidationError("invalid note", problems)
    return Assumption(field, provenance)


from capacity.provenance import Provenance  # noqa: E402  (after the hooks it serves)

# Later hooks take precedence: plain values first, then the classes and the tagged tables.
_converter.register_structure_hook_func(
    lambda t: t in (str, int, float, bool) or (isinstance(t, type) and not attrs.has(t)
                                               and t.__module__.startswith(("capacity",
                                                                            "pint", "numpy"))),
    _keep)
_converter.register_structure_hook_factory(
    lambda t: attrs.has(t) and t is not Assumption, _class_hook)
_converter.register_structure_hook(Assumption, _assumption)
_converter.register_structure_hook_func(
    lambda t: t is GrowthModel, _tagged("kind", GROWTH))
_converter.register_structure_hook_func(lambda t: t == Instrument, _tagged("type", INSTRUMENTS))


def _file_path(path: str) -> str:
    """A field path of the scenario as the file spells it (the estate is at the top)."""
    for part in ("profiles", "sites", "reported"):
        if path == f"estate.{part}" or path.startswith((f"estate.{part}.", f"estate.{part}[")):
            return path.removeprefix("estate.")
    if path in ("estate.name", "estate"):
        return "estate"
    return path


def from_dict(data: Mapping[str, Any], factory: Callable[..., S], *,
              source: str = "<scenario>") -> S:
    """Build a scenario from the data of a scenario file (as :mod:`tomllib` reads it).

    Parameters
    ----------
    data
        The document: tables as dicts, arrays as lists, strings and numbers.
    factory
        The scenario class, called with the scenario's fields.
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
    if not isinstance(data, Mapping):
        raise _invalid(source, [FieldError("", f"expected a table, not {_toml_type(data)}")])
    problems = [FieldError(str(k), f"unknown key; {_hint(str(k), list(_TOP_KEYS))}")
                for k in data if k not in _TOP_KEYS]
    if "schema" in data and (type(data["schema"]) is not int or data["schema"] != SCHEMA):
        problems.append(FieldError("schema", f"this version of capacity reads schema {SCHEMA}",
                                   data["schema"]))
    problems += [FieldError(k, "is required") for k in ("name", "profiles", "sites")
                 if k not in data]
    estate: dict[str, Any] = {}
    for key, field in _ESTATE_KEYS.items():
        if key in data:
            estate[field] = data[key]
    profiles = estate.get("profiles")
    if isinstance(profiles, Mapping):
        # A profile's name is its key in the file.
        estate["profiles"] = {k: {"name": k, **v} if isinstance(v, Mapping) and "name" not in v
                              else v for k, v in profiles.items()}
    document = {k: v for k, v in data.items()
                if k in _TOP_KEYS and k not in _ESTATE_KEYS and k != "schema"}
    document["estate"] = estate
    scenario: S | None = None
    try:
        scenario = _converter.structure(document, factory)  # type: ignore[arg-type]
    except Exception as error:  # every failure becomes a field problem
        found = {(e.path, e.reason) for e in problems}
        problems += [e for e in (type(e)(_file_path(e.path), e.reason, e.value)
                                 for e in _problems(error)) if (e.path, e.reason) not in found]
    if problems:
        raise _invalid(source, problems, data)
    assert scenario is not None
    return scenario


def _invalid(source: str, problems: list[FieldError], data: Any = None) -> ValidationError:
    """The problems as one error, each path led by the file (or other source) name.

    The file is named once, in each problem, so that a line per problem names it once.
    A position in a list of `data` whose element has an id (or name) becomes that key.
    """
    named = [type(e)(f"{source}: {_keyed(e.path, data)}" if e.path else source, e.reason,
                     e.value) for e in problems]
    return ValidationError("invalid scenario", named)


def _key_of(element: Any, siblings: list[Any]) -> str | None:
    """The key a field path picks a list element by: its id, else its name, if unique."""
    if not isinstance(element, Mapping):
        return None
    field = "id" if "id" in element else "name"
    key = element.get(field)
    if not isinstance(key, str) or not key.strip() or any(c.isspace() or c in '[]"'
                                                            for c in key):
        return None
    same = sum(isinstance(s, Mapping) and s.get(field) == key for s in siblings)
    return key if same == 1 else None  # a duplicate id would name two elements


def _keyed(path: str, data: Any) -> str:
    """`path` with each position in a list of the document replaced by its element's key.

    ``sites[0].pue`` becomes ``sites[gannan-data-lake].pue`` where the first site has that
    id; a position stays where the element has no usable id or name.
    """
    try:
        parts = parse(path)
    except FieldError:  # a place in the text, "line 3, column 8"
        return path
    node: Any = data
    out: list[str | Item] = []
    for part in parts:
        if isinstance(part, Item) and isinstance(part.key, int) and isinstance(node, list):
            element = node[part.key] if part.key < len(node) else None
            key = _key_of(element, node)
            out.append(part if key is None else Item(key))
            node = element
        else:
            out.append(part)
            node = node.get(part) if isinstance(node, Mapping) and isinstance(part, str) \
                else None
    return join(*out) if out != list(parts) else path


_WHERE = re.compile(r"^(?P<reason>.*?)\s*\(at (?P<where>line \d+, column \d+|end of document)\)$")


def _not_utf8(raw: bytes, start: int) -> FieldError:
    """The problem with a file that is not UTF-8 text, at the first byte that is not."""
    line = raw.count(b"\n", 0, start) + 1
    column = start - (raw.rfind(b"\n", 0, start) + 1) + 1
    return FieldError(f"line {line}, column {column}",
                      f"is not UTF-8 text (byte 0x{raw[start]:02x}); save the file as UTF-8")


#: The largest scenario file read: far beyond any estate's text (the embedded Ganzhou
#: scenario is a few kB), small enough to read on any machine.
MAX_FILE_BYTES = 64 * 2**20


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
        syntax error with its line and column, or every invalid field with its path; a
        file larger than :data:`MAX_FILE_BYTES` is refused before it is read.
    """
    source = os.fspath(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:  # refused before it is read: no MemoryError
            raise _invalid(source, [FieldError("", f"is {size / 2**20:,.1f} MiB; a scenario "
                                              f"file is text of at most "
                                              f"{MAX_FILE_BYTES // 2**20} MiB")])
        raw = Path(path).read_bytes()
        text = raw.decode("utf-8-sig")  # the byte-order mark Windows editors write is no error
        data = tomllib.loads(text)
    except OSError as exc:
        raise _invalid(source, [FieldError("", f"cannot be read: {exc.strerror or exc}")]
                       ) from None
    except UnicodeDecodeError as exc:
        raise _invalid(source, [_not_utf8(raw, exc.start)]) from None
    except tomllib.TOMLDecodeError as exc:
        found = _WHERE.match(str(exc))
        where, reason = (found["where"], found["reason"]) if found else ("", str(exc))
        raise _invalid(source, [FieldError(where, f"is not valid TOML: {reason}")]) from None
    return from_dict(data, factory, source=source)


# ---------------------------------------------------------------- writing

def _unstructure(value: Any) -> Any:
    """A value of a declared class as a table: its fields that differ from their defaults."""
    cls = type(value)
    out: dict[str, Any] = {}
    tag = next((k for k, c in (*GROWTH.items(), *INSTRUMENTS.items()) if c is cls), None)
    if tag is not None:
        out["kind" if cls in GROWTH.values() else "type"] = tag
    for f in attrs.fields(cls):
        if not f.init:
            continue
        current = getattr(value, f.name)
        written = _written(f, current)
        if f.default is not attrs.NOTHING and f.default is not fields.MISSING:
            default = f.default.factory() if isinstance(f.default, attrs.Factory) else f.default  # type: ignore[arg-type]
            try:
                converted = f.converter(default, value, f) if f.converter else default
                if not isinstance(converted, fields.Invalid) and \
                        _written(f, converted) == written:
                    continue
            except Exception:  # a default that cannot be compared: write the value out
                pass
        if written is not None:
            out[f.name] = written
    return out


def _written(f: attrs.Attribute[Any], value: Any) -> Any:
    spec = fields.spec_of(f)
    if spec is None:
        return _converter.unstructure(value)
    if spec.nested == "one":
        return _converter.unstructure(value)
    if spec.nested == "many":
        return [_converter.unstructure(v) for v in value]
    written = spec.write(value)
    if spec.nested == "table":
        return {k: _converter.unstructure(v) if attrs.has(type(v)) else v
                for k, v in written.items()}
    return written


def _provenance_table(p: Provenance) -> dict[str, str]:
    return {"kind": p.kind.value, "note": p.note} | (
        {"reference": p.reference} if p.reference else {})


_converter.register_unstructure_hook_func(
    lambda t: attrs.has(t) and t not in (Provenance, Assumption), _unstructure)
_converter.register_unstructure_hook(Provenance, _provenance_table)
_converter.register_unstructure_hook(
    Assumption, lambda a: {"field": a.field, **_provenance_table(a.provenance)})


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
    """
    body = _unstructure(scenario)
    estate = _unstructure(scenario.estate)
    for table in estate.get("profiles", {}).values():
        table.pop("name", None)
    top: dict[str, Any] = {"schema": SCHEMA, "name": body.pop("name")}
    if "description" in body:
        top["description"] = body.pop("description")
    top["estate"] = scenario.estate.name
    body.pop("estate", None)
    if "notes" in body:
        top["notes"] = body.pop("notes")
    top["profiles"] = estate.get("profiles", {})
    top["sites"] = estate.get("sites", [])
    if "reported" in estate:
        top["reported"] = estate["reported"]
    out: dict[str, Any] = top | body
    return out


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
