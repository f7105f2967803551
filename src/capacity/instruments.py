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

from collections.abc import Mapping
from typing import Any, TypeAlias

import attrs
import numpy as np

from capacity import fields
from capacity.errors import Problems
from capacity.inventory import _resource
from capacity.provenance import Provenance
from capacity.resources import Resource
from capacity.units import Quantity, ureg

__all__ = [
    "ComputeVoucher",
    "ConstructionSubsidy",
    "Elasticity",
    "ElectricitySubsidy",
    "Instrument",
    "Market",
]


def _check_window(p: Problems, owner: Any) -> None:
    start, end = owner.start, owner.end
    if fields.valid(owner, "start", "end") and start is not None and end is not None \
            and end < start:
        p.add("end", f"is before start ({start})", str(end))


#: The social discount rate of China's official project appraisal parameters.
DISCOUNT_RATE = 0.08
DISCOUNT_SOURCE = Provenance.source(
    "social discount rate 8 % (real): NDRC and Ministry of Construction, "
    "建设项目经济评价方法与参数 (Methods and Parameters for the Economic Evaluation of "
    "Construction Projects), 3rd ed., 2006")

Months: TypeAlias = "np.ndarray[Any, np.dtype[np.datetime64]]"
Mask: TypeAlias = "np.ndarray[Any, np.dtype[np.bool_]]"


def _window(start: np.datetime64 | None, end: np.datetime64 | None, months: Months) -> Mask:
    ok = np.ones(months.shape, dtype=bool)
    if start is not None:
        ok &= months >= start
    if end is not None:
        ok &= months <= end
    return ok


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
    take_up
        Share of eligible spend whose buyers claim the voucher, dimensionless in [0, 1]
        (1: every eligible purchase claims; less when firms do not know of the scheme or
        find claiming not worth the paperwork).
    provenance
        Origin of each figure, keyed by field name.
    """

    name: str = fields.text(key=True)
    rate: float = fields.ratio()
    cap_per_enterprise: Quantity = fields.quantity("yuan/year")
    annual_budget: Quantity | None = fields.quantity("yuan/year", optional=True)
    eligible_kinds: frozenset[str] = fields.tags()
    start: np.datetime64 | None = fields.month(optional=True)
    end: np.datetime64 | None = fields.month(optional=True)
    min_claim: Quantity | None = fields.quantity("yuan", optional=True)
    take_up: float = fields.ratio(default=1.0)
    provenance: Mapping[str, Provenance] = fields.provenance()

    def __attrs_post_init__(self) -> None:
        fields.settle(self, fields.named("compute voucher", self.name), self._rules)

    def _rules(self, p: Problems) -> None:
        if fields.valid(self, "eligible_kinds") and not self.eligible_kinds:
            p.add("eligible_kinds", "must name at least one demand kind (e.g. 'enterprise-ai')")
        _check_window(p, self)

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

    name: str = fields.text(key=True)
    amount: Quantity = fields.quantity("yuan/kWh")
    years: float | None = fields.number(optional=True, low=0.0, low_open=True,
                                        describe="years")
    start: np.datetime64 | None = fields.month(optional=True)
    end: np.datetime64 | None = fields.month(optional=True)
    max_pue: float | None = fields.number(optional=True, low=1.0)
    min_green_share: float | None = fields.ratio(optional=True)
    annual_budget: Quantity | None = fields.quantity("yuan/year", optional=True)
    eligible_tags: frozenset[str] = fields.tags()
    provenance: Mapping[str, Provenance] = fields.provenance()

    def __attrs_post_init__(self) -> None:
        fields.settle(self, fields.named("electricity subsidy", self.name), self._rules)

    def _rules(self, p: Problems) -> None:
        if fields.valid(self, "years", "start", "end") and self.years is not None and (
                self.start is not None or self.end is not None):
            p.add("years", "give either years (from commissioning) or start/end months")
        _check_window(p, self)

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

    name: str = fields.text(key=True)
    per_cabinet: Quantity | None = fields.quantity("yuan/cabinet", optional=True)
    share_of_capex: float | None = fields.ratio(optional=True)
    cap: Quantity | None = fields.quantity("yuan", optional=True)
    eligible_tags: frozenset[str] = fields.tags()
    provenance: Mapping[str, Provenance] = fields.provenance()

    def __attrs_post_init__(self) -> None:
        fields.settle(self, fields.named("construction subsidy", self.name), self._rules)

    def _rules(self, p: Problems) -> None:
        if (self.per_cabinet is None) == (self.share_of_capex is None):
            p.add("per_cabinet", "give exactly one of per_cabinet and share_of_capex")


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

    value: float = fields.number(high=0.0, describe="d ln(demand) / d ln(price), ≤ 0")
    provenance: Provenance = fields.nested(Provenance)

    def __attrs_post_init__(self) -> None:
        fields.settle(self, "elasticity")


def _price(value: Any, key: str, owner: Any, path: str) -> Quantity:
    resource = Resource.parse(key)
    return fields.read_amount(value, ureg.yuan / resource.unit / ureg.month, path,
                              "nonnegative")


def _price_key(key: Any, path: str) -> str:
    return _resource(key, path).name.lower()


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
    discount_rate
        Real rate per year at which the city discounts future money (present values in an
        appraisal, the cost of capital in amortised capex), dimensionless in [0, 1).
    provenance
        Origin of each figure, keyed by field name.
    """

    prices: Mapping[str, Quantity] = fields.table(
        _price_key, _price, write_value=fields.written_quantity,
        describe="list price by resource name", parses="quantity")
    elasticity: Elasticity = fields.nested(Elasticity, factory=_no_response)
    enterprises: int = fields.count(default=10, low=1)
    load_factor: float = fields.ratio(default=0.6, low_open=True)
    idle_share: float = fields.ratio(default=0.5)
    green_share: Mapping[str, float] = fields.table(
        lambda k, p: fields.read_text(k, p, key=True),
        lambda v, k, o, p: fields.read_ratio_in(v, p, 0.0, 1.0), describe="share by site id",
        parses="share")
    discount_rate: float = fields.ratio(default=DISCOUNT_RATE, high_open=True)
    provenance: Mapping[str, Provenance] = fields.provenance()

    def __attrs_post_init__(self) -> None:
        fields.settle(self, "market")

    def provenance_of(self, name: str) -> Provenance | None:
        """Where a field's figure comes from: the scenario's note, or the default's source."""
        if name in self.provenance:
            return self.provenance[name]
        if name == "discount_rate" and self.discount_rate == DISCOUNT_RATE:
            return DISCOUNT_SOURCE
        return None

    def priced(self) -> dict[Resource, Quantity]:
        """The list prices keyed by resource."""
        return {Resource.parse(k): q for k, q in self.prices.items()}
