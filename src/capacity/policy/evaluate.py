"""What a set of policy instruments costs over a projected scenario, year by year.

:func:`cost_policy` takes a :class:`~capacity.projection.Projection`, the demand blocks it
was drawn from and the instruments, and returns a frozen :class:`PolicyCost`: each
instrument's outlay per calendar year over the Monte Carlo paths, when a budget runs out,
the price users pay net of vouchers, the demand that lower price induces, the
utilisation of each site with and without the policy, and each site's energy bill.

Modelling decisions (each also listed in :attr:`PolicyCost.assumptions`):

* **Spend.** A demand block's spend in a month is what it is served of every priced
  resource × the list price, over the month's hours; unpriced resources cost nothing.
  Vouchers pay on that spend: demand the estate has no room for buys nothing, so it
  claims nothing (the users' response is to the price offered, on their whole need).
* **Enterprises.** A voucher's eligible spend in a year is split over the enterprises
  by fixed weights (equal by default); each enterprise claims ``min(rate × spend_e, cap)``,
  nothing below ``min_claim``; the scheme pays ``min(Σ_e claims, budget)``. Claims are
  paid as spend accrues through the year, first come first served, so the budget runs
  out in the month cumulative claims reach it.
* **Net price.** Users respond to the year's average net price: the list price × (1 − the
  share of eligible spend the vouchers pay that year), stacked over vouchers and at most 1.
* **Induced demand.** Constant price elasticity ε: eligible demand × (net/list)^ε. The
  response raises spend, which can hit caps and budgets, so multiplier and net price are
  solved together by damped fixed-point iteration. The net price is floored at 1 % of
  list for the response alone, since constant elasticity has no limit at a free price.
* **Placement.** Each block's need (with the response) is placed where it may run,
  cheapest pool first (:func:`capacity.placement.place`, the rule projection and
  allocation share); what finds no room is unserved. A site's utilisation is its highest
  share of a limit in use; its revenue, what its served demand pays at list price (users
  and vouchers together).
* **Energy.** Power drawn by idle and occupied cabinets
  (:class:`~capacity.placement.CostModel`) × PUE × each calendar month's hours × the
  site's price. A subsidy for `years` runs from the month a site first has IT power
  on each path; a site already operating at the start of the axis counts from its
  ``commissioned`` month, and without one does not qualify.
* **Construction.** A project's subsidy is paid in step with the share of it online;
  what came online before the axis starts is not counted.
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from capacity import fields
from capacity.demand import DemandBlock
from capacity.errors import FieldError, Problems, ValidationError
from capacity.instruments import (
    ComputeVoucher,
    ConstructionSubsidy,
    Elasticity,
    ElectricitySubsidy,
    Instrument,
    Market,
)
from capacity.inventory import Estate
from capacity.memory import available_bytes
from capacity.months import hours_in_month
from capacity.paths import Item, join
from capacity.placement import (
    CostModel,
    Placement,
    Pools,
    Uses,
    electricity_subsidy_applies,
    place,
    subsidy_window,
)
from capacity.plan import Plan
from capacity.projection import PATH_BLOCK, Projection
from capacity.provenance import Provenance
from capacity.resources import N_RESOURCES, Resource
from capacity.response import (
    Response,
    budget,
    claims,
    enterprise_weights,
    respond,
    unit_spend,
    year_index,
    year_starts,
    yearly_sum,
)
from capacity.scenario import Scenario
from capacity.units import Quantity, ureg

__all__ = ["Elasticity", "PolicyCost", "cost_policy"]

_Floats = NDArray[np.float64]
_NET_FLOOR = 0.01  # the demand response's floor on net price ÷ list price
_MAX_ITER = 200
_TOL = 1e-10


def _quantile(paths: _Floats, q: float | Sequence[float]) -> _Floats:
    return np.asarray(np.quantile(paths, fields.levels(q), axis=0), dtype=np.float64)


@attrs.frozen(eq=False)
class PolicyCost:
    """What the instruments cost and change, per calendar year, over Monte Carlo paths.

    Build it with :func:`cost_policy`. Arrays hold each path's figure per calendar year
    of the axis (the first and last years may be partial): what every answer is built
    from, a twelfth of the monthly arrays. The methods return quantiles over paths.

    Attributes
    ----------
    months
        The monthly axis of the projection.
    years
        Calendar years the axis touches.
    site_ids
        Sites of the built estate, in the order of the site axis.
    instruments
        Names of the instruments costed, in the order given.
    outlays
        Each instrument's payments per path and year, ``(n_paths, n_years)``, yuan.
    exhausted_at
        Per instrument, path and year, the month index its budget runs out (-1: it lasts).
    list_prices
        The list price of each priced resource, as given.
    net_price_factor
        Per priced resource, net price ÷ list price per path and year.
    induced
        Mean demand the policy induces over each year's months, ``(n_paths, n_years, R)``,
        canonical units.
    served
        Mean demand served with the policy over each year's months (what the least-cost
        placement finds room for), ``(n_paths, n_years, R)``, canonical units.
    revenue
        What users and vouchers together pay each site at list price for the demand it
        serves, per year, ``(n_paths, n_years, n_sites)``, yuan.
    utilisation_without, utilisation_with
        Mean utilisation of each site over the months of each year it has capacity
        (``nan``: none), ``(n_paths, n_years, n_sites)``, without and with the policy's
        induced demand.
    energy
        Energy bill of each site per year, ``(n_paths, n_years, n_sites)``, yuan.
    electricity_subsidy
        Electricity subsidies each site receives per year, same shape, yuan.
    construction_subsidy
        Construction subsidies each site's projects receive per year, same shape, yuan.
    converged
        Whether the induced-demand fixed point met its tolerance.
    assumptions
        Every assumption the costing made, as (field, provenance).
    """

    months: NDArray[np.datetime64]
    years: NDArray[np.int64]
    site_ids: tuple[str, ...]
    instruments: tuple[str, ...]
    outlays: Mapping[str, _Floats] = attrs.field(repr=False)
    exhausted_at: Mapping[str, NDArray[np.int64]] = attrs.field(repr=False)
    list_prices: Mapping[Resource, Quantity] = attrs.field(repr=False)
    net_price_factor: Mapping[Resource, _Floats] = attrs.field(repr=False)
    induced: _Floats = attrs.field(repr=False)
    served: _Floats = attrs.field(repr=False)
    revenue: _Floats = attrs.field(repr=False)
    utilisation_without: _Floats = attrs.field(repr=False)
    utilisation_with: _Floats = attrs.field(repr=False)
    energy: _Floats = attrs.field(repr=False)
    electricity_subsidy: _Floats = attrs.field(repr=False)
    construction_subsidy: _Floats = attrs.field(repr=False)
    converged: bool = True
    assumptions: tuple[tuple[str, Provenance], ...] = ()

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    def to_xarray(self, q: Sequence[float] | None = None) -> Any:
        """The costing as a labelled :class:`xarray.Dataset`.

        Dimensions ``path`` (or ``quantile`` when `q` is given), ``year``, ``instrument``
        and ``site``; variables ``outlay`` and ``exhausted`` (year, instrument),
        ``net_price_factor_<resource>`` and ``induced_<resource>`` (year),
        ``utilisation_without``, ``utilisation_with``, ``energy`` and
        ``electricity_subsidy`` (year, site), each with its unit in ``attrs["units"]``.
        """
        from capacity.labelled import policy_dataset

        return policy_dataset(self, q)

    def __repr__(self) -> str:
        n = self.energy.shape[0]
        return (f"PolicyCost({', '.join(self.instruments) or 'no instruments'}: {n:,} paths, "
                f"{self.years[0]}..{self.years[-1]}, {len(self.site_ids)} sites, "
                f"converged={self.converged})")

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{y}</th>" for y in self.years)
        rows = "".join(
            f"<tr><th>{html.escape(name)}</th>"
            + "".join(f"<td>{v:,.0f}</td>" for v in self.outlay(name).m_as("万元")) + "</tr>"
            for name in self.instruments)
        return (f"<b>PolicyCost</b>: median outlay per year, 万元<table><tr><th></th>{head}"
                f"</tr>{rows}</table>")

    def _instrument(self, name: str) -> str:
        if not isinstance(name, str) or name not in self.outlays:
            raise FieldError("name", f"unknown instrument (known: {', '.join(self.instruments)})"
                             f"{fields._hint(str(name), self.instruments)}", name)
        return name

    def _site(self, site: str) -> int:
        if site not in self.site_ids:
            raise FieldError("site", f"unknown (known: {', '.join(self.site_ids)})"
                             f"{fields._hint(str(site), self.site_ids)}", site)
        return self.site_ids.index(site)

    # -- outlays -------------------------------------------------------------------------
    def outlay_paths(self, name: str) -> Quantity:
        """Yearly outlay of one instrument on every path, ``(n_paths, n_years)``, yuan."""
        return ureg.Quantity(self.outlays[self._instrument(name)], "yuan")

    def outlay(self, name: str, q: float | Sequence[float] = 0.5) -> Quantity:
        """Quantile(s) over paths of one instrument's yearly outlay, ``[currency]``.

        Shape ``(n_years,)`` for one `q`, ``(len(q), n_years)`` for several.
        """
        return ureg.Quantity(_quantile(self.outlay_paths(name).m_as("yuan"), q), "yuan")

    def total_outlay(self, q: float | Sequence[float] = 0.5) -> Quantity:
        """Quantile(s) over paths of all instruments' yearly outlay together, ``[currency]``."""
        total = sum((self.outlays[n] for n in self.instruments),
                    np.zeros_like(self.energy[..., 0]))
        return ureg.Quantity(_quantile(total, q), "yuan")

    def exhaustion_probability(self, name: str) -> _Floats:
        """Share of paths on which the instrument's budget runs out, per year."""
        return np.asarray((self.exhausted_at[self._instrument(name)] >= 0).mean(axis=0),
                          dtype=np.float64)

    def budget_exhausted(self, name: str) -> list[np.datetime64 | None]:
        """Per year, the month by which the budget has run out on at least half the paths.

        ``None`` for a year in which it lasts on most paths (or there is no budget).
        """
        at = self.exhausted_at[self._instrument(name)].astype(np.float64)
        at[at < 0] = np.inf
        med = np.quantile(at, 0.5, axis=0, method="higher")
        return [self.months[int(m)] if np.isfinite(m) else None for m in med]

    # -- prices and demand ---------------------------------------------------------------
    def effective_price(self, resource: Resource, q: float | Sequence[float] = 0.5, *,
                        policy: bool = True) -> Quantity:
        """Quantile(s) over paths of the yearly average price users pay for a resource.

        In the unit the list price was given in; `policy=False` gives the list price.
        """
        resource = Resource.argument(resource)
        if resource not in self.list_prices:
            known = ", ".join(r.name.lower() for r in self.list_prices)
            raise FieldError("resource", f"has no list price (priced: {known})",
                             resource.name.lower())
        listed = self.list_prices[resource]
        factor = self.net_price_factor[resource] if fields.read_flag(policy, "policy") \
            else np.ones_like(
            self.net_price_factor[resource])
        return ureg.Quantity(listed.magnitude * _quantile(factor, q), listed.units)

    def induced_demand(self, resource: Resource, q: float | Sequence[float] = 0.5) -> Quantity:
        """Quantile(s) over paths of the yearly mean demand the policy induces, canonical unit."""
        resource = Resource.argument(resource)
        return ureg.Quantity(_quantile(self.induced[:, :, resource.index], q), resource.unit)

    def utilisation(self, site: str, q: float | Sequence[float] = 0.5, *,
                    policy: bool = True) -> _Floats:
        """Quantile(s) over paths of a site's yearly mean utilisation, dimensionless.

        The highest ratio of placed need to capacity over the site's resources, averaged
        over the months of the year the site has capacity; ``nan`` if it has none.
        """
        u = self.utilisation_with if fields.read_flag(policy, "policy") \
            else self.utilisation_without
        yearly = u[:, :, self._site(site)]
        with warnings.catch_warnings():
            # A site without capacity all year is nan on every path: so is its quantile.
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.asarray(np.nanquantile(yearly, fields.levels(q), axis=0),
                              dtype=np.float64)

    def energy_cost(self, site: str | None = None, q: float | Sequence[float] = 0.5, *,
                    net: bool = False) -> Quantity:
        """Quantile(s) over paths of the yearly energy bill, one site or all, ``[currency]``.

        With `net`, the electricity subsidies the site receives are deducted.
        """
        bill = self.energy - self.electricity_subsidy if fields.read_flag(net, "net") \
            else self.energy
        yearly = bill.sum(axis=2) if site is None else bill[:, :, self._site(site)]
        return ureg.Quantity(_quantile(yearly, q), "yuan")


# -- stage 1: the inputs, checked once ----------------------------------------------------
@attrs.frozen
class _Inputs:
    """What the costing reads, each value checked: the scenario with any overrides."""

    scenario: Scenario
    demands: tuple[DemandBlock, ...]
    policies: tuple[Instrument, ...]
    list_prices: Mapping[Resource, Quantity]
    weights: _Floats  # (n_enterprises,) shares of each voucher's eligible spend
    electricity_price: float | None  # yuan/kWh for sites without their own
    construction: Mapping[str, _Floats]  # per instrument, (n_projects,) yuan in all


def _read_weights(enterprises: int | Sequence[float], p: Problems) -> _Floats:
    if isinstance(enterprises, bool):
        p.add("enterprises", "must be a count or a sequence of weights", enterprises)
        return np.ones(1)
    if isinstance(enterprises, (int, np.integer)):
        if enterprises < 1:
            p.add("enterprises", "must be at least 1", enterprises)
            return np.ones(1)
        return enterprise_weights(int(enterprises))
    if isinstance(enterprises, (str, bytes, float, np.floating)) or not isinstance(
            enterprises, (Sequence, np.ndarray)):
        # a float or text is neither: read as one weight it would mean one enterprise
        p.add("enterprises", "must be a whole number of enterprises or a sequence of "
              f"weights, not {type(enterprises).__name__}", enterprises)
        return np.ones(1)
    try:
        w = np.asarray(enterprises, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        p.add("enterprises", "must be a count or a sequence of weights", enterprises)
        return np.ones(1)
    if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        p.add("enterprises", "weights must be finite, not negative, and not all zero",
              list(w))
        return np.ones(1)
    return enterprise_weights(w)


def _inputs(projection: Projection, demands: Sequence[DemandBlock] | None,
            policies: Sequence[Instrument] | None, overrides: Mapping[str, Any],
            enterprises: int | Sequence[float] | None,
            electricity_price: Quantity | None) -> _Inputs:
    """The scenario with the overrides given, validated by its own classes, and the rest.

    Market overrides (prices, elasticity, load factor, green shares) are checked by
    :class:`~capacity.instruments.Market` and the scenario exactly as a scenario file's.
    """
    p = Problems("policy costing")
    scenario = projection.scenario
    given = {k: v for k, v in overrides.items() if v is not None}
    if isinstance(enterprises, (int, np.integer)) and not isinstance(enterprises, bool):
        given["enterprises"] = enterprises
    weights = _read_weights(scenario.market.enterprises if enterprises is None
                            else enterprises, p)
    market = scenario.market
    for key, value in given.items():  # one at a time: a bad one leaves the others checked
        try:
            market = attrs.evolve(market, **{key: value})
        except ValidationError as error:
            p.items.extend(e for e in error.problems if not (
                e.path == "enterprises" and any(x.path == e.path for x in p.items)))
    try:
        if policies is not None and not isinstance(policies, Sequence):
            raise FieldError("policies", "must be a list of instruments (write [voucher] "
                             "for one)", policies)
        scenario = attrs.evolve(scenario, market=market, policies=scenario.policies
                                if policies is None else tuple(policies))
    except ValidationError as error:
        p.items.extend(type(e)(e.path.removeprefix("market."), e.reason, e.value)
                       for e in error.problems)
    demands = scenario.demands if demands is None else tuple(demands)
    names = [b.name for b in projection.uses.blocks]
    if [getattr(b, "name", None) for b in demands] != names:
        p.add("demands", "are not the demand blocks the projection was drawn from "
              f"(expected {', '.join(names)}); pass the projected scenario's demands")
    price = fields.magnitude(p, electricity_price, "yuan/kWh", "electricity_price")
    p.raise_if_any()
    estate, plan = scenario.estate, scenario.plan
    built = plan.built_estate(estate)
    # Only sites that ever have IT power need a price.
    powered = (built.capacity_matrix()[:, Resource.IT_POWER.index]
               + plan.additions(estate)[:, :, Resource.IT_POWER.index].sum(axis=0)) > 0
    for i, site in enumerate(built.sites):
        if powered[i] and site.electricity_price is None and price is None:
            p.add(f"sites[{i}].electricity_price",
                  f"site {site.id!r} has no price; pass electricity_price= as a fallback")
    construction = {x.name: _construction_amounts(x, built, plan, p, f"policies[{i}]")
                    for i, x in enumerate(scenario.policies)
                    if isinstance(x, ConstructionSubsidy)}
    p.raise_if_any()
    return _Inputs(scenario, demands, scenario.policies, scenario.market.priced(), weights,
                   price, construction)


# -- stage 2: vouchers ---------------------------------------------------------------------
def _cumulate_by_year(monthly: _Floats, year_of: NDArray[np.int64]) -> _Floats:
    """Running totals along the last (month) axis that restart every January."""
    cs = np.concatenate([np.zeros((*monthly.shape[:-1], 1)), np.cumsum(monthly, axis=-1)],
                        axis=-1)
    start_of = year_starts(year_of)[year_of]
    return np.asarray(cs[..., 1:] - cs[..., start_of], dtype=np.float64)


def _pay_through_year(cum_claims: _Floats, budget: float, year_of: NDArray[np.int64],
                      ) -> tuple[_Floats, NDArray[np.int64]]:
    """Monthly payments from claims cumulated within each year, and when the budget runs out.

    Returns the payments ``(n_paths, n_months)`` and, per path and year, the index of the
    month the budget is exhausted (-1 if it lasts).
    """
    paid_cum = np.minimum(cum_claims, budget)
    starts = year_starts(year_of)
    prev = np.zeros_like(paid_cum)
    prev[:, 1:] = paid_cum[:, :-1]
    prev[:, starts] = 0.0
    n_months = year_of.size
    hit = (cum_claims >= budget) & (cum_claims > 0)
    when = np.where(hit, np.arange(n_months), n_months)
    first = np.minimum.reduceat(when, starts, axis=1)
    return paid_cum - prev, np.where(first < n_months, first, -1).astype(np.int64)


_Payments = tuple[dict[str, _Floats], dict[str, NDArray[np.int64]]]


def _voucher_outlays(resp: Response, spend_bpt: _Floats, vouchers: Sequence[ComputeVoucher],
                     weights: _Floats, year_of: NDArray[np.int64]) -> _Payments:
    """Each voucher's payments ``(P, T)`` yuan and budget exhaustion ``(P, Y)``.

    `spend_bpt` is each block's spend at list price on what it is served with the policy,
    ``(B, P, T)``.
    """
    outlay: dict[str, _Floats] = {}
    exhausted: dict[str, NDArray[np.int64]] = {}
    for k, v in enumerate(vouchers):
        eligible = (resp.covers[k][:, None, None] * spend_bpt).sum(axis=0) * resp.valid[k]
        cum = claims(_cumulate_by_year(eligible, year_of), v, weights)
        outlay[v.name], exhausted[v.name] = _pay_through_year(cum, budget(v), year_of)
    return outlay, exhausted


def _net_prices(need_bpt: _Floats, resp: Response, demands: Sequence[DemandBlock],
                list_prices: Mapping[Resource, Quantity], year_of: NDArray[np.int64],
                ) -> dict[Resource, _Floats]:
    """Net price ÷ list price of each priced resource per path and year, ``(P, Y)``.

    Quantity-weighted over the blocks that use the resource.
    """
    n_years = int(year_of.max()) + 1
    net: dict[Resource, _Floats] = {}
    for r in list_prices:
        # the response is one factor per year, so it multiplies the year's need
        qty = np.array([resp.yearly[b] * yearly_sum(need_bpt[b], year_of)
                        * block.ratios[r.index] for b, block in enumerate(demands)]).reshape(
            len(demands), need_bpt.shape[1], n_years)
        total = qty.sum(axis=0)
        paid = (qty * (1.0 - resp.share)).sum(axis=0)
        net[r] = np.divide(paid, total, out=np.ones_like(total), where=total > 0)
    return net


# -- stage 3: placement, utilisation and energy -----------------------------------------------
def _site_utilisation(placed: Placement, cabinets: _Floats, pools: Pools, u: Uses) -> _Floats:
    """Each site's highest share of a limit in use, ``(P, T, S)``; ``nan`` with no room."""
    n_p, n_t = cabinets.shape[:2]
    out = np.full((len(pools.sites), n_p, n_t), np.nan)
    for lim in range(pools.rows.shape[1]):
        if not np.any(pools.rows[:, lim]):
            continue
        used = placed.total(u.use[:, :, lim], pools.n)  # (P, T, J)
        for site in range(len(pools.sites)):
            mine = np.flatnonzero((pools.site_of == site) & (pools.rows[:, lim] > 0))
            if not mine.size:
                continue
            room = sum((cabinets[:, :, j] * pools.rows[j, lim] for j in mine.tolist()),
                       np.zeros((n_p, n_t)))
            taken = sum((used[:, :, j] for j in mine.tolist()), np.zeros((n_p, n_t)))
            with np.errstate(divide="ignore", invalid="ignore"):
                np.fmax(out[site], np.where(room > 0, taken / room, np.nan), out=out[site])
    return np.moveaxis(out, 0, -1)


def _placed(projection: Projection, multiplier_bpt: _Floats, model: CostModel,
            ) -> tuple[Placement, _Floats, _Floats]:
    """Least-cost placement on every path, by the one rule, without and with the policy.

    Returns the placement with the policy and each site's utilisation without and with
    it, ``(P, T, S)`` each.
    """
    pools, u, cabinets = projection.pools, projection.uses, projection.cabinets
    unit_cost = model.unit_cost(u)
    need = projection.need
    placed_without = place(need, cabinets, pools, u, unit_cost)
    placed_with = place(need * multiplier_bpt, cabinets, pools, u, unit_cost)
    return (placed_with, _site_utilisation(placed_without, cabinets, pools, u),
            _site_utilisation(placed_with, cabinets, pools, u))


def _energy_kwh(projection: Projection, placed: Placement, model: CostModel) -> _Floats:
    """Energy drawn at every site, ``(P, T, S)`` kWh: idle cabinets plus occupied ones."""
    u, pools = projection.uses, projection.pools
    occupied = placed.total(u.occupancy, pools.n)
    site_kw = pools.by_site(model.drawn_kw(projection.cabinets, occupied))
    return np.asarray(site_kw * hours_in_month(projection.months)[None, :, None],
                      dtype=np.float64)


# -- stage 4: subsidies on energy and construction --------------------------------------------
def _electricity_outlays(projection: Projection, subsidies: Sequence[ElectricitySubsidy],
                         kwh_pts: _Floats, model: CostModel, market: Market,
                         year_of: NDArray[np.int64]) -> tuple[_Payments, _Floats]:
    """Each electricity subsidy's payments and what each site receives of them.

    Returns each subsidy's payments ``(P, T)`` and budget exhaustion ``(P, Y)``, and what
    each site receives in all, ``(P, T, S)`` yuan, pro rata when a budget binds.
    """
    pools, months = projection.pools, projection.months
    it_kw = pools.by_site(projection.cabinets * model.kw)
    outlay: dict[str, _Floats] = {}
    exhausted: dict[str, NDArray[np.int64]] = {}
    received = np.zeros_like(kwh_pts)
    for x in subsidies:
        pays = np.zeros_like(kwh_pts)
        for j, site in enumerate(pools.sites):
            if electricity_subsidy_applies(x, site, market):
                window = subsidy_window(x, site, it_kw[:, :, j], months)
                pays[:, :, j] = window * kwh_pts[:, :, j] * float(x.amount.m_as("yuan/kWh"))
        cum = _cumulate_by_year(pays.sum(axis=2), year_of)
        outlay[x.name], exhausted[x.name] = _pay_through_year(cum, budget(x), year_of)
        total = pays.sum(axis=2, keepdims=True)
        received += pays * np.divide(outlay[x.name][:, :, None], total,
                                     out=np.zeros_like(total), where=total > 0)
    return (outlay, exhausted), received


def _construction_outlays(projection: Projection, amounts: Mapping[str, _Floats],
                          n_years: int) -> tuple[_Payments, _Floats]:
    """Each construction subsidy's payments ``(P, T)``, in step with its projects' ramps.

    Also what each site receives of them in all, ``(P, T, S)`` yuan.
    """
    plan, months, delays = projection.plan, projection.months, projection.delays
    online = np.stack([proj.online(months, delays[proj.name]) for proj in plan.projects]) \
        if plan.projects else np.zeros((0, 1, months.size))
    never = np.full((projection.n_paths, n_years), -1, dtype=np.int64)
    sites = [s.id for s in projection.pools.sites]
    received = np.zeros((projection.n_paths, months.size, len(sites)))
    paid = {}
    for name, a in amounts.items():
        each = _construction_payments(a, plan, online, months, delays)
        for k, proj in enumerate(plan.projects):
            received[:, :, sites.index(proj.site)] += each[k]
        paid[name] = each.sum(axis=0) if each.size else np.zeros(received.shape[:2])
    return (paid, dict.fromkeys(amounts, never)), received


def _notes(inputs: _Inputs) -> tuple[tuple[str, Provenance], ...]:
    market = inputs.scenario.market
    notes = [("market.elasticity", market.elasticity.provenance),
             ("market.load_factor", Provenance.assumption(
                 f"IT draws {market.load_factor:g} of installed IT power on average")),
             ("market.enterprises", Provenance.assumption(
                 f"each voucher's eligible spend is shared by {inputs.weights.size} "
                 "enterprises with fixed weights")),
             *((join("market", "prices", r.name.lower()),
                Provenance.assumption(f"list price {q:~P}"))
               for r, q in inputs.list_prices.items())]
    for x in inputs.policies:
        notes += [(join("policies", Item(x.name), f), pv) for f, pv in x.provenance.items()]
    return tuple(notes)


def cost_policy(projection: Projection, demands: Sequence[DemandBlock] | None = None,
                policies: Sequence[Instrument] | None = None, *,
                prices: Mapping[Any, Any] | None = None, elasticity: Elasticity | None = None,
                enterprises: int | Sequence[float] | None = None,
                load_factor: float | None = None, green_share: Mapping[str, float] | None = None,
                electricity_price: Quantity | None = None) -> PolicyCost:
    """Cost policy instruments over a projected scenario, per calendar year.

    The costing runs in stages: the inputs, checked once by the scenario's own classes;
    the vouchers' demand response (:func:`capacity.response.respond`), payments and net
    prices; the least-cost placement of demand with and without the policy
    (:func:`capacity.placement.place`), the sites' utilisation and energy; the electricity
    and construction subsidies.

    Parameters
    ----------
    projection
        Monte Carlo paths of the scenario (:func:`capacity.project`); every argument left
        out is taken from its scenario (its demands, policies and market).
    demands
        The demand blocks the projection was drawn from; their paths without any policy
        are the projection's ``need``.
    policies
        The instruments, each with a unique name.
    prices
        List price of each resource users rent, keyed by :class:`~capacity.Resource` name,
        each ``[currency]/[resource]/[time]`` (``"30 yuan/(PFLOPS_fp16*hour)"``,
        ``"50 yuan/vCPU/month"``).
    elasticity
        Constant price elasticity of demand for voucher-eligible demand, with provenance.
    enterprises
        Number of enterprises sharing each voucher's eligible spend equally, or their
        weights (any positive numbers, normalised).
    load_factor
        Share of its rated IT power a fully used cabinet draws, dimensionless in (0, 1].
    green_share
        Share of green power of each site, keyed by site id, dimensionless in [0, 1];
        sites not listed fail any ``min_green_share`` condition.
    electricity_price
        Price for sites without their own, ``[currency]/[energy]``.

    Returns
    -------
    PolicyCost

    Raises
    ------
    ValidationError
        Listing every problem with the inputs.

    Examples
    --------
    >>> from capacity import project
    >>> from capacity.datasets import ganzhou
    >>> from capacity.policy import PRESETS
    >>> s = ganzhou()
    >>> p = project(s, start="2025-01", end="2027-12", n_paths=50, seed=1)
    >>> cost = cost_policy(p, s.demands, [PRESETS["chengdu-2023"]],
    ...                    prices={"compute_fp16": "30 yuan/(PFLOPS_fp16*hour)"},
    ...                    elasticity=Elasticity(0, Provenance.assumption("no response")))
    >>> bool((cost.outlay("chengdu-2023") <= ureg.Quantity(1000, "万元")).all())
    True
    """
    fields.read_instance(projection, Projection, "projection")
    inputs = _inputs(projection, demands, policies,
                     {"prices": prices if not isinstance(prices, Mapping) else {
                         k.name.lower() if isinstance(k, Resource) else k: v
                         for k, v in prices.items()},
                      "elasticity": elasticity, "load_factor": load_factor,
                      "green_share": green_share}, enterprises, electricity_price)
    years, year_of = year_index(projection.months)
    names = tuple(x.name for x in inputs.policies)
    resources = tuple(inputs.list_prices)
    n, n_years, n_sites = projection.n_paths, years.size, len(projection.pools.sites)
    # what the result keeps, refused up front rather than failing part way
    kept = 8 * n * n_years * (2 * len(names) + len(resources) + 2 * N_RESOURCES
                              + 6 * n_sites)
    free = available_bytes()
    if free is not None and kept > free:
        raise FieldError("n_paths", f"costing {n:,} paths would keep about {kept / 2**30:,.1f} "
                         f"GiB, more than the {free / 2**30:,.1f} GiB this machine has free; "
                         "cost fewer paths (projection.paths(slice(0, k)))", n)
    out = _Yearly(
        outlay={x: np.empty((n, n_years)) for x in names},
        exhausted={x: np.empty((n, n_years), dtype=np.int64) for x in names},
        net={r: np.empty((n, n_years)) for r in resources},
        induced=np.empty((n, n_years, N_RESOURCES)),
        served=np.empty((n, n_years, N_RESOURCES)), revenue=np.empty((n, n_years, n_sites)),
        without=np.empty((n, n_years, n_sites)), with_=np.empty((n, n_years, n_sites)),
        energy=np.empty((n, n_years, n_sites)), received=np.empty((n, n_years, n_sites)),
        raised=np.empty((n, n_years, n_sites)))
    converged, first = True, 0
    # path chunk by path chunk: only each path's yearly figures are kept; a chunk's
    # placement and room are (pairs or pools × limits, paths, months), about 32 MB each
    n_j, n_l = projection.pools.n, projection.uses.use.shape[2]
    wide = max(int(projection.uses.eligible.sum()), n_j * n_l, n_sites * n_l, 1)
    size = max(64, min(PATH_BLOCK, 2**22 // (projection.months.size * wide)))
    for part in projection.chunks(size):
        rows = slice(first, first + part.n_paths)
        converged &= _cost_paths(part, inputs, year_of, out, rows)
        first = rows.stop
    model_notes = _notes(inputs)
    return PolicyCost(months=projection.months, years=years,
                      site_ids=tuple(s.id for s in projection.pools.sites),
                      instruments=names, outlays=out.outlay, exhausted_at=out.exhausted,
                      list_prices=dict(inputs.list_prices), net_price_factor=out.net,
                      induced=out.induced, served=out.served, revenue=out.revenue,
                      utilisation_without=out.without,
                      utilisation_with=out.with_, energy=out.energy,
                      electricity_subsidy=out.received, construction_subsidy=out.raised,
                      converged=converged,
                      assumptions=model_notes)


@attrs.frozen
class _Yearly:
    """The costing's per-path yearly figures, filled chunk by chunk."""

    outlay: dict[str, _Floats]
    exhausted: dict[str, NDArray[np.int64]]
    net: dict[Resource, _Floats]
    induced: _Floats
    served: _Floats
    revenue: _Floats
    without: _Floats
    with_: _Floats
    energy: _Floats
    received: _Floats
    raised: _Floats


def _yearly_mean(monthly: _Floats, year_of: NDArray[np.int64]) -> _Floats:
    """Mean over each year's months along axis 1 that have a value (``nan`` marks none)."""
    known = ~np.isnan(monthly)
    moved = np.moveaxis(np.where(known, monthly, 0.0), 1, -1)
    counts = np.moveaxis(known.astype(np.float64), 1, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = yearly_sum(moved, year_of) / yearly_sum(counts, year_of)
    return np.asarray(np.moveaxis(mean, -1, 1), dtype=np.float64)


def _yearly_total(monthly: _Floats, year_of: NDArray[np.int64]) -> _Floats:
    """Sums over each year's months along axis 1."""
    return np.asarray(np.moveaxis(yearly_sum(np.moveaxis(monthly, 1, -1), year_of), -1, 1),
                      dtype=np.float64)


def _cost_paths(projection: Projection, inputs: _Inputs, year_of: NDArray[np.int64],
                out: _Yearly, rows: slice) -> bool:
    """Cost one chunk of paths into rows `rows` of `out`; whether the response converged."""
    months, market = projection.months, inputs.scenario.market
    n_years = int(year_of.max()) + 1
    need = projection.need  # (B, P, T) without any policy
    vouchers = [x for x in inputs.policies if isinstance(x, ComputeVoucher)]
    resp = respond(need, inputs.demands, vouchers, months, prices=dict(inputs.list_prices),
                   elasticity=market.elasticity.value, weights=inputs.weights)
    net = _net_prices(need, resp, inputs.demands, inputs.list_prices, year_of)
    ratios = np.array([b.ratios for b in inputs.demands]).reshape(-1, N_RESOURCES)
    induced = np.einsum("bpt,br->ptr", (resp.multiplier - 1.0) * need, ratios)

    model = CostModel.of(projection.pools, months, market, inputs.policies,
                         electricity_price=inputs.electricity_price)
    placed, util_without, util_with = _placed(projection, resp.multiplier, model)
    # vouchers pay on what is bought: demand served, not demand that found no room
    wanted = need * resp.multiplier
    served = placed.served(wanted)
    per_unit = unit_spend(inputs.demands, dict(inputs.list_prices), months)
    outlay, exhausted = _voucher_outlays(resp, served * per_unit[:, None, :], vouchers,
                                         inputs.weights, year_of)
    revenue = projection.pools.by_site(placed.valued(wanted, per_unit, projection.pools.n))
    kwh = _energy_kwh(projection, placed, model)
    subsidies = [x for x in inputs.policies if isinstance(x, ElectricitySubsidy)]
    (paid, ran_out), received = _electricity_outlays(projection, subsidies, kwh, model,
                                                      market, year_of)
    (built, done), raised = _construction_outlays(projection, inputs.construction, n_years)
    outlay |= paid | built
    exhausted |= ran_out | done
    for name in out.outlay:
        out.outlay[name][rows] = yearly_sum(outlay[name], year_of)
        out.exhausted[name][rows] = exhausted[name]
    for r, factor in net.items():
        out.net[r][rows] = factor
    out.induced[rows] = _yearly_mean(induced, year_of)
    out.served[rows] = _yearly_mean(np.einsum("bpt,br->ptr", served, ratios), year_of)
    out.revenue[rows] = _yearly_total(revenue, year_of)
    out.without[rows] = _yearly_mean(util_without, year_of)
    out.with_[rows] = _yearly_mean(util_with, year_of)
    out.energy[rows] = _yearly_total(kwh * model.price[None], year_of)
    out.received[rows] = _yearly_total(received, year_of)
    out.raised[rows] = _yearly_total(raised, year_of)
    return resp.converged


def _construction_amounts(x: ConstructionSubsidy, built: Estate, plan: Plan, p: Problems,
                          at: str) -> _Floats:
    """What each plan project receives in all, ``(n_projects,)`` yuan; problems into `p`."""
    cap = math.inf if x.cap is None else float(x.cap.m_as("yuan"))
    out = np.zeros(len(plan.projects))
    for k, proj in enumerate(plan.projects):
        if x.eligible_tags and not x.eligible_tags & built.site(proj.site).tags:
            continue
        if x.per_cabinet is not None:
            amount = float(x.per_cabinet.m_as("yuan/cabinet")) * sum(proj.cabinets.values())
        else:
            capex = _project_capex(proj.capex, proj.cabinets, built)
            if capex is None:
                p.add(f"{at}: plan.projects.{proj.name}.capex", "unknown; the project and "
                      "its cabinet profiles give no investment to take a share of")
                continue
            amount = float(x.share_of_capex or 0.0) * capex
        out[k] = min(amount, cap)
    return out


def _construction_payments(amounts: _Floats, plan: Plan, online: _Floats,
                           months: NDArray[np.datetime64], delays: Mapping[str, Any],
                           ) -> _Floats:
    """Each project's monthly payments, ``(n_projects, n_paths, n_months)`` yuan."""
    before = np.array([months[0] - np.timedelta64(1, "M")], dtype="datetime64[M]")
    out = np.zeros((len(plan.projects), *online.shape[1:]))
    for k, proj in enumerate(plan.projects):
        if amounts[k]:
            prior = proj.online(before, delays[proj.name])[:, :1]
            out[k] = amounts[k] * np.diff(np.concatenate([prior, online[k]], axis=1), axis=1)
    return out


def _project_capex(capex: Quantity | None, cabinets: Mapping[str, int],
                   built: Estate) -> float | None:
    if capex is not None:
        return float(capex.m_as("yuan"))
    per_cabinet = [built.profiles[prof].capex for prof in cabinets]
    if not per_cabinet or any(c is None for c in per_cabinet):
        return None
    return float(sum(n * c.m_as("yuan") for n, c in zip(cabinets.values(), per_cabinet,
                                                         strict=True) if c is not None))
