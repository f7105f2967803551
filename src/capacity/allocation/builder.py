"""Build an allocation problem from an estate, a plan and demand blocks at one month.

Pools are the (site × cabinet profile) pairs with cabinets in service that month. Each
demand block's central need that month is cut into ``units`` equal parts; one part placed
at a pool takes as many cabinets of the pool's profile as its hungriest resource requires
(2 AI cabinets at one site, 20 general ones at another), and those cabinets draw their IT
power through the site's PUE against its grid envelope.

Costs are per year, in yuan: energy (IT kW × load × PUE × hours × price, less any
electricity subsidy per kWh) plus the cabinets' capex spread over their lifetime.

Examples
--------
>>> from capacity import allocate
>>> from capacity.datasets import ganzhou
>>> built = build_problem(ganzhou(), "2027-12")
>>> result = allocate(built.problem, time_limit=10)
>>> result.status.value
'optimal'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs
import numpy as np
from numpy.typing import NDArray

from capacity.allocation.problem import AllocationProblem
from capacity.allocation.solve import Allocation
from capacity.errors import FieldError, Problems
from capacity.months import MonthLike, month
from capacity.resources import Resource
from capacity.units import Q_, Quantity, parse_quantity

if TYPE_CHECKING:
    from capacity.scenario import Scenario

__all__ = ["PoolKey", "ScenarioProblem", "build_problem"]

_HOURS_PER_YEAR = 8766.0  # the registry's year: 365.25 days


@attrs.frozen
class PoolKey:
    """A pool: the cabinets of one profile at one site."""

    site: str
    profile: str

    def __str__(self) -> str:
        return f"{self.site}/{self.profile}"


def _pools(scenario: Scenario, when: np.datetime64) -> tuple[list[PoolKey], NDArray[np.float64]]:
    """Pools in service at `when` and their whole cabinets, planned dates (no slippage)."""
    plan, estate = scenario.plan, scenario.estate
    built = plan.built_estate(estate)
    counts: dict[PoolKey, float] = {}
    for site in built.sites:
        for prof, n in site.cabinets.items():
            counts[PoolKey(site.id, prof)] = counts.get(PoolKey(site.id, prof), 0.0) + n
    axis = np.array([when], dtype="datetime64[M]")
    for proj in plan.projects:
        share = float(proj.online(axis)[0])
        for prof, n in proj.cabinets.items():
            key = PoolKey(proj.site, prof)
            counts[key] = counts.get(key, 0.0) + math.floor(share * n + 1e-9)
    keys = [k for k, n in counts.items() if n > 0]
    return keys, np.array([counts[k] for k in keys], dtype=np.float64)


def build_problem(
    scenario: Scenario,
    when: MonthLike,
    *,
    units: int = 20,
    load_factor: float = 0.7,
    lifetime: Quantity | str = "10 year",
    electricity_subsidy: Mapping[str, Quantity | str] | None = None,
    unmet_penalty: Quantity | str | None = None,
    min_sites: Mapping[str, int] | None = None,
    splittable: bool = True,
) -> ScenarioProblem:
    """The allocation problem of a scenario's demand at one month.

    Parameters
    ----------
    scenario
        Estate, plan and demand blocks.
    when
        The month whose capacity (planned dates) and central demand are allocated.
    units
        Parts each demand block is cut into; finer parts pack tighter, coarser solve faster.
    load_factor
        Average share of IT power drawn, dimensionless in (0, 1].
    lifetime
        Period over which cabinet capex is spread, ``[time]``.
    electricity_subsidy
        Subsidy per kWh by site id, ``[currency]/[energy]``, deducted from the price.
    unmet_penalty
        Cost per year of one unserved part of any block, ``[currency]``. Without it a
        block's ``value`` (per unit of its resource per year) sets the penalty, and a block
        without a value must be served in full.
    min_sites
        Spread rule by block name: the block is placed on at least this many sites.
    splittable
        Whether a block's parts may go to different pools.

    Returns
    -------
    ScenarioProblem
        Its ``problem`` has costs in yuan per year, resources in their canonical units
        (cabinets first), and names of the blocks, pools (``site/profile``), resources and
        sites; the wrapper reads an allocation back as quantities.

    Raises
    ------
    ValidationError
        If any argument is invalid; every problem is listed.
    """
    p = Problems("allocation inputs")
    at = month(when, "when")
    if isinstance(units, bool) or not isinstance(units, int) or units < 1:
        p.add("units", "must be a positive whole number", units)
    if not 0 < load_factor <= 1:
        p.add("load_factor", "must be in (0, 1]", load_factor)
    years = 1.0
    try:
        years = float(parse_quantity(lifetime, "year", "lifetime").m_as("year"))
        if years <= 0:
            p.add("lifetime", "must be positive", lifetime)
    except FieldError as exc:
        p.add(exc.path, exc.reason, exc.value)
    subsidy: dict[str, float] = {}
    site_ids = scenario.plan.built_estate(scenario.estate).site_ids
    for sid, amount in (electricity_subsidy or {}).items():
        if sid not in site_ids:
            p.add(f"electricity_subsidy.{sid}", "unknown site", sid)
            continue
        try:
            subsidy[sid] = float(parse_quantity(amount, "yuan/kWh",
                                                f"electricity_subsidy.{sid}").m_as("yuan/kWh"))
        except FieldError as exc:
            p.add(exc.path, exc.reason, exc.value)
    penalty_all: float | None = None
    if unmet_penalty is not None:
        try:
            penalty_all = float(parse_quantity(unmet_penalty, "yuan", "unmet_penalty")
                                .m_as("yuan"))
        except FieldError as exc:
            p.add(exc.path, exc.reason, exc.value)
    names = [b.name for b in scenario.demands]
    for name in (min_sites or {}):
        if name not in names:
            p.add(f"min_sites.{name}", "unknown demand block", name)
    p.raise_if_any()

    built = scenario.plan.built_estate(scenario.estate)
    pools, cabinets = _pools(scenario, at)
    blocks = scenario.demands
    axis = np.array([at], dtype="datetime64[M]")
    need = np.array([b.central(axis)[0] for b in blocks]).reshape(len(blocks), -1) / units
    used_r = [r for r in Resource if r is Resource.CABINETS or np.any(need[:, r.index] > 0)]
    per_cab = np.array([built.profiles[k.profile].vector.values for k in pools]).reshape(
        len(pools), -1)

    # cabinets one part of block i takes at pool j: its hungriest resource decides
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(need[:, None, :] > 0,
                         need[:, None, :] / per_cab[None, :, :], 0.0)  # (n, m, R)
    ratio[np.isnan(ratio)] = np.inf
    cab_per_part = ratio.max(axis=2)
    sites = {s.id: s for s in built.sites}
    hosts = np.array([[b.hosts(sites[k.site]) for k in pools] for b in blocks],
                     dtype=bool).reshape(len(blocks), len(pools))
    eligible = hosts & np.isfinite(cab_per_part)
    cab_per_part = np.where(eligible, cab_per_part, 0.0)

    use = np.zeros((len(blocks), len(pools), len(used_r)))
    capacity = np.zeros((len(pools), len(used_r)))
    for c, r in enumerate(used_r):
        use[:, :, c] = cab_per_part if r is Resource.CABINETS else need[:, r.index][:, None]
        capacity[:, c] = cabinets * per_cab[:, r.index]
    use[~eligible] = 0.0

    kw = per_cab[:, Resource.IT_POWER.index]
    power_use = cab_per_part * kw[None, :]
    pue = np.array([sites[k.site].pue for k in pools])
    price = np.zeros(len(pools))
    capex = np.zeros(len(pools))
    for j, k in enumerate(pools):
        tariff = sites[k.site].electricity_price
        price[j] = (tariff.m_as("yuan/kWh") if tariff is not None else 0.0) \
            - subsidy.get(k.site, 0.0)
        invest = built.profiles[k.profile].capex
        capex[j] = invest.m_as("yuan") if invest is not None else 0.0
    cost = (power_use * load_factor * pue[None, :] * _HOURS_PER_YEAR * price[None, :]
            + cab_per_part * (capex / years)[None, :])

    site_list = sorted({k.site for k in pools}, key=site_ids.index)
    grid = np.array([_kw(sites[s].grid) for s in site_list])
    penalty = np.full(len(blocks), np.inf)
    for i, b in enumerate(blocks):
        if penalty_all is not None:
            penalty[i] = penalty_all
        elif b.value is not None:
            per_year = b.value.m_as(f"yuan / ({b.resource.unit}) / year")
            penalty[i] = per_year * need[i, b.resource.index]
    spread = None
    if min_sites:
        spread = np.array([min_sites.get(b.name, 0) for b in blocks], dtype=np.float64)
    problem = AllocationProblem(
        use=use, capacity=capacity, cost=cost, size=np.full(len(blocks), float(units)),
        penalty=penalty, eligible=eligible, splittable=splittable,
        pool_site=np.array([site_list.index(k.site) for k in pools], dtype=np.float64),
        min_sites=spread, power_use=power_use, pue=pue, grid=grid,
        demand_names=names, pool_names=[str(k) for k in pools],
        resource_names=[r.name.lower() for r in used_r], site_names=site_list,
        resource_units=[str(r.unit) for r in used_r], cost_unit="yuan",
        name=f"{scenario.name} at {at}")
    return ScenarioProblem(problem, at, tuple(pools), need, tuple(names),
                           tuple(b.resource for b in blocks))


def _kw(power: Quantity | None) -> float:
    return float(power.m_as("kW")) if power is not None else math.inf


@attrs.frozen(eq=False)
class ScenarioProblem:
    """An allocation problem built from a scenario, with what it takes to read answers back.

    Attributes
    ----------
    problem
        The array-level problem to pass to :func:`~capacity.allocation.allocate`.
    when
        The month it describes.
    pools
        The pool of each column: a site and a cabinet profile.
    part
        Need of every resource per part of each block, canonical units, ``(n, len(Resource))``.
    blocks
        Demand block names, one per row.
    """

    problem: AllocationProblem
    when: np.datetime64
    pools: tuple[PoolKey, ...]
    part: NDArray[np.float64] = attrs.field(repr=False)
    blocks: tuple[str, ...]
    primary: tuple[Resource, ...]

    def placement(self, result: Allocation) -> dict[str, dict[str, Quantity]]:
        """Where each block went: its primary resource by pool (``site/profile``).

        Returns
        -------
        dict
            ``{block: {pool: amount}}``, with ``"unmet"`` for what was left unserved; empty
            when the solve found no assignment.
        """
        if result.assignment is None:
            return {}
        out: dict[str, dict[str, Quantity]] = {}
        for i, (name, r) in enumerate(zip(self.blocks, self.primary, strict=True)):
            amount = self.part[i, r.index]
            row = {str(self.pools[j]): Q_(float(result.assignment[i, j] * amount), r.unit)
                   for j in np.flatnonzero(result.assignment[i] > 0)}
            if result.unmet is not None and result.unmet[i] > 0:
                row["unmet"] = Q_(float(result.unmet[i] * amount), r.unit)
            out[name] = row
        return out

    def cabinets_used(self, result: Allocation) -> dict[str, Quantity]:
        """Cabinets occupied at each pool by the assignment."""
        if result.used is None:
            return {}
        return {str(k): Q_(float(result.used[j, 0]), "cabinet") for j, k in enumerate(self.pools)}
