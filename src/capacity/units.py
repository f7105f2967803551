"""The unit registry of capacity: one registry, defined by a versioned data file.

Every public quantity in capacity belongs to :data:`ureg`, which is also set as pint's
application registry so quantities pickle into worker processes.

The registry differs from pint's defaults where those are wrong for IT planning:
information, cabinets, vCPU, currency and compute at each precision are dimensions of
their own; ``万元`` and ``亿元`` are units (1e4 and 1e8 yuan); ``¥`` is read as yuan
instead of being dropped; a trailing ``s`` is never guessed to be a plural.

Examples
--------
>>> from capacity import Q_
>>> Q_("130 PFLOPS_fp16").to("EFLOPS_fp16")
<Quantity(0.13, 'exaFLOPS_fp16')>
>>> Q_("315000 万元").to("亿元")
<Quantity(31.5, '亿元')>
>>> Q_("8 kW").to("standard_rack")
<Quantity(3.2, 'standard_rack')>
"""

from __future__ import annotations

import copyreg
import enum
import functools
import math
import re
import unicodedata
from importlib import resources
from typing import Any, TypeAlias

import attrs
import numpy as np
import pint
from numpy.typing import ArrayLike, NDArray

from capacity.errors import DimensionError, FieldError, did_you_mean

__all__ = [
    "DEFINITIONS_VERSION",
    "H100_SXM",
    "MAX_MAGNITUDE",
    "Q_",
    "Precision",
    "PrecisionRatio",
    "Quantity",
    "convert_precision",
    "dimension_name",
    "dimension_words",
    "parse_quantity",
    "plain_quantity",
    "plain_unit",
    "read_number",
    "read_unit",
    "respelling",
    "unknown_unit",
    "ureg",
]

#: Version of the shipped definitions file ``units.txt``.
DEFINITIONS_VERSION = 1

#: The quantity type of :data:`ureg` (a real alias, so annotations resolve at run time).
Quantity: TypeAlias = pint.Quantity[Any]

_YEN = re.compile(r"[¥￥]")


def _read_yen(text: str) -> str:
    # pint's tokenizer silently drops "¥" ("2 ¥" would become the number 2).
    return _YEN.sub(" yuan ", text)


def _build_registry() -> pint.UnitRegistry[Any]:
    path = resources.files("capacity").joinpath("units.txt")
    reg: pint.UnitRegistry[Any] = pint.UnitRegistry(
        None,
        preprocessors=[_read_yen],
        on_redefinition="raise",
        cache_folder=None,
    )
    # pint guesses plurals by stripping a trailing "s"; for IT names that misreads
    # ("FLOPS" is a rate, not many "FLOP"). units.txt lists real plurals as aliases.
    reg._suffixes = {"": ""}
    with resources.as_file(path) as file:
        reg.load_definitions(str(file))
    reg.formatter.default_format = "~P"
    return reg


#: The one registry of capacity.
ureg: pint.UnitRegistry[Any] = _build_registry()
pint.set_application_registry(ureg)  # type: ignore[no-untyped-call]

#: Quantity constructor of :data:`ureg`: ``Q_(8, "kW")`` or ``Q_("8 kW")``.
Q_ = ureg.Quantity


def _unpickle_quantity(magnitude: Any, units: str) -> Quantity:
    return Q_(magnitude, units)


def _reduce_quantity(q: Quantity) -> tuple[Any, tuple[Any, str]]:
    # pint's own reduce rebuilds on whatever registry the unpickling process has set;
    # a fresh worker that has not imported capacity would not know "cabinet".
    # Naming this module makes unpickling import it, and so build ureg, first.
    return _unpickle_quantity, (q.magnitude, str(q.units))


copyreg.pickle(ureg.Quantity, _reduce_quantity)


class Precision(enum.Enum):
    """Numerical precision of a compute figure; each is a dimension of its own."""

    FP64 = "FLOPS_fp64"
    FP32 = "FLOPS_fp32"
    FP16 = "FLOPS_fp16"
    INT8 = "OPS_int8"

    @property
    def unit(self) -> pint.Unit:
        """The base unit of compute at this precision (per second)."""
        return ureg.Unit(self.value)

    @classmethod
    def of(cls, quantity: Quantity) -> Precision:
        """Return the precision of a compute quantity.

        Raises
        ------
        DimensionError
            If `quantity` is not compute at one precision.
        """
        for p in cls:
            if quantity.dimensionality == p.unit.dimensionality:
                return p
        raise DimensionError("compute", "is not compute at a known precision", quantity)


@attrs.frozen
class PrecisionRatio:
    """A named hardware ratio between two precisions, e.g. FP16 per FP64 on one chip.

    Compute at different precisions never converts implicitly; a ratio says how many
    units of `target` one unit of `source` is worth on a given piece of hardware.

    Parameters
    ----------
    name
        The hardware the ratio belongs to, e.g. ``"H100 SXM"``.
    source, target
        The precisions converted from and to.
    factor
        Target per source, dimensionless and positive.
    reference
        Where the figures come from.
    """

    name: str
    source: Precision
    target: Precision
    factor: float = attrs.field(converter=float)
    reference: str = ""

    @factor.validator
    def _check_factor(self, _: attrs.Attribute[float], value: float) -> None:
        if not (math.isfinite(value) and value > 0):
            raise FieldError("factor", "must be finite and positive", value)

    def inverse(self) -> PrecisionRatio:
        """The same ratio read the other way round."""
        return PrecisionRatio(self.name, self.target, self.source, 1 / self.factor, self.reference)


def _h100(source: Precision, target: Precision) -> PrecisionRatio:
    # NVIDIA H100 SXM dense peaks (DOMAIN-FACTS S12): FP64 33.5 (vector), FP32 66.9,
    # FP16/BF16 989.4, INT8 1978.9 TFLOPS/TOPS.
    peak = {Precision.FP64: 33.5, Precision.FP32: 66.9, Precision.FP16: 989.4,
            Precision.INT8: 1978.9}
    return PrecisionRatio("H100 SXM", source, target, peak[target] / peak[source],
                          "NVIDIA H100 SXM datasheet dense peaks")


#: Ratios of the NVIDIA H100 SXM between every pair of precisions, keyed (source, target).
H100_SXM: dict[tuple[Precision, Precision], PrecisionRatio] = {
    (s, t): _h100(s, t) for s in Precision for t in Precision if s is not t
}


def convert_precision(quantity: Quantity, ratio: PrecisionRatio) -> Quantity:
    """Convert compute at one precision to another through an explicit hardware ratio.

    Parameters
    ----------
    quantity
        Compute at ``ratio.source`` precision, ``[compute_<precision>]``.
    ratio
        The hardware ratio to apply.

    Returns
    -------
    Quantity
        Compute at ``ratio.target`` precision.

    Examples
    --------
    >>> from capacity.units import H100_SXM, Precision
    >>> r = H100_SXM[Precision.FP64, Precision.FP16]
    >>> round(convert_precision(Q_("33.5 TFLOPS_fp64"), r).m_as("TFLOPS_fp16"), 1)
    989.4
    """
    if Precision.of(quantity) is not ratio.source:
        raise DimensionError(
            "compute", f"is not {ratio.source.name} compute as the ratio expects", quantity
        )
    return Q_(quantity.m_as(ratio.source.unit) * ratio.factor, ratio.target.unit)


_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?"
# A name starts with a letter: "1_0W" would otherwise pass as 1 and "_0W", and pint (like
# Python) reads "1_0" as the number 10.
_NAME = r"(?:[^\W\d_]\w*|%|[¥￥])"
_POWER = r"(?:\s*(?:\*\*|\^)\s*[+-]?[0-9]{1,2}|[²³])?"
_TERMS = rf"{_NAME}{_POWER}(?:(?:\s*[*/]\s*|\s+){_NAME}{_POWER})*"
_FACTOR = rf"(?:{_NAME}|\(\s*{_TERMS}\s*\)){_POWER}"
_UNIT = rf"(?:/\s*)?{_FACTOR}(?:(?:\s*[*/]\s*|\s+){_FACTOR})*"
# Only "number unit" reaches pint's parser: it evaluates arithmetic on numbers, which input
# could abuse ("10**10**10 kW" never finishes, "1 2 3 kW" silently reads as 6 kW) and no
# figure needs. One level of parentheses serves "yuan/(PFLOPS_fp16*hour)".
# The number is required: "kW" alone would be read as 1 kW, a figure nobody wrote.
_QUANTITY_TEXT = re.compile(rf"\s*(?:{_NUMBER})\s*(?:{_UNIT})?\s*")
_UNIT_TEXT = re.compile(rf"\s*{_UNIT}\s*|\s*")
_MAX_TEXT = 200  # longer is no quantity; keeps hostile input from feeding pint megabytes


def plain_quantity(text: str) -> bool:
    """Whether `text` is a plain ``"number unit"`` that is safe to hand to pint.

    Examples
    --------
    >>> plain_quantity("30 yuan/(PFLOPS_fp16*hour)"), plain_quantity("10**10**10 kW")
    (True, False)
    """
    return len(text) <= _MAX_TEXT and _QUANTITY_TEXT.fullmatch(text) is not None


def plain_unit(text: str) -> bool:
    """Whether `text` is a plain unit expression (no numbers but exponents)."""
    return len(text) <= _MAX_TEXT and _UNIT_TEXT.fullmatch(text) is not None


# What planners call each dimension they meet, the word it takes inside a compound
# ("currency per power"; None where it is never a factor of one) and a unit of it.
_DIMENSIONS = (
    ("power", "power", "kW"), ("energy", "energy", "kWh"), ("area", "area", "m**2"),
    ("a length", "length", "m"), ("time", "time", "month"),
    ("information", "information", "TB"), ("currency", "currency", "yuan"),
    ("a number of cabinets", "cabinet", "cabinet"), ("a number of vCPU", "vCPU", "vCPU"),
    ("FP64 compute", "FP64 compute", "TFLOPS_fp64"),
    ("FP32 compute", "FP32 compute", "TFLOPS_fp32"),
    ("FP16 compute", "FP16 compute", "TFLOPS_fp16"),
    ("INT8 compute", "INT8 compute", "TOPS_int8"),
    ("a price per energy", None, "yuan/kWh"), ("a money rate", None, "yuan/year"),
    ("a rate per unit of time", None, "1/year"), ("a plain number", None, ""),
)


@functools.cache
def _by_dimension() -> dict[Any, tuple[str, str | None, str]]:
    return {ureg.Unit(unit).dimensionality: (name, noun, unit)
            for name, noun, unit in _DIMENSIONS}


def _noun(unit: str, power: int) -> str | None:
    """The word for one factor of a compound unit (``kW``, ``m**2``), if there is one."""
    dim = ureg.Unit(unit).dimensionality
    whole = _by_dimension().get(dim ** abs(power))  # m**2 is an area
    if whole is not None and whole[1] is not None:
        return whole[1]
    single = _by_dimension().get(dim)
    if single is None or single[1] is None:
        return None
    return single[1] + {2: "²", 3: "³"}.get(abs(power), f"**{abs(power)}")


def dimension_words(unit: pint.Unit) -> str | None:
    """The dimension of `unit` in planners' words, if it can be said in them.

    A dimension of its own has a name (``"power"``, ``"a price per energy"``); another
    is said through the factors of the unit as written (``"currency per power"`` for
    ``yuan/kW``).

    Examples
    --------
    >>> dimension_words(ureg.Unit("MWh")), dimension_words(ureg.Unit("yuan/kW"))
    ('energy', 'currency per power')
    """
    known = _by_dimension().get(unit.dimensionality)
    if known is not None:
        return known[0]
    over: list[str] = []
    below: list[str] = []
    for name, power in pint.util.to_units_container(unit).items():
        whole = int(float(power))  # type: ignore[arg-type]  # pint types exponents loosely
        noun = _noun(name, whole)
        if noun is None or power != whole:
            return None
        (over if whole > 0 else below).append(noun)
    return " per ".join([" × ".join(over) or "one", *below])


def dimension_name(value: Quantity | pint.Unit) -> str:
    """Name the physical dimension of a quantity or unit in planners' words.

    Examples
    --------
    >>> dimension_name(Q_("3 MWh")), dimension_name(Q_("0.6 yuan/kW"))
    ('energy [kWh]', 'currency per power [yuan/kW]')
    """
    unit = value if isinstance(value, pint.Unit) else ureg.Unit(value.units)
    known = _by_dimension().get(unit.dimensionality)
    if known is not None:
        return f"{known[0]} [{known[2]}]" if known[2] else known[0]
    words = dimension_words(unit)
    return f"{words} [{unit:~P}]" if words else f"[{unit:~P}]"


def _wrong_dimension(path: str, q: Quantity, expected: pint.Unit) -> DimensionError:
    """The problem with an amount of another dimension, said in the units' words."""
    written, wanted = f"{q.units:~P}", f"{expected:~P}"
    words, wanted_words = dimension_words(ureg.Unit(q.units)), dimension_words(expected)
    shown = f"{written} ({words})" if written and words else written or words or "a number"
    expectation = (f"{wanted_words} such as {wanted}" if wanted and wanted_words
                   else wanted_words or wanted)
    return DimensionError(path, f"is {shown}, expected {expectation}", f"{q:~P}")


# Prefixes planners put on units, likelier first: a suggestion for "mwh" is MWh, not mWh.
_PREFIXES = ("", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
             "kilo", "mega", "giga", "tera", "peta", "exa", "kibi", "mebi", "gibi", "tebi")
_NO_PRECISION = re.compile(r"(?i)(k|m|g|t|p|e|kilo|mega|giga|tera|peta|exa)?(flop|ops)s?")


@functools.cache
def _spellings() -> tuple[str, ...]:
    """Every spelling of a unit worth suggesting, likelier first.

    Each name, symbol and alias of the registry (``units.txt``), bare and with the
    prefixes planners use.
    """
    names = [n for n in ureg._units if n and n != "_"]
    return tuple(dict.fromkeys(p + n for p in _PREFIXES for n in names))


def unknown_unit(name: str) -> str:
    """Why `name` is not a unit, with the unit it most likely misspells.

    Examples
    --------
    >>> unknown_unit("kw")
    "'kw' is not a unit; did you mean 'kW'?"
    >>> unknown_unit("PFLOPS")
    'compute needs its precision: write PFLOPS_fp16, PFLOPS_fp32 or PFLOPS_fp64'
    """
    bare = _NO_PRECISION.fullmatch(name)
    if bare is not None:
        prefix = bare[1] or ""
        prefix = prefix if len(prefix) > 1 or prefix == "k" else prefix.upper()
        if bare[2].lower() == "ops":
            return f"compute needs its precision: write {prefix}OPS_int8"
        return ("compute needs its precision: write "
                f"{prefix}FLOPS_fp16, {prefix}FLOPS_fp32 or {prefix}FLOPS_fp64")
    # a stricter cutoff than for keys: among 2,000 spellings, "gbps" is not "Ps"
    hint = did_you_mean(_full_width_as_ascii(name), _spellings(), cutoff=0.7)
    return f"{name!r} is not a unit{'; ' + hint if hint else ''}"


def _full_width_as_ascii(text: str) -> str:
    # "４６０００ ｖＣＰＵ": full-width forms and the ideographic space, as ASCII
    return "".join(unicodedata.normalize("NFKC", c) if "\uff01" <= c <= "\uff5e" or
                   c == "\u3000" else c for c in text)


_GROUPED = re.compile(r"\s*([+-]?[0-9]{1,3}(?:[,_][0-9]{3})+(?:\.[0-9]*)?)(?![0-9])(.*)",
                      re.DOTALL)


def respelling(text: str) -> tuple[str, str] | None:
    """What is wrong with a number written as capacity does not read it, and what to write.

    ``None`` if `text` is no such number. Full-width or other non-ASCII digits and
    thousands separators are refused, never silently read: ``"46,000"`` is 46 in some
    places and 46000 in others.

    Examples
    --------
    >>> respelling("４６０００ vCPU")
    ('is written with non-ASCII digits', '46000 vCPU')
    >>> respelling("46,000 vCPU")
    ('has a thousands separator', '46000 vCPU')
    """
    ascii_text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c
                         for c in _full_width_as_ascii(text))
    grouped = _GROUPED.match(ascii_text)
    fixed = (grouped[1].replace(",", "").replace("_", "") + grouped[2]).strip() \
        if grouped else ascii_text.strip()
    if any(c.isdecimal() and not c.isascii() for c in text):
        return "is written with non-ASCII digits", fixed
    if grouped:
        return "has a thousands separator", fixed
    return None


_NUMBER_TEXT = re.compile(rf"\s*{_NUMBER}\s*")


def read_number(text: str) -> float | None:
    """`text` as a number if it is a plain, finite decimal (``"60"``, ``"1e3"``), else ``None``.

    Words (``"inf"``, ``"nan"``), separators and non-ASCII digits are no plain decimal.
    """
    if len(text) > _MAX_TEXT or _NUMBER_TEXT.fullmatch(text) is None:
        return None
    value = float(text)
    return value if math.isfinite(value) else None


#: Largest magnitude any figure may have, in the unit it is checked against (1e15 cabinets,
#: kW, yuan, ...): larger is a typo or a unit slip, never a city's estate.
MAX_MAGNITUDE = 1e15


def _not_plain(path: str, value: str, expected: pint.Unit | None) -> FieldError:
    respelt = respelling(value)
    if respelt is not None:
        return FieldError(path, f"{respelt[0]}; write '{respelt[1]}'", value)
    if expected is not None and expected.dimensionless:
        return FieldError(path, "is not a quantity (write a share as 0.3 or '30 %')", value)
    unit = f"{expected:~P}" if expected is not None else "kW"
    # "1/yr" after a number reads as a second number: the plain spelling is "/yr".
    example = f"8 {'/' + unit[2:] if unit.startswith('1/') else unit}"
    return FieldError(path, f"is not a quantity (write '<number> <unit>', e.g. '{example}')",
                      value)


def parse_quantity(value: object, unit: str | pint.Unit | None, path: str) -> Quantity:
    """Read `value` as a quantity with the dimension of `unit`: the one quantity reader.

    Every constructor, scenario file and command-line option that accepts an amount reads
    it here. A string must be a plain ``"number unit"`` (checked before pint sees it, so no
    text can make pint compute: ``"1 2 3 kW"`` and ``"10**10**10 kW"`` are refused, not read
    as 6 kW or computed for ever). A bare number is rejected: capacity never guesses a unit.

    Parameters
    ----------
    value
        A :class:`pint.Quantity` of :data:`ureg` or a string such as ``"8 kW"``.
    unit
        A unit with the expected dimension; ``None`` accepts any dimension but requires a
        unit (``"12 %"`` counts as one).
    path
        The field path to name in errors.

    Raises
    ------
    FieldError
        If the value is a bare number, not plain text, unparseable, not finite or
        absurdly large (beyond :data:`MAX_MAGNITUDE` in `unit`).
    DimensionError
        If the value has another dimension.

    Examples
    --------
    >>> parse_quantity("8 kW", "kW", "it_power")
    <Quantity(8, 'kilowatt')>
    >>> parse_quantity("1 2 3 kW", "kW", "it_power")
    Traceback (most recent call last):
    ...
    capacity.errors.FieldError: it_power: is not a quantity (write '<number> <unit>', \
e.g. '8 kW') (got '1 2 3 kW')
    """
    expected = read_unit(unit, "unit") if isinstance(unit, str) else unit
    if isinstance(value, str):
        q = _read_text(value, expected, path)
    elif isinstance(value, pint.Quantity):
        if value._REGISTRY is not ureg:
            raise FieldError(path, "quantity belongs to another unit registry; use capacity.ureg",
                             value)
        q = value
    elif isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        raise _no_unit(path, value, expected)
    else:
        shown = f" in {expected:~P}" if expected is not None else ""
        raise FieldError(path, f"expected a quantity{shown}, not {type(value).__name__}",
                         value)
    if expected is not None and q.dimensionality != expected.dimensionality:
        raise _wrong_dimension(path, q, expected)
    try:
        mags = np.asarray(q.magnitude, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise FieldError(path, "must be a real amount", f"{q:~P}") from None
    if not np.all(np.isfinite(mags)):
        raise FieldError(path, "must be finite", f"{q:~P}")
    size = np.abs(np.asarray(q.m_as(expected) if expected is not None else mags, dtype=float))
    if size.size and float(size.max()) > MAX_MAGNITUDE:
        shown = f"{expected:~P}" if expected is not None else f"{q.units:~P}"
        raise FieldError(path, f"is absurdly large (more than {MAX_MAGNITUDE:g} {shown})".rstrip(),
                         f"{q:~P}")
    return q


def _no_unit(path: str, value: object, expected: pint.Unit | None) -> FieldError:
    if expected is None:
        return FieldError(path, "has no unit", value)
    number = value.strip() if isinstance(value, str) else value
    return FieldError(path, f"has no unit; give it in {expected:~P} (e.g. '{number} "
                      f"{expected:~P}')", value)


def _read_text(value: str, expected: pint.Unit | None, path: str) -> Quantity:
    """A quantity from plain ``"number unit"`` text (see :func:`parse_quantity`)."""
    if not plain_quantity(value) or not value.strip():
        raise _not_plain(path, value, expected)
    try:
        q: Quantity = Q_(value)
    except Exception as exc:  # pint raises many kinds; none may escape unexplained
        raise FieldError(path, _unreadable(exc, "cannot be read as a quantity"),
                         value) from None
    if not isinstance(q, pint.Quantity):  # a bare number in a string
        q = Q_(q)
    if q.unitless and "%" not in value and (expected is None or not expected.dimensionless):
        raise _no_unit(path, value, expected)
    if "%" in value and q.units != ureg.percent:
        # "8 kW %" would be read as 0.08 kW: a percent sign stands alone
        raise FieldError(path, "'%' is a unit on its own, not a factor of another", value)
    return q


def _unreadable(exc: Exception, what: str) -> str:
    """Why pint could not read some text: a unit it does not know, with a suggestion."""
    if isinstance(exc, pint.UndefinedUnitError) and exc.unit_names:
        names = exc.unit_names
        return unknown_unit(names if isinstance(names, str) else names[0])
    return f"{what}: {exc}"


def read_unit(value: object, path: str) -> pint.Unit:
    """Read a unit (``"kW"``, ``"yuan/(PFLOPS_fp16*hour)"``) through the same plain grammar.

    Raises
    ------
    FieldError
        If `value` is not a plain unit expression of :data:`ureg`.
    """
    if isinstance(value, pint.Unit):
        if value._REGISTRY is not ureg:
            raise FieldError(path, "unit belongs to another unit registry; use capacity.ureg",
                             str(value))
        return value
    if not isinstance(value, str):
        raise FieldError(path, f"expected a unit, not {type(value).__name__}", value)
    if not plain_unit(value):
        raise FieldError(path, "is not a unit (write e.g. 'kW' or 'yuan/kWh')", value)
    try:
        return ureg.Unit(value)
    except Exception as exc:  # pint raises many kinds; none may escape unexplained
        raise FieldError(path, _unreadable(exc, "is not a unit"), value) from None


def magnitudes(
    values: ArrayLike | Quantity, unit: str | pint.Unit, path: str
) -> NDArray[np.float64]:
    """Convert a quantity (scalar or array) to float64 magnitudes in `unit`, once.

    Raises
    ------
    DimensionError
        If the dimension is not that of `unit`.
    """
    q = parse_quantity(values, unit, path)
    return np.asarray(q.m_as(unit), dtype=np.float64)
