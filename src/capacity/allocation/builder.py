"""Build an allocation problem from a scenario at one month.

Pools are the (site × cabinet profile) pairs with cabinets in service that month on the
planned dates. Each demand block's central need that month is cut into ``units`` equal
parts. What a part consumes in each pool, where it may run, and what it costs all come
from :mod:`capacity.placement`, the one rule the projection and policy costing use too:
vCPU, storage and the other resources it needs, and accelerator device time shared
across precisions; power drawn is an idle share of every cabinet in service plus a share
proportional to the cabinets the demand occupies, through the site's PUE against its
grid envelope.

Costs are rates in yuan/year: energy drawn (at the market's load factor, net of the
scenario's electricity subsidies) plus the amortised capex of the cabinets occupied (net
of construction subsidies). The idle draw of the cabinets in service is the problem's
``fixed_cost``, so the objective is the estate's whole running cost that month.

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

import importlib
import math
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from capacity import fields
from capacity.allocation.problem import AllocationProblem
from capacity.allocation.solve import Allocation
from capacity.errors import FieldError, Problems
from capacity.instruments import ComputeVoucher
from capacity.inventory import UNMET
from capacity.months import MonthLike, month, month_index, month_range
from capacity.placement import LIMIT_UNITS, LIMITS, CostModel, PoolKey, Pools, uses
from capacity.resources import N_RESOURCES, Resource
from capacity.response import enterprise_weights, respond
from capacity.scenario import Scenario
from capacity.units import Q_, Quantity, parse_quantity

__all__ = ["PoolKey", "ScenarioProblem", "build_problem"]


def build_problem(
    scenario: Scenario,
    when: MonthLike,
    *,
    units: int = 20,
    lifetime: Quantity | str = "10 year",
    unmet_penalty: Quantity | str | None = None,
    min_sites: Mapping[str, int] | None = None,
    splittable: bool = True,
) -> ScenarioProblem:
    """The allocation problem of a scenario's demand at one month.

    Blocks that need nothing that month are left out (``skipped``); a block no pool in
    service may host stays in, so the solve reports it infeasible and names it.

    Parameters
    ----------
    scenario
        Estate, plan, demand blocks, policies and market (load factor, idle share, green
        power): electricity and construction subsidies lower the costs where they apply.
    when
        The month whose capacity (planned dates) and central demand are allocated; the
        demand includes what the scenario's vouchers induce.
    units
        Parts each demand block is cut into; finer parts pack tighter, coarser solve faster.
    lifetime
        Period over which cabinet capex is spread, ``[time]``.
    unmet_penalty
        Cost of leaving one part of any block unserved, ``[currency]/[time]``. Without it a
        block's ``value`` (per unit of its resource per year) sets the penalty, and a block
        without a value must be served in full.
    min_sites
        Spread rule by block name: the block is placed on at least this many sites.
    splittable
        Whether a block's parts may go to different pools.

    Returns
    -------
    ScenarioProblem
        Its ``problem`` has costs in yuan/year, limits in their units (device time in
        cabinets), and names of blocks, pools (``site/profile``), limits and sites.

    Raises
    ------
    ValidationError
        If any argument is invalid; every problem is listed.
    """
    fields.read_instance(scenario, Scenario, "scenario")
    p = Problems("allocation inputs")
    at = month(when, "when")
    if isinstance(units, bool) or not isinstance(units, int) or units < 1:
        p.add("units", "must be a positive whole number", units)
    if not isinstance(splittable, (bool, np.bool_)):
        p.add("splittable", "must be True or False", splittable)
    years = 1.0
    try:
        years = float(parse_quantity(lifetime, "year", "lifetime").m_as("year"))
        if years <= 0:
            p.add("lifetime", "must be positive", lifetime)
    except FieldError as exc:
        p.add(exc.path, exc.reason, exc.value)
    penalty_all = fields.magnitude(p, unmet_penalty, "yuan/year", "unmet_penalty")
    all_names = [b.name for b in scenario.demands]
    if min_sites is not None and not isinstance(min_sites, Mapping):
        p.add("min_sites", "must map demand block names to site counts, e.g. "
              "{'government-cloud': 2}", min_sites)
        min_sites = None
    for name, count in (min_sites or {}).items():
        if name not in all_names:
            p.add(f"min_sites.{name}", "unknown demand block", name)
        elif isinstance(count, (bool, np.bool_)) or not isinstance(count, (int, np.integer)) \
                or count < 0:
            p.add(f"min_sites.{name}", "must be a whole number of sites ≥ 0", count)
    p.raise_if_any()

    axis = np.array([at], dtype="datetime64[M]")
    pools = Pools.of(scenario.estate, scenario.plan)
    cab_all = pools.cabinets(axis)[0, 0]
    live = [j for j in range(pools.n) if cab_all[j] > 0]
    cabinets = cab_all[live]
    keys = [pools.keys[j] for j in live]
    u = uses(scenario.demands, pools)
    central = _central_need(scenario, at)
    kept = [i for i in range(len(scenario.demands)) if central[i] > 0]
    skipped = tuple(b.name for i, b in enumerate(scenario.demands) if i not in kept)
    blocks = [scenario.demands[i] for i in kept]
    n, m = len(blocks), len(keys)
    part = central[kept] / units
    eligible = u.eligible[np.ix_(kept, live)]
    rows = pools.rows[live]
    used = [lim for lim in range(len(LIMITS))
            if u.needs[kept, lim].any() and (rows[:, lim] > 0).any()]
    use = u.use[np.ix_(kept, live)][:, :, used] * part[:, None, None]
    costs = CostModel.of(pools, axis, scenario.market, scenario.policies, lifetime_years=years)
    busy = costs.busy_rate(0)[live]
    idle = costs.idle_rate(0)[live]
    occupancy = u.occupancy[np.ix_(kept, live)] * part[:, None]
    kw = pools.per_cabinet[live, Resource.IT_POWER.index]
    drawn = costs.load_factor * (1 - costs.idle_share)
    site_ids = tuple(s.id for s in pools.sites)
    site_list = sorted({k.site for k in keys}, key=site_ids.index)
    sites = {s.id: s for s in pools.sites}
    pue = np.array([sites[k.site].pue for k in keys], dtype=np.float64)
    pool_site = np.array([site_list.index(k.site) for k in keys], dtype=np.intp)
    idle_kw = cabinets * kw * costs.load_factor * costs.idle_share * pue
    grid = np.array([_kw(sites[s].grid) for s in site_list], dtype=np.float64)
    grid = np.maximum(grid - np.bincount(pool_site, weights=idle_kw, minlength=len(site_list)),
                      0.0)
    penalty = np.full(n, np.inf)
    for i, b in enumerate(blocks):
        if penalty_all is not None:
            penalty[i] = penalty_all
        elif b.value is not None:
            penalty[i] = b.value.m_as(f"yuan / ({b.resource.unit}) / year") * part[i]
    spread = None
    if min_sites:
        spread = np.array([min_sites.get(b.name, 0) for b in blocks], dtype=np.float64)
    problem = AllocationProblem(
        use=use.reshape(n, m, len(used)), capacity=(cabinets[:, None] * rows[:, used]).reshape(
            m, len(used)),
        cost=np.where(eligible, occupancy * busy[None, :], 0.0).reshape(n, m),
        size=np.full(n, float(units)), penalty=penalty, eligible=eligible.reshape(n, m),
        splittable=splittable, pool_site=pool_site.astype(np.float64), min_sites=spread,
        power_use=np.where(eligible, occupancy * kw[None, :] * drawn, 0.0).reshape(n, m),
        pue=pue, grid=grid, fixed_cost=float((cabinets * idle).sum()),
        per_cabinet=rows[:, used].reshape(m, len(used)),
        demand_names=[b.name for b in blocks], pool_names=[str(k) for k in keys],
        resource_names=[LIMITS[lim] for lim in used], site_names=site_list,
        resource_units=[LIMIT_UNITS[lim] for lim in used], cost_unit="yuan/year",
        name=f"{scenario.name} at {at}")
    unhosted = tuple((b.name, tuple(sorted(b.eligible))) for i, b in enumerate(blocks)
                     if not eligible[i].any())
    need = np.array([b.ratios * part[i] for i, b in enumerate(blocks)]).reshape(n, N_RESOURCES)
    return ScenarioProblem(problem, at, tuple(keys), need, tuple(b.name for b in blocks),
                           tuple(b.resource for b in blocks), skipped, unhosted)


def _central_need(scenario: Scenario, at: np.datetime64) -> NDArray[np.float64]:
    """``(B,)`` each block's primary need at month `at` on its central path.

    With the demand the scenario's vouchers induce, as the projection counts it: their
    response depends on the year's spend, so it is solved over the calendar year of `at`.
    """
    year = month_range(at.astype("datetime64[Y]"), at.astype("datetime64[Y]")
                       + np.timedelta64(11, "M"))
    need = np.array([b.central(year)[:, b.resource.index] for b in scenario.demands],
                    dtype=np.float64).reshape(len(scenario.demands), 1, year.size)
    vouchers = [x for x in scenario.policies if isinstance(x, ComputeVoucher)]
    if vouchers:
        market = scenario.market
        need = need * respond(need, scenario.demands, vouchers, year, prices=market.priced(),
                              elasticity=market.elasticity.value,
                              weights=enterprise_weights(market.enterprises)).multiplier
    return np.asarray(need[:, 0, month_index(year, at)], dtype=np.float64)


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
    primary
        Each block's primary resource.
    skipped
        Blocks left out because they need nothing that month.
    unhosted
        Blocks (with their tags) that no pool in service may host: the solve is
        infeasible and says so.
    """

    problem: AllocationProblem
    when: np.datetime64
    pools: tuple[PoolKey, ...]
    part: NDArray[np.float64] = attrs.field(repr=False)
    blocks: tuple[str, ...]
    primary: tuple[Resource, ...]
    skipped: tuple[str, ...] = ()
    unhosted: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    def notes(self) -> list[str]:
        """What the problem leaves out or cannot place, in words."""
        out = [f"{name} needs nothing in {self.when}: left out" for name in self.skipped]
        out += [f"{name} (tags: {', '.join(tags) or 'any'}) may run in no pool in service in "
                f"{self.when}" for name, tags in self.unhosted]
        return out

    def _answer(self, result: Any) -> Allocation:
        """`result` if it is an answer to this problem, else a problem naming ``result``."""
        answer: Allocation = fields.read_instance(result, Allocation, "result")
        shape = (self.problem.n_demands, self.problem.n_pools)
        got = None if answer.assignment is None else answer.assignment.shape
        if got is not None and got != shape:
            raise FieldError("result", f"answers another problem ({got[0]} demands × {got[1]} "
                             f"pools, not {shape[0]} × {shape[1]}); pass "
                             "allocate(built.problem)")
        return answer

    def placement(self, result: Allocation) -> dict[str, dict[str, Quantity]]:
        """Where each block went: its primary resource by pool (``site/profile``).

        Returns
        -------
        dict
            ``{block: {pool: amount}}``, with ``"unmet"`` for what was left unserved; empty
            when the solve found no assignment.
        """
        result = self._answer(result)
        if result.assignment is None:
            return {}
        out: dict[str, dict[str, Quantity]] = {}
        for i, (name, r) in enumerate(zip(self.blocks, self.primary, strict=True)):
            amount = self.part[i, r.index]
            row = {str(self.pools[j]): Q_(float(result.assignment[i, j] * amount), r.unit)
                   for j in np.flatnonzero(result.assignment[i] > 0)}
            if result.unmet is not None and result.unmet[i] > 0:
                row[UNMET] = Q_(float(result.unmet[i] * amount), r.unit)
            out[name] = row
        return out

    def to_pandas(self, result: Allocation) -> Any:
        """Where each block went, as a :class:`pandas.DataFrame`.

        Indexed by (``block``, ``site``, ``profile``), with a row at site ``"unmet"`` for
        what was left unserved; columns ``amount`` (of the block's primary resource) and
        ``unit`` (its canonical unit, which ``capacity.ureg`` parses);
        ``frame.attrs["units"]`` maps each block to that unit. Empty without an answer.
        """
        pd = importlib.import_module("pandas")  # a dependency of xarray; untyped
        rows = []
        for block, row in self.placement(result).items():
            for pool, amount in row.items():
                site, _, profile = pool.partition("/")
                rows.append((block, site, profile, float(amount.magnitude),
                             f"{amount.units:~C}"))
        frame = pd.DataFrame(rows, columns=["block", "site", "profile", "amount", "unit"])
        frame = frame.set_index(["block", "site", "profile"])
        frame.attrs["units"] = {b: str(r.unit) for b, r in zip(self.blocks, self.primary,
                                                                strict=True)}
        return frame

    def cabinets_used(self, result: Allocation) -> dict[str, Quantity]:
        """Cabinets the assignment occupies at each pool: its most used limit's share."""
        result = self._answer(result)
        if result.used is None or self.problem.per_cabinet is None:
            return {}
        per = self.problem.per_cabinet
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(per > 0, result.used / per, 0.0)
        return {str(k): Q_(float(share[j].max(initial=0.0)), "cabinet")
                for j, k in enumerate(self.pools)}
