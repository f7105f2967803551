"""What an estate will have, and when: build-out projects and the plan that holds them.

A :class:`Project` adds cabinets of given profiles at a site, ramping from its
construction start to its completion (a step, a straight line or an S-curve), with a
random slippage of the completion date. A :class:`Plan` holds projects, and the new
sites some of them build; it gives the estate's capacity at any month, and the
vectorised ramps the Monte Carlo projection uses.

Examples
--------
>>> from capacity import Resource
>>> from capacity.datasets import ganzhou
>>> s = ganzhou()
>>> cap = s.plan.capacity_as_planned(s.estate, "2027-12")
>>> round(cap[Resource.COMPUTE_FP16].m_as("PFLOPS_fp16"))
130
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import Mapping

import attrs
import numpy as np
from numpy.typing import NDArray

from capacity import fields
from capacity.errors import FieldError, Problems
from capacity.inventory import Estate, Site, Status
from capacity.months import MonthLike, month, months_between
from capacity.provenance import Provenance
from capacity.resources import N_RESOURCES, Resource, ResourceVector
from capacity.units import Quantity

__all__ = ["Plan", "Project", "Ramp", "Slippage"]

_MAX_DELAY = 1200.0  # months: a century, beyond any horizon a plan is projected over


class Ramp(enum.Enum):
    """How a project's capacity comes online between construction start and completion."""

    STEP = "step"
    LINEAR = "linear"
    S_CURVE = "s-curve"

    def fraction(self, elapsed: NDArray[np.float64],
                 duration: NDArray[np.float64]) -> NDArray[np.float64]:
        """Share of the project online after `elapsed` months of a `duration`-month build.

        Arrays broadcast; a zero duration means online at once.
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(duration > 0, elapsed / np.maximum(duration, 1e-12),
                         np.where(elapsed >= 0, 1.0, 0.0))
        x = np.clip(x, 0.0, 1.0)
        if self is Ramp.STEP:
            return (x >= 1.0).astype(np.float64)
        if self is Ramp.LINEAR:
            return x
        return x * x * (3.0 - 2.0 * x)  # smoothstep: 0 and 1 exactly at the ends


@attrs.frozen
class Slippage:
    """Random delay of a completion date, in whole months.

    The delay is gamma-distributed with the given mean and standard deviation (both in
    months) and rounded to whole months; it is never negative. ``sd = 0`` gives a fixed
    delay of ``mean`` months.

    Parameters
    ----------
    mean
        Mean delay, months.
    sd
        Standard deviation of the delay, months.
    """

    mean: float = fields.number(default=0.0, low=0.0, describe="months")
    sd: float = fields.number(default=0.0, low=0.0, describe="months")

    def __attrs_post_init__(self) -> None:
        fields.settle(self, "slippage", self._rules)

    def _rules(self, p: Problems) -> None:
        if fields.valid(self, "mean", "sd") and self.sd > 0 and self.mean <= 0:
            p.add("sd", "needs a positive mean: a delay that is never negative and averages "
                  "0 months is always 0", self.sd)

    def draw(self, n: int, rng: np.random.Generator) -> NDArray[np.int64]:
        """`n` delays in whole months, at most a century each."""
        fields.read_whole(n, "n")
        fields.read_instance(rng, np.random.Generator, "rng")
        # A spread this small is no spread: the gamma's shape would overflow.
        if self.sd <= 1e-6 * max(self.mean, 1.0):
            return np.full(n, min(round(self.mean), int(_MAX_DELAY)), dtype=np.int64)
        shape = (self.mean / self.sd) ** 2
        with np.errstate(over="ignore", invalid="ignore"):
            # A spread far above the mean puts nearly all mass at 0 and a rare delay beyond
            # any horizon: the shape underflows and the scale overflows. Such draws are
            # read as no delay (nan: 0 × inf) or as a century (inf), never cast as nan.
            draws = rng.gamma(shape, 1.0, size=n) * (self.sd**2 / self.mean)
        draws = np.nan_to_num(draws, nan=0.0, posinf=_MAX_DELAY)
        return np.rint(np.minimum(draws, _MAX_DELAY)).astype(np.int64)

    def median(self, n: int = 20_001, seed: int = 0) -> float:
        """Median delay in months (by simulation, for reports)."""
        return float(np.median(self.draw(n, np.random.default_rng(seed))))


@attrs.frozen
class Project:
    """A build-out project: cabinets added at a site between two dates.

    Parameters
    ----------
    name
        Key of the project, e.g. ``"smart-computing-centre"``.
    site
        Id of the site the cabinets go to (an existing site, or one the plan builds).
    cabinets
        Cabinets added, by profile name. Empty for a project announced without a size: it is
        reported but contributes nothing.
    start
        Month construction starts.
    completion
        Planned month of completion (before slippage).
    ramp
        How capacity comes online between start and completion.
    slippage
        Random delay of the completion.
    capex
        Total investment, ``[currency]``, if known.
    status
        Status of the project.
    target
        A stated capacity goal of the project (e.g. ``"130 PFLOPS_fp16"``), of any
        resource's dimension; checked against the projection, not used to size it.
    target_by
        Month the target is due; only with a `target`.
    provenance
        Origin of each figure, keyed by field name.
    """

    name: str = fields.text(key=True)
    site: str = fields.text(key=True)
    cabinets: Mapping[str, int] = fields.counts()
    # Required, though after a field with a default: a missing month is reported as such.
    start: np.datetime64 = fields.month(default=fields.MISSING)
    completion: np.datetime64 = fields.month(default=fields.MISSING)
    ramp: Ramp = fields.choice(Ramp, default=Ramp.LINEAR)
    slippage: Slippage = fields.nested(Slippage, factory=Slippage)
    capex: Quantity | None = fields.quantity("yuan", optional=True)
    status: Status = fields.choice(Status, default=Status.PLANNED)
    target: Quantity | None = fields.quantity(None, optional=True)
    target_by: np.datetime64 | None = fields.month(optional=True)
    provenance: Mapping[str, Provenance] = fields.provenance()

    def __attrs_post_init__(self) -> None:
        fields.settle(self, fields.named("project", self.name), self._rules)

    def _rules(self, p: Problems) -> None:
        if fields.valid(self, "start", "completion") and self.completion < self.start:
            p.add("completion", f"is before the construction start ({self.start})",
                  str(self.completion))
        if fields.valid(self, "target", "target_by") and self.target is None \
                and self.target_by is not None:
            p.add("target_by", "is the month a target is due, and the project has no target",
                  str(self.target_by))
        if fields.valid(self, "target") and self.target is not None:
            try:
                Resource.for_quantity(self.target)
            except ValueError:
                p.add("target", "is not an amount of any resource", f"{self.target:~P}")

    @property
    def target_resource(self) -> Resource | None:
        """The resource the target is stated in, if there is a target."""
        return Resource.for_quantity(self.target) if self.target is not None else None

    @property
    def sized(self) -> bool:
        """False for a project announced without any cabinets."""
        return sum(self.cabinets.values()) > 0

    @property
    def duration(self) -> int:
        """Planned months from construction start to completion."""
        return months_between(self.start, self.completion)

    def online(self, months: NDArray[np.datetime64],
               delays: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        """Share of the project online at each month.

        Parameters
        ----------
        months
            The monthly axis, shape ``(n_months,)``.
        delays
            Completion delays in months, shape ``(n_paths,)``; none means as planned.

        Returns
        -------
        numpy.ndarray
            Shape ``(n_months,)``, or ``(n_paths, n_months)`` with delays.
        """
        try:  # a list of months, or of 'YYYY-MM' texts, is an axis too
            months = np.asarray(months, dtype="datetime64[M]")
        except (TypeError, ValueError):
            raise FieldError("months", "must be months ('YYYY-MM' or datetime64)",
                             months) from None
        elapsed = (months - self.start).astype(np.float64)
        if delays is None:
            return self.ramp.fraction(elapsed, np.asarray(float(self.duration)))
        # delays are whole months and few distinct: one ramp per distinct delay
        distinct, which = np.unique(np.asarray(delays), return_inverse=True)
        duration = (self.duration + distinct).astype(np.float64)[:, None]
        return self.ramp.fraction(elapsed[None, :], duration)[which.reshape(-1)]


@attrs.frozen
class Plan:
    """Build-out projects, and the new sites they build.

    Parameters
    ----------
    projects
        The projects.
    sites
        Sites the plan builds (not yet in the estate); they start with no cabinets of their
        own beyond what they list, and projects add to them.
    """

    projects: tuple[Project, ...] = fields.instances(Project)
    sites: tuple[Site, ...] = fields.instances(Site)

    def __attrs_post_init__(self) -> None:
        fields.settle(self, "plan")

    def validate_against(self, estate: Estate) -> None:
        """Check that every project's site and profiles exist; raise every problem at once.

        Raises
        ------
        ValidationError
            If a project names an unknown site or profile, or a project name repeats.
        """
        fields.read_instance(estate, Estate, "estate")  # (a scenario's is scenario.estate)
        p = Problems("plan")
        known = set(estate.site_ids)
        for i, site in enumerate(self.sites):
            if site.id in known:
                p.add(f"plan.sites[{i}].id", "duplicates a site of the estate or the plan",
                      site.id)
            known.add(site.id)
        names: set[str] = set()
        for i, proj in enumerate(self.projects):
            if proj.name in names:
                p.add(f"plan.projects[{i}].name", "duplicate project name", proj.name)
            names.add(proj.name)
            if proj.site not in known:
                p.add(f"plan.projects[{i}].site",
                      f"unknown site (known: {', '.join(sorted(known))})", proj.site)
            for prof in proj.cabinets:
                if prof not in estate.profiles:
                    p.add(f"plan.projects[{i}].cabinets.{prof}",
                          f"unknown cabinet profile (known: {', '.join(estate.profiles)})",
                          prof)
        p.raise_if_any()

    def built_estate(self, estate: Estate) -> Estate:
        """The estate with the plan's new sites added (their own cabinets only)."""
        self.validate_against(estate)
        return Estate(sites=(*estate.sites, *self.sites), profiles=estate.profiles,
                      reported=estate.reported, name=estate.name)

    def additions(self, estate: Estate) -> NDArray[np.float64]:
        """What each project adds when complete, shape ``(n_projects, n_sites, R)``.

        Sites are those of :meth:`built_estate`, in order.
        """
        built = self.built_estate(estate)
        ids = built.site_ids
        out = np.zeros((len(self.projects), len(ids), N_RESOURCES))
        for k, proj in enumerate(self.projects):
            j = ids.index(proj.site)
            for prof, n in proj.cabinets.items():
                out[k, j] += n * built.profiles[prof].vector.values
        return out

    def capacity_as_planned(self, estate: Estate, when: MonthLike) -> ResourceVector:
        """The estate's capacity at a month if every project keeps its planned dates.

        One deterministic figure, where :meth:`Projection.capacity_at
        <capacity.projection.Projection.capacity_at>` is the median over paths whose
        projects slip. A site's own cabinets count from :attr:`Site.serves_from
        <capacity.inventory.Site.serves_from>`, as in a projection.
        """
        m = np.array([month(when)], dtype="datetime64[M]")
        built = self.built_estate(estate)
        # a site's own cabinets count from when they serve, as in a projection
        serving = np.array([s.serves_from is not None and s.serves_from <= m[0]
                            for s in built.sites], dtype=bool)
        base = built.capacity_matrix()[serving].sum(axis=0)
        add = self.additions(estate).sum(axis=1)  # (n_projects, R)
        share = np.array([proj.online(m)[0] for proj in self.projects])
        return ResourceVector(base + (share[:, None] * add).sum(axis=0) if len(share)
                              else base)

    def capacity_at(self, estate: Estate, when: MonthLike) -> ResourceVector:
        """Deprecated name of :meth:`capacity_as_planned`.

        It shared its name with :meth:`Projection.capacity_at
        <capacity.projection.Projection.capacity_at>`, a median over slipping paths.
        """
        warnings.warn("Plan.capacity_at is renamed Plan.capacity_as_planned (a plan's own "
                      "dates; Projection.capacity_at is a median over slipping paths)",
                      DeprecationWarning, stacklevel=2)
        return self.capacity_as_planned(estate, when)

    def unsized(self) -> list[Project]:
        """Projects announced without a size: reported, contributing nothing."""
        return [p for p in self.projects if not p.sized]
