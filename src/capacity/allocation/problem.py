"""The allocation problem at array level: demands × pools × resources.

An :class:`AllocationProblem` holds plain float64 arrays in one unit per resource (named in
``resource_units``) and one currency (``cost_unit``). Building it from an estate and demand
blocks, with quantities, is the job of the layers above; here every array is checked once
and every problem is reported together.

The model (``sense="min"``)::

    minimise   Σ cost[i,j]·x[i,j] + Σ penalty[i]·unmet[i]
    subject to Σ_j x[i,j] + unmet[i] = size[i]                       every demand i
               Σ_i use[i,j,r]·x[i,j] ≤ capacity[j,r]                 every pool j, resource r
               Σ_{i, j at site s} power_use[i,j]·pue[j]·x[i,j] ≤ grid[s]   every site s
               x[i,j] = 0 where not eligible[i,j]
               x integer ≥ 0 (splittable demand) or x[i,·] ∈ {0, size[i]} (unsplittable)
               a served demand with min_sites[i] = k is placed on ≥ k distinct sites

x counts *units* of demand (cabinets, servers, blocks: whatever ``size`` counts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import attrs
import numpy as np
import pint
from numpy.typing import ArrayLike, NDArray

from capacity import fields
from capacity.errors import FieldError, Problems
from capacity.units import read_unit

__all__ = ["AllocationProblem"]

#: How many offending entries of one field an error lists before summarising the rest.
_SHOWN = 5


def _array(values: Any, dtype: type) -> NDArray[Any]:
    """Read-only copy of `values` as `dtype`; an object array when it cannot be converted.

    The object array lets validation report "not numeric" with the field path instead of a
    bare numpy error escaping from ``__init__``.
    """
    arr: NDArray[Any]
    try:
        arr = np.array(values, dtype=dtype)
    except (TypeError, ValueError):
        arr = np.array(values, dtype=object)
    arr.flags.writeable = False
    return arr


def _float_array(values: ArrayLike) -> NDArray[np.float64]:
    return _array(values, np.float64)


def _optional_float_array(values: ArrayLike | None) -> NDArray[np.float64] | None:
    return None if values is None else _array(values, np.float64)


def _optional_bool_array(values: ArrayLike | None) -> NDArray[np.bool_] | None:
    return None if values is None else _array(values, np.bool_)


def _splittable(values: bool | ArrayLike) -> NDArray[np.bool_]:
    return _array(values, np.bool_)


def _names(values: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(str(v) for v in values)


def _units(values: Sequence[str | pint.Unit] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(str(v) for v in values)


def _index(idx: tuple[int, ...] | NDArray[np.intp]) -> str:
    return ",".join(str(int(k)) for k in idx)


@attrs.frozen(eq=False)
class AllocationProblem:
    """A multi-resource generalized assignment problem with unmet demand and site rules.

    Arrays are stored read-only as float64 (bool for masks). All amounts of resource ``r``
    are in ``resource_units[r]``; all costs and penalties in ``cost_unit``.

    Parameters
    ----------
    use
        ``(n, m, R)``: amount of resource ``r`` one unit of demand ``i`` takes at pool ``j``,
        ``[resource_units[r] / unit of demand]``; finite, ≥ 0.
    capacity
        ``(m, R)``: amount of resource ``r`` pool ``j`` offers, ``[resource_units[r]]``;
        ≥ 0, ``inf`` for unlimited.
    cost
        ``(n, m)``: cost of placing one unit of demand ``i`` at pool ``j``, ``[cost_unit]``;
        finite (negative values are gains). With ``sense="max"`` this is a value to maximise.
    size
        ``(n,)``: units in each demand, a non-negative integer.
    penalty
        ``(n,)``: cost of each unit of demand ``i`` left unmet, ``[cost_unit]``; ≥ 0.
        ``inf`` (or ``penalty=None`` for all) means the demand must be fully served.
    eligible
        ``(n, m)``: may demand ``i`` use pool ``j``; ``None`` means every pair is eligible.
    splittable
        ``True``: each unit of demand may go to a different pool (``x`` integer).
        ``False``: the whole demand goes to one pool or is entirely unmet (binary).
        Either one flag for all demands or ``(n,)`` flags.
    pool_site
        ``(m,)``: index of the site of each pool; needed for ``min_sites`` and the
        power envelope. ``None``: each pool is its own site.
    min_sites
        ``(n,)``: a served demand is spread over at least this many distinct sites
        (needs ``splittable``); ``None`` means no spread rule.
    power_use
        ``(n, m)``: IT power one unit of demand ``i`` draws at pool ``j``, ``[kW]``.
    pue
        ``(m,)``: power usage effectiveness of each pool, ``[dimensionless]`` ≥ 1;
        ``None`` means 1.
    grid
        ``(n_sites,)``: grid power each site may draw (IT power × PUE), ``[kW]``; ``inf`` for
        no limit. Given together with ``power_use``.
    demand_names, pool_names, resource_names, site_names
        Labels used in explanations; generated (``demand 0``, ...) when ``None``.
    resource_units
        Unit of each resource (pint unit or unit string of :data:`capacity.ureg`);
        ``None`` means plain numbers.
    cost_unit
        Unit of costs, e.g. ``"yuan"`` or ``"yuan/year"``; ``None`` for plain numbers.
    fixed_cost
        Cost every assignment pays (e.g. the idle draw of cabinets in service), in
        ``cost_unit``; added to the objective and the bound.
    per_cabinet
        ``(m, R)``: what one cabinet of each pool offers of each resource, so explanations
        can speak in whole cabinets; ``None`` when pools are not cabinets.
    sense
        ``"min"`` minimises cost; ``"max"`` maximises ``cost`` read as value (penalties
        still count against the objective).
    name
        A label for the problem, e.g. ``"gap1.txt#1"``.

    Raises
    ------
    ValidationError
        Listing every problem found (shapes, signs, NaN, impossible rules), each with its
        field path such as ``use[3,1,0]``.
    """

    use: NDArray[np.float64] = attrs.field(converter=_float_array)
    capacity: NDArray[np.float64] = attrs.field(converter=_float_array)
    cost: NDArray[np.float64] = attrs.field(converter=_float_array)
    size: NDArray[np.float64] = attrs.field(converter=_float_array)
    penalty: NDArray[np.float64] | None = attrs.field(
        default=None, converter=_optional_float_array)
    eligible: NDArray[np.bool_] | None = attrs.field(default=None, converter=_optional_bool_array)
    splittable: NDArray[np.bool_] = attrs.field(default=False, converter=_splittable)
    pool_site: NDArray[np.float64] | None = attrs.field(
        default=None, converter=_optional_float_array)
    min_sites: NDArray[np.float64] | None = attrs.field(
        default=None, converter=_optional_float_array)
    power_use: NDArray[np.float64] | None = attrs.field(
        default=None, converter=_optional_float_array)
    pue: NDArray[np.float64] | None = attrs.field(default=None, converter=_optional_float_array)
    grid: NDArray[np.float64] | None = attrs.field(default=None, converter=_optional_float_array)
    demand_names: tuple[str, ...] | None = attrs.field(default=None, converter=_names)
    pool_names: tuple[str, ...] | None = attrs.field(default=None, converter=_names)
    resource_names: tuple[str, ...] | None = attrs.field(default=None, converter=_names)
    site_names: tuple[str, ...] | None = attrs.field(default=None, converter=_names)
    resource_units: tuple[str, ...] | None = attrs.field(default=None, converter=_units)
    cost_unit: str | None = attrs.field(default=None)
    sense: Literal["min", "max"] = attrs.field(default="min")
    fixed_cost: float = attrs.field(default=0.0, converter=float)
    per_cabinet: NDArray[np.float64] | None = attrs.field(
        default=None, converter=_optional_float_array)
    name: str = attrs.field(default="")

    def __attrs_post_init__(self) -> None:
        _validate(self)
        fields.freeze(self)

    # ---- sizes -------------------------------------------------------------------------
    @property
    def n_demands(self) -> int:
        """Number of demands ``n``."""
        return int(self.use.shape[0])

    @property
    def n_pools(self) -> int:
        """Number of pools ``m``."""
        return int(self.use.shape[1])

    @property
    def n_resources(self) -> int:
        """Number of resources ``R``."""
        return int(self.use.shape[2])

    @property
    def n_sites(self) -> int:
        """Number of sites: ``len(grid)``, else one more than the largest ``pool_site``."""
        if self.grid is not None:
            return int(self.grid.shape[0])
        if self.pool_site is not None:
            return int(self.pool_site.max()) + 1 if self.pool_site.size else 0
        return self.n_pools

    # ---- derived arrays ----------------------------------------------------------------
    @property
    def eligible_mask(self) -> NDArray[np.bool_]:
        """``(n, m)`` eligibility, all ``True`` when ``eligible`` is ``None``."""
        if self.eligible is None:
            return np.ones((self.n_demands, self.n_pools), dtype=bool)
        return self.eligible

    @property
    def splittable_mask(self) -> NDArray[np.bool_]:
        """``(n,)`` per-demand splittable flags."""
        return np.broadcast_to(self.splittable, (self.n_demands,))

    @property
    def must_serve(self) -> NDArray[np.bool_]:
        """``(n,)`` demands that may not be left unmet (infinite or no penalty)."""
        if self.penalty is None:
            return np.ones(self.n_demands, dtype=bool)
        return np.isinf(self.penalty)

    @property
    def penalty_values(self) -> NDArray[np.float64]:
        """``(n,)`` penalty per unmet unit, ``inf`` where the demand must be served."""
        if self.penalty is None:
            return np.full(self.n_demands, np.inf)
        return self.penalty

    @property
    def site_of_pool(self) -> NDArray[np.intp]:
        """``(m,)`` site index of each pool (each pool its own site by default)."""
        if self.pool_site is None:
            return np.arange(self.n_pools)
        return self.pool_site.astype(np.intp)

    @property
    def min_sites_values(self) -> NDArray[np.intp]:
        """``(n,)`` spread rule, 0 where there is none."""
        if self.min_sites is None:
            return np.zeros(self.n_demands, dtype=np.intp)
        return self.min_sites.astype(np.intp)

    @property
    def grid_power_use(self) -> NDArray[np.float64] | None:
        """``(n, m)`` grid power per unit, ``power_use × pue`` in kW; ``None`` without power."""
        if self.power_use is None:
            return None
        pue = np.ones(self.n_pools) if self.pue is None else self.pue
        return self.power_use * pue[None, :]

    def label(self, kind: Literal["demand", "pool", "resource", "site"], index: int) -> str:
        """Name of demand/pool/resource/site `index`, generated when none was given."""
        names = {"demand": self.demand_names, "pool": self.pool_names,
                 "resource": self.resource_names, "site": self.site_names}[kind]
        return names[index] if names is not None else f"{kind} {index}"

    def resource_unit(self, r: int) -> str:
        """Unit string of resource `r` (empty for plain numbers)."""
        return "" if self.resource_units is None else self.resource_units[r]

    # ---- variants ----------------------------------------------------------------------
    def permute(
        self, demand_order: ArrayLike | None = None, pool_order: ArrayLike | None = None
    ) -> AllocationProblem:
        """The same problem with demands and pools listed in another order.

        Parameters
        ----------
        demand_order
            ``(n,)`` permutation: demand ``k`` of the result is demand ``demand_order[k]``.
        pool_order
            ``(m,)`` permutation of pools, likewise. Sites keep their indices.

        Returns
        -------
        AllocationProblem
            Its optimal cost equals this problem's; its assignments are the permuted ones.
        """
        d = np.arange(self.n_demands) if demand_order is None else np.asarray(demand_order)
        p = np.arange(self.n_pools) if pool_order is None else np.asarray(pool_order)

        def take(a: NDArray[Any], *axes: Literal["d", "p"]) -> NDArray[Any]:
            for axis, kind in enumerate(axes):
                a = np.take(a, d if kind == "d" else p, axis=axis)
            return a

        def maybe(a: NDArray[Any] | None, *axes: Literal["d", "p"]) -> NDArray[Any] | None:
            return None if a is None else take(a, *axes)

        def names(v: tuple[str, ...] | None, order: NDArray[Any]) -> tuple[str, ...] | None:
            return None if v is None else tuple(v[k] for k in order)

        split = self.splittable if self.splittable.ndim == 0 else self.splittable[d]
        return attrs.evolve(
            self, use=take(self.use, "d", "p"), capacity=take(self.capacity, "p"),
            cost=take(self.cost, "d", "p"), size=take(self.size, "d"),
            penalty=maybe(self.penalty, "d"), eligible=maybe(self.eligible, "d", "p"),
            splittable=split, pool_site=maybe(self.pool_site, "p"),
            min_sites=maybe(self.min_sites, "d"), power_use=maybe(self.power_use, "d", "p"),
            pue=maybe(self.pue, "p"), per_cabinet=maybe(self.per_cabinet, "p"),
            demand_names=names(self.demand_names, d),
            pool_names=names(self.pool_names, p))


# ---- validation ----------------------------------------------------------------------------
def _report(problems: Problems, field: str, bad: NDArray[np.bool_], reason: str,
            values: NDArray[Any]) -> None:
    """Record the first few entries of `field` flagged in `bad`, and how many more there are."""
    idx = np.argwhere(bad)
    for k in idx[:_SHOWN]:
        at = tuple(int(v) for v in k)
        problems.add(f"{field}[{_index(k)}]" if at else field, reason,
                     values[at].item() if at else values.item())
    if len(idx) > _SHOWN:
        problems.add(field, f"{len(idx) - _SHOWN} more entries: {reason}")


def _check_shape(problems: Problems, field: str, arr: NDArray[Any] | None,
                 shape: tuple[int, ...], numeric: bool = True) -> bool:
    """True when `arr` is usable for value checks: present, numeric and of `shape`."""
    if arr is None:
        return False
    if arr.dtype == object:
        problems.add(field, "must be numeric" if numeric else "must be true/false")
        return False
    if arr.shape != shape:
        problems.add(field, f"must have shape {shape} (demands, pools, resources as "
                     f"given by use), got {arr.shape}")
        return False
    return True


def _validate(p: AllocationProblem) -> None:
    problems = Problems("allocation problem")
    if p.use.dtype == object or p.use.ndim != 3:
        problems.add("use", "must be a numeric (demands, pools, resources) array, got "
                     f"{p.use.ndim} dimension(s)" if p.use.dtype != object else
                     "must be numeric")
        problems.raise_if_any()
    n, m, r = p.use.shape
    _report(problems, "use", ~np.isfinite(p.use), "must be finite", p.use)
    _report(problems, "use", p.use < 0, "must be ≥ 0", p.use)

    if _check_shape(problems, "capacity", p.capacity, (m, r)):
        _report(problems, "capacity", np.isnan(p.capacity), "must not be NaN", p.capacity)
        _report(problems, "capacity", p.capacity < 0, "must be ≥ 0", p.capacity)
    if _check_shape(problems, "cost", p.cost, (n, m)):
        _report(problems, "cost", ~np.isfinite(p.cost), "must be finite", p.cost)
    size_ok = _check_shape(problems, "size", p.size, (n,))
    if size_ok:
        _report(problems, "size", ~np.isfinite(p.size) | (p.size < 0) | (p.size % 1 != 0),
                "must be a whole number ≥ 0", p.size)
    if _check_shape(problems, "penalty", p.penalty, (n,)) and p.penalty is not None:
        _report(problems, "penalty", np.isnan(p.penalty) | (p.penalty < 0),
                "must be ≥ 0 (inf: must be served)", p.penalty)
    elig_ok = p.eligible is None or _check_shape(problems, "eligible", p.eligible, (n, m), False)
    split_ok = p.splittable.dtype != object and p.splittable.shape in ((), (n,))
    if not split_ok:
        problems.add("splittable", f"must be one flag or one per demand, shape ({n},)")

    site_ok = p.pool_site is None or _check_shape(problems, "pool_site", p.pool_site, (m,))
    if p.pool_site is not None and site_ok:
        n_sites = len(p.grid) if p.grid is not None and p.grid.ndim == 1 else np.inf
        bad = (p.pool_site < 0) | (p.pool_site % 1 != 0) | ~(p.pool_site < n_sites)
        _report(problems, "pool_site", bad, "must be a site index in [0, number of sites)",
                p.pool_site)
        site_ok = not bad.any()
    elif p.grid is not None and p.grid.ndim == 1 and len(p.grid) != m:
        problems.add("grid", f"without pool_site each pool is its own site, so grid needs {m} "
                     f"entries, got {len(p.grid)}")
    if p.min_sites is not None and _check_shape(problems, "min_sites", p.min_sites, (n,)):
        bad = ~np.isfinite(p.min_sites) | (p.min_sites < 0) | (p.min_sites % 1 != 0)
        _report(problems, "min_sites", bad, "must be a whole number ≥ 0", p.min_sites)
        if not bad.any() and split_ok and elig_ok and site_ok:
            split = np.broadcast_to(p.splittable, (n,))
            _report(problems, "min_sites", (p.min_sites > 1) & ~split,
                    "an unsplittable demand sits at one pool; spread needs splittable",
                    p.min_sites)
            sites = p.site_of_pool
            reach = np.zeros((n, p.n_sites), dtype=bool)
            ii, jj = np.nonzero(p.eligible_mask)
            reach[ii, sites[jj]] = True
            _report(problems, "min_sites", p.min_sites > reach.sum(axis=1),
                    "more sites than the demand has eligible pools on", p.min_sites)
            if size_ok:
                _report(problems, "min_sites", p.min_sites > p.size,
                        "more sites than the demand has units", p.min_sites)

    if (p.power_use is None) != (p.grid is None):
        problems.add("grid" if p.grid is None else "power_use",
                     "power_use and grid are given together (the site power envelope)")
    if _check_shape(problems, "power_use", p.power_use, (n, m)) and p.power_use is not None:
        _report(problems, "power_use", ~np.isfinite(p.power_use) | (p.power_use < 0),
                "must be finite and ≥ 0", p.power_use)
    if _check_shape(problems, "pue", p.pue, (m,)) and p.pue is not None:
        _report(problems, "pue", ~np.isfinite(p.pue) | (p.pue < 1), "must be finite and ≥ 1",
                p.pue)
    if p.grid is not None and p.grid.dtype != object:
        if p.grid.ndim != 1:
            problems.add("grid", f"must be one value per site, got shape {p.grid.shape}")
        else:
            _report(problems, "grid", np.isnan(p.grid) | (p.grid < 0),
                    "must be ≥ 0 (inf: no limit)", p.grid)
    elif p.grid is not None:
        problems.add("grid", "must be numeric")

    # A demand that must be served but has no eligible pool is not misuse: the problem is
    # infeasible, and allocate() says so and names it.
    if not math.isfinite(p.fixed_cost):
        problems.add("fixed_cost", "must be finite", p.fixed_cost)
    if p.per_cabinet is not None and _check_shape(problems, "per_cabinet", p.per_cabinet,
                                                  (m, r)):
        _report(problems, "per_cabinet", ~np.isfinite(p.per_cabinet) | (p.per_cabinet < 0),
                "must be finite and ≥ 0", p.per_cabinet)

    for field, names, count in (("demand_names", p.demand_names, n),
                                ("pool_names", p.pool_names, m),
                                ("resource_names", p.resource_names, r),
                                ("site_names", p.site_names, None),
                                ("resource_units", p.resource_units, r)):
        if names is None:
            continue
        if count is not None and len(names) != count:
            problems.add(field, f"must have {count} entries, got {len(names)}")
        if field.endswith("names") and len(set(names)) != len(names):
            problems.add(field, "must be unique")
    if p.site_names is not None and len(p.site_names) != p.n_sites and site_ok:
        problems.add("site_names", f"must have {p.n_sites} entries, got {len(p.site_names)}")
    for k, unit in enumerate(p.resource_units or ()):
        try:
            read_unit(unit, f"resource_units[{k}]")
        except FieldError as error:
            problems.items.append(error)
    if p.cost_unit is not None:
        try:
            read_unit(p.cost_unit, "cost_unit")
        except FieldError as error:
            problems.items.append(error)
    if p.sense not in ("min", "max"):
        problems.add("sense", "must be 'min' or 'max'", p.sense)
    problems.raise_if_any()
