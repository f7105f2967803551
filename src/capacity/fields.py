"""Field kinds of the domain classes: each field's reader, check and file spelling, once.

Every field of a domain class (:class:`~capacity.inventory.Site`, a growth model, an
instrument, ...) is declared with one of the factories here. That one declaration gives

- the **converter** that reads the value, the same way from Python and from a scenario
  file: ``"8 kW"`` through :func:`capacity.units.parse_quantity`, ``"2025-03"`` through
  :func:`capacity.months.month`, ``"30 %"`` or ``0.3`` as a share, names to enum members;
- the **check**, whose problems the class collects with every other field's in one
  :class:`~capacity.errors.ValidationError` (:func:`settle`);
- the **file spelling**: the key (the field's name unless ``key=`` says otherwise), the
  unit and how the value is written, which :mod:`capacity.scenario_io` reads from the
  field's metadata. Adding a field to a class is one edit.

Mappings are stored read-only (:class:`FrozenMap`), sequences as tuples and
sets as frozensets, so a frozen value cannot be changed after it is checked.

Examples
--------
>>> import attrs
>>> from capacity import fields
>>> @attrs.frozen
... class Feed:
...     power: object = fields.quantity("kW")
...     since: object = fields.month(optional=True)
...     def __attrs_post_init__(self):
...         fields.settle(self, "feed")
>>> Feed("2 MW").power
<Quantity(2.0, 'megawatt')>
>>> Feed("2 kWh", since="2025-13")
Traceback (most recent call last):
...
capacity.errors.ValidationError: invalid feed: 2 problem(s)
  - power: is kWh (energy), expected power such as kW (got '2 kWh')
  - since: is not a month (write it as 'YYYY-MM') (got '2025-13')
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import attrs
import numpy as np
import pint

from capacity.errors import FieldError, Problems, ValidationError, did_you_mean
from capacity.months import month as read_month
from capacity.paths import under
from capacity.provenance import Provenance
from capacity.units import MAX_MAGNITUDE, Q_, Quantity, parse_quantity, read_unit, ureg

__all__ = [
    "FAILED",
    "MISSING",
    "FrozenMap",
    "Invalid",
    "Spec",
    "choice",
    "choice_of",
    "count",
    "counts",
    "declare",
    "duration",
    "flag",
    "freeze",
    "instances",
    "magnitude",
    "month",
    "named",
    "nested",
    "number",
    "provenance",
    "provenance_key_problem",
    "quantity",
    "ratio",
    "read_amount",
    "read_choice",
    "read_count",
    "read_flag",
    "read_instance",
    "read_ratio",
    "read_ratio_in",
    "read_real",
    "read_text",
    "read_whole",
    "settle",
    "spec_of",
    "table",
    "tags",
    "text",
    "unit",
    "unit_of",
    "valid",
    "written_quantity",
    "zero",
]

_E = TypeVar("_E", bound=enum.Enum)
_K = TypeVar("_K")
_V = TypeVar("_V")
_UnitRule = str | pint.Unit | Callable[[Any], pint.Unit | None] | None


class _Missing:
    """A required field a scenario file leaves out; its converter reports it."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


#: Stands in for a required value a scenario file does not give.
MISSING: Any = _Missing()


class _Failed:
    """A nested value that could not be read; its problems are reported where it failed."""

    def __repr__(self) -> str:
        return "FAILED"


#: Stands in for a nested value (a table of the file) whose own problems are reported.
FAILED: Any = _Failed()
_FAILED_REASON = "could not be read (see its own problems)"


@attrs.frozen
class Invalid:
    """What a field holds between a failed conversion and :func:`settle` raising.

    Never visible outside a constructor: :func:`settle` raises while any field holds one.
    """

    errors: tuple[FieldError, ...]
    #: The value as read, when only a check on it failed (a negative amount keeps its
    #: unit, which later fields' units may follow).
    parsed: Any = None


@attrs.frozen
class Spec:
    """How one field is read, written and described.

    Parameters
    ----------
    read
        ``read(value, owner, path) -> value``: the checked value, or a
        :class:`~capacity.errors.FieldError`. `owner` is the instance being built, whose
        earlier fields are already set (a unit may depend on them).
    write
        The value as a scenario file spells it (a string, number, list or table).
    describe
        What the field takes, in words, for documentation and schemas.
    parses
        What text the field (or each value of its table) is read as: ``"quantity"``,
        ``"share"``, ``"month"``, ``"months"`` or ``"unit"``; ``None`` for no text.
    nested
        ``"one"``, ``"many"`` or ``"table"`` when the file holds a class, an array of
        classes or a table of them, which the reader structures into instances before
        the converter sees them; ``None`` for plain values.
    """

    read: Callable[[Any, Any, str], Any]
    write: Callable[[Any], Any]
    describe: str
    nested: str | None = None
    parses: str | None = None


def spec_of(field: attrs.Attribute[Any]) -> Spec | None:
    """The :class:`Spec` a field was declared with, if any."""
    spec = field.metadata.get("capacity")
    return spec if isinstance(spec, Spec) else None


def declare(spec: Spec, *, default: Any = attrs.NOTHING, factory: Any = None,
            kw_only: bool = False, eq: Any = True) -> Any:
    """An attrs field read, checked and written as `spec` says (the other factories' base).

    A default is read like any input; `factory` makes a fresh default per instance.
    """
    def convert(value: Any, owner: Any, field: attrs.Attribute[Any]) -> Any:
        if value is MISSING:
            return Invalid((FieldError(field.name, "is required"),))
        if value is FAILED:
            return Invalid((FieldError(field.name, _FAILED_REASON),))
        try:
            return spec.read(value, owner, field.name)
        except ValidationError as error:
            return Invalid(tuple(FieldError(under(field.name, e.path), e.reason, e.value)
                                 for e in error.problems))
        except FieldError as error:
            return Invalid((error,), getattr(error, "parsed", None))

    return attrs.field(
        default=attrs.Factory(factory) if factory is not None else default,
        converter=attrs.Converter(convert, takes_self=True, takes_field=True),
        metadata={"capacity": spec}, kw_only=kw_only, eq=eq)


def named(kind: str, value: Any) -> str:
    """What to call a value in an error's header: ``site 'a'``, or ``site`` if unnamed.

    A name that is itself invalid is left out of the header (its field reports it).
    """
    return f"{kind} {value!r}" if isinstance(value, str) else kind


def settle(owner: Any, what: str, rules: Callable[[Problems], None] | None = None) -> None:
    """Raise every problem of a freshly built value at once, or return.

    Call from ``__attrs_post_init__``. Field problems come from the converters; `rules`,
    the class's checks across fields, runs as well (each rule checks only fields that
    are :func:`valid`), so every problem is reported in one pass.

    Raises
    ------
    ValidationError
        Listing every problem, each with its field path.
    """
    p = Problems(what)
    for f in attrs.fields(type(owner)):
        value = getattr(owner, f.name, None)
        if isinstance(value, Invalid):
            p.items.extend(value.errors)
    if rules is not None:
        rules(p)
    p.raise_if_any()


def valid(owner: Any, *names: str) -> bool:
    """Whether the named fields of a value being built were read successfully."""
    return not any(isinstance(getattr(owner, n, None), Invalid) for n in names)


def _unit_of(rule: _UnitRule, owner: Any) -> pint.Unit | None:
    if rule is None:
        return None
    if isinstance(rule, str):
        return ureg.Unit(rule)
    if isinstance(rule, pint.Unit):
        return rule
    try:
        return rule(owner)
    except (AttributeError, TypeError, ValueError, pint.PintError):
        return None  # the field it depends on is itself invalid, and reported


def written_quantity(q: Quantity) -> str:
    """A quantity as a scenario file spells it: ``repr`` of the magnitude, then the unit."""
    text = f"{ureg.Unit(q.units):~C}"
    # pint writes a pure reciprocal as "1/yr"; after a magnitude that reads as two numbers.
    text = "/" + text[2:] if text.startswith("1/") else text
    number = repr(float(q.magnitude))
    return f"{number} {text}" if text else number


def read_amount(value: Any, unit: pint.Unit | None, path: str, sign: str) -> Quantity:
    """One real amount, checked for its sign: ``"any"``, ``"nonnegative"`` or ``"positive"``.

    The magnitude is kept as a Python float: an array, a complex number or a writable
    0-d array would let a frozen value change, or fail later far from its field.
    """
    q = parse_quantity(value, unit, path)
    magnitude = q.magnitude
    if np.ndim(magnitude) != 0 or isinstance(magnitude, (bool, complex, np.complexfloating)):
        raise FieldError(path, "must be one real amount", f"{q:~P}")
    try:
        q = Q_(float(magnitude), q.units)
    except (TypeError, ValueError):
        raise FieldError(path, "must be one real amount", f"{q:~P}") from None
    m = np.asarray(q.magnitude, dtype=float)
    reason = ("must be positive" if sign == "positive" and np.any(m <= 0) else
              "must not be negative" if sign == "nonnegative" and np.any(m < 0) else None)
    if reason is not None:
        error = FieldError(path, reason, f"{q:~P}")
        error.parsed = q  # type: ignore[attr-defined]
        raise error
    return q


def magnitude(p: Problems, value: Any, unit: str, path: str) -> float | None:
    """An optional amount argument as a float in `unit`; a problem is recorded in `p`.

    For functions' arguments (a fallback price, an unmet-demand penalty), read like any
    field; ``None`` stays ``None``.
    """
    if value is None:
        return None
    try:
        return float(parse_quantity(value, unit, path).m_as(unit))
    except FieldError as error:
        p.items.append(error)
        return None


def unit_of(owner: Any, name: str) -> pint.Unit:
    """The unit of an earlier quantity field, also when only its sign check failed.

    Raises
    ------
    AttributeError
        If the field holds no quantity (it could not be read).
    """
    value = getattr(owner, name)
    if isinstance(value, Invalid):
        value = value.parsed
    if not isinstance(value, pint.Quantity):
        raise AttributeError(name)
    return ureg.Unit(value.units)


def quantity(unit: _UnitRule, *, default: Any = attrs.NOTHING, optional: bool = False,
             sign: str = "nonnegative", kw_only: bool = False,
             describe: str | None = None) -> Any:
    """An amount with a unit (``"8 kW"`` or a Quantity of the dimension of `unit`).

    Parameters
    ----------
    unit
        The unit whose dimension the amount must have; a callable of the instance being
        built when it depends on another field; ``None`` for any unit.
    default
        The default (a string is read like any input).
    optional
        Whether ``None`` is allowed (and is the default unless one is given).
    sign
        ``"nonnegative"`` (the default), ``"positive"`` or ``"any"``.
    """
    def read(value: Any, owner: Any, path: str) -> Quantity | None:
        if value is None and optional:
            return None
        return read_amount(value, _unit_of(unit, owner), path, sign)

    shown = unit if isinstance(unit, str) else "a unit" if unit is None else "its unit"
    spec = Spec(read, lambda q: None if q is None else written_quantity(q),
                describe or f"quantity [{shown}]", parses="quantity")
    if optional and default is attrs.NOTHING:
        default = None
    return declare(spec, default=default, kw_only=kw_only)


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise FieldError(path, f"expected a number, not {type(value).__name__}", value)
    if isinstance(value, int) and abs(value) > MAX_MAGNITUDE:  # before float() overflows
        digits = int(abs(value).bit_length() * 0.30103) + 1
        raise FieldError(path, f"is absurdly large (more than {MAX_MAGNITUDE:g})",
                         f"a whole number of about {digits} digits")
    x = float(value)
    if not math.isfinite(x):
        raise FieldError(path, "must be finite", value)
    if abs(x) > MAX_MAGNITUDE:
        raise FieldError(path, f"is absurdly large (more than {MAX_MAGNITUDE:g})", value)
    return x


def _bounds(x: float, path: str, low: float | None, high: float | None, low_open: bool,
            high_open: bool, shown: Any) -> float:
    below = low is not None and (x <= low if low_open else x < low)
    above = high is not None and (x >= high if high_open else x > high)
    if below or above:
        if low is not None and high is not None:
            reason = (f"must be in {'(' if low_open else '['}{low:g}, {high:g}"
                      f"{')' if high_open else ']'}")
        elif low is not None:
            reason = (("must be positive" if low_open else "must not be negative")
                      if low == 0 else f"must be {'above' if low_open else 'at least'} {low:g}")
        else:
            assert high is not None
            reason = f"must be {'below' if high_open else 'at most'} {high:g}"
        raise FieldError(path, reason, shown)
    return x


def read_real(value: Any, path: str, *, low: float | None = None, high: float | None = None,
              low_open: bool = False, high_open: bool = False) -> float:
    """A plain, finite number (not a bool or text) within the given bounds, as a float.

    For functions' arguments as for fields: ``read_real(p, "probability", low=0,
    high=1, low_open=True)`` refuses ``0``, ``nan``, ``"0.5"`` and ``True``, naming
    ``probability``.
    """
    return _bounds(_number(value, path), path, low, high, low_open, high_open, value)


def read_whole(value: Any, path: str, *, least: int = 0, most: int | None = None,
               reason: str | None = None) -> int:
    """A whole number (not a bool or a float) from `least` to `most`, for an argument.

    `reason` replaces the default words for a value that is no whole number of at least
    `least` (``"must be a positive whole number of nodes"``).
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        default = {0: "must be a whole number, zero or more",
                   1: "must be a positive whole number"}.get(
                       least, f"must be a whole number, at least {least}")
        raise FieldError(path, reason or default, value)
    if most is not None and value > most:
        raise FieldError(path, f"must be at most {most}", value)
    return int(value)


def read_instance(value: Any, kinds: type[Any] | tuple[type[Any], ...], path: str) -> Any:
    """`value` if it is an instance of `kinds`, else a problem naming `path`."""
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if not isinstance(value, kinds):
        raise FieldError(path, f"must be {' or '.join(_a(k.__name__) for k in kinds)}",
                         type(value).__name__)
    return value


def number(*, default: Any = attrs.NOTHING, low: float | None = None,
           high: float | None = None, low_open: bool = False, high_open: bool = False,
           optional: bool = False, kw_only: bool = False, describe: str = "number") -> Any:
    """A plain number (a float), within the given bounds."""
    def read(value: Any, owner: Any, path: str) -> float | None:
        if value is None and optional:
            return None
        return read_real(value, path, low=low, high=high, low_open=low_open,
                         high_open=high_open)

    spec = Spec(read, lambda x: x, describe)
    if optional and default is attrs.NOTHING:
        default = None
    return declare(spec, default=default, kw_only=kw_only)


def read_ratio(value: Any, path: str) -> float:
    """A dimensionless figure: ``0.3``, ``"30 %"`` or a dimensionless Quantity.

    Text needs its percent sign: ``"12"`` could mean 12 or 12 %, so it is refused.
    """
    if isinstance(value, str):
        q = parse_quantity(value, ureg.dimensionless, path)
        if ureg.Unit(q.units) == ureg.dimensionless:
            raise FieldError(path, "write a share as a number (0.12) or with its percent "
                             "sign ('12 %')", value)
        return _number(float(q.m_as("")), path)
    if isinstance(value, pint.Quantity):
        return _number(float(read_amount(value, ureg.dimensionless, path, "any").m_as("")),
                       path)
    return _number(value, path)


def read_ratio_in(value: Any, path: str, low: float, high: float) -> float:
    """A dimensionless figure within ``[low, high]``."""
    return _bounds(read_ratio(value, path), path, low, high, False, False, value)


def ratio(*, default: Any = attrs.NOTHING, low: float | None = 0.0,
          high: float | None = 1.0, low_open: bool = False, high_open: bool = False,
          optional: bool = False, kw_only: bool = False) -> Any:
    """A share or rate, stored as a float: ``0.3``, ``"30 %"`` or ``Q_(30, "%")``."""
    def read(value: Any, owner: Any, path: str) -> float | None:
        if value is None and optional:
            return None
        return _bounds(read_ratio(value, path), path, low, high, low_open, high_open, value)

    spec = Spec(read, lambda x: x, "share (0.3 or '30 %')", parses="share")
    if optional and default is attrs.NOTHING:
        default = None
    return declare(spec, default=default, kw_only=kw_only)


def read_count(value: Any, path: str) -> int:
    """A whole, non-negative number."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise FieldError(path, f"must be a whole number, not {type(value).__name__}", value)
    if value < 0:
        raise FieldError(path, "must not be negative", value)
    if value > MAX_MAGNITUDE:
        raise FieldError(path, f"is absurdly large (more than {MAX_MAGNITUDE:g})", value)
    return int(value)


def count(*, default: Any = attrs.NOTHING, low: int = 0, kw_only: bool = False) -> Any:
    """A whole number, at least `low`."""
    def read(value: Any, owner: Any, path: str) -> int:
        n = read_count(value, path)
        if n < low:
            raise FieldError(path, f"must be at least {low}", value)
        return n

    return declare(Spec(read, lambda n: n, "whole number"), default=default, kw_only=kw_only)


def month(*, default: Any = attrs.NOTHING, optional: bool = False,
          kw_only: bool = False) -> Any:
    """A month: ``"2025-03"``, a date or a ``datetime64``; stored as ``datetime64[M]``."""
    def read(value: Any, owner: Any, path: str) -> np.datetime64 | None:
        if value is None and optional:
            return None
        return read_month(value, path)

    spec = Spec(read, lambda m: None if m is None else str(m), "month 'YYYY-MM'",
                parses="month")
    if optional and default is attrs.NOTHING:
        default = None
    return declare(spec, default=default, kw_only=kw_only)


def duration(*, default: Any = 0.0, kw_only: bool = False) -> Any:
    """A non-negative span in months: a number of months or a ``[time]`` quantity."""
    def read(value: Any, owner: Any, path: str) -> float:
        if isinstance(value, (str, pint.Quantity)):
            months = float(parse_quantity(value, "month", path).m_as("month"))
        else:
            months = _number(value, path)
        return _bounds(months, path, 0.0, None, False, False, value)

    return declare(Spec(read, lambda x: x, "months (a number, or e.g. '6 month')",
                         parses="months"),
                    default=default, kw_only=kw_only)


def _hint(text: str, names: Iterable[str]) -> str:
    hint = did_you_mean(text, names)
    return f"; {hint}" if hint else ""


def read_choice(value: Any, kinds: type[_E], path: str) -> _E:
    """An enum member, or its value as text (``"under construction"``, ``"s-curve"``)."""
    if isinstance(value, kinds):
        return value
    names = [str(e.value) for e in kinds]
    if isinstance(value, str):
        text = value.strip().lower().replace("_", " ")
        for e in kinds:
            if text in (str(e.value).lower(), e.name.lower().replace("_", " "),
                        str(e.value).lower().replace("-", " ")):
                return e
        raise FieldError(path, f"must be one of {', '.join(names)}{_hint(value, names)}",
                         value)
    raise FieldError(path, f"must be one of {', '.join(names)}", value)


def choice(kinds: type[_E], *, default: Any = attrs.NOTHING, kw_only: bool = False) -> Any:
    """One member of an enum, given as the member or its value."""
    spec = Spec(lambda v, o, p: read_choice(v, kinds, p), lambda e: e.value,
                "one of " + ", ".join(str(e.value) for e in kinds))
    return declare(spec, default=default, kw_only=kw_only)


def choice_of(read: Callable[[Any, str], Any], write: Callable[[Any], Any], describe: str,
              *, default: Any = attrs.NOTHING, kw_only: bool = False) -> Any:
    """One value of a closed set read by `read` (e.g. a :class:`~capacity.Resource` name)."""
    return declare(Spec(lambda v, o, p: read(v, p), write, describe), default=default,
                    kw_only=kw_only)


def read_text(value: Any, path: str, *, key: bool = False, nonempty: bool = False,
              choices: tuple[str, ...] | None = None) -> str:
    """A string; a `key` has no spaces; `choices` lists the allowed values."""
    if not isinstance(value, str):
        raise FieldError(path, f"expected a string, not {type(value).__name__}", value)
    if (key or nonempty) and not value.strip():
        raise FieldError(path, "must not be empty", value)
    if key and any(c.isspace() or c in '[]"' for c in value):
        raise FieldError(path, "must be a key without spaces, brackets or quotes (field "
                         "paths name it as sites[<key>])", value)
    if choices is not None and value not in choices:
        raise FieldError(path, f"must be one of {', '.join(choices)}{_hint(value, choices)}",
                         value)
    return value


def text(*, default: Any = attrs.NOTHING, key: bool = False, nonempty: bool = False,
         choices: tuple[str, ...] | None = None, kw_only: bool = False) -> Any:
    """A string field; a `key` is non-empty and has no spaces."""
    shown = "one of " + ", ".join(choices) if choices else "key" if key else "text"
    spec = Spec(lambda v, o, p: read_text(v, p, key=key, nonempty=nonempty or key,
                                          choices=choices),
                lambda s: s, shown)
    return declare(spec, default=default, kw_only=kw_only)


def read_flag(value: Any, path: str) -> bool:
    """True or False, and nothing else: ``"yes"`` or ``1`` could mean either of two things."""
    if not isinstance(value, (bool, np.bool_)):
        raise FieldError(path, "must be true or false", value)
    return bool(value)


def flag(*, default: bool = False, kw_only: bool = False) -> Any:
    """A yes/no field: ``true`` or ``false`` in a file, a bool in Python."""
    return declare(Spec(lambda v, o, p: read_flag(v, p), bool, "true or false"),
                   default=default, kw_only=kw_only)


def _strings(value: Any, path: str) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset([value])
    if not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise FieldError(path, f"expected a list of strings, not {type(value).__name__}", value)
    items = list(value)
    for i, v in enumerate(items):
        read_text(v, f"{path}[{i}]", nonempty=True)
        if v != v.strip():  # " ai" matches no tag "ai", and nothing would say so
            raise FieldError(f"{path}[{i}]", f"has spaces at its ends (write {v.strip()!r})", v)
    return frozenset(items)


def tags(*, kw_only: bool = False) -> Any:
    """A set of labels (strings); one string is a set of one."""
    return declare(Spec(lambda v, o, p: _strings(v, p), sorted, "list of strings"),
                    factory=frozenset, kw_only=kw_only)


class FrozenMap(Mapping[_K, _V]):
    """A read-only mapping: a copy of the items it was given, picklable and hashable.

    Examples
    --------
    >>> m = FrozenMap({"a": 1})
    >>> m["a"], m == {"a": 1}
    (1, True)
    >>> m["b"] = 2
    Traceback (most recent call last):
    ...
    TypeError: 'FrozenMap' object does not support item assignment
    """

    __slots__ = ("_items",)
    _items: dict[_K, _V]

    def __init__(self, items: Mapping[_K, _V] | Iterable[tuple[_K, _V]] = ()) -> None:
        object.__setattr__(self, "_items", dict(items))

    def __getitem__(self, key: _K) -> _V:
        return self._items[key]

    def __iter__(self) -> Iterator[_K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"'FrozenMap' object attribute {name!r} is read-only")

    def __reduce__(self) -> tuple[Any, ...]:
        return FrozenMap, (self._items,)

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


def _mapping(value: Any, path: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise FieldError(path, f"expected a table, not {type(value).__name__}", value)
    return value


def table(read_key: Callable[[Any, str], Any], read_value: Callable[[Any, Any, Any, str], Any],
          *, write_key: Callable[[Any], str] = str, write_value: Callable[[Any], Any]
          = lambda v: v, describe: str = "table", kw_only: bool = False,
          nested: bool = False, required: bool = False, parses: str | None = None) -> Any:
    """A read-only mapping; every bad key or value is reported, each with its path.

    `read_value` is called as ``read_value(value, key, owner, path)`` with the key
    already read, so a value's unit may depend on its key.
    """
    def read(value: Any, owner: Any, path: str) -> Mapping[Any, Any]:
        items = _mapping(value, path)
        p = Problems(path)
        out: dict[Any, Any] = {}
        given: dict[Any, Any] = {}
        for k, v in items.items():
            here = f"{path}.{getattr(k, 'name', k)}".lower() if not isinstance(k, str) \
                else f"{path}.{k}"
            try:
                key = read_key(k, here)
                here = f"{path}.{write_key(key)}"
                if key in given:
                    # "fp16" and "FP16" read as one key: refuse rather than keep the last
                    raise FieldError(here, f"duplicate key (also given as {given[key]!r})", k)
                given[key] = k
                out[key] = read_value(v, key, owner, here)
            except ValidationError as error:
                p.items.extend(FieldError(under(here, e.path), e.reason, e.value)
                               for e in error.problems)
            except FieldError as error:
                p.items.append(error)
        if p:
            raise ValidationError(f"invalid {path}", [
                FieldError(e.path[len(path) + 1:] if e.path.startswith(path + ".") else e.path,
                           e.reason, e.value) for e in p.items])
        return FrozenMap(out)

    def write(m: Mapping[Any, Any]) -> dict[str, Any]:
        return {write_key(k): write_value(v) for k, v in m.items()}

    spec = Spec(read, write, describe, nested="table" if nested else None, parses=parses)
    if required:
        return declare(spec, default=MISSING, kw_only=kw_only)
    return declare(spec, factory=dict, kw_only=kw_only)


def counts(*, kw_only: bool = False) -> Any:
    """Cabinets by profile name: a read-only mapping of names to whole numbers."""
    return table(lambda k, p: read_text(k, p, key=True), lambda v, k, o, p: read_count(v, p),
                 describe="table of whole numbers by profile", kw_only=kw_only)


def provenance(*, kw_only: bool = False) -> Any:
    """The origin of each figure, keyed by the name of the field it documents."""
    def read_key(k: Any, path: str) -> str:
        return read_text(k, path)

    def read_value(v: Any, k: str, owner: Any, path: str) -> Provenance:
        unknown = provenance_key_problem(type(owner), k, path)
        if unknown is not None:
            raise unknown
        if not isinstance(v, Provenance):
            raise FieldError(path, "must be a Provenance", v)
        return v

    def write(p: Provenance) -> dict[str, str]:
        out = {"kind": p.kind.value, "note": p.note}
        return out | ({"reference": p.reference} if p.reference else {})

    return table(read_key, read_value, write_value=write, nested=True,
                 describe="table of provenance by field", kw_only=kw_only)


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'AEIOU' else 'a'} {noun}"


def provenance_key_problem(cls: type[Any], key: str, path: str) -> FieldError | None:
    """The problem with a provenance entry for `key`, if `cls` has no such field."""
    names = [f.name for f in attrs.fields(cls) if f.init and f.name != "provenance"]
    if key in names:
        return None
    return FieldError(path, f"documents no field{_hint(key, names)}", key)


def instances(cls: type[Any] | tuple[type[Any], ...], *, kw_only: bool = False,
              required: bool = False) -> Any:
    """A tuple of `cls` values (given as any iterable); `cls` may be several classes."""
    kinds = cls if isinstance(cls, tuple) else (cls,)
    plain = " or ".join(k.__name__ for k in kinds)

    def read(value: Any, owner: Any, path: str) -> tuple[Any, ...]:
        if isinstance(value, (str, Mapping)) or not isinstance(value, Iterable):
            raise FieldError(path, f"expected a list of {plain}, not {type(value).__name__}",
                             value)
        items = tuple(value)
        for i, v in enumerate(items):
            read_instance(v, kinds, f"{path}[{i}]")
        return items

    spec = Spec(read, list, f"list of {plain}", nested="many")
    if required:
        return declare(spec, default=MISSING, kw_only=kw_only)
    return declare(spec, factory=tuple, kw_only=kw_only)


def nested(cls: type[Any] | tuple[type[Any], ...], *, default: Any = attrs.NOTHING,
           factory: Any = None, kw_only: bool = False) -> Any:
    """One value of a class (or one of several), a table in a scenario file."""
    def read(value: Any, owner: Any, path: str) -> Any:
        return read_instance(value, cls, path)

    return declare(Spec(read, lambda v: v, "table", nested="one"), default=default,
                    factory=factory, kw_only=kw_only)


def freeze(owner: Any) -> None:
    """Make a frozen result's arrays read-only and its dicts read-only mappings.

    Call from the ``__attrs_post_init__`` of result classes, whose fields are computed
    arrays: after it, ``result.capacity[0] = 1`` raises instead of changing a figure
    every later answer reads.
    """
    for f in attrs.fields(type(owner)):
        value = getattr(owner, f.name, None)
        frozen = _frozen(value)
        if frozen is not value:
            object.__setattr__(owner, f.name, frozen)


def _frozen(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
        return value
    if isinstance(value, dict):
        return FrozenMap({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, FrozenMap):
        for v in value.values():
            _frozen(v)
    return value


def zero(unit: str) -> Quantity:
    """A zero of `unit`, as a default."""
    return Q_(0.0, unit)


def unit(*, kw_only: bool = False) -> Any:
    """A unit (``"vCPU"``, ``"PFLOPS_fp16"``), read through the plain grammar."""
    spec = Spec(lambda v, o, p: read_unit(v, p), lambda u: f"{u:~C}", "unit", parses="unit")
    return declare(spec, kw_only=kw_only)


def levels(q: Any) -> float | tuple[float, ...]:
    """Quantile level(s) `q`, as every result reads them: one number or a sequence of them.

    Raises
    ------
    FieldError
        Naming ``q``, for a level that is not a number in [0, 1], a level given twice,
        or no levels at all.
    """
    many = not isinstance(q, (int, float, np.number)) or isinstance(q, bool)
    items = list(q) if many and isinstance(q, (list, tuple, np.ndarray)) else [q]
    if many and not isinstance(q, (list, tuple, np.ndarray)):
        raise FieldError("q", "must be a quantile level in [0, 1] or a sequence of them", q)
    if not items:
        raise FieldError("q", "holds no quantile levels", q)
    out = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or \
                not 0 <= float(v) <= 1:
            raise FieldError("q", "must be quantile levels in [0, 1] (0.5 is the median)", q)
        out.append(float(v))
    if len(set(out)) < len(out):  # a level twice would be two rows of one label
        raise FieldError("q", "repeats a quantile level", q)
    return tuple(out) if many else out[0]
