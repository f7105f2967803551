"""Growth models: a value per month for demand and plan targets, central and sampled.

Every model gives a deterministic central path over a monthly axis and draws random
paths for Monte Carlo from a caller-seeded :class:`numpy.random.Generator`. Parameters
are :class:`pint.Quantity` values at the surface; inside, a model holds float64
magnitudes in one unit, :attr:`GrowthModel.unit`, which is the unit its leading amount
(``start``, ``ceiling`` or the first milestone) was given in, so stated figures come back
exactly.

Time is measured in years of 12 months: a slope ``Q_("6000 vCPU/year")`` adds 500 vCPU
a month, and a compound rate of 25 % multiplies the value by 1.25 every 12 months.

Examples
--------
>>> import numpy as np
>>> from capacity import Q_
>>> from capacity.months import month_range
>>> axis = month_range("2025-01", "2027-01")
>>> plan = Milestones([("2025-03", Q_("0 PFLOPS_fp16")), ("2027-01", Q_("130 PFLOPS_fp16"))])
>>> plan.values(axis)[-1]
<Quantity(130.0, 'petaFLOPS_fp16')>
>>> demand = Compound(Q_("20000 vCPU"), "2025-01", Q_("25 %"), rate_sd=0.05)
>>> demand.magnitudes(axis, "vCPU")[[0, 12, 24]]
array([20000., 25000., 31250.])
>>> paths = demand.sample(axis, 1000, np.random.default_rng(7), "vCPU")
>>> paths.shape
(1000, 25)
"""

from __future__ import annotations

import abc
import itertools
import math
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, NoReturn, Self, TypeAlias

import attrs
import numpy as np
import pint
from numpy.typing import NDArray
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.special import expit

from capacity import fields
from capacity.errors import FieldError, Problems, ValidationError
from capacity.months import MonthLike, month
from capacity.paths import under
from capacity.units import Q_, Quantity, read_unit, ureg

__all__ = [
    "Compound",
    "Fitted",
    "GrowthModel",
    "Linear",
    "Logistic",
    "Milestone",
    "Milestones",
    "Months",
    "fit",
    "target",
]

#: A month axis: a 1-D ``datetime64[M]`` array or a sequence of months.
Months: TypeAlias = NDArray[np.datetime64] | Sequence[MonthLike]

_Floats: TypeAlias = NDArray[np.float64]
_YEAR = ureg.Unit("year")
_MONTHS_PER_YEAR = 12.0


# ---------------------------------------------------------------- field units

def _units(q: Quantity) -> pint.Unit:
    """The unit of a quantity, typed as the registry's unit class."""
    return ureg.Unit(q.units)


def _per_year(field: str) -> Callable[[Any], pint.Unit]:
    """The unit of an earlier amount field, per year (a slope's unit)."""
    return lambda owner: fields.unit_of(owner, field) / _YEAR


def _same_as(field: str) -> Callable[[Any], pint.Unit]:
    """The unit of an earlier amount field (a floor's or a spread's unit)."""
    return lambda owner: fields.unit_of(owner, field)


def _or_zero(rule: Callable[[Any], pint.Unit], *, optional: bool = False,
             sign: str = "nonnegative") -> Any:
    """An amount in the unit `rule` gives, where a bare 0 needs no unit."""
    def read(value: Any, owner: Any, path: str) -> Quantity | None:
        if value is None and optional:
            return None
        try:
            unit = rule(owner)
        except (AttributeError, TypeError):
            unit = None  # the field it follows is itself invalid, and reported
        if isinstance(value, (int, float, np.integer, np.floating)) and \
                not isinstance(value, bool) and value == 0:
            return Q_(0.0, unit if unit is not None else ureg.dimensionless)
        return fields.read_amount(value, unit, path, sign)

    spec = fields.Spec(read, lambda q: None if q is None else fields.written_quantity(q),
                       "quantity (0 needs no unit)", parses="quantity")
    return fields.declare(spec, default=None if optional else 0.0, kw_only=True)


def _derive(owner: Any, **values: Any) -> None:
    """Store derived, private values (never fields a caller gave) on a frozen instance."""
    for name, value in values.items():
        object.__setattr__(owner, name, value)


def _magnitude(q: Quantity, unit: pint.Unit) -> float:
    return float(q.m_as(unit))


def _axis(months: Months) -> NDArray[np.datetime64]:
    """Read a month axis once, at the boundary."""
    if isinstance(months, np.ndarray) and np.issubdtype(months.dtype, np.datetime64):
        axis = months.astype("datetime64[M]")
        if axis.ndim != 1 or np.any(np.isnat(axis)):
            _fail("month axis", "months", "must be a 1-D array of months without NaT")
        return axis
    if isinstance(months, str) or not isinstance(months, Sequence | np.ndarray):
        _fail("month axis", "months", "must be a sequence of months, not one month")
    problems = Problems("month axis")
    read: list[np.datetime64] = []
    for i, m in enumerate(months):
        try:
            read.append(month(m, f"months[{i}]"))
        except FieldError as error:
            problems.items.append(error)
    problems.raise_if_any()
    return np.array(read, dtype="datetime64[M]")


def _fail(what: str, path: str, reason: str, value: object = None) -> NoReturn:
    raise ValidationError(f"invalid {what}", [FieldError(path, reason, value)])


def _years_since(axis: NDArray[np.datetime64], anchor: np.datetime64) -> _Floats:
    return (axis - anchor).astype(np.float64) / _MONTHS_PER_YEAR


def _factor(unit: pint.Unit, to: str | pint.Unit | None) -> float:
    """Multiplier from magnitudes in `unit` to magnitudes in `to` (same dimension)."""
    if to is None:
        return 1.0
    try:
        target = read_unit(to, "unit")
    except FieldError as error:
        raise ValidationError("invalid unit", [error]) from None
    if target.dimensionality != unit.dimensionality:
        _fail("unit", "unit", f"has dimension {target.dimensionality}, the model's values "
              f"have {unit.dimensionality} (e.g. {unit:~P})", f"{target:~P}")
    return float(Q_(1.0, unit).m_as(target))


def _check_factor(factor: float) -> float:
    if isinstance(factor, bool) or not isinstance(factor, (int, float, np.integer,
                                                           np.floating)):
        _fail("scale factor", "factor", "must be a plain positive number",
              type(factor).__name__)
    try:
        value = float(factor)
    except OverflowError:
        value = math.inf
    if not (math.isfinite(value) and value > 0):
        _fail("scale factor", "factor", "must be finite and positive", factor)
    return value


# ---------------------------------------------------------------- the interface

class GrowthModel(abc.ABC):
    """A value per month: a central path and random paths for Monte Carlo.

    Subclasses give the path in :attr:`unit` as float64 arrays; this base class converts
    the month axis and the unit once per call.
    """

    __slots__ = ()
    _unit: pint.Unit

    @property
    def unit(self) -> pint.Unit:
        """The unit of the values: the unit the leading amount was given in."""
        return self._unit

    @abc.abstractmethod
    def _central(self, axis: NDArray[np.datetime64]) -> _Floats:
        """Central path over `axis`, in :attr:`unit`."""

    @abc.abstractmethod
    def _draw(self, axis: NDArray[np.datetime64], n_paths: int,
              rng: np.random.Generator) -> _Floats:
        """Random paths, shape ``(n_paths, axis.size)``, in :attr:`unit`."""

    @abc.abstractmethod
    def scaled(self, factor: float) -> Self:
        """The same model with every amount multiplied by `factor`.

        Parameters
        ----------
        factor
            Positive, dimensionless, e.g. 1.2 for "20 % more demand".

        Returns
        -------
        Self
            A new model; rates, dates and relative uncertainties are unchanged.
        """

    def values(self, months: Months) -> Quantity:
        """The central path over a month axis.

        Parameters
        ----------
        months
            Month axis, e.g. from :func:`capacity.months.month_range`.

        Returns
        -------
        Quantity
            Array of the same length as `months`, in :attr:`unit`.
        """
        return ureg.Quantity(self._central(_axis(months)), self.unit)

    def magnitudes(self, months: Months, unit: str | pint.Unit | None = None) -> _Floats:
        """The central path as float64 magnitudes.

        Parameters
        ----------
        months
            Month axis.
        unit
            Unit of the result, of the model's dimension; :attr:`unit` if omitted.

        Returns
        -------
        NDArray[float64]
            One value per month.
        """
        factor = _factor(self.unit, unit)
        return self._central(_axis(months)) * factor

    def sample(self, months: Months, n_paths: int, rng: np.random.Generator,
               unit: str | pint.Unit | None = None) -> _Floats:
        """Draw random paths; all randomness comes from `rng`.

        Parameters
        ----------
        months
            Month axis.
        n_paths
            Number of paths, positive.
        rng
            The generator to draw from; the same seed gives identical arrays.
        unit
            Unit of the result, of the model's dimension; :attr:`unit` if omitted.

        Returns
        -------
        NDArray[float64]
            Shape ``(n_paths, len(months))``. With zero uncertainty every path equals
            the central path exactly.
        """
        problems = Problems("sample arguments")
        if isinstance(n_paths, bool) or not isinstance(n_paths, (int, np.integer)) \
                or n_paths < 1:
            problems.add("n_paths", "must be a positive integer", n_paths)
        if not isinstance(rng, np.random.Generator):
            problems.add("rng", "must be a numpy.random.Generator "
                         "(numpy.random.default_rng(seed))", type(rng).__name__)
        problems.raise_if_any()
        factor = _factor(self.unit, unit)
        return self._draw(_axis(months), int(n_paths), rng) * factor


@attrs.frozen
class _Anchored(GrowthModel):
    """A `start` amount at month `at` and one shape parameter that varies per path.

    ``_params`` holds ``(start, centre, spread)``: each path draws its shape parameter
    from ``centre + spread·N(0, 1)``, so zero spread reproduces the central path exactly.
    """

    start: Quantity = fields.quantity(None)
    at: np.datetime64 = fields.month()
    _unit: pint.Unit = attrs.field(init=False, repr=False, eq=False)
    _params: tuple[float, float, float] = attrs.field(init=False, repr=False, eq=False)

    @staticmethod
    @abc.abstractmethod
    def _path(t: _Floats, start: float, shape: float | _Floats) -> _Floats:
        """The path at `t` years after the anchor."""

    def _central(self, axis: NDArray[np.datetime64]) -> _Floats:
        start, centre, _ = self._params
        return self._path(_years_since(axis, self.at), start, centre)

    def _draw(self, axis: NDArray[np.datetime64], n_paths: int,
              rng: np.random.Generator) -> _Floats:
        start, centre, spread = self._params
        shapes = centre + spread * rng.standard_normal(n_paths)
        return self._path(_years_since(axis, self.at), start, shapes[:, None])


# ---------------------------------------------------------------- linear

@attrs.frozen
class Linear(_Anchored):
    """Straight-line growth: `start` at month `at`, plus `slope` per year, never below zero.

    Before `at` the line runs backwards; values are clipped at zero on both sides because
    a resource need cannot be negative.

    Parameters
    ----------
    start
        Value at `at`, non-negative, ``[amount]`` (e.g. vCPU).
    at
        The month of `start`.
    slope
        Change per unit time, ``[amount]/[time]`` (e.g. ``Q_("5000 vCPU/year")``); any sign.
    slope_sd
        Standard deviation of the slope, ``[amount]/[time]``, non-negative; ``None`` or 0
        (no unit needed) for none. Each path draws its own slope from a normal distribution.

    Examples
    --------
    >>> from capacity import Q_
    >>> Linear(Q_("100 vCPU"), "2025-01", Q_("120 vCPU/year")).magnitudes(["2025-07"])
    array([160.])
    """

    slope: Quantity = fields.quantity(_per_year("start"), sign="any")
    slope_sd: Quantity | None = _or_zero(_per_year("start"), optional=True)

    def __attrs_post_init__(self) -> None:
        fields.settle(self, "linear growth model", self._rules)
        unit = _units(self.start)
        sd = 0.0 if self.slope_sd is None else _magnitude(self.slope_sd, unit / _YEAR)
        _derive(self, _unit=unit, _params=(_magnitude(self.start, unit),
                                           _magnitude(self.slope, unit / _YEAR), sd))

    def _rules(self, p: Problems) -> None:
        # With a valid start the slope's unit is checked against start/year; without one
        # it can still be seen not to be a rate (no inverse time at all).
        if not fields.valid(self, "start") and fields.valid(self, "slope") and \
                float(self.slope.dimensionality.get("[time]", 0).real) >= 0:
            p.add("slope", "must be an amount per time, e.g. vCPU/year", f"{self.slope:~P}")

    @staticmethod
    def _path(t: _Floats, start: float, shape: float | _Floats) -> _Floats:
        # shape is the slope per year; a need cannot be negative.
        return np.maximum(start + shape * t, 0.0)

    def scaled(self, factor: float) -> Self:  # noqa: D102
        f = _check_factor(factor)
        sd = None if self.slope_sd is None else self.slope_sd * f
        return attrs.evolve(self, start=self.start * f, slope=self.slope * f, slope_sd=sd)


# ---------------------------------------------------------------- compound

def _compound(t: _Floats, start: Any, log_growth: Any) -> _Floats:
    """``start·exp(log_growth·t)``: compound growth with ``log_growth = ln(1 + rate)``."""
    return np.asarray(start * np.exp(log_growth * t), dtype=np.float64)


@attrs.frozen
class Compound(_Anchored):
    """Compound annual growth: ``start·(1 + rate)^years`` from month `at`.

    Parameters
    ----------
    start
        Value at `at`, non-negative, ``[amount]``.
    at
        The month of `start`.
    rate
        Compound annual growth rate, dimensionless, above -1: ``0.25`` or ``Q_("25 %")``;
        kept as a float.
    rate_sd
        Uncertainty of the rate, dimensionless, non-negative. Each path draws its growth
        factor ``1 + rate`` log-normally with median ``1 + rate`` and log-sd
        ``rate_sd / (1 + rate)``, so the rate's standard deviation is `rate_sd` to first
        order and a path never shrinks faster than -100 % a year.

    Examples
    --------
    >>> from capacity import Q_
    >>> Compound(Q_("1000 vCPU"), "2025-01", 0.5).magnitudes(["2027-01"])
    array([2250.])
    """

    rate: float = fields.ratio(low=-1.0, high=None, low_open=True)
    rate_sd: float = fields.ratio(default=0.0, high=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        fields.settle(self, "compound growth model")
        unit = _units(self.start)
        _derive(self, _unit=unit, _params=(_magnitude(self.start, unit), math.log1p(self.rate),
                                           self.rate_sd / (1 + self.rate)))

    @staticmethod
    def _path(t: _Floats, start: float, shape: float | _Floats) -> _Floats:
        # shape is ln(1 + rate): drawing it normal makes 1 + rate log-normal.
        return _compound(t, start, shape)

    def scaled(self, factor: float) -> Self:  # noqa: D102
        return attrs.evolve(self, start=self.start * _check_factor(factor))


# ---------------------------------------------------------------- logistic

def _logistic(t: _Floats, floor: float, ceiling: float | _Floats, rate: float,
              midpoint: float | _Floats) -> _Floats:
    """S-curve from `floor` to `ceiling`, half-way at `midpoint` (t, midpoint in years)."""
    curve = floor + (ceiling - floor) * expit(rate * (t - midpoint))
    # floor + span·1.0 can round one ulp past the ceiling; the bounds are a promise.
    return np.clip(curve, floor, ceiling)


@attrs.frozen
class Logistic(GrowthModel):
    """Saturating S-curve: from `floor` towards `ceiling`, half-way at `midpoint`.

    ``floor + (ceiling - floor) / (1 + exp(-rate·(t - midpoint)))`` with t in years.

    Parameters
    ----------
    ceiling
        The saturation level, ``[amount]``, above `floor`.
    midpoint
        The month the curve is half-way between floor and ceiling.
    rate
        Steepness, ``1/[time]`` (e.g. ``Q_("0.8 / year")``), positive.
    floor
        The level long before the midpoint, ``[amount]``, non-negative; 0 needs no unit.
    ceiling_sd
        Standard deviation of the ceiling, ``[amount]``; each path draws its ceiling from
        a normal distribution, cut at `floor`.
    midpoint_sd_months
        Standard deviation of the midpoint in months (a number, or a ``[time]``
        quantity); each path shifts its midpoint by a normal draw.

    Examples
    --------
    >>> from capacity import Q_
    >>> s = Logistic(Q_("800 vCPU"), "2026-01", Q_("1 / year"), floor=Q_("200 vCPU"))
    >>> s.magnitudes(["2026-01"])
    array([500.])
    """

    ceiling: Quantity = fields.quantity(None, sign="positive")
    midpoint: np.datetime64 = fields.month()
    rate: Quantity = fields.quantity("1/year", sign="positive")
    floor: Quantity = _or_zero(_same_as("ceiling"))
    ceiling_sd: Quantity = _or_zero(_same_as("ceiling"))
    midpoint_sd_months: float = fields.duration(kw_only=True)
    _unit: pint.Unit = attrs.field(init=False, repr=False, eq=False)
    _params: tuple[float, float, float, float, float] = attrs.field(
        init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        fields.settle(self, "logistic growth model", self._rules)
        unit = _units(self.ceiling)
        _derive(self, _unit=unit, _params=(
            _magnitude(self.floor, unit), _magnitude(self.ceiling, unit),
            _magnitude(self.rate, ureg.Unit("1/year")), _magnitude(self.ceiling_sd, unit),
            self.midpoint_sd_months / _MONTHS_PER_YEAR))

    def _rules(self, p: Problems) -> None:
        if fields.valid(self, "ceiling", "floor") and not self.ceiling > self.floor:
            p.add("ceiling", f"must be above the floor ({self.floor:~P})", f"{self.ceiling:~P}")

    def _central(self, axis: NDArray[np.datetime64]) -> _Floats:
        floor, ceiling, rate, _, _ = self._params
        return _logistic(_years_since(axis, self.midpoint), floor, ceiling, rate, 0.0)

    def _draw(self, axis: NDArray[np.datetime64], n_paths: int,
              rng: np.random.Generator) -> _Floats:
        floor, ceiling, rate, ceiling_sd, shift_sd = self._params
        # path by path, so the first k paths of n are the paths of a k-path draw
        z = rng.standard_normal((n_paths, 2)).T
        ceilings = np.maximum(ceiling + ceiling_sd * z[0], floor)
        shifts = shift_sd * z[1]
        return _logistic(_years_since(axis, self.midpoint), floor, ceilings[:, None], rate,
                         shifts[:, None])

    def scaled(self, factor: float) -> Self:  # noqa: D102
        f = _check_factor(factor)
        return attrs.evolve(self, ceiling=self.ceiling * f, floor=self.floor * f,
                            ceiling_sd=self.ceiling_sd * f)


# ---------------------------------------------------------------- milestones

_TARGET = re.compile(r"^\s*(?P<amount>.+?)\s+by\s+(?P<month>\d{4}-\d{2}(?:-\d{2})?)\s*$",
                     re.IGNORECASE)


def target(text: str, path: str = "target") -> tuple[np.datetime64, Quantity]:
    """Read a stated target such as ``"130 PFLOPS_fp16 by 2027-12"``.

    Parameters
    ----------
    text
        ``"<amount> <unit> by YYYY-MM"``.
    path
        The field path to name in errors.

    Returns
    -------
    tuple[numpy.datetime64, Quantity]
        The month and the amount, ready for :class:`Milestones`.

    Raises
    ------
    ValidationError
        If the text does not have that shape or the amount has no unit.

    Examples
    --------
    >>> target("130 PFLOPS_fp16 by 2027-12")
    (np.datetime64('2027-12'), <Quantity(130.0, 'petaFLOPS_fp16')>)
    """
    p = Problems("target")
    found = _TARGET.match(text) if isinstance(text, str) else None
    if found is None:
        p.add(path, "expected '<amount> <unit> by YYYY-MM'", text)
        p.raise_if_any()
    assert found is not None
    point = _as_milestone((found["month"], found["amount"]), path)
    return point.month, point.value


@attrs.frozen
class Milestone:
    """One stated target: an amount by a month.

    Parameters
    ----------
    month
        The month the amount is due.
    value
        The amount, ``[amount]``, non-negative.
    """

    month: np.datetime64 = fields.month()
    value: Quantity = fields.quantity(None)

    def __attrs_post_init__(self) -> None:
        fields.settle(self, "milestone")

    def __iter__(self) -> Any:
        """Unpack as ``month, value``."""
        return iter((self.month, self.value))


def _as_milestone(point: Any, path: str) -> Milestone:
    if isinstance(point, Milestone):
        return point
    if isinstance(point, str) or not isinstance(point, Sequence) or len(point) != 2:
        raise FieldError(path, "expected a (month, value) pair", point)
    try:
        return Milestone(*point)
    except ValidationError as error:
        raise ValidationError(f"invalid {path}", [
            FieldError(f"{path}.{e.path}", e.reason, e.value) for e in error.problems]
        ) from None


def _read_points(value: Any, path: str) -> tuple[Milestone, ...]:
    """``(month, amount)`` pairs in strictly increasing months, all of one dimension."""
    if isinstance(value, (str, dict)) or not isinstance(value, Iterable):
        raise FieldError(path, "expected a non-empty list of (month, value) pairs", value)
    p = Problems(path)
    read: list[tuple[int, Milestone]] = []
    items = list(value)
    for i, point in enumerate(items):
        try:
            read.append((i, _as_milestone(point, f"{path}[{i}]")))
        except ValidationError as error:
            p.items.extend(error.problems)
        except FieldError as error:
            p.items.append(error)
    if not items:
        p.add(path, "expected a non-empty list of (month, value) pairs", value)
    # Order and dimension are checked among the points that could be read.
    for (h, before), (i, point) in itertools.pairwise(read):
        first = read[0][1].value
        if point.value.dimensionality != first.dimensionality:
            p.add(f"{path}[{i}].value", f"is not of the first point's dimension "
                  f"({first.units:~P})", f"{point.value:~P}")
        if point.month <= before.month:
            reason = "repeats" if point.month == before.month else "comes before"
            p.add(f"{path}[{i}].month", f"{reason} the month of {path}[{h}]; months "
                  "must increase", str(point.month))
    points = [pt for _, pt in read]
    if p:
        raise ValidationError(f"invalid {path}", [
            FieldError(e.path[len(path):].lstrip("."), e.reason, e.value)
            if e.path.startswith(path) else e for e in p.items])
    return tuple(points)


def _knots(points: Sequence[Milestone]) -> tuple[NDArray[np.datetime64], _Floats, pint.Unit]:
    unit = _units(points[0].value)
    knots = np.array([pt.month for pt in points], dtype="datetime64[M]")
    values = np.array([_magnitude(pt.value, unit) for pt in points], dtype=np.float64)
    return knots, values, unit


def _piecewise(x: _Floats, knots: _Floats, values: _Floats, *, geometric: bool,
               before: str) -> _Floats:
    """Interpolate through ``(knots, values)``; hold after the last knot.

    Each segment is written from its left knot (weight 0 there), so every knot's value
    comes back exactly; the last knot is taken from the hold branch, also exact.
    """
    if knots.size == 1:
        inner = np.full(x.shape, values[0])
    else:
        j = np.clip(np.searchsorted(knots, x, side="right") - 1, 0, knots.size - 2)
        x0, v0, v1 = knots[j], values[j], values[j + 1]
        w = (x - x0) / (knots[j + 1] - x0)
        inner = v0 * (v1 / v0) ** w if geometric else v0 + (v1 - v0) * w
    out = np.where(x >= knots[-1], values[-1], inner)
    if before == "zero":
        out = np.where(x < knots[0], 0.0, out)
    elif before == "hold":
        out = np.where(x < knots[0], values[0], out)
    # "extrapolate" keeps the first segment's line, which may cross zero going back.
    return np.maximum(out, 0.0)


_INTERPOLATIONS = ("linear", "geometric")
_BEFORE = ("zero", "hold", "extrapolate")


@attrs.frozen
class Milestones(GrowthModel):
    """A path through stated targets, e.g. a plan's "130 PFLOPS_fp16 by 2027-12".

    The central path passes exactly through every target and holds the last one.

    Parameters
    ----------
    points
        ``(month, amount)`` pairs with strictly increasing months; amounts non-negative,
        all of one dimension ``[amount]``; the first sets :attr:`unit`.
    interpolation
        ``"linear"`` between targets, or ``"geometric"`` (constant growth rate between
        targets; needs positive amounts).
    before
        Before the first target: ``"zero"``, ``"hold"`` the first amount, or
        ``"extrapolate"`` the first segment (needs two targets; clipped at zero).
    rel_sd
        Relative uncertainty of the amounts, dimensionless, non-negative: each path
        scales the whole schedule by a log-normal factor with median 1 and log-sd
        `rel_sd`.
    delay_sd_months
        Scale of the schedule's delay in months (a number, or a ``[time]`` quantity):
        each path shifts every target later by ``round(|N(0, delay_sd_months)|)``
        whole months (half-normal, mean ≈ 0.8·`delay_sd_months`); never earlier.

    Examples
    --------
    >>> from capacity import Q_
    >>> m = Milestones.parse(["0 PFLOPS_fp16 by 2025-03", "130 PFLOPS_fp16 by 2027-12"])
    >>> m.magnitudes(["2025-01", "2027-12", "2030-01"], "PFLOPS_fp16")
    array([  0., 130., 130.])
    """

    points: tuple[Milestone, ...] = fields.declare(fields.Spec(
        lambda v, o, p: _read_points(v, p), list, "list of milestones", nested="many"))
    interpolation: Literal["linear", "geometric"] = fields.text(
        default="linear", choices=_INTERPOLATIONS, kw_only=True)
    before: Literal["zero", "hold", "extrapolate"] = fields.text(
        default="zero", choices=_BEFORE, kw_only=True)
    rel_sd: float = fields.ratio(default=0.0, high=None, kw_only=True)
    delay_sd_months: float = fields.duration(kw_only=True)
    _unit: pint.Unit = attrs.field(init=False, repr=False, eq=False)
    _knots: NDArray[np.datetime64] = attrs.field(init=False, repr=False, eq=False)
    _values: _Floats = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        fields.settle(self, "milestones", self._rules)
        knots, values, unit = _knots(self.points)
        values.flags.writeable = False
        knots.flags.writeable = False
        _derive(self, _unit=unit, _knots=knots, _values=values)

    def _rules(self, p: Problems) -> None:
        if not fields.valid(self, "points", "interpolation", "before"):
            return
        if self.interpolation == "geometric":
            for i, point in enumerate(self.points):
                if point.value.magnitude <= 0:
                    p.add(f"points[{i}].value", "must be positive for geometric interpolation",
                          f"{point.value:~P}")
        if self.before == "extrapolate" and len(self.points) < 2:
            p.add("before", "'extrapolate' needs at least two points", self.before)

    @classmethod
    def parse(cls, targets: Sequence[str], **options: Any) -> Milestones:
        """Build milestones from strings such as ``"130 PFLOPS_fp16 by 2027-12"``.

        Parameters
        ----------
        targets
            One ``"<amount> <unit> by YYYY-MM"`` string per point, in month order.
        **options
            The keyword arguments of :class:`Milestones`.

        Returns
        -------
        Milestones
            The model through the parsed points.

        Raises
        ------
        ValidationError
            Listing every unreadable target, then any problem of the points.
        """
        p = Problems("milestones")
        points = []
        for i, text in enumerate(targets):
            try:
                points.append(target(text, f"points[{i}]"))
            except ValidationError as error:
                p.absorb(error)
        p.raise_if_any()
        return cls(points, **options)  # type: ignore[arg-type]  # pairs are read as points

    def _offsets(self, axis: NDArray[np.datetime64]) -> tuple[_Floats, _Floats]:
        origin = self._knots[0]
        return ((axis - origin).astype(np.float64),
                (self._knots - origin).astype(np.float64))

    def _central(self, axis: NDArray[np.datetime64]) -> _Floats:
        x, knots = self._offsets(axis)
        return _piecewise(x, knots, self._values, before=self.before,
                          geometric=self.interpolation == "geometric")

    def _draw(self, axis: NDArray[np.datetime64], n_paths: int,
              rng: np.random.Generator) -> _Floats:
        rel_sd, delay_sd = self.rel_sd, self.delay_sd_months
        # path by path, so the first k paths of n are the paths of a k-path draw
        z = rng.standard_normal((n_paths, 2)).T
        delays = np.rint(np.abs(delay_sd * z[0]))
        scales = np.exp(rel_sd * z[1])
        x, knots = self._offsets(axis)
        # delays are whole months and few distinct: one central path per distinct delay
        distinct, which = np.unique(delays, return_inverse=True)
        paths = _piecewise(x[None, :] - distinct[:, None], knots, self._values,
                           before=self.before, geometric=self.interpolation == "geometric")
        scaled: _Floats = paths[which.reshape(-1)] * scales[:, None]
        return scaled

    def scaled(self, factor: float) -> Self:  # noqa: D102
        f = _check_factor(factor)
        # pairs, so a point the factor makes absurd is named by its place in `points`
        pairs = tuple((m, q * f) for m, q in self.points)
        return attrs.evolve(self, points=pairs)  # type: ignore[arg-type]

    def __iter__(self) -> Any:  # pragma: no cover - guard against unpacking a model
        raise TypeError("a growth model is not a sequence")


# ---------------------------------------------------------------- fitted

Kind: TypeAlias = Literal["linear", "compound", "logistic"]


def _logistic0(t: _Floats, ceiling: Any, rate: Any, midpoint: Any) -> _Floats:
    # Unclipped: the fit may try a negative ceiling on its way, and needs the gradient.
    return np.asarray(ceiling * expit(rate * (t - midpoint)), dtype=np.float64)


def _compound_fit(t: _Floats, log_start: Any, log_growth: Any) -> _Floats:
    return _compound(t, np.exp(log_start), log_growth)


def _linear_raw(t: _Floats, start: Any, slope: Any) -> _Floats:
    # The fit needs the unclipped line: clipping would flatten the least-squares surface.
    return np.asarray(start + slope * t, dtype=np.float64)


def _guess_linear(t: _Floats, y: _Floats) -> _Floats:
    slope, start = np.polyfit(t, y, 1)
    return np.array([start, slope], dtype=np.float64)


def _guess_compound(t: _Floats, y: _Floats) -> _Floats:
    positive = y > 0
    if positive.sum() < 2:
        return np.array([0.0, 0.0])
    log_growth, log_start = np.polyfit(t[positive], np.log(y[positive]), 1)
    return np.array([log_start, log_growth], dtype=np.float64)


def _guess_logistic(t: _Floats, y: _Floats) -> _Floats:
    # For a trial ceiling K the logit ln(y/(K-y)) is a line in t; try a few ceilings
    # above the largest value (y is scaled to max 1) and keep the best fitting line.
    best, guess = math.inf, np.array([2.0, 1.0, float(np.median(t))])
    positive = y > 0
    if positive.sum() < 2:
        return guess
    for ceiling in (1.05, 1.2, 1.5, 2.0, 3.0, 5.0):
        slope, intercept = np.polyfit(t[positive], np.log(y[positive] / (ceiling - y[positive])),
                                      1)
        if slope <= 0:
            continue
        trial = np.array([ceiling, slope, -intercept / slope])
        error = float(np.sum((_logistic0(t, *trial) - y) ** 2))
        if error < best:
            best, guess = error, trial
    return guess


@attrs.frozen
class _Shape:
    """How one kind of fitted curve is computed, guessed and scaled."""

    curve: Callable[..., _Floats]
    guess: Callable[[_Floats, _Floats], _Floats]
    names: tuple[str, ...]
    # Per parameter, how scaling every amount by f changes it: "mul" (×f), "log" (+ln f)
    # or "none" (rates and times).
    scaling: tuple[str, ...]


_SHAPES: dict[str, _Shape] = {
    "linear": _Shape(_linear_raw, _guess_linear, ("start", "slope"), ("mul", "mul")),
    "compound": _Shape(_compound_fit, _guess_compound, ("log_start", "log_growth"),
                       ("log", "none")),
    "logistic": _Shape(_logistic0, _guess_logistic, ("ceiling", "rate", "midpoint"),
                       ("mul", "none", "none")),
}


def _floats(ndim: int) -> Any:
    """A read-only float64 array of `ndim` dimensions, finite (a list in a file)."""
    def read(value: Any, owner: Any, path: str) -> _Floats:
        if isinstance(value, (str, pint.Quantity)):
            raise FieldError(path, "must be plain numbers", type(value).__name__)
        cells = np.array(value, dtype=object)
        if any(isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating))
               for x in cells.ravel()):
            raise FieldError(path, f"must be {'a list' if ndim == 1 else 'a matrix'} of plain "
                             "numbers", value)
        try:
            arr = np.array(value, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise FieldError(path, f"must be {'a list' if ndim == 1 else 'a matrix'} of "
                             "numbers", value) from None
        if arr.ndim != ndim:
            raise FieldError(path, f"must have {ndim} dimension(s)", arr.shape)
        if not np.all(np.isfinite(arr)):
            raise FieldError(path, "must be finite")
        arr.flags.writeable = False
        return arr

    spec = fields.Spec(read, lambda a: a.tolist(), "list of numbers")
    return fields.declare(spec, eq=attrs.cmp_using(eq=np.array_equal))


@attrs.frozen
class Fitted(GrowthModel):
    """A curve fitted to history, with the uncertainty of its parameters.

    Built by :func:`fit`. :meth:`sample` draws each path's parameters from the
    multivariate normal of the estimate and its covariance, so a fit to few or noisy
    points spreads the Monte Carlo paths; values are clipped at zero.

    Parameters
    ----------
    curve
        ``"linear"``, ``"compound"`` or ``"logistic"`` (floor 0).
    anchor
        The month where t = 0 (the first month of the history).
    unit
        The unit of the amounts (a unit or its name).
    estimate
        Parameters, t in years since `anchor`, amounts in `unit`: linear
        ``(start, slope per year)``; compound ``(ln start, ln(1 + rate))``; logistic
        ``(ceiling, rate per year, midpoint in years)``.
    covariance
        Their covariance matrix.
    """

    curve: Kind = fields.text(choices=tuple(_SHAPES))
    anchor: np.datetime64 = fields.month()
    unit: pint.Unit = fields.unit()
    estimate: _Floats = _floats(1)
    covariance: _Floats = _floats(2)

    def __attrs_post_init__(self) -> None:
        fields.settle(self, "fitted model", self._rules)

    def _rules(self, p: Problems) -> None:
        if not fields.valid(self, "curve", "estimate", "covariance"):
            return
        k = len(_SHAPES[self.curve].names)
        if self.estimate.shape != (k,):
            p.add("estimate", f"must hold {k} parameters {_SHAPES[self.curve].names}",
                  self.estimate.shape)
        if self.covariance.shape != (k, k):
            p.add("covariance", f"must be a {k}×{k} matrix", self.covariance.shape)
        elif not np.allclose(self.covariance, self.covariance.T) or \
                np.linalg.eigvalsh(self.covariance).min() < -1e-9 * max(
                    1.0, float(np.abs(self.covariance).max())):
            p.add("covariance", "must be symmetric and positive semi-definite (a covariance)",
                  self.covariance.tolist())

    @property
    def parameters(self) -> dict[str, Quantity]:
        """The estimate as quantities a planner reads.

        linear: ``start`` ``[amount]``, ``slope`` ``[amount]/[time]``; compound: ``start``,
        ``rate`` (dimensionless, per year); logistic: ``ceiling`` ``[amount]``, ``rate``
        ``1/[time]``, ``midpoint`` ``[time]`` after :attr:`anchor`.
        """
        e = self.estimate
        if self.curve == "linear":
            return {"start": Q_(e[0], self.unit), "slope": Q_(e[1], self.unit / _YEAR)}
        if self.curve == "compound":
            return {"start": Q_(math.exp(e[0]), self.unit),
                    "rate": Q_(math.expm1(e[1]), ureg.dimensionless)}
        return {"ceiling": Q_(e[0], self.unit), "rate": Q_(e[1], 1 / _YEAR),
                "midpoint": Q_(e[2], _YEAR)}

    def _curve(self, t: _Floats, params: _Floats) -> _Floats:
        """The curve at parameters `params` (first axis: parameter), clipped at zero."""
        return np.maximum(_SHAPES[self.curve].curve(t, *params), 0.0)

    def _central(self, axis: NDArray[np.datetime64]) -> _Floats:
        return self._curve(_years_since(axis, self.anchor), self.estimate)

    def _draw(self, axis: NDArray[np.datetime64], n_paths: int,
              rng: np.random.Generator) -> _Floats:
        # cov = V·diag(w)·Vᵀ; eigh with negative round-off clipped tolerates the singular
        # and exactly-zero covariances of perfect fits, where Cholesky would fail.
        w, v = np.linalg.eigh(self.covariance)
        root = v * np.sqrt(np.clip(w, 0.0, None))
        z = rng.standard_normal((n_paths, self.estimate.size))
        # Row by row, not one matrix product: BLAS blocks a product by its size, so the
        # first k paths of n would differ from a k-path draw in the last bits.
        params = self.estimate + (z[:, None, :] * root[None, :, :]).sum(axis=2)
        return self._curve(_years_since(axis, self.anchor), params.T[:, :, None])

    def scaled(self, factor: float) -> Self:  # noqa: D102
        f = _check_factor(factor)
        scaling = np.array(_SHAPES[self.curve].scaling)
        multiplier = np.where(scaling == "mul", f, 1.0)
        shift = np.where(scaling == "log", math.log(f), 0.0)
        return attrs.evolve(self, estimate=self.estimate * multiplier + shift,
                            covariance=self.covariance * np.outer(multiplier, multiplier))


#: The furthest a fitted logistic's midpoint may lie from the first point, ``[year]``.
_MIDPOINT_YEARS = 100


def fit(history: Sequence[tuple[MonthLike, Quantity]], *,
        kind: Kind = "compound") -> Fitted:
    """Fit a growth curve to historical points by least squares.

    Parameters
    ----------
    history
        ``(month, amount)`` pairs in increasing months, amounts ``[amount]`` of one
        dimension; the first sets the unit and the anchor month.
    kind
        ``"linear"``, ``"compound"`` or ``"logistic"`` (floor 0). Each needs one point
        more than it has parameters (3, 3 and 4 points), so that the residuals say how
        uncertain the parameters are.

    Returns
    -------
    Fitted
        The estimate and its covariance (scaled by the residual variance).

    Raises
    ------
    ValidationError
        If the history is invalid, too short for `kind`, or the fit does not converge;
        for ``"logistic"``, also when it gives no S-curve (a ceiling or rate not above
        0, or a midpoint more than 100 years from the first point).

    Examples
    --------
    >>> from capacity import Q_
    >>> history = [(f"{y}-01", Q_(1000 * 1.2 ** (y - 2020), "vCPU")) for y in range(2020, 2025)]
    >>> f"{fit(history, kind='compound').parameters['rate']:.3f~P}"
    '0.200'
    """
    p = Problems("history")
    shape = _SHAPES.get(kind)
    points: tuple[Milestone, ...] = ()
    try:
        points = _read_points(history, "history")
    except ValidationError as error:
        p.items.extend(FieldError(under("history", e.path), e.reason, e.value)
                       for e in error.problems)
    except FieldError as error:
        p.items.append(error)
    if shape is None:
        p.add("kind", f"must be one of {', '.join(_SHAPES)}", kind)
    elif 0 < len(points) <= len(shape.names):
        p.add("history", f"kind={kind!r} has {len(shape.names)} parameters and needs at "
              f"least {len(shape.names) + 1} points to estimate them and their "
              f"uncertainty", f"{len(points)} point(s)")
    p.raise_if_any()
    assert shape is not None
    months, values, unit = _knots(points)
    t = _years_since(months, months[0])
    # Fit amounts scaled to a largest value of 1 so the optimiser sees one scale,
    # then scale the fitted model back.
    peak = float(values.max())
    y = values / peak if peak > 0 else values
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            estimate, covariance = curve_fit(shape.curve, t, y, p0=shape.guess(t, y),
                                             maxfev=10_000)
    except (RuntimeError, OptimizeWarning, ValueError) as exc:
        _fail("history", "history", f"a {kind} curve could not be fitted: {exc}")
    if kind == "logistic":
        # zero, flat or falling history has no S-curve: the least squares still return
        # numbers (a ceiling below 0, a rate of 1e-16, a midpoint 1e15 years away)
        ceiling, rate, midpoint = (float(v) for v in estimate)
        if not (ceiling > 0 and rate > 0 and abs(midpoint) <= _MIDPOINT_YEARS):
            _fail("history", "history", "shows no S-curve to fit: the logistic fit gives a "
                  f"ceiling of {ceiling * (peak or 1.0):.3g} {unit:~P}, a rate of "
                  f"{rate:.3g} a year and a midpoint {midpoint:.3g} years from the first "
                  "point (it needs a "
                  f"ceiling and a rate above 0, and a midpoint within {_MIDPOINT_YEARS} "
                  "years); fit kind='linear' or 'compound'")
    fitted = Fitted(kind, months[0], unit, estimate, covariance)
    return fitted.scaled(peak) if peak > 0 else fitted
