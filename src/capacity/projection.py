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

import math
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import numpy as np
from numpy.typing import NDArray

from capacity.errors import FieldError
from capacity.inventory import CabinetProfile, Estate
from capacity.months import MonthLike, month, month_index, month_range
from capacity.plan import Plan
from capacity.resources import N_RESOURCES, Resource
from capacity.units import Q_, Quantity, ureg

if TYPE_CHECKING:
    from capacity.scenario import Scenario

__all__ = ["CabinetNeed", "Exhaustion", "Projection", "component_rng", "project"]


@attrs.frozen
class Exhaustion:
    """When a resource first runs short with at least a given probability."""

    resource: Resource
    probability: float
    month: np.datetime64 | None

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
    alpha
        The accepted probability of shortfall in any month.
    cabinets
        Cabinets needed (whole), ``[cabinet]``.
    by_resource
        Cabinets each resource alone would need.
    binding
        The resource that sets the number, if any.
    uncovered
        Resources that run short but which this profile does not provide: no number of its
        cabinets closes them.
    """

    profile: str
    alpha: float
    cabinets: Quantity
    by_resource: dict[Resource, Quantity]
    binding: Resource | None
    uncovered: tuple[Resource, ...]


@attrs.frozen(eq=False)
class Projection:
    """Monte Carlo paths of capacity and demand over a monthly axis.

    Build it with :func:`project`. Arrays are read-only; shapes are
    ``(n_paths, n_months, len(Resource))`` in canonical units.
    """

    months: NDArray[np.datetime64]
    capacity: NDArray[np.float64] = attrs.field(repr=False)
    demand: NDArray[np.float64] = attrs.field(repr=False)
    delays: dict[str, NDArray[np.int64]] = attrs.field(repr=False)
    estate: Estate = attrs.field(repr=False)
    plan: Plan = attrs.field(repr=False)
    seed: int = 0

    @property
    def n_paths(self) -> int:
        """Number of Monte Carlo paths."""
        return int(self.capacity.shape[0])

    def _at(self, when: MonthLike) -> int:
        return month_index(self.months, when)

    # -- paths and quantiles -------------------------------------------------------------
    def capacity_paths(self, resource: Resource, site: str | None = None) -> Quantity:
        """Capacity paths of one resource, estate-wide or at one site, ``(n_paths, n_months)``."""
        if site is None:
            return ureg.Quantity(self.capacity[:, :, resource.index], resource.unit)
        built = self.plan.built_estate(self.estate)
        j = built.site_ids.index(built.site(site).id)
        base = built.capacity_matrix()[j, resource.index]
        add = self.plan.additions(self.estate)[:, j, resource.index]
        out = np.full((self.n_paths, self.months.size), base)
        for k, proj in enumerate(self.plan.projects):
            if add[k]:
                out += add[k] * proj.online(self.months, self.delays[proj.name])
        return ureg.Quantity(out, resource.unit)

    def demand_paths(self, resource: Resource) -> Quantity:
        """Demand paths of one resource, ``(n_paths, n_months)``."""
        return ureg.Quantity(self.demand[:, :, resource.index], resource.unit)

    def quantiles(self, resource: Resource, q: Sequence[float] = (0.05, 0.5, 0.95),
                  *, of: str = "capacity") -> Quantity:
        """Quantiles over paths of capacity or demand, shape ``(len(q), n_months)``."""
        data = {"capacity": self.capacity, "demand": self.demand}.get(of)
        if data is None:
            raise FieldError("of", "must be 'capacity' or 'demand'", of)
        return ureg.Quantity(np.quantile(data[:, :, resource.index], q, axis=0), resource.unit)

    def capacity_at(self, when: MonthLike, resource: Resource) -> Quantity:
        """Median capacity over paths of one resource at a month."""
        return Q_(float(np.median(self.capacity[:, self._at(when), resource.index])),
                  resource.unit)

    def demand_at(self, when: MonthLike, resource: Resource) -> Quantity:
        """Median demand over paths of one resource at a month."""
        return Q_(float(np.median(self.demand[:, self._at(when), resource.index])),
                  resource.unit)

    # -- shortfall -----------------------------------------------------------------------
    def shortfall_probability(self, resource: Resource | None = None) -> NDArray[np.float64]:
        """P(demand > capacity) per month.

        Shape ``(n_months,)`` for one resource, else ``(n_months, R)``.
        """
        short = self.demand > self.capacity * (1 + 1e-12) + 1e-9
        p: NDArray[np.float64] = short.mean(axis=0)
        return p if resource is None else p[:, resource.index]

    def exhaustion(self, probability: float = 0.5) -> list[Exhaustion]:
        """For each resource with demand, the first month P(shortfall) ≥ `probability`.

        Sorted earliest first; resources that never run short come last.
        """
        if not 0 < probability <= 1:
            raise FieldError("probability", "must be in (0, 1]", probability)
        p = self.shortfall_probability()
        out = []
        for r in Resource:
            if not np.any(self.demand[:, :, r.index]):
                continue
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

    def cabinets_needed(self, profile: CabinetProfile | str, alpha: float = 0.05) -> CabinetNeed:
        """Cabinets of `profile` to add now to keep P(shortfall) ≤ `alpha` every month.

        For each path and month the deficit of each resource is divided by what one
        cabinet provides; the need is the (1 − α) quantile over paths, maximised over
        months, rounded up.
        """
        if not 0 <= alpha < 1:
            raise FieldError("alpha", "must be in [0, 1)", alpha)
        prof = self.estate.profiles[profile] if isinstance(profile, str) else profile
        per_cab = prof.vector.values
        deficit = np.maximum(self.demand - self.capacity, 0.0)
        by_resource: dict[Resource, Quantity] = {}
        uncovered = []
        for r in Resource:
            d = deficit[:, :, r.index]
            if not np.any(d):
                continue
            worst = float(np.max(np.quantile(d, 1 - alpha, axis=0)))
            if worst <= 1e-9:
                continue
            if per_cab[r.index] <= 0:
                uncovered.append(r)
                continue
            by_resource[r] = Q_(math.ceil(worst / per_cab[r.index] - 1e-9), "cabinet")
        binding = max(by_resource, key=lambda r: by_resource[r].magnitude, default=None)
        n = by_resource[binding].magnitude if binding is not None else 0
        return CabinetNeed(prof.name, alpha, Q_(n, "cabinet"), by_resource, binding,
                           tuple(uncovered))

    def _repr_html_(self) -> str:
        rows = "".join(f"<li>{e}</li>" for e in self.exhaustion(0.5))
        return (f"<b>Projection</b>: {self.n_paths:,} paths, {self.months[0]} to "
                f"{self.months[-1]}<ul>{rows}</ul>")


def component_rng(seed: int, kind: str, name: str) -> np.random.Generator:
    """The random stream of one component (``kind`` "project" or "demand") of a projection.

    One stream per component, keyed by its name: adding a project leaves every other
    component's draws unchanged, so variants of a scenario compare path by path, and a
    caller can redraw one block's paths exactly as :func:`project` drew them.
    """
    key = zlib.crc32(f"{kind}:{name}".encode())
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))


def project(scenario: Scenario, *, start: MonthLike, end: MonthLike, n_paths: int = 10_000,
            seed: int = 0) -> Projection:
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

    Returns
    -------
    Projection
    """
    if isinstance(n_paths, bool) or not isinstance(n_paths, int) or n_paths < 1:
        raise FieldError("n_paths", "must be a positive whole number", n_paths)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise FieldError("seed", "must be a non-negative whole number", seed)
    months = month_range(month(start, "start"), month(end, "end"))
    estate, plan = scenario.estate, scenario.plan
    built = plan.built_estate(estate)

    capacity = np.empty((n_paths, months.size, N_RESOURCES))
    capacity[:] = built.capacity_matrix().sum(axis=0)
    additions = plan.additions(estate).sum(axis=1)  # (n_projects, R)
    delays: dict[str, NDArray[np.int64]] = {}
    for k, proj in enumerate(plan.projects):
        delays[proj.name] = proj.slippage.draw(n_paths, component_rng(seed, "project", proj.name))
        cols = np.flatnonzero(additions[k])
        if cols.size:
            share = proj.online(months, delays[proj.name])
            for i in cols:
                capacity[:, :, i] += share * additions[k, i]

    demand = np.zeros((n_paths, months.size, N_RESOURCES))
    for block in scenario.demands:
        block.add_paths(demand, months, component_rng(seed, "demand", block.name))
    capacity.flags.writeable = False
    demand.flags.writeable = False
    return Projection(months, capacity, demand, delays, estate, plan, seed)
