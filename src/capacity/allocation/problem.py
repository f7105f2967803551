"""The allocation problem at array level: demands × pools × resources.

An :class:`AllocationProblem` holds plain float64 arrays in one unit per resource (named in
``resource_units``) and one currency (``cost_unit``); a quantity given for a field is
converted to that unit on the way in. Building it from an estate and demand blocks is the
job of the layers above; here every array is checked once and every problem is reported
together.

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
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import attrs
import numpy as np
import pint
from numpy.typing import ArrayLike, NDArray

from capacity import fields
from capacity.errors import FieldError, Problems
from capacity.inventory import UNMET
from capacity.memory import available_bytes
from capacity.units import MAX_MAGNITUDE, Quantity, read_unit, ureg

__all__ = ["AllocationProblem"]

#: How many offending entries of one field an error lists before summarising the rest.
_SHOWN = 5
#: Entries from which an array's size is checked against free memory before it is copied.
_ASK_MEMORY_FROM = 1_000_000


@attrs.frozen
class _Quantities:
    """What a converter keeps of a list of quantities (one quantity of an array is read)."""


@attrs.frozen
class _TooLarge:
    """What a converter keeps of an array too large for this machine's free memory."""

    shape: tuple[int, ...]
    free: int


def _array(values: Any, dtype: type) -> Any:
    """Read-only copy of `values` as `dtype`; an object array when it is not of that kind.

    Only whole or real numbers are numbers, and only booleans (or the numbers 0 and 1)
    are flags: text, booleans given as numbers, complex numbers and anything else become
    an object array, which validation reports with its field path instead of a bare numpy
    error escaping from ``__init__`` (or a silent coercion: ``"false"`` is not ``False``).
    A :class:`pint.Quantity` is kept as it is, to be converted to its field's unit once
    the units are known, and an array too large for this machine's free memory is not
    copied but kept as :class:`_TooLarge`, to be refused by name (both in :func:`_plain`).
    """
    if isinstance(values, pint.Quantity):
        return values
    if isinstance(values, (list, tuple)) and any(isinstance(v, pint.Quantity) for v in values):
        return _Quantities()  # numpy would strip their units
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError):  # ragged
        raw = np.array(list(values) if isinstance(values, Sequence) else [], dtype=object)
    free = available_bytes() if raw.size > _ASK_MEMORY_FROM else None
    if raw.dtype != object and free is not None and raw.size * 8 > free:
        return _TooLarge(raw.shape, free)
    if raw.dtype == object and dtype is not np.bool_ and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw.flat):
        raw = raw.astype(np.float64)  # whole numbers beyond int64, to be refused by size
    kinds = "biuf" if dtype is np.bool_ else "iuf"
    arr: NDArray[Any]
    if raw.dtype.kind not in kinds or (
            dtype is np.bool_ and raw.dtype.kind != "b" and not np.all((raw == 0) | (raw == 1))):
        arr = np.array(raw, dtype=object)
    else:
        arr = np.array(raw, dtype=dtype)
    arr.flags.writeable = False
    return arr


def _floats(values: ArrayLike) -> NDArray[np.float64]:
    return _array(values, np.float64)  # type: ignore[no-any-return]


def _optional_floats(values: ArrayLike | None) -> NDArray[np.float64] | None:
    return None if values is None else _array(values, np.float64)


def _flags(values: bool | ArrayLike) -> NDArray[np.bool_]:
    return _array(values, np.bool_)  # type: ignore[no-any-return]


def _optional_flags(values: ArrayLike | None) -> NDArray[np.bool_] | None:
    return None if values is None else _array(values, np.bool_)


def _number(value: Any) -> Any:
    """A real number as float; anything else (a quantity, text, a bool) kept for checking."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return float(value)
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    return value


def _labels(values: Sequence[str | pint.Unit] | None) -> tuple[str, ...] | None:
    """A list of labels (or units) as a tuple; anything else is kept, for :func:`_validate`."""
    if values is None or isinstance(values, str) or not isinstance(values, Iterable):
        return values  # type: ignore[return-value]
    out = tuple(values)
    # text, units and whole numbers (an integer index, say) are labels; None is not "None"
    labels = all(isinstance(v, (str, pint.Unit, int, np.integer)) and not isinstance(
        v, (bool, np.bool_)) for v in out)
    return tuple(str(v) for v in out) if labels else out  # type: ignore[return-value]


def _index(idx: tuple[int, ...] | NDArray[np.intp]) -> str:
    return ",".join(str(int(k)) for k in idx)


@attrs.frozen(eq=False)
class AllocationProblem:
    """A multi-resource generalized assignment problem with unmet demand and site rules.

    Arrays are stored read-only as float64 (bool for masks). All amounts of resource ``r``
    are in ``resource_units[r]``; all costs and penalties in ``cost_unit``. An amount may
    also be given as a :class:`pint.Quantity`: it is converted to that unit (power to kW,
    counts to plain numbers), and refused by name when it cannot be. Numbers must be real
    numbers (not text, booleans or complex numbers), flags booleans or 0/1, and no figure
    may exceed :data:`capacity.units.MAX_MAGNITUDE` in its unit.

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
        Labels used in explanations; generated (``demand 0``, ...) when ``None``. Each
        unique; no pool's site (its name up to a ``/``) may be ``"unmet"``, the site
        unserved demand is given in :meth:`Allocation.to_pandas
        <capacity.allocation.Allocation.to_pandas>`.
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
    FieldError
        Naming the field, for an array larger than this machine's free memory (checked
        before it is copied).
    """

    use: NDArray[np.float64] = attrs.field(converter=_floats)
    capacity: NDArray[np.float64] = attrs.field(converter=_floats)
    cost: NDArray[np.float64] = attrs.field(converter=_floats)
    size: NDArray[np.float64] = attrs.field(converter=_floats)
    penalty: NDArray[np.float64] | None = attrs.field(
        default=None, converter=_optional_floats)
    eligible: NDArray[np.bool_] | None = attrs.field(default=None, converter=_optional_flags)
    splittable: NDArray[np.bool_] = attrs.field(default=False, converter=_flags)
    pool_site: NDArray[np.float64] | None = attrs.field(
        default=None, converter=_optional_floats)
    min_sites: NDArray[np.float64] | None = attrs.field(
        default=None, converter=_optional_floats)
    power_use: NDArray[np.float64] | None = attrs.field(
        default=None, converter=_optional_floats)
    pue: NDArray[np.float64] | None = attrs.field(default=None, converter=_optional_floats)
    grid: NDArray[np.float64] | None = attrs.field(default=None, converter=_optional_floats)
    demand_names: tuple[str, ...] | None = attrs.field(default=None, converter=_labels)
    pool_names: tuple[str, ...] | None = attrs.field(default=None, converter=_labels)
    resource_names: tuple[str, ...] | None = attrs.field(default=None, converter=_labels)
    site_names: tuple[str, ...] | None = attrs.field(default=None, converter=_labels)
    resource_units: tuple[str, ...] | None = attrs.field(default=None, converter=_labels)
    cost_unit: str | None = attrs.field(default=None)
    sense: Literal["min", "max"] = attrs.field(default="min")
    fixed_cost: float = attrs.field(default=0.0, converter=_number)
    per_cabinet: NDArray[np.float64] | None = attrs.field(
        default=None, converter=_optional_floats)
    name: str = attrs.field(default="")

    def __attrs_post_init__(self) -> None:
        _plain(self)
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

        Raises
        ------
        FieldError
            When an order is not a permutation of ``0 … n-1`` (``m-1``): a repeated or
            missing index would drop or copy a demand or pool.
        """
        d = _permutation(demand_order, self.n_demands, "demand_order")
        p = _permutation(pool_order, self.n_pools, "pool_order")

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


def _permutation(order: ArrayLike | None, count: int, field: str) -> NDArray[np.intp]:
    """`order` as indices, checked to be a permutation of ``range(count)``."""
    if order is None:
        return np.arange(count)
    arr = np.asarray(order)
    if arr.size == 0 and count == 0:
        return np.arange(0)
    if arr.dtype.kind not in "iu" or arr.shape != (count,) or not np.array_equal(
            np.sort(arr), np.arange(count)):
        raise FieldError(field, f"must list each index 0 … {count - 1} once", order)
    return arr.astype(np.intp)


# ---- units ---------------------------------------------------------------------------------
#: Fields whose last axis runs over resources, each in ``resource_units[r]``.
_PER_RESOURCE = ("use", "capacity", "per_cabinet")
#: Fields in ``cost_unit``.
_MONEY = ("cost", "penalty", "fixed_cost")
#: Fields in kW.
_POWER = ("power_use", "grid")


def _plain(p: AllocationProblem) -> None:
    """Replace every quantity given for a field by its magnitude in that field's unit.

    Amounts of resource ``r`` go to ``resource_units[r]``, money to ``cost_unit``, power to
    kW, and counts, flags, sites and PUE must be dimensionless. A quantity that cannot be
    converted (another dimension, or no unit given for the field) is reported by name: a
    unit is never dropped.
    """
    problems = Problems("allocation problem")
    for f in attrs.fields(AllocationProblem):
        value = getattr(p, f.name)
        if isinstance(value, _Quantities):
            problems.add(f.name, "give one quantity of an array (e.g. Q_([1, 2], 'kW')), not "
                         "a list of quantities")
            object.__setattr__(p, f.name, np.array([], dtype=object))
            continue
        if isinstance(value, _TooLarge):
            count = math.prod(value.shape)
            raise FieldError(f.name, f"holds {count:,} entries, about {count * 8 / 2**30:,.1f} "
                             f"GiB as float64, more than the {value.free / 2**30:,.1f} GiB "
                             "this machine has free", value.shape)
        if not isinstance(value, pint.Quantity):
            continue
        if value._REGISTRY is not ureg:
            problems.add(f.name, "quantity belongs to another unit registry; use capacity.ureg")
            continue
        try:
            magnitude = _magnitude(p, f.name, value)
        except FieldError as error:
            problems.items.append(error)
            continue
        converter: Any = f.converter
        object.__setattr__(p, f.name, magnitude if converter is None else converter(magnitude))
    problems.raise_if_any()


def _magnitude(p: AllocationProblem, field: str, q: Quantity) -> Any:
    """Magnitude of `q` in the unit of `field` (see :func:`_plain`)."""
    def to(unit: str, name: str, part: Quantity = q) -> Any:
        target = read_unit(unit, name)
        if part.dimensionality != target.dimensionality:
            raise FieldError(field, f"is in {q.units:~P}, which is not a unit of {name} "
                             f"({target:~P})", f"{q:~P}")
        return np.asarray(part.m_as(target)) if np.ndim(part.magnitude) \
            else float(part.m_as(target))

    def given(unit: Any, name: str) -> str:
        if isinstance(unit, str):
            return unit
        if q.dimensionless:
            return ""
        raise FieldError(field, f"is in {q.units:~P}, but {name} is not given: name the "
                         "unit so the amounts can be converted", f"{q:~P}")

    if field in _MONEY:
        return to(given(p.cost_unit, "cost_unit"), "cost_unit")
    if field in _POWER:
        return to("kW", "power")
    if field not in _PER_RESOURCE:
        if not q.dimensionless:
            raise FieldError(field, f"is in {q.units:~P}; it is a plain number (a count, "
                             "site index, flag or ratio)", f"{q:~P}")
        return to("", field)
    units = p.resource_units
    if not isinstance(units, tuple):
        return to(given(None, "resource_units"), "resource_units")
    if isinstance(p.use, np.ndarray) and p.use.ndim == 3 and len(units) != p.use.shape[2]:
        raise FieldError("resource_units", f"must have {p.use.shape[2]} entries (one per "
                         f"resource of use), got {len(units)}")
    if np.ndim(q.magnitude) == 0 or np.shape(q.magnitude)[-1] != len(units):
        raise FieldError(field, "as a quantity must have one entry per resource on its last "
                         f"axis ({len(units)}), got shape {np.shape(q.magnitude)}", f"{q.units:~P}")
    return np.stack([to(u, f"resource_units[{r}]", q[..., r]) for r, u in enumerate(units)],
                    axis=-1)


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
    if p.splittable.dtype == object:
        problems.add("splittable", "must be true/false (one flag, or one per demand)")
    elif not split_ok:
        problems.add("splittable", f"must be one flag or one per demand, shape ({n},)")

    site_ok = p.pool_site is None or _check_shape(problems, "pool_site", p.pool_site, (m,))
    if p.pool_site is not None and site_ok:
        # without a grid the sites are the pools' own, so at most one per pool
        n_sites = len(p.grid) if p.grid is not None and p.grid.ndim == 1 else m
        bad = (p.pool_site < 0) | (p.pool_site % 1 != 0) | ~(p.pool_site < n_sites)
        _report(problems, "pool_site", bad, "must be a site index in [0, number of sites)"
                if p.grid is not None else "must be a site index below the number of pools "
                f"({m}) when there is no grid", p.pool_site)
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
    if not isinstance(p.fixed_cost, float):
        problems.add("fixed_cost", "must be a number", p.fixed_cost)
    elif not math.isfinite(p.fixed_cost):
        problems.add("fixed_cost", "must be finite", p.fixed_cost)
    elif abs(p.fixed_cost) > MAX_MAGNITUDE:
        problems.add("fixed_cost", f"is absurdly large (more than {MAX_MAGNITUDE:g})",
                     p.fixed_cost)
    for field in ("use", "capacity", "cost", "size", "penalty", "power_use", "pue", "grid",
                  "per_cabinet"):
        # beyond this no figure is real (a unit slip), and the solver's arithmetic fails
        values = getattr(p, field)
        if isinstance(values, np.ndarray) and values.dtype == np.float64:
            _report(problems, field, np.isfinite(values) & (np.abs(values) > MAX_MAGNITUDE),
                    f"is absurdly large (more than {MAX_MAGNITUDE:g}; use a larger unit)",
                    values)
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
        if not isinstance(names, tuple):  # a bare string would be read letter by letter
            problems.add(field, "must be a list with one entry each, not "
                         f"{type(names).__name__}", names)
            continue
        texts = [isinstance(v, str) for v in names]
        if not all(texts):
            k = texts.index(False)
            problems.add(f"{field}[{k}]", "must be text (or a whole number)", names[k])
            continue
        if count is not None and len(names) != count:
            problems.add(field, f"must have {count} entries, got {len(names)}")
        if field.endswith("names") and len(set(names)) != len(names):
            problems.add(field, "must be unique")
        clash = [k for k, v in enumerate(names) if v.partition("/")[0] == UNMET]
        if field == "pool_names" and clash:
            problems.add(f"{field}[{clash[0]}]", f"its site, {UNMET!r}, names unserved "
                         "demand in the answer's tables (Allocation.to_pandas); give the "
                         "pool another name", names[clash[0]])
    if isinstance(p.site_names, tuple) and len(p.site_names) != p.n_sites and site_ok:
        problems.add("site_names", f"must have {p.n_sites} entries, got {len(p.site_names)}")
    for k, unit in enumerate(p.resource_units if isinstance(p.resource_units, tuple) else ()):
        if not isinstance(unit, str):
            continue
        try:
            read_unit(unit, f"resource_units[{k}]")
        except FieldError as error:
            problems.items.append(error)
    if p.cost_unit is not None:
        try:
            money = read_unit(p.cost_unit, "cost_unit")
            if money.dimensionality.get("[currency]") != 1:
                problems.add("cost_unit", "must be money, or money per time (e.g. 'yuan', "
                             "'yuan/year')", p.cost_unit)
        except FieldError as error:
            problems.items.append(error)
    if p.sense not in ("min", "max"):
        problems.add("sense", "must be 'min' or 'max'", p.sense)
    problems.raise_if_any()
