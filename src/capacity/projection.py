"""Monte Carlo projection of capacity against demand, month by month.

:func:`project` draws `n_paths` futures of a scenario on a monthly axis: each project's
completion slips by a random delay, each demand block follows a random growth path. The
frozen :class:`Projection` answers: capacity and demand quantiles, P(shortfall) per
month and resource, the exhaustion date at a chosen probability and the resource that
binds first, and the cabinets of a chosen profile still needed to keep P(shortfall) ≤ α.

A projection keeps what every answer is built from, float64 in canonical units: each
pool's cabinets and each block's need per path and month, the vouchers' response per
year, and which Hall conditions fail. Capacity and demand per resource are products of
those, formed when asked. Paths are computed in chunks of :data:`PATH_BLOCK`, serially
or on any :class:`concurrent.futures.Executor`; each component draws each block of paths
from its own stream, so any split gives the same numbers, and the first k paths of a run
are the k-path run. Quantities appear only in what the methods return.

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
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from capacity import fields
from capacity.errors import FieldError
from capacity.instruments import ComputeVoucher
from capacity.inventory import CabinetProfile, Estate
from capacity.memory import available_bytes
from capacity.months import MonthLike, month, month_index, month_range
from capacity.placement import (
    DEVICE,
    DIRECT,
    LIMIT_UNITS,
    LIMITS,
    Condition,
    Failed,
    PoolKey,
    Pools,
    Uses,
    cabinets_to_close,
    conditions,
    least_use,
    shortfall,
    uses,
    weighted,
)
from capacity.plan import Plan
from capacity.resources import N_RESOURCES, Resource
from capacity.response import enterprise_weights, respond, year_index
from capacity.scenario import Scenario
from capacity.units import MAX_MAGNITUDE, Q_, Quantity, ureg

__all__ = ["PATH_BLOCK", "CabinetNeed", "Exhaustion", "Projection", "component_rng", "project"]

#: Paths drawn from one random stream of a component: paths ``[i·PATH_BLOCK, (i+1)·PATH_BLOCK)``
#: come from block ``i``'s stream, so a chunk of paths is drawn without the ones before it.
PATH_BLOCK = 2_000


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

    Build it with :func:`project`. Arrays are read-only.

    Attributes
    ----------
    months
        The monthly axis.
    delays
        Each project's completion delay per path, ``(n_paths,)`` whole months.
    cabinets
        ``(n_paths, n_months, J)`` cabinets in service in each pool.
    need
        ``(B, n_paths, n_months)`` each block's primary need without the policy.
    yearly_multiplier
        ``(B, n_paths, Y)`` the factor the vouchers' lower price multiplies each block's
        need by in each calendar year of the axis (1 without vouchers).
    short
        Which Hall conditions fail (:func:`capacity.placement.shortfall`): demand short
        where it may run; :meth:`condition_paths` gives the amounts.
    """

    months: NDArray[np.datetime64]
    delays: Mapping[str, NDArray[np.int64]] = attrs.field(repr=False)
    scenario: Scenario = attrs.field(repr=False)
    pools: Pools = attrs.field(repr=False)
    uses: Uses = attrs.field(repr=False)
    cabinets: NDArray[np.float64] = attrs.field(repr=False)
    need: NDArray[np.float64] = attrs.field(repr=False)
    yearly_multiplier: NDArray[np.float64] = attrs.field(repr=False)
    short: Failed = attrs.field(repr=False)
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
        return int(self.cabinets.shape[0])

    def paths(self, which: slice) -> Projection:
        """The projection of some of its paths (views, no copies), e.g. a chunk of them.

        Raises
        ------
        FieldError
            Naming `which`, when it selects no path: an empty projection would answer
            every question (no exhaustion, nothing needed) as if nothing could go wrong.
        """
        fields.read_instance(which, slice, "which")
        if not range(self.n_paths)[which]:
            raise FieldError("which", f"selects no paths of the {self.n_paths:,}", which)
        return Projection(self.months, fields.FrozenMap({k: v[which] for k, v in
                                                         self.delays.items()}),
                          self.scenario, self.pools, self.uses, self.cabinets[which],
                          self.need[:, which], self.yearly_multiplier[:, which],
                          Failed(self.short.conditions, self.short.violated[:, which]),
                          self.seed)

    def chunks(self, size: int = PATH_BLOCK) -> Iterator[Projection]:
        """The projection in chunks of `size` paths, in order (see :meth:`paths`)."""
        fields.read_whole(size, "size", least=1)
        for sl in _spans(self.n_paths, size):
            yield self.paths(sl)

    @functools.cached_property
    def _chunk(self) -> int:
        # paths per chunk of the working arrays (blocks', pools' and conditions' paths
        # over the months): about 64 MB of them at a time
        per_path = 8 * self.months.size * (self.need.shape[0] + 3 * self.pools.n
                                           + 3 * len(self.short.conditions) + 1)
        return int(max(64, min(PATH_BLOCK, 2**26 // per_path)))

    @functools.cached_property
    def _year_of(self) -> NDArray[np.int64]:
        return year_index(self.months)[1]

    @property
    def multiplier(self) -> NDArray[np.float64]:
        """``(B, n_paths, n_months)`` the vouchers' factor on each block's need, per month."""
        return _readonly(np.asarray(self.yearly_multiplier[:, :, self._year_of]))

    @property
    def capacity(self) -> NDArray[np.float64]:
        """``(n_paths, n_months, R)`` peak capacity estate-wide, formed on each access.

        A compute resource's figure is what the devices deliver if all their time serves
        that precision: precisions of one device are alternatives, so FP16 and FP64
        figures are never both available (see :meth:`available_paths`). One resource's
        paths (:meth:`capacity_paths`) cost 1/R of this.
        """
        out = np.stack([self._capacity(r) for r in Resource], axis=-1)
        return _readonly(out)

    @property
    def demand(self) -> NDArray[np.float64]:
        """``(n_paths, n_months, R)`` demand of every resource, formed on each access.

        It includes what the scenario's vouchers induce; one resource's paths
        (:meth:`demand_paths`) cost 1/R of this.
        """
        return _readonly(np.stack([self._demand(r) for r in Resource], axis=-1))

    def served(self, b: int, paths: slice = slice(None)) -> NDArray[np.float64]:
        """``(n, n_months)`` block `b`'s primary need with the vouchers' response."""
        need = self.need[b, paths]
        m = self.yearly_multiplier[b, paths]
        return need if not self._responds else need * m[:, self._year_of]

    @functools.cached_property
    def _responds(self) -> bool:
        return bool(np.any(self.yearly_multiplier != 1.0))

    def _served_all(self, paths: slice) -> NDArray[np.float64]:
        if not self._responds:
            return self.need[:, paths]
        return np.asarray(self.need[:, paths]
                          * self.yearly_multiplier[:, paths][:, :, self._year_of])

    def _capacity(self, r: Resource) -> NDArray[np.float64]:
        return weighted(self.cabinets, self.pools.per_cabinet[:, r.index])

    def _demand(self, r: Resource) -> NDArray[np.float64]:
        out = np.zeros(self.cabinets.shape[:2])
        for b, block in enumerate(self.uses.blocks):
            if block.ratios[r.index]:
                out += self.served(b) * block.ratios[r.index]
        return out

    def _at(self, when: MonthLike) -> int:
        return month_index(self.months, when, "when")

    # -- paths and quantiles -------------------------------------------------------------
    def capacity_paths(self, resource: Resource, site: str | None = None) -> Quantity:
        """Peak capacity paths of one resource, estate-wide or at one site.

        Shape ``(n_paths, n_months)``.
        """
        resource = Resource.argument(resource)
        if site is None:
            return ureg.Quantity(self._capacity(resource), resource.unit)
        ids = [s.id for s in self.pools.sites]
        if site not in ids:
            raise FieldError("site", f"unknown site (known: {', '.join(ids)})", site)
        per = np.where(self.pools.site_of == ids.index(site),
                       self.pools.per_cabinet[:, resource.index], 0.0)
        return ureg.Quantity(weighted(self.cabinets, per), resource.unit)

    def demand_paths(self, resource: Resource) -> Quantity:
        """Demand paths of one resource, ``(n_paths, n_months)``."""
        resource = Resource.argument(resource)
        return ureg.Quantity(self._demand(resource), resource.unit)

    def available_paths(self, resource: Resource) -> Quantity:
        """Capacity of one resource left once other demand on the same hardware is served.

        For compute, the device time that the other precisions' demand takes (at the most
        frugal pools it may use) is not available to this one: the FP16 the smart centre
        can still deliver once its FP64 demand runs. Other resources are their peak
        capacity. Shape ``(n_paths, n_months)``.
        """
        resource = Resource.argument(resource)
        if resource.precision is None:
            return self.capacity_paths(resource)
        rate = self.pools.per_cabinet[:, resource.index]  # (J,) per cabinet's device time
        out = np.empty(self.cabinets.shape[:2])
        widest = _widest(self.short.conditions, DEVICE)
        for sl in _spans(self.n_paths, self._chunk):
            cab = self.cabinets[sl]
            room = cab * self.pools.rows[:, DEVICE]  # (n, T, J)
            free = room.copy()
            for cond in widest:
                pools = list(cond.pools)
                taken = np.zeros(cab.shape[:2])
                for b in cond.blocks:
                    if self.uses.blocks[b].ratios[resource.index] > 0:
                        continue  # this resource's own demand
                    per = least_use(self.uses, b, DEVICE, cab, self.pools.rows)
                    demand = self.served(b, sl)
                    with np.errstate(invalid="ignore"):
                        taken += np.where(demand > 0, demand * per, 0.0)
                # what the others take comes off the group's device time, pro rata by room
                group = room[:, :, pools]
                total = group.sum(axis=2, keepdims=True)
                share = np.divide(group, total, out=np.zeros_like(group), where=total > 0)
                free[:, :, pools] = np.maximum(group - share * taken[:, :, None], 0.0)
            out[sl] = weighted(free, rate)
        return ureg.Quantity(out, resource.unit)

    def quantiles(self, resource: Resource, q: float | Sequence[float] = 0.5,
                  *, of: str = "capacity") -> Quantity:
        """Quantile(s) over paths of one resource, per month.

        As on every result: a single `q` gives shape ``(n_months,)``, several give
        ``(len(q), n_months)``; the default is the median. `of` is ``"capacity"`` (peak),
        ``"available"`` (:meth:`available_paths`) or ``"demand"``.
        :meth:`to_xarray` with `q` is the labelled twin.
        """
        resource = Resource.argument(resource)
        q = fields.levels(q)
        if of == "available":
            data = self.available_paths(resource).m_as(resource.unit)
        elif of == "capacity":
            data = self._capacity(resource)
        elif of == "demand":
            data = self._demand(resource)
        else:
            raise FieldError("of", "must be 'capacity', 'available' or 'demand'", of)
        return ureg.Quantity(np.quantile(data, q, axis=0), resource.unit)

    def capacity_at(self, when: MonthLike, resource: Resource) -> Quantity:
        """Median peak capacity over paths of one resource at a month."""
        resource = Resource.argument(resource)
        t = self._at(when)
        at = weighted(self.cabinets[:, t], self.pools.per_cabinet[:, resource.index])
        return Q_(float(np.median(at)), resource.unit)

    def demand_at(self, when: MonthLike, resource: Resource) -> Quantity:
        """Median demand over paths of one resource at a month."""
        resource = Resource.argument(resource)
        t = self._at(when)
        return Q_(float(np.median(self._demand(resource)[:, t])), resource.unit)

    def condition_paths(self, c: int, months: slice = slice(None),
                        ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Need and room of Hall condition `c` (an index into ``short.conditions``).

        Returns two ``(n_paths, n_months)`` arrays in the condition's limit's unit
        (:data:`capacity.placement.LIMIT_UNITS`), for the months `months` selects.
        """
        cond = self.short.conditions[c]
        need = np.empty((self.n_paths, self.months[months].size))
        room = np.empty_like(need)
        for sl in _spans(self.n_paths, self._chunk):
            got = shortfall(self._served_all(sl)[:, :, months], self.cabinets[sl, months],
                            self.pools, self.uses, (cond,))
            need[sl], room[sl] = got.need[0], got.room[0]
        return need, room

    # -- shortfall -----------------------------------------------------------------------
    @functools.cached_property
    def _short_by_resource(self) -> NDArray[np.bool_]:
        """``(n_paths, n_months, R)`` where demand of each resource is short where it may run."""
        out = np.zeros((*self.cabinets.shape[:2], N_RESOURCES), dtype=bool)
        violated = self.short.violated
        for c, cond in enumerate(self.short.conditions):
            for r in _condition_resources(self.uses, cond):
                has = np.zeros(self.cabinets.shape[:2], dtype=bool)
                for b in cond.blocks:
                    if self.uses.blocks[b].ratios[r.index] > 0:
                        has |= self.need[b] > 0
                out[:, :, r.index] |= violated[c] & has
        return _readonly(out)

    def short_paths(self, resource: Resource) -> NDArray[np.bool_]:
        """``(n_paths, n_months)`` True where some demand of `resource` is short, per path.

        The paths :meth:`shortfall_probability` averages (read-only).
        """
        return self._short_by_resource[:, :, Resource.argument(resource).index]

    def first_short(self, resource: Resource) -> NDArray[np.int64]:
        """Per path, the index of the first month `resource` is short; ``n_months`` if never."""
        short = self.short_paths(resource)
        return np.where(short.any(axis=1), short.argmax(axis=1), self.months.size).astype(
            np.int64)

    def shortfall_probability(self, resource: Resource | None = None) -> NDArray[np.float64]:
        """P(some demand of a resource cannot be served where it may run), per month.

        Shape ``(n_months,)`` for one resource, else ``(n_months, R)``. Demand is short when
        a Hall condition fails (:func:`capacity.placement.shortfall`): estate-wide
        capacity elsewhere does not count, and compute precisions sharing device time
        are short together.
        """
        if resource is not None:
            resource = Resource.argument(resource)
        p = self._p_short
        return p if resource is None else p[:, resource.index]

    @functools.cached_property
    def _p_short(self) -> NDArray[np.float64]:
        # once per projection: reports ask for it for every resource and probability
        p: NDArray[np.float64] = self._short_by_resource.mean(axis=0)
        return _readonly(p)

    @functools.cached_property
    def _demanded(self) -> tuple[Resource, ...]:
        # demand of a resource is some block's need (the response never zeroes it)
        return tuple(r for r in Resource if any(
            block.ratios[r.index] > 0 and np.any(self.need[b])
            for b, block in enumerate(self.uses.blocks)))

    def shortfalls(self, probability: float = 0.05) -> list[dict[str, Any]]:
        """The groups of demand that run short, where, and from when.

        One entry per failing Hall condition reached with at least `probability`: the
        limit and the resources short, the pools the demand may use, the blocks confined
        there, the first month P(shortfall) ≥ `probability`, P(shortfall) in the last
        month, and the median deficit then (0 where it is not short), in the limit's unit.
        """
        probability = _probability(probability)
        out = []
        violated = self.short.violated
        for c, cond in enumerate(self.short.conditions):
            p = violated[c].mean(axis=0)
            hit = np.flatnonzero(p >= probability)
            if not hit.size:
                continue
            need, room = self.condition_paths(c, slice(-1, None))
            gap = np.maximum(need[:, 0] - room[:, 0], 0.0)
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
                d = self.served(b)[:, t]
                needs[block.name] = float(np.median(np.where(d > 0, d * per, 0.0)))
            out.append({"pools": [str(self.pools.keys[j]) for j in cond.pools],
                        "needs": needs,
                        "has": float(np.median(room[:, list(cond.pools)].sum(axis=1)))})
        return out

    def exhaustion(self, probability: float = 0.5) -> list[Exhaustion]:
        """For each resource with demand, the first month P(shortfall) ≥ `probability`.

        Sorted earliest first; resources that never run short come last.
        """
        probability = _probability(probability)
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
        resource = None if resource is None else Resource.argument(resource)
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
        if not isinstance(name, str) or name not in self.pools.profiles:
            known = list(self.pools.profiles)
            raise FieldError("profile", f"unknown cabinet profile (known: {', '.join(known)})"
                             f"{fields._hint(str(name), known)}", name)
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
        results = {sid: self._needed_at(name, sid, alpha) for sid in candidates}
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

    def _needed_at(self, profile: str, site: str, alpha: float,
                   ) -> tuple[float, Resource | None, tuple[Resource, ...],
                              tuple[Resource, ...]]:
        key = PoolKey(site, profile)
        pools = Pools.of(self.estate, self.plan, extra=key)
        u = uses(self.uses.blocks, pools)
        j = pools.index(key)
        grown = pools.n > self.cabinets.shape[2]

        def closing(sl: slice, months: slice) -> Any:
            cab = self.cabinets[sl, months]
            if grown:  # the new pool, empty, as one more plane
                planes = np.zeros((cab.shape[2] + 1, *cab.shape[:2]))
                planes[:-1] = np.moveaxis(cab, -1, 0)
                cab = np.moveaxis(planes, 0, -1)
            return cabinets_to_close(self._served_all(sl)[:, :, months], cab, pools, u, j)

        # path chunk by path chunk: per path and month the cabinets, per condition how
        # often it is stuck
        k = np.empty(self.cabinets.shape[:2])
        stuck: NDArray[np.float64] | None = None
        for sl in _spans(self.n_paths, self._chunk):
            got = closing(sl, slice(None))
            k[sl] = got.cabinets
            count = got.stuck.sum(axis=1, dtype=np.float64)
            stuck = count if stuck is None else stuck + count
            conds = got.conditions
        q = np.quantile(k, 1 - alpha, axis=0, method="inverted_cdf")
        assert stuck is not None
        uncovered = {r for c, cond in enumerate(conds)
                     if (stuck[c] / self.n_paths > alpha).any()
                     for r in _condition_resources(u, cond)}
        worst = float(np.max(q))
        binding: Resource | None = None
        competing: tuple[Resource, ...] = ()
        if math.isfinite(worst) and worst > 0:
            # the condition that asks most on the paths that set the number
            t = int(np.argmax(q))
            at = np.flatnonzero(k[:, t] >= worst)
            asks = np.zeros(len(conds))
            for sl in _spans(self.n_paths, self._chunk):
                mine = at[(at >= sl.start) & (at < sl.stop)] - sl.start
                if mine.size:
                    by = closing(sl, slice(t, t + 1)).by_condition[:, mine, 0]
                    asks += by.sum(axis=1)
            c_best = conds[int(np.argmax(asks))]
            res = _condition_resources(u, c_best)
            binding = res[0] if res else None
            competing = tuple(res) if c_best.limit == DEVICE and len(res) > 1 else ()
        return worst, binding, competing, tuple(sorted(uncovered, key=lambda r: r.index))

    def to_xarray(self, q: Sequence[float] | None = None) -> Any:
        """The projection as a labelled :class:`xarray.Dataset`.

        Dimensions ``path`` (or ``quantile`` when `q` is given: quantiles over paths),
        ``month`` (datetime), ``pool`` and ``resource``; variables ``capacity_<resource>``
        and ``demand_<resource>`` (path, month), ``cabinets`` (path, month, pool),
        ``p_shortfall`` (month, resource) and ``delay_<project>`` (path), each with its
        unit in ``attrs["units"]`` (``capacity.ureg.Unit`` reads it back). Saved with
        ``to_netcdf`` and read with ``xarray.open_dataset``, values and units come back.

        Raises
        ------
        FieldError
            Naming ``n_paths``, when every path would take more than 2 GiB: pass `q`, or
            take some paths with :meth:`paths`.
        """
        from capacity.labelled import projection_dataset

        return projection_dataset(self, q)

    def __repr__(self) -> str:
        return (f"Projection({self.scenario.name!r}: {self.n_paths:,} paths, "
                f"{self.months[0]}..{self.months[-1]} ({self.months.size} months), "
                f"{self.pools.n} pools, {self.need.shape[0]} demand blocks, "
                f"{len(self.short.conditions)} Hall conditions, seed={self.seed})")

    def _repr_html_(self) -> str:
        later = {e.resource: e.month for e in self.exhaustion(0.05)}
        rows = "".join(
            f"<tr><td>{e.resource.label}</td><td>{e.month or 'not by the end'}</td>"
            f"<td>{later[e.resource] or 'not by the end'}</td></tr>"
            for e in self.exhaustion(0.5))
        return (f"<b>Projection</b>: {self.n_paths:,} paths, {self.months[0]} to "
                f"{self.months[-1]}<table><tr><th>resource</th><th>short with P ≥ 0.5 from"
                f"</th><th>P ≥ 0.05 from</th></tr>{rows}</table>")


def _probability(value: Any) -> float:
    return fields.read_real(value, "probability", low=0, high=1, low_open=True)


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


def projection_bytes(n_paths: int, n_months: int, n_pools: int, n_blocks: int,
                     n_conditions: int = 0, chunk_paths: int = PATH_BLOCK) -> int:
    """About the memory a projection of this size holds at its peak, in bytes.

    What it keeps: float64 cabinets per pool and need per block, and a byte per Hall
    condition, per path and month; then one chunk's working arrays (its draws, the
    served need and each condition's need and room). On the embedded scenario at 10⁵
    paths × 72 months this is about 0.6 GB (``benchmarks/bench_projection.py`` measures
    the peak).
    """
    kept = n_paths * n_months * (8 * (n_pools + n_blocks) + n_conditions)
    chunk = min(n_paths, chunk_paths) * n_months * 8 * (
        3 * n_pools + 4 * n_blocks + 3 * n_conditions + 4)
    return kept + chunk


def _check_memory(n_paths: int, n_months: int, n_pools: int, n_blocks: int,
                  n_conditions: int, chunk_paths: int) -> None:
    # Refuse up front, naming what was asked and what it needs, rather than fail part way
    # with a MemoryError.
    need = projection_bytes(n_paths, n_months, n_pools, n_blocks, n_conditions, chunk_paths)
    free = available_bytes()
    if free is not None and need > free:
        raise FieldError("n_paths", f"would need about {need / 2**30:,.1f} GiB for "
                         f"{n_months} months, more than the {free / 2**30:,.1f} GiB this "
                         "machine has free; ask for fewer paths", n_paths)


def component_rng(seed: int, kind: str, name: str, block: int = 0) -> np.random.Generator:
    """The random stream of one component (``kind`` "project" or "demand") of a projection.

    One stream per component and block of :data:`PATH_BLOCK` paths, keyed by its name:
    adding a project leaves every other component's draws unchanged, so variants of a
    scenario compare path by path, and a caller can redraw one block's paths exactly as
    :func:`project` drew them. Block 0 is the component's own stream, block i > 0 its
    i-th child.
    """
    key = zlib.crc32(f"{kind}:{name}".encode())
    spawn = (key,) if block == 0 else (key, block)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=spawn))


def _drawn(seed: int, kind: str, name: str, start: int, stop: int,
           draw: Callable[[int, np.random.Generator], NDArray[Any]]) -> NDArray[Any]:
    """Paths ``[start, stop)`` of one component: each block's stream, path by path."""
    parts = []
    for block in range(start // PATH_BLOCK, (stop - 1) // PATH_BLOCK + 1):
        first = block * PATH_BLOCK
        got = draw(min(stop, first + PATH_BLOCK) - first, component_rng(seed, kind, name, block))
        parts.append(got[max(start - first, 0):])
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _spans(n_paths: int, size: int = PATH_BLOCK) -> Iterator[slice]:
    for a in range(0, n_paths, size):
        yield slice(a, min(a + size, n_paths))


@attrs.frozen
class _Part:
    """One chunk of paths of a projection, as :func:`_project_paths` returns it."""

    delays: dict[str, NDArray[np.int64]]
    cabinets: NDArray[np.float64]
    need: NDArray[np.float64]
    yearly: NDArray[np.float64]
    violated: NDArray[np.bool_]


def _project_paths(scenario: Scenario, months: NDArray[np.datetime64], span: tuple[int, int],
                   seed: int, induced: bool) -> _Part:
    """Paths ``span = (start, stop)`` of a projection; runs in a worker when one is given."""
    start, stop = span
    n = stop - start
    pools = Pools.of(scenario.estate, scenario.plan)
    delays = {proj.name: _drawn(seed, "project", proj.name, start, stop, proj.slippage.draw)
              for proj in scenario.plan.projects}
    cabinets = pools.cabinets(months, delays, n)
    blocks = scenario.demands
    need = np.empty((len(blocks), n, months.size))
    for b, block in enumerate(blocks):
        def draw(k: int, rng: np.random.Generator, g: Any = block.growth,
                 unit: Any = block.resource.unit) -> NDArray[np.float64]:
            with np.errstate(over="ignore", invalid="ignore"):
                return g.sample(months, k, rng, unit)  # type: ignore[no-any-return]
        need[b] = _drawn(seed, "demand", block.name, start, stop, draw)
        _check_finite(need[b], months, block.name, start)
    vouchers = [x for x in scenario.policies if isinstance(x, ComputeVoucher)]
    years, year_of = year_index(months)
    yearly = np.ones((len(blocks), n, years.size))
    served = need
    if induced and vouchers:
        yearly = respond(need, blocks, vouchers, months, prices=scenario.market.priced(),
                         elasticity=scenario.market.elasticity.value,
                         weights=enterprise_weights(scenario.market.enterprises)).yearly
        served = need * yearly[:, :, year_of]
    violated = shortfall(served, cabinets, pools, uses(blocks, pools)).violated
    return _Part(delays, cabinets, need, yearly, violated)


def _check_finite(drawn: NDArray[np.float64], months: NDArray[np.datetime64], name: str,
                  first: int = 0) -> None:
    """Refuse draws that left the float range: an infinite demand is no forecast."""
    bad = ~np.isfinite(drawn)
    if bad.any():
        path, t = (int(i) for i in np.argwhere(bad)[0])
        raise FieldError(f"demands[{name}].growth",
                         f"its draws leave the range of numbers ({drawn[path, t]} on path "
                         f"{first + path} in {months[t]}); its growth is too steep for the "
                         "horizon")


def _check_central(blocks: Sequence[Any], months: NDArray[np.datetime64]) -> None:
    """Refuse a block whose central path passes ``MAX_MAGNITUDE`` in its unit.

    1e15 vCPU, TB or TFLOPS is no city's demand: a growth rate or start off by orders of
    magnitude, which would otherwise fail only in the allocation, under its internal
    names. The central path is the forecast itself, the same for any number of paths or
    seed; a draw in the tail past the limit is the model's spread, and is kept.
    """
    for block in blocks:
        unit = block.resource.unit
        with np.errstate(over="ignore", invalid="ignore"):
            central = block.central(months)[:, block.resource.index]  # its primary
        huge = ~(np.abs(central) <= MAX_MAGNITUDE)  # an overflow to inf or nan too
        if huge.any():
            t = int(np.argmax(huge))
            raise FieldError(f"demands[{block.name}].growth",
                             f"its central path reaches {central[t]:.3e} {unit:~P} in "
                             f"{months[t]}, past the limit of every figure "
                             f"({MAX_MAGNITUDE:g}): no city's demand (check its start, rate "
                             "and unit)")


def project(scenario: Scenario, *, start: MonthLike, end: MonthLike, n_paths: int = 10_000,
            seed: int = 0, induced: bool = True, executor: Executor | None = None,
            chunk_paths: int = PATH_BLOCK) -> Projection:
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
        Seed of the random generator: the same scenario and seed give the same numbers,
        whatever the chunks and wherever they run.
    induced
        Include the demand the scenario's compute vouchers induce (their lower net price,
        at the market's elasticity); ``False`` projects demand without any response.
    executor
        Where the chunks run: any :class:`concurrent.futures.Executor` (a
        ``ProcessPoolExecutor``, or ``dask.distributed.Client(...).get_executor()`` for a
        cluster); serially in this process when omitted.
    chunk_paths
        Paths per chunk; a multiple of :data:`PATH_BLOCK` draws nothing twice.

    Returns
    -------
    Projection

    Raises
    ------
    FieldError
        For a bad argument, a growth whose draws overflow or whose central path passes
        ``MAX_MAGNITUDE`` (1e15) in its unit, or a request larger than this
        machine's free memory (naming ``n_paths`` and what it would need).
    """
    fields.read_instance(scenario, Scenario, "scenario")
    fields.read_whole(n_paths, "n_paths", least=1)
    fields.read_whole(seed, "seed")
    fields.read_whole(chunk_paths, "chunk_paths", least=1)
    if not isinstance(induced, (bool, np.bool_)):
        raise FieldError("induced", "must be True or False", induced)
    if executor is not None:
        fields.read_instance(executor, Executor, "executor")
    months = month_range(month(start, "start"), month(end, "end"))
    pools = Pools.of(scenario.estate, scenario.plan)
    blocks = scenario.demands
    _check_central(blocks, months)
    u = uses(blocks, pools)
    conds = conditions(u)
    _check_memory(n_paths, months.size, pools.n, len(blocks), len(conds), chunk_paths)
    n_years = year_index(months)[0].size
    delays = {proj.name: np.empty(n_paths, dtype=np.int64) for proj in scenario.plan.projects}
    cabinets = np.moveaxis(np.empty((pools.n, n_paths, months.size)), 0, -1)  # pool-major
    need = np.empty((len(blocks), n_paths, months.size))
    yearly = np.empty((len(blocks), n_paths, n_years))
    violated = np.empty((len(conds), n_paths, months.size), dtype=bool)
    spans = [(sl.start, sl.stop) for sl in _spans(n_paths, chunk_paths)]
    job = functools.partial(_project_paths, scenario, months, seed=seed, induced=induced)
    parts = executor.map(job, spans) if executor is not None else map(job, spans)
    for (a, b), part in zip(spans, parts, strict=True):
        for name, d in part.delays.items():
            delays[name][a:b] = d
        cabinets[a:b] = part.cabinets
        need[:, a:b] = part.need
        yearly[:, a:b] = part.yearly
        violated[:, a:b] = part.violated
    for x in (cabinets, need, yearly, violated, *delays.values()):
        _readonly(x)
    return Projection(months, fields.FrozenMap(delays), scenario, pools, u, cabinets, need,
                      yearly, Failed(conds, violated), seed)
