"""Where demand may run and what it consumes: the one rule projection, allocation and policy use.

A **pool** is the cabinets of one profile at one site. Its cabinets in service follow the
plan (each project's ramp, delayed by its slippage on each path) and the site's status:
a site that is not operating contributes its own cabinets only from its ``commissioned``
month, and without one only what projects build there.

A demand block may use a pool when the site carries one of the block's eligibility tags
and the pool's profile provides every resource the block needs. Per unit of the block's
primary resource it then consumes, in each **limit** of the pool:

* its need of each non-compute resource (vCPU, storage, floor, IT power, cabinets), the
  same wherever it runs;
* **device time**: a profile's accelerators offer a peak rate per precision, and those
  rates are alternatives of one device time, so serving ``x`` of precision ``p`` takes
  ``x / rate_p`` cabinets' worth of it and leaves that much less for every other
  precision. Precisions never add as quantities; this is about what hardware delivers.
  Every compute precision a profile lists is a rate of the same devices (a profile whose
  cabinets mix CPUs and accelerators is two profiles).

A block **occupies** the cabinets its most demanding limit takes (``occupancy``); that is
what draws power beyond the idle draw of the cabinets in service.

Shortfall is decided by Hall's condition (Gale's theorem for splittable demand): demand
can be served iff, for every union of blocks' eligible pool sets, the demand confined to
it fits what it holds (:func:`shortfall`). :func:`place` is the placement rule (least cost
first, demand with fewest options first) that policy costing applies on every path, and
:class:`CostModel` prices energy, capex and subsidies for allocation and policy alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from capacity import fields
from capacity.demand import DemandBlock
from capacity.errors import CapacityError, FieldError
from capacity.instruments import (
    ConstructionSubsidy,
    ElectricitySubsidy,
    Instrument,
    Market,
)
from capacity.inventory import CabinetProfile, Estate, Site
from capacity.plan import Plan
from capacity.resources import N_RESOURCES, Resource

__all__ = [
    "DEVICE",
    "DIRECT",
    "HOURS_PER_YEAR",
    "LIMITS",
    "LIMIT_UNITS",
    "Closing",
    "Condition",
    "CostModel",
    "Failed",
    "Placement",
    "PoolKey",
    "Pools",
    "Shortfall",
    "Uses",
    "cabinets_to_close",
    "conditions",
    "electricity_subsidy_applies",
    "first_in_service",
    "least_use",
    "place",
    "shortfall",
    "subsidy_window",
    "uses",
    "weighted",
]

_Floats = NDArray[np.float64]

#: Hours in the registry's year (365.25 days): a rate in yuan/year is yuan/hour × this.
#: Money over a calendar month is always the rate × that month's own hours.
HOURS_PER_YEAR = 8766.0

#: Non-compute resources a demand may consume directly, in limit order.
DIRECT = (Resource.CABINETS, Resource.IT_POWER, Resource.FLOOR_AREA, Resource.VCPU,
           Resource.STORAGE)
_COMPUTE = tuple(r for r in Resource if r.precision is not None)
#: Index of the device-time limit.
DEVICE = len(DIRECT)
#: Names of the limits of a pool: the direct resources, then accelerator device time.
LIMITS = (*(r.name.lower() for r in DIRECT), "device_time")
#: Unit of each limit (device time counts cabinets' worth of accelerator time).
LIMIT_UNITS = (*(str(r.unit) for r in DIRECT), "cabinet")
_TOL = 1e-9
#: Most Hall conditions checked before a request is refused as too large.
MAX_CONDITIONS = 4096


@attrs.frozen
class PoolKey:
    """A pool: the cabinets of one profile at one site."""

    site: str
    profile: str

    def __str__(self) -> str:
        return f"{self.site}/{self.profile}"


def _rows(profile: CabinetProfile) -> _Floats:
    """What one cabinet offers in each limit."""
    v = profile.vector.values
    out = np.array([*(v[r.index] for r in DIRECT), 0.0])
    out[DEVICE] = 1.0 if any(v[r.index] > 0 for r in _COMPUTE) else 0.0
    return out


@attrs.frozen(eq=False)
class Pools:
    """The pools of a scenario's built estate and how their cabinets come into service.

    Build it with :meth:`of`. Arrays are read-only.

    Attributes
    ----------
    keys
        ``(J,)`` site and profile of each pool.
    sites
        Sites of the built estate (the estate's, then the plan's new ones).
    site_of
        ``(J,)`` index into `sites` of each pool's site.
    per_cabinet
        ``(J, R)`` what one cabinet of each pool provides, canonical units.
    rows
        ``(J, L)`` what one cabinet offers in each limit (:data:`LIMITS`).
    own
        ``(J,)`` the site's own cabinets in each pool, and `own_from` when they serve.
    additions
        ``(K, J)`` cabinets each plan project adds to each pool when complete.
    """

    keys: tuple[PoolKey, ...]
    sites: tuple[Site, ...]
    profiles: Mapping[str, CabinetProfile]
    site_of: NDArray[np.intp]
    per_cabinet: _Floats
    rows: _Floats
    own: _Floats
    own_from: tuple[np.datetime64 | None, ...]
    plan: Plan
    additions: _Floats

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    @classmethod
    def of(cls, estate: Estate, plan: Plan, extra: PoolKey | None = None) -> Pools:
        """The pools of `estate` with `plan` built, and an `extra` (possibly empty) pool."""
        built = plan.built_estate(estate)
        keys: list[PoolKey] = []
        for site in built.sites:
            keys += [PoolKey(site.id, prof) for prof in site.cabinets]
        for proj in plan.projects:
            keys += [PoolKey(proj.site, prof) for prof in proj.cabinets
                     if PoolKey(proj.site, prof) not in keys]
        if extra is not None and extra not in keys:
            if extra.site not in built.site_ids:
                raise FieldError("site", f"unknown site (known: {', '.join(built.site_ids)})",
                                 extra.site)
            if extra.profile not in built.profiles:
                raise FieldError("profile", "unknown cabinet profile (known: "
                                 f"{', '.join(built.profiles)})", extra.profile)
            keys.append(extra)
        ids = built.site_ids
        site_of = np.array([ids.index(k.site) for k in keys], dtype=np.intp)
        per_cab = np.array([built.profiles[k.profile].vector.values for k in keys]).reshape(
            len(keys), N_RESOURCES)
        rows = np.array([_rows(built.profiles[k.profile]) for k in keys]).reshape(
            len(keys), len(LIMITS))
        own = np.array([float(built.sites[site_of[j]].cabinets.get(k.profile, 0))
                        for j, k in enumerate(keys)])
        own_from = tuple(built.sites[site_of[j]].serves_from for j in range(len(keys)))
        add = np.zeros((len(plan.projects), len(keys)))
        for k, proj in enumerate(plan.projects):
            for prof, n in proj.cabinets.items():
                add[k, keys.index(PoolKey(proj.site, prof))] += n
        for a in (site_of, per_cab, rows, own, add):
            a.flags.writeable = False
        return cls(tuple(keys), built.sites, built.profiles, site_of, per_cab, rows, own,
                   own_from, plan, add)

    @property
    def n(self) -> int:
        """Number of pools."""
        return len(self.keys)

    def index(self, key: PoolKey) -> int:
        """Position of a pool."""
        return self.keys.index(key)

    def cabinets(self, months: NDArray[np.datetime64],
                 delays: Mapping[str, NDArray[np.int64]] | None = None,
                 n_paths: int = 1) -> _Floats:
        """Cabinets in service in each pool, ``(n_paths, n_months, J)``.

        `delays` holds each project's completion delay per path (``(n_paths,)`` months);
        without them every project keeps its planned dates.
        """
        # pool by pool: each pool's paths are one contiguous plane of the result
        planes = np.zeros((self.n, n_paths, months.size))
        for j in range(self.n):
            since = self.own_from[j]
            if self.own[j] and since is not None:
                planes[j] = self.own[j] * (months >= since)
        for k, proj in enumerate(self.plan.projects):
            cols = np.flatnonzero(self.additions[k])
            if not cols.size:
                continue
            share = proj.online(months) if delays is None else proj.online(
                months, delays[proj.name])
            for col in cols:
                planes[col] += share * self.additions[k, col]
        return np.moveaxis(planes, 0, -1)

    def capacity(self, cabinets: _Floats) -> _Floats:
        """Peak capacity of every resource, estate-wide, ``(..., R)``, from `cabinets`."""
        return np.asarray(cabinets @ self.per_cabinet, dtype=np.float64)

    def by_site(self, per_pool: _Floats) -> _Floats:
        """Sum an array over each site's pools: ``(..., J)`` → ``(..., S)``."""
        onehot = np.eye(len(self.sites))[self.site_of]  # (J, S)
        return np.asarray(per_pool @ onehot, dtype=np.float64)


@attrs.frozen(eq=False)
class Uses:
    """What each demand block consumes in each pool, per unit of its primary resource.

    Attributes
    ----------
    blocks
        The demand blocks, in order.
    eligible
        ``(B, J)`` whether the block may use the pool (site tags and resources offered).
    use
        ``(B, J, L)`` consumption in each limit per unit of the block's primary; 0 where
        not eligible.
    occupancy
        ``(B, J)`` cabinets occupied per unit: the most demanding limit's share of a
        cabinet.
    needs
        ``(B, L)`` whether the block consumes each limit.
    """

    blocks: tuple[DemandBlock, ...]
    eligible: NDArray[np.bool_]
    use: _Floats
    occupancy: _Floats
    needs: NDArray[np.bool_]

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    def hosts(self, b: int) -> NDArray[np.intp]:
        """Pools block `b` may use."""
        return np.flatnonzero(self.eligible[b])


def uses(blocks: Sequence[DemandBlock], pools: Pools) -> Uses:
    """What `blocks` consume in each of `pools` (see the module docstring)."""
    n_b, n_j, n_l = len(blocks), pools.n, len(LIMITS)
    use = np.zeros((n_b, n_j, n_l))
    eligible = np.zeros((n_b, n_j), dtype=bool)
    needs = np.zeros((n_b, n_l), dtype=bool)
    for b, block in enumerate(blocks):
        ratios = block.ratios
        for i, r in enumerate(DIRECT):
            needs[b, i] = ratios[r.index] > 0
        compute = [r for r in _COMPUTE if ratios[r.index] > 0]
        needs[b, DEVICE] = bool(compute)
        for j in range(pools.n):
            per = pools.per_cabinet[j]
            if not block.hosts(pools.sites[pools.site_of[j]]):
                continue
            if any(per[r.index] <= 0 for r in DIRECT if ratios[r.index] > 0):
                continue
            if any(per[r.index] <= 0 for r in compute):
                continue
            eligible[b, j] = True
            use[b, j, :DEVICE] = [ratios[r.index] for r in DIRECT]
            use[b, j, DEVICE] = sum(ratios[r.index] / per[r.index] for r in compute)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(pools.rows[None] > 0, use / pools.rows[None], 0.0)
    occupancy = share.max(axis=2, initial=0.0)
    for a in (eligible, use, occupancy, needs):
        a.flags.writeable = False
    return Uses(tuple(blocks), eligible, use, occupancy, needs)


# -- shortfall: Hall's condition over unions of eligible pool sets ---------------------------
@attrs.frozen
class Condition:
    """One Hall condition: demand confined to `pools` must fit their room in one limit.

    Attributes
    ----------
    limit
        Index into :data:`LIMITS`.
    pools
        The union of eligible pool sets, pool indices.
    blocks
        Blocks whose every eligible pool is in `pools` (and that consume `limit`).
    """

    limit: int
    pools: tuple[int, ...]
    blocks: tuple[int, ...]


def conditions(u: Uses) -> tuple[Condition, ...]:
    """Every connected union of eligible pool sets, per limit, with the blocks it confines.

    A union that splits into parts no eligible set spans is implied by its parts, so only
    connected unions are listed.

    Raises
    ------
    CapacityError
        When the unions number more than :data:`MAX_CONDITIONS`.
    """
    out: list[Condition] = []
    for limit in range(len(LIMITS)):
        # a block no pool may host is a condition over no pools: any need of it is short
        users = [b for b in range(len(u.blocks)) if u.needs[b, limit]]
        patterns = sorted({_mask(u.eligible[b]) for b in users})
        masks = {b: _mask(u.eligible[b]) for b in users}
        seen = set(patterns)
        frontier = list(patterns)
        while frontier:
            grown = []
            for s in frontier:
                for q in patterns:
                    if s & q and (s | q) not in seen:
                        seen.add(s | q)
                        grown.append(s | q)
            if len(seen) > MAX_CONDITIONS:
                raise CapacityError(
                    f"too many distinct groups of eligible pools ({len(seen)}+ per limit) to "
                    f"check shortfall; at most {MAX_CONDITIONS} are checked: merge demand "
                    "blocks with similar eligibility")
            frontier = grown
        for s in sorted(seen):
            pools = tuple(j for j in range(u.eligible.shape[1]) if s >> j & 1)
            # a block no pool may host is confined to every union, but its own condition
            # over no pools already fails; counting it again would fail every union it joins
            confined = tuple(b for b in users if masks[b] & ~s == 0 and (masks[b] or not s))
            if confined:
                out.append(Condition(limit, pools, confined))
    return tuple(out)


def _mask(row: NDArray[np.bool_]) -> int:
    return sum(1 << int(j) for j in np.flatnonzero(row))


def weighted(a: _Floats, weights: _Floats) -> _Floats:
    """``a @ weights`` over the last axis, summed pool by pool in a fixed order.

    A BLAS product may add in an order that depends on the array's size and alignment;
    this one gives every path the same bits however the paths are split into chunks.
    """
    n_j = a.shape[-1]
    planes = np.moveaxis(a, -1, 0)
    used = np.flatnonzero(weights)
    if planes.flags.c_contiguous:  # pool-major, as projections keep cabinets
        total = np.zeros(a.shape[:-1])
        for j in used:
            total += planes[j] * weights[j]
        return total
    out = np.zeros(math.prod(a.shape[:-1]))
    if not n_j:
        return out.reshape(a.shape[:-1])
    flat = a.reshape(-1, n_j)
    step = max(1024, 2**18 // max(n_j, 1))  # rows whose pools stay in cache while summed
    for i in range(0, flat.shape[0], step):
        rows, acc = flat[i:i + step], out[i:i + step]
        for j in used:
            acc += rows[:, j] * weights[j]
    return out.reshape(a.shape[:-1])


def least_use(u: Uses, b: int, limit: int, cabinets: _Floats, rows: _Floats,
              cache: dict[bytes, NDArray[np.bool_]] | None = None) -> _Floats:
    """Block `b`'s use of `limit` per unit at its most frugal eligible pool with room.

    `cabinets` is ``(..., J)`` cabinets in service and `rows` ``(J, L)`` what a cabinet
    offers in each limit; the result is ``(...)``, ``inf`` where no eligible pool has room.
    `cache` keeps, across calls on the same `cabinets`, where each set of pools has room.
    """
    hosts = np.flatnonzero(u.eligible[b] & (rows[:, limit] > 0))
    if not hosts.size:
        return np.full(cabinets.shape[:-1], np.inf)
    per = u.use[b, hosts, limit]
    if np.all(per == per[0]):
        # the same at every pool (always so for direct resources): only whether any has room
        key = hosts.tobytes()
        has = None if cache is None else cache.get(key)
        if has is None:
            has = weighted(cabinets, np.isin(np.arange(rows.shape[0]), hosts).astype(
                np.float64)) > 0
            if cache is not None:
                cache[key] = has
        return np.where(has, per[0], np.inf)
    out = np.full(cabinets.shape[:-1], np.inf)
    for j, each in zip(hosts, per, strict=True):
        out = np.where(cabinets[..., j] > 0, np.minimum(out, each), out)
    return out


@attrs.frozen(eq=False)
class Shortfall:
    """Which Hall conditions fail on each path and month.

    Attributes
    ----------
    conditions
        The conditions checked.
    need, room
        ``(C, P, T)`` demand confined to each condition's pools, in its limit's unit, and
        what those pools hold.
    """

    conditions: tuple[Condition, ...]
    need: _Floats
    room: _Floats

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    @property
    def violated(self) -> NDArray[np.bool_]:
        """``(C, P, T)`` where a condition fails."""
        return np.asarray(self.need > self.room * (1 + 1e-12) + _TOL)

    def any(self) -> NDArray[np.bool_]:
        """``(P, T)`` where some demand cannot be served."""
        return self.failed().any()

    def failed(self) -> Failed:
        """Which conditions fail, without the amounts."""
        return Failed(self.conditions, self.violated)


@attrs.frozen(eq=False)
class Failed:
    """Which Hall conditions fail on each path and month.

    A :class:`Shortfall` without its amounts, a sixteenth of its size: what a projection
    keeps.

    Attributes
    ----------
    conditions
        The conditions checked.
    violated
        ``(C, P, T)`` where a condition fails.
    """

    conditions: tuple[Condition, ...]
    violated: NDArray[np.bool_]

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    def any(self) -> NDArray[np.bool_]:
        """``(P, T)`` where some demand cannot be served."""
        v = self.violated
        if not v.size:
            return np.zeros(v.shape[1:], dtype=bool)
        return np.asarray(v.any(axis=0), dtype=bool)


def shortfall(need: _Floats, cabinets: _Floats, pools: Pools, u: Uses,
              conds: Sequence[Condition] | None = None) -> Shortfall:
    """Check every Hall condition on every path and month.

    Parameters
    ----------
    need
        ``(B, P, T)`` each block's primary need, canonical units.
    cabinets
        ``(P, T, J)`` cabinets in service per pool.
    pools, u
        The pools and what the blocks consume there.
    conds
        The conditions (:func:`conditions` of `u` when not given).

    Returns
    -------
    Shortfall
        For splittable demand this is exact (necessary and sufficient) whenever each block
        consumes one limit, or in general when every resource's conditions hold apart:
        Gale's theorem per limit. With several limits per block (vCPU and storage,
        or FP16 and FP64 sharing device time) it is a necessary condition: a failed
        condition is a real shortfall, while demands whose limits conflict in a mix no
        condition sees can still fail to pack. Device time is counted at the most frugal
        eligible pool that has room, which is exact when the pools of a union share one
        accelerator (as in the embedded scenario).
    """
    conds = conditions(u) if conds is None else tuple(conds)
    n_p, n_t = cabinets.shape[:2]
    out_need = np.zeros((len(conds), n_p, n_t))
    out_room = np.zeros((len(conds), n_p, n_t))
    # Blocks that consume alike (same pools, same use there) are counted as one: a
    # condition holds all of such a group or none of it. Each group's need in each limit
    # is the same whichever condition counts it.
    group_of, first = _groups(u)
    need_g: dict[int, _Floats] = {}
    confined: dict[tuple[int, int], _Floats] = {}
    rooms: dict[bytes, NDArray[np.bool_]] = {}
    for c, cond in enumerate(conds):
        weights = np.zeros(pools.n)
        weights[list(cond.pools)] = pools.rows[list(cond.pools), cond.limit]
        out_room[c] = weighted(cabinets, weights)
        for g in dict.fromkeys(group_of[list(cond.blocks)].tolist()):
            if (g, cond.limit) not in confined:
                if g not in need_g:
                    need_g[g] = sum((need[b] for b in np.flatnonzero(group_of == g).tolist()),
                                    np.zeros((n_p, n_t)))
                per = least_use(u, int(first[g]), cond.limit, cabinets, pools.rows, rooms)
                with np.errstate(invalid="ignore"):
                    confined[g, cond.limit] = np.where(need_g[g] > 0, need_g[g] * per, 0.0)
            out_need[c] += confined[g, cond.limit]
    return Shortfall(conds, out_need, out_room)


@attrs.frozen(eq=False)
class Closing:
    """Cabinets one pool needs so that the demand that may use it is served.

    Attributes
    ----------
    conditions
        The Hall conditions of the pools with that pool included.
    by_condition
        ``(C, P, T)`` whole cabinets each condition alone asks of the pool (0 where it holds
        or does not involve the pool, ``inf`` where the profile lacks its limit).
    stuck
        ``(C, P, T)`` where a condition fails and the pool cannot close it (it is over
        other pools, or the profile lacks its limit).
    cabinets
        ``(P, T)`` cabinets that close every condition the pool takes part in together.
    """

    conditions: tuple[Condition, ...]
    by_condition: _Floats
    stuck: NDArray[np.bool_]
    cabinets: _Floats

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)


def cabinets_to_close(need: _Floats, cabinets: _Floats, pools: Pools, u: Uses,
                      extra: int) -> Closing:
    """Cabinets to add to pool `extra` so the demand that may use it is served, per path and month.

    Conditions over pools that do not include `extra` are left to other sites: their
    shortfalls are reported as stuck, not counted. Once the pool has any cabinet, a
    condition's need no longer depends on how many, so each condition asks
    ``ceil((need − room) / offered per cabinet)``.

    Parameters
    ----------
    need, cabinets, pools, u
        As for :func:`shortfall`; `pools` includes the pool cabinets would be added to.
    extra
        Index of that pool.
    """
    conds = conditions(u)
    base = shortfall(need, cabinets, pools, u, conds)
    present = cabinets.copy()
    present[:, :, extra] = np.maximum(present[:, :, extra], 1.0)  # k ≥ 1: the pool has room
    with_pool = shortfall(need, present, pools, u, conds)
    violated = base.violated
    by_condition = np.zeros(base.need.shape)
    stuck = np.zeros(base.need.shape, dtype=bool)
    touched = np.zeros(base.need.shape[1:], dtype=bool)
    for c, cond in enumerate(conds):
        per = pools.rows[extra, cond.limit]
        if extra not in cond.pools or per <= 0:
            # its cabinets change nothing here: short or not, this pool cannot close it
            stuck[c] = violated[c]
            if extra in cond.pools:
                by_condition[c] = np.where(violated[c], np.inf, 0.0)
                touched |= violated[c]
            continue
        touched |= violated[c]
        gap = with_pool.need[c] - base.room[c]
        with np.errstate(invalid="ignore"):
            kc = np.where(gap > _TOL, np.ceil(gap / per - 1e-9), 0.0)
        by_condition[c] = np.nan_to_num(kc, nan=np.inf, posinf=np.inf)
    k = by_condition.max(axis=0, initial=0.0)
    return Closing(conds, by_condition, stuck, np.where(touched, np.maximum(k, 1.0), 0.0))


# -- placement --------------------------------------------------------------------------------
@attrs.frozen(eq=False)
class Placement:
    """Need placed in each pool, by groups of blocks that consume alike.

    Blocks with the same eligible pools and the same use per unit there are placed
    together (what each consumes, occupies and costs is the same per unit), so the
    placement is kept per group and only where a group may run.

    Attributes
    ----------
    group_of
        ``(B,)`` the group of each block.
    blocks
        ``(G,)`` one block of each group (its uses stand for the group's).
    pairs
        ``(E, 2)`` the (group, pool) pairs where a group may run.
    amount
        ``(E, P, T)`` primary placed at each pair.
    """

    group_of: NDArray[np.intp]
    blocks: NDArray[np.intp]
    pairs: NDArray[np.intp]
    amount: _Floats

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    def total(self, per: _Floats, n_pools: int) -> _Floats:
        """``(P, T, J)`` Σ of amount × ``per[block, pool]`` in each pool (``per`` is ``(B, J)``).

        ``per`` = the use of one limit (``Uses.use[:, :, limit]``) gives what each pool's
        placed demand takes of it; ``Uses.occupancy`` the cabinets it occupies.
        """
        planes = np.zeros((n_pools, *self.amount.shape[1:]))
        for (g, j), amount in zip(self.pairs.tolist(), self.amount, strict=True):
            if per[self.blocks[g], j]:
                planes[j] += amount * per[self.blocks[g], j]
        return np.moveaxis(planes, 0, -1)

    def placed(self, group: int) -> _Floats:
        """``(P, T)`` all a group has placed, over its pools."""
        mine = self.pairs[:, 0] == group
        return np.asarray(self.amount[mine].sum(axis=0))

    def _shares(self, need: _Floats) -> _Floats:
        """``(B, P, T)`` each block's share of its group's need (blocks of a group are alike)."""
        total = np.zeros((self.blocks.size, *need.shape[1:]))
        for b, g in enumerate(self.group_of.tolist()):
            total[g] += need[b]
        mine = total[self.group_of]
        return np.divide(need, mine, out=np.zeros_like(need), where=mine > 0)

    def served(self, need: _Floats) -> _Floats:
        """``(B, P, T)`` what each block got: its group's placement, shared by `need`.

        `need` is what was placed (``(B, P, T)``, as given to :func:`place`).
        """
        got = np.stack([self.placed(g) for g in range(self.blocks.size)]) \
            if self.blocks.size else np.zeros((0, *need.shape[1:]))
        return np.asarray(got[self.group_of] * self._shares(need), dtype=np.float64)

    def valued(self, need: _Floats, per_unit: _Floats, n_pools: int) -> _Floats:
        """``(P, T, J)`` Σ of what is placed in each pool × each block's `per_unit` value.

        `per_unit` is ``(B, T)`` (a block's price per unit of its primary each month);
        a group's placement is shared among its blocks by `need`.
        """
        shares = self._shares(need)
        rate = np.zeros((self.blocks.size, *need.shape[1:]))
        for b, g in enumerate(self.group_of.tolist()):
            rate[g] += shares[b] * per_unit[b][None, :]
        planes = np.zeros((n_pools, *need.shape[1:]))
        for (g, j), amount in zip(self.pairs.tolist(), self.amount, strict=True):
            planes[j] += amount * rate[g]
        return np.moveaxis(planes, 0, -1)


def _groups(u: Uses) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Each block's group (same eligible pools, same use there) and one block of each."""
    seen: dict[bytes, int] = {}
    group_of = np.empty(len(u.blocks), dtype=np.intp)
    first: list[int] = []
    for b in range(len(u.blocks)):
        key = u.eligible[b].tobytes() + u.use[b].tobytes()
        if key not in seen:
            seen[key] = len(first)
            first.append(b)
        group_of[b] = seen[key]
    return group_of, np.array(first, dtype=np.intp)


def _cost_ranks(cost: _Floats) -> NDArray[np.intp]:
    """``(T, H)`` each pool's place among the month's distinct costs (0: cheapest).

    Costs equal to 9 decimals share a place, so they fill pro rata together.
    """
    rounded = np.round(cost, 9)
    out = np.empty(cost.shape, dtype=np.intp)
    for t, row in enumerate(rounded):
        out[t] = np.searchsorted(np.unique(row), row)
    return out


def place(need: _Floats, cabinets: _Floats, pools: Pools, u: Uses, unit_cost: _Floats,
          ) -> Placement:
    """Place every block's need on every path and month: the least-cost fill.

    Groups of blocks confined to fewer pools go first (ties in the order of their first
    block); each fills its eligible pools cheapest first (by `unit_cost`), and pools of
    equal cost pro rata by their room, up to what every limit of the pool still holds.
    What does not fit stays unplaced. The allocation solves the same placement exactly at
    one month; where pools are not contested both agree.

    Parameters
    ----------
    need
        ``(B, P, T)`` primary need of each block.
    cabinets
        ``(P, T, J)`` cabinets in service per pool.
    pools, u
        Pools and what blocks consume there.
    unit_cost
        ``(T, B, J)`` cost of one unit of each block's primary at each pool, any currency
        rate (only the order matters).

    Returns
    -------
    Placement
    """
    n_b, n_p, n_t = need.shape
    group_of, blocks = _groups(u)
    need_g = np.zeros((blocks.size, n_p, n_t))
    for b in range(n_b):
        need_g[group_of[b]] += need[b]
    pairs = np.array([(g, j) for g, b in enumerate(blocks.tolist())
                      for j in u.hosts(b).tolist()], dtype=np.intp).reshape(-1, 2)
    at_pair = {(g, j): e for e, (g, j) in enumerate(pairs.tolist())}
    amount = np.zeros((pairs.shape[0], n_p, n_t))
    # room per pool and limit as contiguous (P, T) planes: every step below is one pass
    room: dict[tuple[int, int], _Floats] = {
        (j, lim): cabinets[:, :, j] * pools.rows[j, lim]
        for j in range(pools.n) for lim in range(pools.rows.shape[1])}
    order = sorted(range(blocks.size), key=lambda g: (int(u.eligible[blocks[g]].sum()), g))
    for g in order:
        b = int(blocks[g])
        hosts = u.hosts(b).tolist()
        if not hosts:
            continue
        left = need_g[g].copy()
        rank = _cost_ranks(unit_cost[:, b, hosts])  # (T, H)
        for level in range(int(rank.max()) + 1):
            at = rank == level  # (T, H): each month's pools at its level-th lowest cost
            fits: dict[int, _Floats] = {}
            for h, j in enumerate(hosts):
                if not at[:, h].any():
                    continue
                fit = np.full((n_p, n_t), np.inf)
                for lim in np.flatnonzero(u.use[b, j] > 0).tolist():
                    np.minimum(fit, room[j, lim] / u.use[b, j, lim], out=fit)
                fits[j] = np.where(at[:, h], np.maximum(fit, 0.0), 0.0)  # units that fit
            if not fits:
                continue
            total = sum(fits.values(), np.zeros((n_p, n_t)))
            take = np.minimum(left, total)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where(total > 0, take / total, 0.0)
            for j, fit in fits.items():
                share = fit * scale
                amount[at_pair[g, j]] += share
                for lim in np.flatnonzero(u.use[b, j] > 0).tolist():
                    room[j, lim] -= share * u.use[b, j, lim]
            left = left - take
    return Placement(group_of, blocks, pairs, amount)


# -- costs ------------------------------------------------------------------------------------
@attrs.frozen(eq=False)
class CostModel:
    """What serving demand costs in each pool: energy drawn, amortised capex, subsidies.

    Power drawn by a pool is ``rated IT kW × load factor × (idle share × cabinets in service
    + (1 − idle share) × cabinets occupied)``, grossed up by the site's PUE; energy in a
    month is that power × the month's calendar hours. Rates are per year of 8,766 hours
    (:data:`HOURS_PER_YEAR`), so a rate and a month's bill always agree.

    Attributes
    ----------
    months
        ``(T,)`` the months priced.
    price, subsidy
        ``(T, S)`` electricity price and the per-kWh subsidies in force at each site,
        yuan/kWh (budgets are not applied here: they cap the scheme's total, not the
        marginal cost).
    capex
        ``(J,)`` amortised capex per cabinet occupied, yuan/year, net of construction
        subsidies.
    load_factor, idle_share
        The share of rated IT power a fully used cabinet draws, and an idle cabinet's draw
        as a share of a fully used one's.
    """

    months: NDArray[np.datetime64]
    price: _Floats
    subsidy: _Floats
    capex: _Floats
    pue: _Floats
    kw: _Floats
    site_of: NDArray[np.intp]
    load_factor: float
    idle_share: float

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    @classmethod
    def of(cls, pools: Pools, months: NDArray[np.datetime64], market: Market,
           policies: Sequence[Instrument], *, lifetime_years: float = 10.0,
           electricity_price: float | None = None) -> CostModel:
        """The costs of `pools` over `months` in `market` with `policies` in force.

        Capex is spread over `lifetime_years` as an annuity at the market's discount rate
        (:func:`capital_recovery`). Electricity subsidies apply at sites that meet their
        tags, PUE and green-power conditions, within their window (or their years from the
        site's first month in service on the planned dates). Construction subsidies lower
        the capex of the cabinets projects build at eligible sites.
        """
        n_s = len(pools.sites)
        price = np.zeros((months.size, n_s))
        for s, site in enumerate(pools.sites):
            if site.electricity_price is not None:
                price[:, s] = float(site.electricity_price.m_as("yuan/kWh"))
            elif electricity_price is not None:
                price[:, s] = electricity_price
        it_kw = pools.by_site(pools.cabinets(months) * pools.per_cabinet[:,
                              Resource.IT_POWER.index])  # (1, T, S), planned dates
        subsidy = np.zeros_like(price)
        for x in policies:
            if not isinstance(x, ElectricitySubsidy):
                continue
            for s, site in enumerate(pools.sites):
                if electricity_subsidy_applies(x, site, market):
                    window = subsidy_window(x, site, it_kw[:, :, s], months)[0]
                    subsidy[:, s] += window * float(x.amount.m_as("yuan/kWh"))
        capex = np.zeros(pools.n)
        for j, key in enumerate(pools.keys):
            invest = pools.profiles[key.profile].capex
            each = float(invest.m_as("yuan")) if invest is not None else 0.0
            built_by_plan = pools.additions[:, j].sum() > 0
            for x in policies:
                if isinstance(x, ConstructionSubsidy) and built_by_plan and (
                        not x.eligible_tags or x.eligible_tags & pools.sites[
                            pools.site_of[j]].tags):
                    off = (float(x.per_cabinet.m_as("yuan/cabinet")) if x.per_cabinet
                           is not None else float(x.share_of_capex or 0.0) * each)
                    each = max(each - off, 0.0)
            capex[j] = each * capital_recovery(float(market.discount_rate), lifetime_years)
        pue = np.array([s.pue for s in pools.sites])
        kw = pools.per_cabinet[:, Resource.IT_POWER.index]
        return cls(months, price, subsidy, capex, pue, kw, pools.site_of,
                   float(market.load_factor), float(market.idle_share))

    def net_price(self) -> _Floats:
        """``(T, S)`` price net of subsidies, yuan/kWh (never below zero)."""
        return np.maximum(self.price - self.subsidy, 0.0)

    def drawn_kw(self, cabinets: _Floats, occupied: _Floats) -> _Floats:
        """Facility power drawn by each pool, kW (IT × PUE), shape of `cabinets` ``(..., J)``."""
        it = self.kw * self.load_factor * (self.idle_share * cabinets
                                           + (1 - self.idle_share) * occupied)
        return np.asarray(it * self.pue[self.site_of], dtype=np.float64)

    def busy_rate(self, t: int) -> _Floats:
        """``(J,)`` yuan/year one occupied cabinet adds at month `t`: energy beyond idle + capex."""
        kwh = (self.kw * self.load_factor * (1 - self.idle_share) * self.pue[self.site_of]
               * HOURS_PER_YEAR)
        return np.asarray(kwh * self.net_price()[t, self.site_of] + self.capex,
                          dtype=np.float64)

    def idle_rate(self, t: int) -> _Floats:
        """``(J,)`` yuan/year one cabinet in service draws idle at month `t` (energy)."""
        kwh = self.kw * self.load_factor * self.idle_share * self.pue[self.site_of] \
            * HOURS_PER_YEAR
        return np.asarray(kwh * self.net_price()[t, self.site_of], dtype=np.float64)

    def unit_cost(self, u: Uses) -> _Floats:
        """``(T, B, J)`` yuan/year of serving one unit of each block's primary at each pool."""
        rates = np.stack([self.busy_rate(t) for t in range(self.months.size)])  # (T, J)
        return np.asarray(rates[:, None, :] * u.occupancy[None], dtype=np.float64)


def capital_recovery(rate: Any, years: Any) -> Any:
    """The share of an investment to pay each year to repay it with interest over `years`.

    ``rate / (1 − (1 + rate)^−years)``, and ``1 / years`` at a zero rate (straight line);
    broadcasts like numpy.

    Examples
    --------
    >>> round(float(capital_recovery(0.08, 10)), 4), float(capital_recovery(0.0, 10))
    (0.149, 0.1)
    """
    r = np.asarray(rate, dtype=np.float64)
    n = np.asarray(years, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(r == 0, 1.0 / n, r / -np.expm1(-n * np.log1p(r)))
    return out[()] if out.ndim == 0 else out


def electricity_subsidy_applies(x: ElectricitySubsidy, site: Site, market: Market) -> bool:
    """Whether an electricity subsidy's site conditions (tags, PUE, green power) hold."""
    if x.eligible_tags and not x.eligible_tags & site.tags:
        return False
    if x.max_pue is not None and site.pue > x.max_pue:
        return False
    return not (x.min_green_share is not None
                and market.green_share.get(site.id, -1.0) < x.min_green_share)


def first_in_service(it_kw: _Floats, months: NDArray[np.datetime64], site: Site) -> _Floats:
    """Month index (float) each path's site first has IT power; -inf unknown, inf never.

    A site already in service when the axis starts counts from its ``commissioned``
    month; without one it was operating at an unknown date and is not a new site.
    """
    on = it_kw > 0
    first = np.where(on.any(axis=1), on.argmax(axis=1), np.inf).astype(np.float64)
    if site.commissioned is not None:
        offset = float((site.commissioned - months[0]).astype(np.int64))
        return np.where(first == 0, min(offset, 0.0), first)
    return np.where(first == 0, -np.inf, first)


def subsidy_window(x: ElectricitySubsidy, site: Site, it_kw: _Floats,
                   months: NDArray[np.datetime64]) -> NDArray[np.bool_]:
    """``(P, T)`` months an electricity subsidy pays at a site, per path.

    Within its start and end months, or, with `years`, for that many years from the month
    the site first has IT power (`it_kw`, ``(P, T)``) on each path.
    """
    if x.years is None:
        return np.broadcast_to(x.in_window(months), it_kw.shape)
    first = first_in_service(it_kw, months, site)[:, None]
    t = np.arange(months.size, dtype=np.float64)
    return np.asarray((t >= first) & (t < first + 12 * x.years))
