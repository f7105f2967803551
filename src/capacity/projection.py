"""Monte Carlo projection of capacity against demand, month by month.

:func:`project` draws `n_paths` futures of a scenario on a monthly axis: each project's
completion slips by a random delay, each demand block follows a random growth path. The
frozen :class:`Projection` answers: capacity and demand quantiles, P(shortfall) per
month and resource, the exhaustion date at a chosen probability and the resource that
binds first, and the cabinets of a chosen profile still needed to keep P(shortfall) ≤ α.

Everything inside is float64 numpy arrays of shape ``(n_paths, n_months, R)`` in the
resources' canonical units; quantities appear only in what the methods return.

Examples
--------
>>> from capacity import Resource, project
>>> from capacity.datasets import ganzhou
>>> p = project(ganzhou(), start="2025-01", end="2030-12", n_paths=500, seed=0)
>>> p.capacity_at("2027-12", Resource.COMPUTE_FP16).to("PFLOPS_fp16")
<Quantity(130.0, 'petaFLOPS_fp16')>
>>> p.capacity_at("2025-02", Resource.COMPUTE_FP16).magnitude
0.0
"""

from __future__ import annotations

import functools
import math
import os
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from capacity import fields
from capacity.errors import FieldError
from capacity.instruments import ComputeVoucher
from capacity.inventory import CabinetProfile, Estate
from capacity.months import MonthLike, month, month_index, month_range
from capacity.placement import (
    DEVICE,
    DIRECT,
    LIMIT_UNITS,
    LIMITS,
    Condition,
    PoolKey,
    Pools,
    Shortfall,
    Uses,
    cabinets_to_close,
    least_use,
    shortfall,
    uses,
)
from capacity.plan import Plan
from capacity.resources import N_RESOURCES, Resource
from capacity.response import enterprise_weights, respond
from capacity.scenario import Scenario
from capacity.units import Q_, Quantity, ureg

__all__ = ["CabinetNeed", "Exhaustion", "Projection", "component_rng", "project"]


@attrs.frozen
class Exhaustion:
    """When a resource first runs short with at least a given probability."""

    resource: Resource
    probability: float
    month: np.datetime64 | None

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    def __str__(self) -> str:
        when = str(self.month) if self.month is not None else "not within the horizon"
        return f"{self.resource.label}: P(shortfall) ≥ {self.probability:g} from {when}"


@attrs.frozen
class CabinetNeed:
    """Cabinets of one profile still needed to keep P(shortfall) ≤ α through the horizon.

    Attributes
    ----------
    profile
        Name of the cabinet profile.
    site
        Site the cabinets go to (where the short demand may run), ``None`` when nothing is
        short or no site of it helps.
    alpha
        The accepted probability of any shortfall in a month.
    cabinets
        Cabinets needed (whole), ``[cabinet]``: on each path and month the cabinets that
        close every limit's deficit together; the (1 − α) quantile over paths; the most
        over months.
    binding
        The resource whose deficit sets the number, if any.
    competing
        Compute resources sharing the binding device time (empty unless it is device time).
    uncovered
        Resources short on more than α of paths in some month that no number of these
        cabinets at `site` closes (they may not run there, or the profile lacks them).
    alternatives
        Cabinets needed at each other candidate site, by site id.
    """

    profile: str
    site: str | None
    alpha: float
    cabinets: Quantity
    binding: Resource | None
    competing: tuple[Resource, ...]
    uncovered: tuple[Resource, ...]
    alternatives: Mapping[str, Quantity] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a.flags.writeable = False
    return a


@attrs.frozen(eq=False)
class Projection:
    """Monte Carlo paths of capacity and demand over a monthly axis.

    Build it with :func:`project`. Arrays are read-only; resource arrays are
    ``(n_paths, n_months, len(Resource))`` in canonical units.

    Attributes
    ----------
    capacity
        Peak capacity estate-wide. A compute resource's figure is what the devices deliver
        if all their time serves that precision: precisions of one device are alternatives,
        so FP16 and FP64 figures are never both available (see :meth:`device_time`).
    demand
        Demand of every resource, including what the scenario's vouchers induce.
    need, multiplier
        ``(B, n_paths, n_months)`` each block's primary need without the policy, and the
        factor the vouchers' lower price multiplies it by.
    cabinets
        ``(n_paths, n_months, J)`` cabinets in service in each pool.
    short
        Which Hall conditions fail (:func:`capacity.placement.shortfall`): demand short
        where it may run.
    """

    months: NDArray[np.datetime64]
    capacity: NDArray[np.float64] = attrs.field(repr=False)
    demand: NDArray[np.float64] = attrs.field(repr=False)
    delays: Mapping[str, NDArray[np.int64]] = attrs.field(repr=False)
    scenario: Scenario = attrs.field(repr=False)
    pools: Pools = attrs.field(repr=False)
    uses: Uses = attrs.field(repr=False)
    cabinets: NDArray[np.float64] = attrs.field(repr=False)
    need: NDArray[np.float64] = attrs.field(repr=False)
    multiplier: NDArray[np.float64] = attrs.field(repr=False)
    short: Shortfall = attrs.field(repr=False)
    seed: int = 0

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    @property
    def estate(self) -> Estate:
        """The estate projected."""
        return self.scenario.estate

    @property
    def plan(self) -> Plan:
        """The plan projected."""
        return self.scenario.plan

    @property
    def n_paths(self) -> int:
        """Number of Monte Carlo paths."""
        return int(self.capacity.shape[0])

    def _at(self, when: MonthLike) -> int:
        return month_index(self.months, when)

    # -- paths and quantiles -------------------------------------------------------------
    def capacity_paths(self, resource: Resource, site: str | None = None) -> Quantity:
        """Peak capacity paths of one resource, estate-wide or at one site.

        Shape ``(n_paths, n_months)``.
        """
        if site is None:
            return ureg.Quantity(self.capacity[:, :, resource.index], resource.unit)
        ids = [s.id for s in self.pools.sites]
        if site not in ids:
            raise FieldError("site", f"unknown site (known: {', '.join(ids)})", site)
        at = self.pools.site_of == ids.index(site)
        per = self.pools.per_cabinet[at, resource.index]
        return ureg.Quantity(self.cabinets[:, :, at] @ per, resource.unit)

    def demand_paths(self, resource: Resource) -> Quantity:
        """Demand paths of one resource, ``(n_paths, n_months)``."""
        return ureg.Quantity(self.demand[:, :, resource.index], resource.unit)

    def available_paths(self, resource: Resource) -> Quantity:
        """Capacity of one resource left once other demand on the same hardware is served.

        For compute, the device time that the other precisions' demand takes (at the most
        frugal pools it may use) is not available to this one: the FP16 the smart centre
        can still deliver once its FP64 demand runs. Other resources are their peak
        capacity. Shape ``(n_paths, n_months)``.
        """
        if resource.precision is None:
            return self.capacity_paths(resource)
        rate = self.pools.per_cabinet[:, resource.index]  # (J,) per cabinet's device time
        room = self.cabinets * self.pools.rows[:, DEVICE]  # (P, T, J)
        free = room.copy()
        demand = self.need * self.multiplier
        for cond in _widest(self.short.conditions, DEVICE):
            pools = list(cond.pools)
            taken = np.zeros(self.capacity.shape[:2])
            for b in cond.blocks:
                if self.uses.blocks[b].ratios[resource.index] > 0:
                    continue  # this resource's own demand
                per = least_use(self.uses, b, DEVICE, self.cabinets, self.pools.rows)
                with np.errstate(invalid="ignore"):
                    taken += np.where(demand[b] > 0, demand[b] * per, 0.0)
            # what the others take comes off the group's device time, pro rata by room
            share = np.divide(room[:, :, pools], room[:, :, pools].sum(axis=2, keepdims=True),
                              out=np.zeros_like(room[:, :, pools]),
                              where=room[:, :, pools].sum(axis=2, keepdims=True) > 0)
            free[:, :, pools] = np.maximum(room[:, :, pools] - share * taken[:, :, None], 0.0)
        return ureg.Quantity(free @ rate, resource.unit)

    def quantiles(self, resource: Resource, q: Sequence[float] = (0.05, 0.5, 0.95),
                  *, of: str = "capacity") -> Quantity:
        """Quantiles over paths, shape ``(len(q), n_months)``.

        `of` is ``"capacity"`` (peak), ``"available"`` (:meth:`available_paths`) or
        ``"demand"``.
        """
        if of == "available":
            data = self.available_paths(resource).m_as(resource.unit)
        elif of in ("capacity", "demand"):
            data = (self.capacity if of == "capacity" else self.demand)[:, :, resource.index]
        else:
            raise FieldError("of", "must be 'capacity', 'available' or 'demand'", of)
        return ureg.Quantity(np.quantile(data, q, axis=0), resource.unit)

    def capacity_at(self, when: MonthLike, resource: Resource) -> Quantity:
        """Median peak capacity over paths of one resource at a month."""
        return Q_(float(np.median(self.capacity[:, self._at(when), resource.index])),
                  resource.unit)

    def demand_at(self, when: MonthLike, resource: Resource) -> Quantity:
        """Median demand over paths of one resource at a month."""
        return Q_(float(np.median(self.demand[:, self._at(when), resource.index])),
                  resource.unit)

    # -- shortfall -----------------------------------------------------------------------
    @functools.cached_property
    def _short_by_resource(self) -> NDArray[np.bool_]:
        """``(n_paths, n_months, R)`` where demand of each resource is short where it may run."""
        out = np.zeros((*self.capacity.shape[:2], N_RESOURCES), dtype=bool)
        violated = self.short.violated
        for c, cond in enumerate(self.short.conditions):
            for r in _condition_resources(self.uses, cond):
                has = np.zeros(self.capacity.shape[:2], dtype=bool)
                for b in cond.blocks:
                    if self.uses.blocks[b].ratios[r.index] > 0:
                        has |= self.need[b] > 0
                out[:, :, r.index] |= violated[c] & has
        return _readonly(out)

    def shortfall_probability(self, resource: Resource | None = None) -> NDArray[np.float64]:
        """P(some demand of a resource cannot be served where it may run), per month.

        Shape ``(n_months,)`` for one resource, else ``(n_months, R)``. Demand is short when
        a Hall condition fails (:func:`capacity.placement.shortfall`): estate-wide
        capacity elsewhere does not count, and compute precisions sharing device time
        are short together.
        """
        p = self._p_short
        return p if resource is None else p[:, resource.index]

    @functools.cached_property
    def _p_short(self) -> NDArray[np.float64]:
        # once per projection: reports ask for it for every resource and probability
        p: NDArray[np.float64] = self._short_by_resource.mean(axis=0)
        return _readonly(p)

    @functools.cached_property
    def _demanded(self) -> tuple[Resource, ...]:
        return tuple(r for r in Resource if np.any(self.demand[:, :, r.index]))

    def shortfalls(self, probability: float = 0.05) -> list[dict[str, Any]]:
        """The groups of demand that run short, where, and from when.

        One entry per failing Hall condition reached with at least `probability`: the
        limit and the resources short, the pools the demand may use, the blocks confined
        there, the first month P(shortfall) ≥ `probability`, P(shortfall) in the last
        month, and the median deficit then (0 where it is not short), in the limit's unit.
        """
        out = []
        violated = self.short.violated
        for c, cond in enumerate(self.short.conditions):
            p = violated[c].mean(axis=0)
            hit = np.flatnonzero(p >= probability)
            if not hit.size:
                continue
            gap = np.maximum(self.short.need[c, :, -1] - self.short.room[c, :, -1], 0.0)
            out.append({
                "limit": LIMITS[cond.limit],
                "resources": [r.name.lower() for r in _condition_resources(self.uses, cond)],
                "pools": [str(self.pools.keys[j]) for j in cond.pools],
                "blocks": [self.uses.blocks[b].name for b in cond.blocks],
                "from": self.months[int(hit[0])],
                "p_end": float(p[-1]),
                "deficit_end": float(np.median(gap)),
                "unit": LIMIT_UNITS[cond.limit],
            })
        return out

    def device_time(self, when: MonthLike) -> list[dict[str, Any]]:
        """Accelerator device time each precision needs at a month, per group of pools.

        For each group of pools that compute demand is confined to: the median cabinets'
        worth of device time each block needs there, and the cabinets the group has.
        """
        t = self._at(when)
        out = []
        room = self.cabinets[:, t, :] * self.pools.rows[:, DEVICE]
        for cond in self.short.conditions:
            if cond.limit != DEVICE:
                continue
            needs = {}
            for b in cond.blocks:
                block = self.uses.blocks[b]
                per = least_use(self.uses, b, DEVICE, self.cabinets[:, t, :], self.pools.rows)
                d = self.need[b, :, t] * self.multiplier[b, :, t]
                needs[block.name] = float(np.median(np.where(d > 0, d * per, 0.0)))
            out.append({"pools": [str(self.pools.keys[j]) for j in cond.pools],
                        "needs": needs,
                        "has": float(np.median(room[:, list(cond.pools)].sum(axis=1)))})
        return out

    def exhaustion(self, probability: float = 0.5) -> list[Exhaustion]:
        """For each resource with demand, the first month P(shortfall) ≥ `probability`.

        Sorted earliest first; resources that never run short come last.
        """
        if not 0 < probability <= 1:
            raise FieldError("probability", "must be in (0, 1]", probability)
        p = self.shortfall_probability()
        out = []
        for r in self._demanded:
            hit = np.flatnonzero(p[:, r.index] >= probability)
            out.append(Exhaustion(r, probability, self.months[hit[0]] if hit.size else None))
        far = np.datetime64("9999-12", "M")
        return sorted(out, key=lambda e: (e.month if e.month is not None else far,
                                          e.resource.index))

    def exhaustion_date(self, resource: Resource | None = None,
                        probability: float = 0.5) -> np.datetime64 | None:
        """First month P(shortfall) ≥ `probability`, for a resource or the first to bind."""
        for e in self.exhaustion(probability):
            if resource is None or e.resource is resource:
                return e.month
        return None

    def binding_resource(self, probability: float = 0.5) -> Resource | None:
        """The resource that runs short first at `probability`, if any does."""
        first = self.exhaustion(probability)
        return first[0].resource if first and first[0].month is not None else None

    def cabinets_needed(self, profile: CabinetProfile | str, alpha: float = 0.05, *,
                        site: str | None = None) -> CabinetNeed:
        """Cabinets of `profile` to add now so that P(any shortfall) ≤ `alpha` every month.

        On each path and month, the cabinets that close every Hall condition together at
        one site (:func:`capacity.placement.cabinets_to_close`); then the (1 − α) quantile
        over paths and the most over months. Without `site`, every site where some short
        demand may run is tried and the one needing fewest cabinets is returned (the others
        in ``alternatives``).

        Raises
        ------
        FieldError
            If the profile or site is unknown, or `alpha` is outside [0, 1).
        """
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) \
                or not 0 <= alpha < 1:
            raise FieldError("alpha", "must be in [0, 1)", alpha)
        name = profile.name if isinstance(profile, CabinetProfile) else profile
        if name not in self.pools.profiles:
            raise FieldError("profile", "unknown cabinet profile (known: "
                             f"{', '.join(self.pools.profiles)})", name)
        need = self.need * self.multiplier
        violated = self.short.violated
        often = [c for c in range(len(self.short.conditions))
                 if (violated[c].mean(axis=0) > alpha).any()]
        short_blocks = {b for c in often for b in self.short.conditions[c].blocks}
        if site is not None:
            candidates = [site]
        else:
            prof = self.pools.profiles[name]
            candidates = [s.id for s in self.pools.sites if any(
                self.uses.blocks[b].hosts(s) and _offers(prof, self.uses.blocks[b])
                for b in short_blocks)]
        results = {sid: self._needed_at(need, name, sid, alpha) for sid in candidates}
        finite = {k: v for k, v in results.items() if math.isfinite(v[0])}
        best = min(finite, key=lambda k: (finite[k][0], candidates.index(k)), default=None)
        if best is None:
            lacking = {r for c in often
                       for r in _condition_resources(self.uses, self.short.conditions[c])}
            return CabinetNeed(name, None, float(alpha), Q_(0, "cabinet"), None, (),
                               tuple(sorted(lacking, key=lambda r: r.index)))
        n, binding, competing, uncovered = finite[best]
        others = {k: Q_(v[0], "cabinet") for k, v in finite.items() if k != best}
        return CabinetNeed(name, best, float(alpha), Q_(n, "cabinet"), binding, competing,
                           uncovered, others)

    def _needed_at(self, need: NDArray[np.float64], profile: str, site: str, alpha: float,
                   ) -> tuple[float, Resource | None, tuple[Resource, ...],
                              tuple[Resource, ...]]:
        key = PoolKey(site, profile)
        pools = Pools.of(self.estate, self.plan, extra=key)
        u = uses(self.uses.blocks, pools)
        cab = self.cabinets
        if pools.n > cab.shape[2]:
            cab = np.concatenate([cab, np.zeros((*cab.shape[:2], 1))], axis=2)
        closing = cabinets_to_close(need, cab, pools, u, pools.index(key))
        k = closing.cabinets
        q = np.quantile(k, 1 - alpha, axis=0, method="inverted_cdf")
        uncovered = {r for c, cond in enumerate(closing.conditions)
                     if (closing.stuck[c].mean(axis=0) > alpha).any()
                     for r in _condition_resources(u, cond)}
        worst = float(np.max(q))
        binding: Resource | None = None
        competing: tuple[Resource, ...] = ()
        if math.isfinite(worst) and worst > 0:
            # the condition that asks most on the paths that set the number
            t = int(np.argmax(q))
            at = k[:, t] >= worst
            c_best = closing.conditions[int(np.argmax(
                closing.by_condition[:, at, t].mean(axis=1)))]
            res = _condition_resources(u, c_best)
            binding = res[0] if res else None
            competing = tuple(res) if c_best.limit == DEVICE and len(res) > 1 else ()
        return worst, binding, competing, tuple(sorted(uncovered, key=lambda r: r.index))

    def _repr_html_(self) -> str:
        rows = "".join(f"<li>{e}</li>" for e in self.exhaustion(0.5))
        return (f"<b>Projection</b>: {self.n_paths:,} paths, {self.months[0]} to "
                f"{self.months[-1]}<ul>{rows}</ul>")


def _widest(conds: Sequence[Condition], limit: int) -> list[Condition]:
    """The conditions of a limit whose pools no other condition of it contains."""
    mine = [c for c in conds if c.limit == limit]
    return [c for c in mine if not any(set(c.pools) < set(o.pools) for o in mine)]


def _offers(profile: CabinetProfile, block: Any) -> bool:
    """Whether a profile provides every resource a block needs."""
    v = profile.vector.values
    return bool(np.all(v[block.ratios > 0] > 0))


def _condition_resources(u: Uses, cond: Condition) -> list[Resource]:
    """The resources whose demand a failed condition leaves short."""
    if cond.limit != DEVICE:
        return [DIRECT[cond.limit]]
    return [r for r in Resource if r.precision is not None
            and any(u.blocks[b].ratios[r.index] > 0 for b in cond.blocks)]


def _available_bytes() -> int | None:
    """Memory this process may still take (Linux's MemAvailable), if the system says."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def projection_bytes(n_paths: int, n_months: int, n_pools: int, n_blocks: int) -> int:
    """About the memory a projection of this size holds at its peak, in bytes.

    Float64 arrays of paths × months: cabinets per pool (and a temporary of that size),
    capacity and demand per resource, each block's need, response and served demand.
    On the embedded scenario at 10⁵ paths × 72 months this gives 2.4 GiB, the peak
    measured by ``benchmarks/bench_projection.py``.
    """
    per_path_month = 2 * n_pools + 2 * N_RESOURCES + 3 * n_blocks
    return 8 * n_paths * n_months * per_path_month


def _check_memory(n_paths: int, n_months: int, n_pools: int, n_blocks: int) -> None:
    # Refuse up front, naming what was asked and what it needs, rather than fail part way
    # with a MemoryError.
    need = projection_bytes(n_paths, n_months, n_pools, n_blocks)
    free = _available_bytes()
    if free is not None and need > free:
        raise FieldError("n_paths", f"would need about {need / 2**30:,.1f} GiB for "
                         f"{n_months} months, more than the {free / 2**30:,.1f} GiB this "
                         "machine has free; ask for fewer paths", n_paths)


def component_rng(seed: int, kind: str, name: str) -> np.random.Generator:
    """The random stream of one component (``kind`` "project" or "demand") of a projection.

    One stream per component, keyed by its name: adding a project leaves every other
    component's draws unchanged, so variants of a scenario compare path by path, and a
    caller can redraw one block's paths exactly as :func:`project` drew them.
    """
    key = zlib.crc32(f"{kind}:{name}".encode())
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))


def _check_finite(drawn: NDArray[np.float64], months: NDArray[np.datetime64], name: str,
                  ) -> None:
    """Refuse draws that left the float range: an infinite demand is no forecast."""
    bad = ~np.isfinite(drawn)
    if bad.any():
        path, t = (int(i) for i in np.argwhere(bad)[0])
        raise FieldError(f"demands[{name}].growth",
                         f"its draws leave the range of numbers ({drawn[path, t]} on path "
                         f"{path} in {months[t]}); its growth is too steep for the horizon")


def project(scenario: Scenario, *, start: MonthLike, end: MonthLike, n_paths: int = 10_000,
            seed: int = 0, induced: bool = True) -> Projection:
    """Draw Monte Carlo paths of a scenario's capacity and demand, month by month.

    Parameters
    ----------
    scenario
        Estate, plan and demand blocks.
    start, end
        First and last month of the axis (``"2025-01"``), both included.
    n_paths
        Number of paths.
    seed
        Seed of the random generator: the same scenario and seed give the same numbers.
    induced
        Include the demand the scenario's compute vouchers induce (their lower net price,
        at the market's elasticity); ``False`` projects demand without any response.

    Returns
    -------
    Projection
    """
    if isinstance(n_paths, bool) or not isinstance(n_paths, int) or n_paths < 1:
        raise FieldError("n_paths", "must be a positive whole number", n_paths)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise FieldError("seed", "must be a non-negative whole number", seed)
    months = month_range(month(start, "start"), month(end, "end"))
    pools = Pools.of(scenario.estate, scenario.plan)
    _check_memory(n_paths, months.size, len(pools.keys), len(scenario.demands))
    delays = {proj.name: proj.slippage.draw(n_paths, component_rng(seed, "project", proj.name))
              for proj in scenario.plan.projects}
    cabinets = pools.cabinets(months, delays, n_paths)
    blocks = scenario.demands
    need = np.empty((len(blocks), n_paths, months.size))
    for b, block in enumerate(blocks):
        with np.errstate(over="ignore", invalid="ignore"):
            need[b] = block.growth.sample(months, n_paths,
                                          component_rng(seed, "demand", block.name),
                                          block.resource.unit)
        _check_finite(need[b], months, block.name)
    multiplier = np.ones_like(need)
    vouchers = [x for x in scenario.policies if isinstance(x, ComputeVoucher)]
    if induced and vouchers:
        multiplier = respond(need, blocks, vouchers, months,
                             prices=scenario.market.priced(),
                             elasticity=scenario.market.elasticity.value,
                             weights=enterprise_weights(scenario.market.enterprises)).multiplier
    ratios = np.array([b.ratios for b in blocks]).reshape(len(blocks), N_RESOURCES)
    served = need * multiplier if vouchers and induced else need
    demand = np.einsum("bpt,br->ptr", served, ratios)
    u = uses(blocks, pools)
    short = shortfall(served, cabinets, pools, u)
    for a in (cabinets, need, multiplier, demand, short.need, short.room, *delays.values()):
        _readonly(a)
    return Projection(months, _readonly(pools.capacity(cabinets)), demand,
                      fields.FrozenMap(delays), scenario, pools, u, cabinets, need, multiplier,
                      short, seed)
