"""What will be needed: demand blocks, each a growth model of one resource plus companions.

A :class:`DemandBlock` is one body of demand (government systems moving to the cloud, an
enterprise's AI training, a university's HPC): a growth model of its primary resource
(e.g. vCPU), fixed ratios of companion resources per unit (e.g. TB of storage per
vCPU), an eligibility rule (site tags that may host it) and a value of being served.

Examples
--------
>>> import numpy as np
>>> from capacity import Q_, Resource
>>> from capacity.growth import Compound
>>> gov = DemandBlock("gov", "government-cloud", Resource.VCPU,
...                   Compound(Q_("20000 vCPU"), "2025-01", 0.15),
...                   per_unit={Resource.STORAGE: "0.15 TB/vCPU"})
>>> need = gov.central(np.array(["2026-01"], dtype="datetime64[M]"))
>>> round(float(need[0, Resource.STORAGE.index]))
3450
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import attrs
import numpy as np
from numpy.typing import NDArray

from capacity.errors import FieldError, Problems
from capacity.growth import GrowthModel
from capacity.inventory import Site, _lenient_quantity, _optional_quantity, _tags
from capacity.provenance import Provenance
from capacity.resources import N_RESOURCES, Resource
from capacity.units import Quantity, parse_quantity

__all__ = ["DemandBlock"]


def _resource(value: object) -> Resource:
    try:
        return Resource.parse(cast(Any, value))
    except (ValueError, AttributeError):
        return cast(Resource, value)


def _per_unit(value: object) -> Mapping[Resource, Quantity]:
    if not isinstance(value, Mapping):
        return cast(Mapping[Resource, Quantity], value)
    return {_resource(k): _lenient_quantity(v) for k, v in value.items()}


@attrs.frozen
class DemandBlock:
    """One body of demand and how it grows.

    Parameters
    ----------
    name
        Key of the block.
    kind
        What it is, e.g. ``"government-cloud"``, ``"enterprise-ai"``, ``"research-hpc"``.
    resource
        The primary resource the growth model measures.
    growth
        Amount of `resource` needed over time; its unit must have that resource's
        dimension.
    per_unit
        Companion resources needed per unit of the primary, e.g.
        ``{Resource.STORAGE: "0.15 TB/vCPU"}``; each ``[companion]/[primary]``.
    eligible
        Site tags that may host the block (a site qualifies with any one); empty: any site.
    value
        What serving one unit of the primary for a year is worth, ``[currency]/[primary]
        /[time]``; the allocation's penalty for leaving it unmet.
    provenance
        Origin of each figure, keyed by field name.
    """

    name: str
    kind: str
    resource: Resource = attrs.field(converter=_resource)
    growth: GrowthModel
    per_unit: Mapping[Resource, Quantity] = attrs.field(factory=dict, converter=_per_unit)
    eligible: frozenset[str] = attrs.field(factory=frozenset, converter=_tags)
    value: Quantity | None = attrs.field(default=None, converter=_optional_quantity)
    provenance: Mapping[str, Provenance] = attrs.field(factory=dict)
    _ratios: NDArray[np.float64] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        p = Problems(f"demand block {self.name!r}")
        self.validate_into(p)
        p.raise_if_any()
        ratios = np.zeros(N_RESOURCES)
        ratios[self.resource.index] = 1.0
        for r, q in self.per_unit.items():
            ratios[r.index] = q.m_as(r.unit / self.resource.unit)
        ratios.flags.writeable = False
        object.__setattr__(self, "_ratios", ratios)

    def validate_into(self, p: Problems, prefix: str = "") -> None:
        """Record every problem of this block in `p`, paths under `prefix`."""
        at = f"{prefix}." if prefix else ""
        if not isinstance(self.resource, Resource):
            p.add(f"{at}resource", "unknown resource", self.resource)
            return
        if not isinstance(self.growth, GrowthModel):
            p.add(f"{at}growth", "must be a growth model", self.growth)
        elif self.growth.unit.dimensionality != self.resource.unit.dimensionality:
            p.add(f"{at}growth", f"grows in {self.growth.unit:~P}, not in "
                  f"{self.resource.label} ({self.resource.unit:~P})")
        if not isinstance(self.per_unit, Mapping):
            p.add(f"{at}per_unit", "must map resources to amounts per unit", self.per_unit)
            return
        for r, q in self.per_unit.items():
            path = f"{at}per_unit.{getattr(r, 'name', r)}".lower()
            if not isinstance(r, Resource):
                p.add(path, "unknown resource", r)
                continue
            try:
                amount = parse_quantity(q, r.unit / self.resource.unit, path)
            except FieldError as exc:
                p.add(exc.path, exc.reason, exc.value)
                continue
            if amount.magnitude < 0:
                p.add(path, "must not be negative", f"{amount:~P}")
        if self.value is not None:
            try:
                parse_quantity(self.value, f"yuan / ({self.resource.unit}) / year", f"{at}value")
            except FieldError as exc:
                p.add(exc.path, exc.reason, exc.value)

    @property
    def ratios(self) -> NDArray[np.float64]:
        """Need of every resource per unit of the primary, canonical units, ``(R,)``."""
        return self._ratios

    def hosts(self, site: Site) -> bool:
        """True when `site` may host this block."""
        return not self.eligible or bool(self.eligible & site.tags)

    def central(self, months: NDArray[np.datetime64]) -> NDArray[np.float64]:
        """Need of every resource on the central path, shape ``(n_months, R)``."""
        primary = self.growth.magnitudes(months, self.resource.unit)
        return np.asarray(primary)[:, None] * self._ratios

    def add_paths(self, out: NDArray[np.float64], months: NDArray[np.datetime64],
                  rng: np.random.Generator) -> None:
        """Add random paths of this block's need into `out`, shape ``(n_paths, n_months, R)``.

        Accumulates in place so a projection holds one demand array, whatever the number
        of blocks.
        """
        primary = self.growth.sample(months, out.shape[0], rng, self.resource.unit)
        for i in np.flatnonzero(self._ratios):
            out[:, :, i] += primary * self._ratios[i]
