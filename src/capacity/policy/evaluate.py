"""What a set of policy instruments costs over a projected scenario, year by year.

:func:`cost_policy` takes a :class:`~capacity.projection.Projection`, the demand blocks it
was drawn from and the instruments, and returns a frozen :class:`PolicyCost`: each
instrument's outlay per calendar year over the Monte Carlo paths, when a budget runs out,
the price users pay net of vouchers, the demand that lower price induces, the
utilisation of each site with and without the policy, and each site's energy bill.

Modelling decisions (each also listed in :attr:`PolicyCost.assumptions`):

* **Spend.** A demand block's spend in a month is its need of every priced resource ×
  the list price per unit-month; unpriced resources cost nothing. A month is 1/12 year.
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
* **Placement.** Each block's need goes to the sites that may host it, pro rata by their
  capacity of the block's primary resource that month; a site's utilisation is its
  highest ratio of placed need to capacity over resources (above 1: a shortfall). Need
  no eligible site can hold is left unplaced.
* **Energy.** Installed IT power × load factor × PUE × the hours of each calendar month ×
  the site's price. A subsidy for `years` runs from the month a site first has IT power
  on each path; a site already operating at the start of the axis counts from its
  ``commissioned`` month, and without one does not qualify.
* **Construction.** A project's subsidy is paid in step with the share of it online;
  what came online before the axis starts is not counted.
"""

from __future__ import annotations

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
from capacity.inventory import Estate, Site
from capacity.months import hours_in_month
from capacity.placement import (
    CostModel,
    Pools,
    Uses,
    electricity_subsidy_applies,
    place,
    subsidy_window,
)
from capacity.plan import Plan
from capacity.projection import Projection
from capacity.provenance import Provenance
from capacity.resources import N_RESOURCES, Resource
from capacity.response import (
    budget,
    claims,
    enterprise_weights,
    respond,
    unit_spend,
    year_index,
    year_starts,
    yearly_sum,
)
from capacity.units import Quantity, parse_quantity, ureg

__all__ = ["Elasticity", "PolicyCost", "cost_policy"]

_Floats = NDArray[np.float64]
_NET_FLOOR = 0.01  # the demand response's floor on net price ÷ list price
_MAX_ITER = 200
_TOL = 1e-10


def _quantile(paths: _Floats, q: float | Sequence[float]) -> _Floats:
    return np.asarray(np.quantile(paths, q, axis=0), dtype=np.float64)


@attrs.frozen(eq=False)
class PolicyCost:
    """What the instruments cost and change, per calendar year, over Monte Carlo paths.

    Build it with :func:`cost_policy`. Arrays are float64 over paths; the methods return
    quantiles over paths per calendar year of the axis (the first and last years may be
    partial).

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
    monthly_outlay
        Each instrument's payments per path and month, ``(n_paths, n_months)``, yuan.
    exhausted_at
        Per instrument, path and year, the month index its budget runs out (-1: it lasts).
    list_prices
        The list price of each priced resource, as given.
    net_price_factor
        Per priced resource, net price ÷ list price per path and year.
    induced
        Demand the policy induces, ``(n_paths, n_months, R)``, canonical units.
    utilisation_without, utilisation_with
        Utilisation of each site, ``(n_paths, n_months, n_sites)``, without and with the
        policy's induced demand.
    energy
        Energy bill of each site, ``(n_paths, n_months, n_sites)``, yuan.
    electricity_subsidy
        Electricity subsidies each site receives, same shape, yuan.
    converged
        Whether the induced-demand fixed point met its tolerance.
    assumptions
        Every assumption the costing made, as (field, provenance).
    """

    months: NDArray[np.datetime64]
    years: NDArray[np.int64]
    site_ids: tuple[str, ...]
    instruments: tuple[str, ...]
    monthly_outlay: Mapping[str, _Floats] = attrs.field(repr=False)
    exhausted_at: Mapping[str, NDArray[np.int64]] = attrs.field(repr=False)
    list_prices: Mapping[Resource, Quantity] = attrs.field(repr=False)
    net_price_factor: Mapping[Resource, _Floats] = attrs.field(repr=False)
    induced: _Floats = attrs.field(repr=False)
    utilisation_without: _Floats = attrs.field(repr=False)
    utilisation_with: _Floats = attrs.field(repr=False)
    energy: _Floats = attrs.field(repr=False)
    electricity_subsidy: _Floats = attrs.field(repr=False)
    converged: bool = True
    assumptions: tuple[tuple[str, Provenance], ...] = ()

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    @property
    def _year_of_month(self) -> NDArray[np.int64]:
        return year_index(self.months)[1]

    def _yearly_sum(self, monthly: _Floats) -> _Floats:
        return yearly_sum(monthly, self._year_of_month)

    def _yearly_mean(self, monthly: _Floats) -> _Floats:
        """Mean over each year's months that have a value (``nan`` marks none)."""
        known = ~np.isnan(monthly)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._yearly_sum(np.where(known, monthly, 0.0)) / self._yearly_sum(
                known.astype(np.float64))

    def _instrument(self, name: str) -> str:
        if name not in self.monthly_outlay:
            raise FieldError("instrument", f"unknown (known: {', '.join(self.instruments)})",
                             name)
        return name

    def _site(self, site: str) -> int:
        if site not in self.site_ids:
            raise FieldError("site", f"unknown (known: {', '.join(self.site_ids)})", site)
        return self.site_ids.index(site)

    # -- outlays -------------------------------------------------------------------------
    def outlay_paths(self, name: str) -> Quantity:
        """Yearly outlay of one instrument on every path, ``(n_paths, n_years)``, yuan."""
        return ureg.Quantity(self._yearly_sum(self.monthly_outlay[self._instrument(name)]), "yuan")

    def outlay(self, name: str, q: float | Sequence[float] = 0.5) -> Quantity:
        """Quantile(s) over paths of one instrument's yearly outlay, ``[currency]``.

        Shape ``(n_years,)`` for one `q`, ``(len(q), n_years)`` for several.
        """
        return ureg.Quantity(_quantile(self.outlay_paths(name).m_as("yuan"), q), "yuan")

    def total_outlay(self, q: float | Sequence[float] = 0.5) -> Quantity:
        """Quantile(s) over paths of all instruments' yearly outlay together, ``[currency]``."""
        total = sum((self.monthly_outlay[n] for n in self.instruments),
                    np.zeros_like(self.energy[..., 0]))
        return ureg.Quantity(_quantile(self._yearly_sum(total), q), "yuan")

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
        if resource not in self.list_prices:
            known = ", ".join(r.name.lower() for r in self.list_prices)
            raise FieldError("resource", f"has no list price (priced: {known})",
                             resource.name.lower())
        listed = self.list_prices[resource]
        factor = self.net_price_factor[resource] if policy else np.ones_like(
            self.net_price_factor[resource])
        return ureg.Quantity(listed.magnitude * _quantile(factor, q), listed.units)

    def induced_demand(self, resource: Resource, q: float | Sequence[float] = 0.5) -> Quantity:
        """Quantile(s) over paths of the yearly mean demand the policy induces, canonical unit."""
        return ureg.Quantity(_quantile(self._yearly_mean(self.induced[:, :, resource.index]),
                                       q), resource.unit)

    def utilisation(self, site: str, q: float | Sequence[float] = 0.5, *,
                    policy: bool = True) -> _Floats:
        """Quantile(s) over paths of a site's yearly mean utilisation, dimensionless.

        The highest ratio of placed need to capacity over the site's resources, averaged
        over the months of the year the site has capacity; ``nan`` if it has none.
        """
        u = self.utilisation_with if policy else self.utilisation_without
        yearly = self._yearly_mean(u[:, :, self._site(site)])
        with warnings.catch_warnings():
            # A site without capacity all year is nan on every path: so is its quantile.
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.asarray(np.nanquantile(yearly, q, axis=0), dtype=np.float64)

    def energy_cost(self, site: str | None = None, q: float | Sequence[float] = 0.5, *,
                    net: bool = False) -> Quantity:
        """Quantile(s) over paths of the yearly energy bill, one site or all, ``[currency]``.

        With `net`, the electricity subsidies the site receives are deducted.
        """
        bill = self.energy - self.electricity_subsidy if net else self.energy
        monthly = bill.sum(axis=2) if site is None else bill[:, :, self._site(site)]
        return ureg.Quantity(_quantile(self._yearly_sum(monthly), q), "yuan")


# -- inputs ------------------------------------------------------------------------------
def _read_prices(prices: Mapping[Any, Any], p: Problems) -> dict[Resource, Quantity]:
    try:
        return Market(prices=prices).priced()
    except ValidationError as exc:
        for problem in exc.problems:
            p.add(problem.path, problem.reason, problem.value)
        return {}


def _read_weights(enterprises: int | Sequence[float], p: Problems) -> _Floats:
    if isinstance(enterprises, bool):
        p.add("enterprises", "must be a count or a sequence of weights", enterprises)
        return np.ones(1)
    if isinstance(enterprises, (int, np.integer)):
        if enterprises < 1:
            p.add("enterprises", "must be at least 1", enterprises)
            return np.ones(1)
        return enterprise_weights(int(enterprises))
    w = np.asarray(enterprises, dtype=np.float64).ravel()
    if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        p.add("enterprises", "weights must be finite, not negative, and not all zero",
              list(w))
        return np.ones(1)
    return enterprise_weights(w)


def _site_price(site: Site, fallback: Quantity | None, p: Problems, i: int) -> float:
    price = site.electricity_price if site.electricity_price is not None else fallback
    if price is None:
        p.add(f"sites[{i}].electricity_price",
              f"site {site.id!r} has no price; pass electricity_price= as a fallback")
        return 0.0
    return float(price.m_as("yuan/kWh"))


# -- capacity of every site on every path -----------------------------------------------
def _online(plan: Plan, months: NDArray[np.datetime64], delays: Mapping[str, Any]) -> _Floats:
    """Share online of each project, ``(n_projects, n_paths, n_months)``."""
    return np.stack([proj.online(months, delays[proj.name]) for proj in plan.projects]) \
        if plan.projects else np.zeros((0, 1, months.size))


# -- vouchers ----------------------------------------------------------------------------
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


def _site_utilisation(placed: _Floats, cabinets: _Floats, pools: Pools, u: Uses) -> _Floats:
    """Each site's highest share of a limit in use, ``(P, T, S)``; ``nan`` with no room."""
    onehot = np.eye(len(pools.sites))[pools.site_of]  # (J, S)
    used = np.einsum("bptj,bjl,js->ptsl", placed, u.use, onehot)
    room = np.einsum("ptj,jl,js->ptsl", cabinets, pools.rows, onehot)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(room > 0, used / room, np.nan)
    return np.asarray(np.fmax.reduce(ratio, axis=-1), dtype=np.float64)


def cost_policy(projection: Projection, demands: Sequence[DemandBlock] | None = None,
                policies: Sequence[Instrument] | None = None, *,
                prices: Mapping[Any, Any] | None = None, elasticity: Elasticity | None = None,
                enterprises: int | Sequence[float] | None = None,
                load_factor: float | None = None, green_share: Mapping[str, float] | None = None,
                electricity_price: Quantity | None = None) -> PolicyCost:
    """Cost policy instruments over a projected scenario, per calendar year.

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
        List price of each resource users rent, keyed by :class:`~capacity.Resource` or
        its name, each ``[currency]/[resource]/[time]`` (``"30 yuan/(PFLOPS_fp16*hour)"``,
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
    scenario = projection.scenario
    market = scenario.market
    demands = scenario.demands if demands is None else tuple(demands)
    policies = scenario.policies if policies is None else tuple(policies)
    prices = market.prices if prices is None else prices
    elasticity = market.elasticity if elasticity is None else elasticity
    enterprises = market.enterprises if enterprises is None else enterprises
    load_factor = market.load_factor if load_factor is None else load_factor
    green_share = market.green_share if green_share is None else green_share
    p = Problems("policy costing")
    list_prices = _read_prices(prices, p)
    weights = _read_weights(enterprises, p)
    if not isinstance(elasticity, Elasticity):
        p.add("elasticity", "must be an Elasticity (value and provenance)", elasticity)
    if isinstance(load_factor, bool) or not isinstance(load_factor, (int, float)) \
            or not 0 < load_factor <= 1:
        p.add("load_factor", "must be a number in (0, 1]", load_factor)
    for b, block in enumerate(demands):
        if not isinstance(block, DemandBlock):
            p.add(f"demands[{b}]", "must be a DemandBlock", block)
    seen: set[str] = set()
    for i, x in enumerate(policies):
        if not isinstance(x, (ComputeVoucher, ElectricitySubsidy, ConstructionSubsidy)):
            p.add(f"policies[{i}]", "must be a ComputeVoucher, ElectricitySubsidy or "
                  "ConstructionSubsidy", x)
        elif x.name in seen:
            p.add(f"policies[{i}].name", "duplicate instrument name", x.name)
        else:
            seen.add(x.name)
    if electricity_price is not None:
        try:
            parse_quantity(electricity_price, "yuan/kWh", "electricity_price")
        except FieldError as exc:
            p.add(exc.path, exc.reason, exc.value)
    shares = dict(green_share or {})
    for key, g in shares.items():
        if isinstance(g, bool) or not isinstance(g, (int, float)) or not 0 <= g <= 1:
            p.add(f"green_share.{key}", "must be a number in [0, 1]", g)
    estate, plan = projection.estate, projection.plan
    built = plan.built_estate(estate)
    for key in shares:
        if key not in built.site_ids:
            p.add(f"green_share.{key}", "unknown site", key)
    # Only sites that ever have IT power need a price.
    powered = (built.capacity_matrix()[:, Resource.IT_POWER.index]
               + plan.additions(estate)[:, :, Resource.IT_POWER.index].sum(axis=0)) > 0
    for i, s in enumerate(built.sites):
        if powered[i]:
            _site_price(s, electricity_price, p, i)
    amounts = {x.name: _construction_amounts(x, built, plan, p, f"policies[{i}]")
               for i, x in enumerate(policies) if isinstance(x, ConstructionSubsidy)}
    p.raise_if_any()
    assert isinstance(elasticity, Elasticity)  # checked above; narrows the type

    months = projection.months
    years, year_of = year_index(months)
    n_paths = projection.n_paths
    names = [b.name for b in projection.uses.blocks]
    if [b.name for b in demands] != names:
        raise ValidationError("invalid policy costing", [FieldError(
            "demands", "are not the demand blocks the projection was drawn from (expected "
            f"{', '.join(names)}); pass the projected scenario's demands")])
    need = projection.need  # (B, P, T) without any policy
    vouchers = [x for x in policies if isinstance(x, ComputeVoucher)]
    resp = respond(need, demands, vouchers, months, prices=list_prices,
                   elasticity=elasticity.value, weights=weights)
    multiplier, share = resp.multiplier, resp.share
    spend = need * unit_spend(demands, list_prices, months)[:, None, :]  # (B, P, T) yuan

    outlay: dict[str, _Floats] = {}
    exhausted: dict[str, NDArray[np.int64]] = {}
    no_budget = np.full((n_paths, years.size), -1, dtype=np.int64)
    for k, v in enumerate(vouchers):
        eligible = (resp.covers[k][:, None, None] * multiplier * spend).sum(axis=0) \
            * resp.valid[k]
        cum = claims(_cumulate_by_year(eligible, year_of), v, weights)
        outlay[v.name], exhausted[v.name] = _pay_through_year(cum, budget(v), year_of)

    # Net price of each priced resource: quantity-weighted over the blocks that use it.
    net: dict[Resource, _Floats] = {}
    for r in list_prices:
        qty = np.array([yearly_sum(multiplier[b] * need[b], year_of) * block.ratios[r.index]
                        for b, block in enumerate(demands)]).reshape(
            len(demands), n_paths, years.size)
        total = qty.sum(axis=0)
        paid = (qty * (1.0 - share)).sum(axis=0)
        net[r] = np.divide(paid, total, out=np.ones_like(total), where=total > 0)
    ratios = np.array([block.ratios for block in demands]).reshape(len(demands), N_RESOURCES)
    induced = np.einsum("bpt,br->ptr", (multiplier - 1.0) * need, ratios)

    # Placement on every path by the one rule, with and without the policy's demand.
    pools, u, cabinets = projection.pools, projection.uses, projection.cabinets
    market = attrs.evolve(projection.scenario.market, load_factor=load_factor,
                          green_share=shares)
    model = CostModel.of(pools, months, market, policies,
                         electricity_price=None if electricity_price is None else
                         float(parse_quantity(electricity_price, "yuan/kWh", "electricity_price")
                               .m_as("yuan/kWh")))
    unit_cost = model.unit_cost(u)
    placed_without = place(need, cabinets, pools, u, unit_cost)
    placed_with = place(need * multiplier, cabinets, pools, u, unit_cost)
    util_without = _site_utilisation(placed_without, cabinets, pools, u)
    util_with = _site_utilisation(placed_with, cabinets, pools, u)

    # Energy drawn at every site (idle cabinets in service + the occupied ones).
    occupied = np.einsum("bptj,bj->ptj", placed_with, u.occupancy)
    site_kw = pools.by_site(model.drawn_kw(cabinets, occupied))  # (P, T, S)
    kwh = site_kw * hours_in_month(months)[None, :, None]
    energy = kwh * model.price[None]
    elec_total = np.zeros_like(energy)
    it_kw = pools.by_site(cabinets * model.kw)
    for x in policies:
        if not isinstance(x, ElectricitySubsidy):
            continue
        pays = np.zeros_like(energy)
        for j, site in enumerate(pools.sites):
            if not electricity_subsidy_applies(x, site, market):
                continue
            window = subsidy_window(x, site, it_kw[:, :, j], months)
            pays[:, :, j] = window * kwh[:, :, j] * float(x.amount.m_as("yuan/kWh"))
        cum = _cumulate_by_year(pays.sum(axis=2), year_of)
        outlay[x.name], exhausted[x.name] = _pay_through_year(cum, budget(x), year_of)
        # Each site keeps its pro rata part of what the budget allows.
        total = pays.sum(axis=2, keepdims=True)
        elec_total += pays * np.divide(outlay[x.name][:, :, None], total,
                                       out=np.zeros_like(total), where=total > 0)

    online = _online(plan, months, projection.delays)
    for x in policies:
        if not isinstance(x, ConstructionSubsidy):
            continue
        outlay[x.name] = _construction_payments(amounts[x.name], plan, online, months,
                                                projection.delays)
        exhausted[x.name] = no_budget

    notes = [("elasticity", elasticity.provenance),
             ("load_factor", Provenance.assumption(
                 f"IT draws {load_factor:g} of installed IT power on average")),
             ("enterprises", Provenance.assumption(
                 f"each voucher's eligible spend is shared by {weights.size} enterprises "
                 "with fixed weights")),
             *((f"prices.{r.name.lower()}", Provenance.assumption(f"list price {q:~P}"))
               for r, q in list_prices.items())]
    for x in policies:
        notes += [(f"policies.{x.name}.{f}", pv) for f, pv in x.provenance.items()]
    for a in (*outlay.values(), *net.values(), induced, util_without, util_with, energy,
              elec_total):
        a.flags.writeable = False
    return PolicyCost(months=months, years=years, site_ids=built.site_ids,
                      instruments=tuple(x.name for x in policies), monthly_outlay=outlay,
                      exhausted_at=exhausted, list_prices=list_prices, net_price_factor=net,
                      induced=induced, utilisation_without=util_without,
                      utilisation_with=util_with, energy=energy,
                      electricity_subsidy=elec_total, converged=resp.converged,
                      assumptions=tuple(notes))


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
    """Monthly payments ``(n_paths, n_months)`` yuan, in step with each project's ramp."""
    before = np.array([months[0] - np.timedelta64(1, "M")], dtype="datetime64[M]")
    out = np.zeros(online.shape[1:])
    for k, proj in enumerate(plan.projects):
        if amounts[k]:
            prior = proj.online(before, delays[proj.name])[:, :1]
            out += amounts[k] * np.diff(np.concatenate([prior, online[k]], axis=1), axis=1)
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
