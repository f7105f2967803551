"""Policy instruments and the market they act on, as plain validated data.

Compute vouchers, electricity subsidies and construction subsidies, the price elasticity
of demand and the :class:`Market` (list prices, enterprises, load, green power). Each is a
frozen value checked once on construction; every bad field is reported at once, with its
path, in one :class:`~capacity.errors.ValidationError`. What they cost and achieve is
computed below, in :mod:`capacity.response` and :mod:`capacity.policy`.

Examples
--------
>>> from capacity import Q_
>>> v = ComputeVoucher("demo", rate=0.3, cap_per_enterprise="300 万元/year",
...                    annual_budget="1000 万元/year", eligible_kinds={"enterprise-ai"})
>>> v.cap_per_enterprise.to("yuan/year")
<Quantity(3000000.0, 'yuan / year')>
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeAlias, cast

import attrs
import numpy as np
import pint

from capacity.errors import FieldError, Problems
from capacity.inventory import (
    _check_quantity,
    _lenient_quantity,
    _optional_month,
    _optional_quantity,
    _tags,
)
from capacity.provenance import Provenance
from capacity.resources import Resource
from capacity.units import Q_, Quantity, parse_quantity, ureg

__all__ = [
    "ComputeVoucher",
    "ConstructionSubsidy",
    "Elasticity",
    "ElectricitySubsidy",
    "Instrument",
    "Market",
]


def _fraction(value: object) -> float:
    # Rates and shares may be given as 0.3, "30 %" or Q_(30, "%"); anything else is kept
    # as given and reported by the validation pass with its field path.
    if isinstance(value, str):
        try:
            value = Q_(value)
        except Exception:  # reported later, with its field path
            return cast(float, value)
    if isinstance(value, pint.Quantity):
        return float(value.m_as("")) if value.dimensionless else cast(float, value)
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return float(value)
    return cast(float, value)


def _optional_fraction(value: object) -> float | None:
    return None if value is None else _fraction(value)


def _check_fraction(p: Problems, path: str, value: object, *, upper: float = 1.0) -> None:
    if not isinstance(value, float) or not math.isfinite(value):
        p.add(path, "must be a plain number or a percentage (0.3 or '30 %')", value)
    elif not 0.0 <= value <= upper:
        p.add(path, f"must be between 0 and {upper:g}", value)


def _check_name(p: Problems, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        p.add("name", "must be a non-empty string", value)


def _check_window(p: Problems, start: object, end: object) -> None:
    for path, value in (("start", start), ("end", end)):
        if value is not None and not isinstance(value, np.datetime64):
            p.add(path, "is not a month (write it as 'YYYY-MM')", value)
    if isinstance(start, np.datetime64) and isinstance(end, np.datetime64) and end < start:
        p.add("end", f"is before start ({start})", str(end))


Months: TypeAlias = "np.ndarray[Any, np.dtype[np.datetime64]]"
Mask: TypeAlias = "np.ndarray[Any, np.dtype[np.bool_]]"


def _window(start: np.datetime64 | None, end: np.datetime64 | None, months: Months) -> Mask:
    ok = np.ones(months.shape, dtype=bool)
    if start is not None:
        ok &= months >= start
    if end is not None:
        ok &= months <= end
    return ok


def _check_provenance(p: Problems, value: object) -> None:
    if not isinstance(value, Mapping) or not all(
            isinstance(v, Provenance) for v in value.values()):
        p.add("provenance", "must map field names to Provenance values", value)


@attrs.frozen
class ComputeVoucher:
    """A compute voucher (算力券): a share of eligible compute spend, capped per firm.

    An enterprise's voucher in a calendar year is ``min(rate × spend, cap_per_enterprise)``;
    claims below `min_claim` are not paid; the scheme pays at most `annual_budget` a year,
    first come, first served.

    Parameters
    ----------
    name
        Key of the instrument.
    rate
        Share of the contract paid, dimensionless in [0, 1] (``0.3`` or ``"30 %"``).
    cap_per_enterprise
        Most one enterprise receives in a year, ``[currency]/[time]`` (``"300 万元/year"``).
    annual_budget
        Most the scheme pays in a year, ``[currency]/[time]``; ``None`` when not stated.
    eligible_kinds
        Demand kinds (:attr:`~capacity.demand.DemandBlock.kind`) whose spend qualifies.
    start, end
        First and last month the voucher is valid (``"2025-01"``); ``None``: open-ended.
    min_claim
        Smallest voucher paid to one enterprise in a year, ``[currency]``; ``None``: any.
    provenance
        Origin of each figure, keyed by field name.
    """

    name: str
    rate: float = attrs.field(converter=_fraction)
    cap_per_enterprise: Quantity = attrs.field(converter=_lenient_quantity)
    annual_budget: Quantity | None = attrs.field(default=None, converter=_optional_quantity)
    eligible_kinds: frozenset[str] = attrs.field(factory=frozenset, converter=_tags)
    start: np.datetime64 | None = attrs.field(default=None, converter=_optional_month)
    end: np.datetime64 | None = attrs.field(default=None, converter=_optional_month)
    min_claim: Quantity | None = attrs.field(default=None, converter=_optional_quantity)
    provenance: Mapping[str, Provenance] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        p = Problems(f"compute voucher {self.name!r}")
        _check_name(p, self.name)
        _check_fraction(p, "rate", self.rate)
        _check_quantity(p, "cap_per_enterprise", self.cap_per_enterprise, "yuan/year")
        if self.annual_budget is not None:
            _check_quantity(p, "annual_budget", self.annual_budget, "yuan/year")
        if not self.eligible_kinds:
            p.add("eligible_kinds", "must name at least one demand kind (e.g. 'enterprise-ai')")
        _check_window(p, self.start, self.end)
        if self.min_claim is not None:
            _check_quantity(p, "min_claim", self.min_claim, "yuan")
        _check_provenance(p, self.provenance)
        p.raise_if_any()

    def in_window(self, months: Months) -> Mask:
        """True for the months in which the voucher is valid."""
        return _window(self.start, self.end, months)


@attrs.frozen
class ElectricitySubsidy:
    """A subsidy per kWh a qualifying site draws (电价补贴).

    A site qualifies when it carries one of `eligible_tags` (any site if empty), its PUE
    is at most `max_pue` and its green-power share at least `min_green_share`. The
    subsidy is paid from `start` to `end` or, with `years`, for that many years from the
    month the site comes online (a site already operating qualifies only if its
    ``commissioned`` month is known).

    Parameters
    ----------
    name
        Key of the instrument.
    amount
        Subsidy per unit of energy, ``[currency]/[energy]`` (``"0.06 yuan/kWh"``).
    years
        Years of support from commissioning, positive; or give `start`/`end`.
    start, end
        First and last month of support; ``None``: open-ended.
    max_pue
        Highest PUE that qualifies, dimensionless ≥ 1; ``None``: no condition.
    min_green_share
        Smallest share of green power that qualifies, dimensionless in [0, 1].
    annual_budget
        Most the scheme pays in a year, ``[currency]/[time]``; ``None``: unlimited.
    eligible_tags
        Site tags that qualify (any one); empty: every site.
    provenance
        Origin of each figure, keyed by field name.
    """

    name: str
    amount: Quantity = attrs.field(converter=_lenient_quantity)
    years: float | None = None
    start: np.datetime64 | None = attrs.field(default=None, converter=_optional_month)
    end: np.datetime64 | None = attrs.field(default=None, converter=_optional_month)
    max_pue: float | None = None
    min_green_share: float | None = attrs.field(default=None, converter=_optional_fraction)
    annual_budget: Quantity | None = attrs.field(default=None, converter=_optional_quantity)
    eligible_tags: frozenset[str] = attrs.field(factory=frozenset, converter=_tags)
    provenance: Mapping[str, Provenance] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        p = Problems(f"electricity subsidy {self.name!r}")
        _check_name(p, self.name)
        _check_quantity(p, "amount", self.amount, "yuan/kWh")
        if self.years is not None:
            if isinstance(self.years, bool) or not isinstance(self.years, (int, float)) \
                    or not math.isfinite(self.years) or self.years <= 0:
                p.add("years", "must be a positive number of years", self.years)
            if self.start is not None or self.end is not None:
                p.add("years", "give either years (from commissioning) or start/end months")
        _check_window(p, self.start, self.end)
        if self.max_pue is not None and (
                isinstance(self.max_pue, bool) or not isinstance(self.max_pue, (int, float))
                or not math.isfinite(self.max_pue) or self.max_pue < 1):
            p.add("max_pue", "must be a number of at least 1", self.max_pue)
        if self.min_green_share is not None:
            _check_fraction(p, "min_green_share", self.min_green_share)
        if self.annual_budget is not None:
            _check_quantity(p, "annual_budget", self.annual_budget, "yuan/year")
        _check_provenance(p, self.provenance)
        p.raise_if_any()

    def in_window(self, months: Months) -> Mask:
        """True for the months inside `start`..`end` (every month when both are open)."""
        return _window(self.start, self.end, months)


@attrs.frozen
class ConstructionSubsidy:
    """A one-off subsidy for building compute (算力建设补贴), paid as cabinets come online.

    Give exactly one of `per_cabinet` and `share_of_capex`. Each qualifying plan project
    receives ``min(per_cabinet × cabinets or share_of_capex × capex, cap)``, paid in
    proportion to the share of the project online each month.

    Parameters
    ----------
    name
        Key of the instrument.
    per_cabinet
        Subsidy per cabinet built, ``[currency]/[cabinets]`` (``"2 万元/cabinet"``).
    share_of_capex
        Share of the project's investment paid, dimensionless in [0, 1].
    cap
        Most one project receives, ``[currency]``; ``None``: no cap.
    eligible_tags
        Tags of the project's site that qualify (any one); empty: every project.
    provenance
        Origin of each figure, keyed by field name.
    """

    name: str
    per_cabinet: Quantity | None = attrs.field(default=None, converter=_optional_quantity)
    share_of_capex: float | None = attrs.field(default=None, converter=_optional_fraction)
    cap: Quantity | None = attrs.field(default=None, converter=_optional_quantity)
    eligible_tags: frozenset[str] = attrs.field(factory=frozenset, converter=_tags)
    provenance: Mapping[str, Provenance] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        p = Problems(f"construction subsidy {self.name!r}")
        _check_name(p, self.name)
        if (self.per_cabinet is None) == (self.share_of_capex is None):
            p.add("per_cabinet", "give exactly one of per_cabinet and share_of_capex")
        if self.per_cabinet is not None:
            _check_quantity(p, "per_cabinet", self.per_cabinet, "yuan/cabinet")
        if self.share_of_capex is not None:
            _check_fraction(p, "share_of_capex", self.share_of_capex)
        if self.cap is not None:
            _check_quantity(p, "cap", self.cap, "yuan")
        _check_provenance(p, self.provenance)
        p.raise_if_any()


#: Any policy instrument :func:`~capacity.policy.cost_policy` can cost.
Instrument: TypeAlias = ComputeVoucher | ElectricitySubsidy | ConstructionSubsidy


@attrs.frozen
class Elasticity:
    """A constant price elasticity of demand, with where the figure comes from.

    Parameters
    ----------
    value
        d ln(demand) / d ln(price), dimensionless and ≤ 0 (``-0.5``: a 10 % lower price
        brings about 5 % more demand); 0 means no response.
    provenance
        Origin of the figure (usually an assumption with its rationale).
    """

    value: float = attrs.field(converter=float)
    provenance: Provenance

    def __attrs_post_init__(self) -> None:
        p = Problems("elasticity")
        if not math.isfinite(self.value) or self.value > 0:
            p.add("value", "must be finite and not positive (demand falls as price rises)",
                  self.value)
        if not isinstance(self.provenance, Provenance):
            p.add("provenance", "must be a Provenance", self.provenance)
        p.raise_if_any()


def _prices(value: Mapping[str, Any]) -> Mapping[str, Any]:
    # quantities as given, strings read once: a market read from a file equals one built
    # in code
    return {str(getattr(k, "name", k)).lower(): _lenient_quantity(v) for k, v in value.items()}


def _no_response() -> Elasticity:
    return Elasticity(0.0, Provenance.assumption("no price response unless stated"))


@attrs.frozen
class Market:
    """Prices, elasticity, enterprises, load and green power: inputs to policy costing.

    Parameters
    ----------
    prices
        List price of each rented resource by resource name, each
        ``[currency]/[resource]/[time]`` (e.g. ``"30 yuan/(PFLOPS_fp16*hour)"``).
    elasticity
        Constant price elasticity of voucher-eligible demand.
    enterprises
        Number of enterprises sharing each voucher's eligible spend equally.
    load_factor
        Share of its rated IT power a fully used cabinet draws, dimensionless in (0, 1].
    idle_share
        What a cabinet in service but idle draws, as a share of a fully used one's,
        dimensionless in [0, 1]; power drawn is ``rated × load_factor × (idle_share +
        (1 − idle_share) × share occupied)``.
    green_share
        Share of green power by site id, dimensionless in [0, 1].
    provenance
        Origin of each figure, keyed by field name.
    """

    prices: Mapping[str, Any] = attrs.field(factory=dict, converter=_prices)
    elasticity: Elasticity = attrs.field(factory=_no_response)
    enterprises: int = 10
    load_factor: float = 0.6
    idle_share: float = 0.5
    green_share: Mapping[str, float] = attrs.field(factory=dict)
    provenance: Mapping[str, Provenance] = attrs.field(factory=dict)

    def priced(self) -> dict[Resource, Quantity]:
        """The list prices keyed by resource, each checked against its resource's dimension.

        Raises
        ------
        ValidationError
            Naming every price that is not ``[currency]/[resource]/[time]`` or is negative.
        """
        p = Problems("market")
        out: dict[Resource, Quantity] = {}
        for key, value in self.prices.items():
            try:
                r = Resource.parse(key)
            except (ValueError, AttributeError):
                p.add(f"prices.{key}", "unknown resource", key)
                continue
            path = f"prices.{r.name.lower()}"
            try:
                q = parse_quantity(value, ureg.yuan / r.unit / ureg.month, path)
            except FieldError as exc:
                p.add(exc.path, exc.reason, exc.value)
                continue
            if q.magnitude < 0:
                p.add(path, "must not be negative", f"{q:~P}")
                continue
            out[r] = q
        p.raise_if_any()
        return out

    def __attrs_post_init__(self) -> None:
        p = Problems("market")
        for name, low_open in (("load_factor", True), ("idle_share", False)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or not (0 < v <= 1 if low_open else 0 <= v <= 1):
                p.add(name, "must be a number in (0, 1]" if low_open else
                      "must be a number in [0, 1]", v)
        p.raise_if_any()
