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
from typing import Any

import attrs
import numpy as np
import pint
from numpy.typing import NDArray

from capacity import fields
from capacity.errors import FieldError, Problems
from capacity.growth import GrowthModel
from capacity.inventory import Site, _resource
from capacity.provenance import Provenance
from capacity.resources import N_RESOURCES, Resource
from capacity.units import Quantity, ureg

__all__ = ["DemandBlock"]


def _companion(value: Any, companion: Resource, owner: DemandBlock, path: str) -> Quantity:
    primary = owner.resource
    if companion is primary:
        raise FieldError(path, "is the block's own resource: one unit of it needs exactly one",
                         f"{value}")
    unit = companion.unit / primary.unit if isinstance(primary, Resource) else None
    return fields.read_amount(value, unit, path, "nonnegative")


def _value_unit(owner: DemandBlock) -> pint.Unit:
    return ureg.Unit(ureg.yuan / owner.resource.unit / ureg.year)


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

    name: str = fields.text(key=True)
    kind: str = fields.text(nonempty=True)
    resource: Resource = fields.choice_of(_resource, lambda r: r.name.lower(), "resource")
    growth: GrowthModel = fields.nested(GrowthModel)
    per_unit: Mapping[Resource, Quantity] = fields.table(
        _resource, _companion, write_key=lambda r: r.name.lower(),
        write_value=fields.written_quantity, describe="companions per unit of the primary",
        parses="quantity")
    eligible: frozenset[str] = fields.tags()
    value: Quantity | None = fields.quantity(_value_unit, optional=True)
    provenance: Mapping[str, Provenance] = fields.provenance()
    _ratios: NDArray[np.float64] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        fields.settle(self, fields.named("demand block", self.name), self._rules)
        ratios = np.zeros(N_RESOURCES)
        ratios[self.resource.index] = 1.0
        for r, q in self.per_unit.items():
            ratios[r.index] = q.m_as(r.unit / self.resource.unit)
        ratios.flags.writeable = False
        object.__setattr__(self, "_ratios", ratios)

    def _rules(self, p: Problems) -> None:
        if fields.valid(self, "growth", "resource") and \
                self.growth.unit.dimensionality != self.resource.unit.dimensionality:
            p.add("growth", f"grows in {self.growth.unit:~P}, not in "
                  f"{self.resource.label} ({self.resource.unit:~P})")

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
