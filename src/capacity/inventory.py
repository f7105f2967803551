"""What an estate has: cabinet profiles, sites, and the estate that sums them.

A :class:`CabinetProfile` says what one cabinet of a kind provides (IT power, floor,
vCPU, storage, compute per precision). A :class:`Site` counts cabinets by profile and
carries its PUE, grid envelope, electricity price, status and the provenance of each
figure. An :class:`Estate` holds sites and profiles, sums them as one float matrix, keeps
reported totals beside computed ones, and runs the sanity checks a planner wants flagged.

Bad input raises one :class:`~capacity.errors.ValidationError` listing every problem with
its field path; sanity checks return :class:`Finding` values and never raise.

Examples
--------
>>> from capacity import Q_, Resource
>>> from capacity.inventory import CabinetProfile, Estate, Site
>>> general = CabinetProfile("general", it_power="5 kW", floor_area="12 m**2",
...                          vcpu="1000 vCPU")
>>> estate = Estate(
...     sites=(Site("a", "Site A", cabinets={"general": 100}),
...            Site("b", "Site B", cabinets={"general": 20})),
...     profiles={"general": general})
>>> estate.total(Resource.CABINETS)
<Quantity(120.0, 'cabinet')>
>>> estate.total(Resource.IT_POWER).to("MW")
<Quantity(0.6, 'megawatt')>
"""

from __future__ import annotations

import enum
import html
import math
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from capacity import fields
from capacity.checks import Finding, Severity, check_estate
from capacity.errors import FieldError, Problems
from capacity.paths import Item, join
from capacity.provenance import Kind, Provenance
from capacity.resources import N_RESOURCES, Resource, ResourceVector
from capacity.units import Q_, Precision, Quantity, ureg

__all__ = [
    "CabinetProfile",
    "Estate",
    "Finding",
    "Reconciliation",
    "Reported",
    "Severity",
    "Site",
    "Status",
]


class Status(enum.Enum):
    """Life-cycle status of a site."""

    OPERATING = "operating"
    UNDER_CONSTRUCTION = "under construction"
    PLANNED = "planned"
    ANNOUNCED = "announced"


_PROFILE_KINDS = ("general", "ai", "hpc", "storage", "network")
_COOLING = ("air", "liquid")


def _precision(key: Any, path: str) -> Precision:
    if isinstance(key, Precision):
        return key
    names = [p.name.lower() for p in Precision]
    if isinstance(key, str) and key.strip().lower() in names:
        return Precision[key.strip().upper()]
    raise FieldError(path, f"unknown precision; use {', '.join(names)}", key)


def _compute(value: Any, precision: Precision, owner: Any, path: str) -> Quantity:
    return fields.read_amount(value, Resource.compute(precision).unit, path, "nonnegative")


@attrs.frozen
class CabinetProfile:
    """What one cabinet of a kind provides.

    Parameters
    ----------
    name
        Key of the profile in an estate, e.g. ``"cloud-general"``.
    it_power
        IT power per cabinet, ``[power]`` (e.g. ``"5 kW"``).
    floor_area
        Machine-room floor per cabinet, including its share of aisles, ``[area]``.
    vcpu
        Virtual CPUs per cabinet, ``[vcpu]``.
    storage
        Storage per cabinet, ``[information]`` (e.g. ``"12 TB"``).
    compute
        Peak compute per cabinet by precision, each ``[compute_<precision>]``; keys are
        :class:`~capacity.units.Precision` members or their names (``"fp16"``).
    kind
        ``"general"``, ``"ai"``, ``"hpc"``, ``"storage"`` or ``"network"``.
    cooling
        ``"air"`` or ``"liquid"``.
    capex
        Investment per cabinet, ``[currency]``, if known.
    provenance
        Origin of each figure, keyed by field name.
    """

    name: str = fields.text(key=True)
    it_power: Quantity = fields.quantity("kW", sign="positive")
    floor_area: Quantity = fields.quantity("m**2")
    vcpu: Quantity = fields.quantity("vCPU", default=fields.zero("vCPU"))
    storage: Quantity = fields.quantity("TB", default=fields.zero("TB"))
    compute: Mapping[Precision, Quantity] = fields.table(
        _precision, _compute, write_key=lambda p: p.name.lower(),
        write_value=fields.written_quantity, describe="compute by precision",
        parses="quantity")
    kind: str = fields.text(default="general", choices=_PROFILE_KINDS)
    cooling: str = fields.text(default="air", choices=_COOLING)
    capex: Quantity | None = fields.quantity("yuan", optional=True)
    provenance: Mapping[str, Provenance] = fields.provenance()
    _vector: ResourceVector = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        fields.settle(self, fields.named("cabinet profile", self.name))
        v = np.zeros(N_RESOURCES)
        v[Resource.CABINETS.index] = 1.0
        v[Resource.IT_POWER.index] = self.it_power.m_as(Resource.IT_POWER.unit)
        v[Resource.FLOOR_AREA.index] = self.floor_area.m_as(Resource.FLOOR_AREA.unit)
        v[Resource.VCPU.index] = self.vcpu.m_as(Resource.VCPU.unit)
        v[Resource.STORAGE.index] = self.storage.m_as(Resource.STORAGE.unit)
        for precision, q in self.compute.items():
            r = Resource.compute(precision)
            v[r.index] = q.m_as(r.unit)
        object.__setattr__(self, "_vector", ResourceVector(v))

    @property
    def vector(self) -> ResourceVector:
        """What one cabinet provides, as a resource vector (cabinets = 1)."""
        return self._vector

    def amount(self, resource: Resource) -> Quantity:
        """What one cabinet provides of `resource`."""
        return self._vector[resource]

    def cabinets_for(self, target: Quantity) -> int:
        """Whole cabinets of this profile that provide `target` (any resource's amount).

        Raises
        ------
        FieldError
            If this profile provides none of the target's resource.

        Examples
        --------
        >>> ai = CabinetProfile("ai", it_power="40 kW", floor_area="10 m**2", kind="ai",
        ...                     compute={"fp16": "0.65 PFLOPS_fp16"})
        >>> ai.cabinets_for(Q_("130 PFLOPS_fp16"))
        200
        """
        r = Resource.for_quantity(target)
        per = float(self.vector.values[r.index])
        if per <= 0:
            raise FieldError("target", f"profile {self.name!r} provides no {r.label}",
                             f"{target:~P}")
        return math.ceil(float(target.m_as(r.unit)) / per - 1e-9)

    @property
    def standard_racks(self) -> float:
        """Standard racks (2.5 kW each) one cabinet of this profile counts as."""
        return float(self.it_power.m_as("standard_rack"))


#: The site the allocation's tables give unserved demand; no site or pool may be called so.
UNMET = "unmet"


@attrs.frozen
class Site:
    """A data-centre site: cabinets by profile, power, price, status and provenance.

    Parameters
    ----------
    id
        Short unique key, e.g. ``"gannan-data-lake"``; not ``"unmet"``, the site the
        allocation's tables give unserved demand.
    name
        Local name as written in the source, e.g. ``"赣南数据湖"``.
    cabinets
        Number of cabinets of each profile, keyed by profile name.
    operator
        Who runs the site.
    name_en
        English name.
    pue
        Power usage effectiveness (facility power / IT power), dimensionless, ≥ 1.
    grid
        Grid power envelope of the facility, ``[power]``, if known.
    electricity_price
        Price of electricity, ``[currency]/[energy]`` (e.g. ``"0.6 yuan/kWh"``), if known.
    status
        Operating, under construction, planned or announced.
    commissioned
        Month the site entered (or enters) service, if known.
    region
        Region or district, free text.
    tags
        Labels used by eligibility rules (``"government-cloud"``, ``"ai"``, ...).
    public
        Whether the site is publicly owned (by the city or its investment group): the
        revenue a policy brings it offsets part of the policy's outlay in an appraisal.
    provenance
        Origin of each figure, keyed by field name.
    """

    id: str = fields.text(key=True)
    name: str = fields.text()
    cabinets: Mapping[str, int] = fields.counts()
    operator: str = fields.text(default="")
    name_en: str = fields.text(default="")
    pue: float = fields.number(default=1.5, low=1.0, describe="facility power / IT power")
    grid: Quantity | None = fields.quantity("kW", optional=True)
    electricity_price: Quantity | None = fields.quantity("yuan/kWh", optional=True)
    status: Status = fields.choice(Status, default=Status.OPERATING)
    commissioned: np.datetime64 | None = fields.month(optional=True)
    region: str = fields.text(default="")
    tags: frozenset[str] = fields.tags()
    public: bool = fields.flag()
    provenance: Mapping[str, Provenance] = fields.provenance()

    def __attrs_post_init__(self) -> None:
        fields.settle(self, fields.named("site", self.id), self._rules)

    def _rules(self, p: Problems) -> None:
        if fields.valid(self, "id") and self.id == UNMET:
            p.add("id", f"{UNMET!r} is the site the allocation's tables give unserved "
                  "demand; give the site another id", self.id)

    @property
    def serves_from(self) -> np.datetime64 | None:
        """First month the site's own cabinets serve, or ``None`` for never.

        Its `commissioned` month, else always when it is operating; ``None`` when they
        never do (only what projects build there serves).
        """
        if self.commissioned is not None:
            return self.commissioned
        if self.status is Status.OPERATING:
            return np.datetime64("0001-01", "M")
        return None

    @property
    def n_cabinets(self) -> int:
        """Cabinets at the site, all profiles."""
        return int(sum(self.cabinets.values()))

    def label(self) -> str:
        """Name for display: local name with the English name, if any."""
        return f"{self.name} ({self.name_en})" if self.name_en else self.name

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>"
                       for k, v in self.cabinets.items())
        return (f"<b>{html.escape(self.label())}</b> <code>{html.escape(self.id)}</code>, "
                f"{self.status.value}, PUE {self.pue:g}"
                f"<table><tr><th>profile</th><th>cabinets</th></tr>{rows}</table>")


@attrs.frozen
class Reported:
    """A total as a source reports it, kept beside the computed one."""

    value: Quantity = fields.quantity(None)
    provenance: Provenance = fields.nested(Provenance,
                                           factory=lambda: Provenance.source("reported"))

    def __attrs_post_init__(self) -> None:
        fields.settle(self, "reported total")


@attrs.frozen
class Reconciliation:
    """A reported total against the total computed from sites and profiles."""

    resource: Resource
    reported: Quantity
    computed: Quantity
    provenance: Provenance

    @property
    def difference(self) -> Quantity:
        """Computed minus reported."""
        diff: Quantity = self.computed - self.reported.to(self.computed.units)
        return diff

    @property
    def relative(self) -> float:
        """Difference as a fraction of the reported total (``nan`` if it is zero)."""
        rep = float(self.reported.m_as(self.computed.units))
        return float(self.difference.magnitude) / rep if rep else math.nan

    def agrees(self, rtol: float = 1e-6) -> bool:
        """True when computed and reported agree within `rtol`."""
        return abs(self.relative) <= rtol if not math.isnan(self.relative) else \
            float(self.difference.magnitude) == 0


def _resource(key: Any, path: str) -> Resource:
    try:
        return Resource.parse(key)
    except (ValueError, AttributeError):
        names = [m.name.lower() for m in Resource]
        hint = fields._hint(str(key).lower(), names)
        raise FieldError(path, f"unknown resource; use one of {', '.join(names)}{hint}",
                         key) from None


def _reported(value: Any, resource: Resource, owner: Any, path: str) -> Reported:
    rep = value if isinstance(value, Reported) else Reported(value)
    fields.read_amount(rep.value, resource.unit, f"{path}.value", "nonnegative")
    return rep


def _profile(value: Any, key: str, owner: Any, path: str) -> CabinetProfile:
    if not isinstance(value, CabinetProfile):
        raise FieldError(path, "must be a CabinetProfile", type(value).__name__)
    if value.name != key:
        raise FieldError(f"{path}.name", f"must equal its key {key!r}", value.name)
    return value


@attrs.frozen
class Estate:
    """Sites and the cabinet profiles they use; sums, densities, reconciliation, checks.

    Parameters
    ----------
    sites
        The sites, each with a unique id.
    profiles
        Cabinet profiles keyed by name; every profile a site counts must be here.
    reported
        Totals as a source reports them, keyed by resource, kept beside the computed ones.
    name
        Name of the estate.
    """

    sites: tuple[Site, ...] = fields.instances(Site, required=True)
    profiles: Mapping[str, CabinetProfile] = fields.table(
        lambda k, p: fields.read_text(k, p, key=True), _profile, nested=True, required=True,
        describe="cabinet profiles by name")
    reported: Mapping[Resource, Reported] = fields.table(
        _resource, _reported, write_key=lambda r: r.name.lower(), nested=True,
        describe="reported totals by resource")
    name: str = fields.text(default="estate")
    _counts: NDArray[np.float64] = attrs.field(init=False, repr=False, eq=False)
    _per_cabinet: NDArray[np.float64] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        fields.settle(self, fields.named("estate", self.name), self._rules)
        names = list(self.profiles)
        counts = np.array([[site.cabinets.get(n, 0) for n in names] for site in self.sites],
                          dtype=np.float64).reshape(len(self.sites), len(names))
        per_cab = np.array([self.profiles[n].vector.values for n in names],
                           dtype=np.float64).reshape(len(names), N_RESOURCES)
        counts.flags.writeable = False
        per_cab.flags.writeable = False
        object.__setattr__(self, "_counts", counts)
        object.__setattr__(self, "_per_cabinet", per_cab)

    def _rules(self, p: Problems) -> None:
        if not fields.valid(self, "sites", "profiles"):
            return
        seen: set[str] = set()
        for i, site in enumerate(self.sites):
            if site.id in seen:
                p.add(f"sites[{i}].id", "duplicate site id", site.id)
            seen.add(site.id)
            for prof_name in site.cabinets:
                if prof_name not in self.profiles:
                    known = ", ".join(sorted(self.profiles)) or "none"
                    p.add(f"sites[{i}].cabinets.{prof_name}",
                          f"unknown cabinet profile (known: {known})", prof_name)

    # -- lookups -----------------------------------------------------------------------
    @property
    def site_ids(self) -> tuple[str, ...]:
        """The ids of the sites, in order."""
        return tuple(s.id for s in self.sites)

    def site(self, site_id: str) -> Site:
        """The site with id `site_id`.

        Raises
        ------
        FieldError
            If there is no such site.
        """
        for s in self.sites:
            if s.id == site_id:
                return s
        raise FieldError("site", f"unknown site (known: {', '.join(self.site_ids)})", site_id)

    def _site_index(self, site_id: str) -> int:
        return self.sites.index(self.site(site_id))

    # -- sums (one matrix product; no scalar quantity arithmetic) -----------------------
    def capacity_matrix(self) -> NDArray[np.float64]:
        """Capacity of every site, shape ``(n_sites, len(Resource))``, canonical units."""
        return self._counts @ self._per_cabinet

    def capacity(self, site_id: str | None = None) -> ResourceVector:
        """Capacity of one site, or of the whole estate when `site_id` is None."""
        m = self.capacity_matrix()
        if site_id is None:
            return ResourceVector(m.sum(axis=0))
        return ResourceVector(m[self._site_index(site_id)])

    def total(self, resource: Resource) -> Quantity:
        """Estate-wide total of one resource, e.g. ``451 cabinet``."""
        return self.capacity()[resource]

    def totals(self) -> ResourceVector:
        """Estate-wide totals of every resource."""
        return self.capacity()

    def densities(self, site_id: str | None = None) -> dict[Resource, Quantity]:
        """Each resource per cabinet, at one site or estate-wide.

        Resources the site does not provide are left out.
        """
        cap = self.capacity(site_id)
        n = float(cap.values[Resource.CABINETS.index])
        if n == 0:
            return {}
        return {r: Q_(float(cap.values[r.index]) / n, r.unit / ureg.cabinet)
                for r in Resource
                if r is not Resource.CABINETS and cap.values[r.index] != 0}

    def standard_racks(self, site_id: str | None = None) -> Quantity:
        """IT power counted in standard racks (标准机架, 2.5 kW each)."""
        return self.capacity(site_id)[Resource.IT_POWER].to("standard_rack")

    def facility_power(self, site_id: str) -> Quantity:
        """IT power × PUE of one site at full load, ``[power]``."""
        site = self.site(site_id)
        power: Quantity = self.capacity(site_id)[Resource.IT_POWER] * site.pue
        return power

    # -- reported vs computed ------------------------------------------------------------
    def reconciliation(self) -> list[Reconciliation]:
        """Each reported total beside the computed one, with their difference."""
        tot = self.totals()
        return [Reconciliation(r, rep.value, tot[r], rep.provenance)
                for r, rep in self.reported.items()]

    def findings(self) -> list[Finding]:
        """Run the sanity checks (density bands, FLOPS per vCPU, PUE, AI power density)."""
        return check_estate(self)

    def assumptions(self) -> list[tuple[str, Provenance]]:
        """Every figure marked as an assumption, with the field path it belongs to."""
        out: list[tuple[str, Provenance]] = []
        for name, prof in self.profiles.items():
            out += [(join("profiles", name, f), pv) for f, pv in prof.provenance.items()
                    if pv.is_assumption]
        for site in self.sites:
            out += [(join("sites", Item(site.id), f), pv) for f, pv in site.provenance.items()
                    if pv.is_assumption]
        out += [(join("reported", r.name.lower()), rep.provenance)
                for r, rep in self.reported.items() if rep.provenance.is_assumption]
        return out

    def basis(self, site_id: str | None = None) -> dict[Resource, Kind | None]:
        """How each of a site's figures (or the estate's totals) is known.

        A site's figure is cabinets × the profile's figure per cabinet, so it is known as
        well as the weaker of the two: an assumed density makes an assumed figure, and a
        density derived from an estate-wide total (a pro-rata split) a derived one.
        An estate total that a source reports is a source figure unless every density
        behind it is assumed (a stated total read in an assumed unit, such as FLOPS of an
        unstated precision). Figures without provenance (an estate built in code) are
        ``None``; resources the site does not have are left out.

        Examples
        --------
        >>> from capacity.datasets import ganzhou
        >>> estate = ganzhou().estate
        >>> b = estate.basis("gannan-data-lake")
        >>> b[Resource.CABINETS].value, b[Resource.VCPU].value, b[Resource.IT_POWER].value
        ('source', 'derived', 'assumption')
        >>> estate.basis()[Resource.VCPU].value, estate.basis()[Resource.COMPUTE_FP32].value
        ('source', 'assumption')
        """
        sites = self.sites if site_id is None else (self.site(site_id),)
        cap = self.capacity(site_id).values
        out: dict[Resource, Kind | None] = {}
        for r in Resource:
            if cap[r.index] == 0:
                continue
            kinds = [_figure_kind(self.profiles[name], site, r)
                     for site in sites for name, n in site.cabinets.items() if n > 0
                     and self.profiles[name].vector.values[r.index] != 0]
            known = [k for k in kinds if k is not None]
            weakest = max(known, key=_KIND_ORDER.index) if len(known) == len(kinds) else None
            rep = self.reported.get(r) if site_id is None else None
            if rep is not None and rep.provenance.kind is not Kind.ASSUMPTION and (
                    any(k is not Kind.ASSUMPTION for k in kinds)):
                weakest = rep.provenance.kind
            out[r] = weakest
        return out

    # -- notebook ------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        shown = [r for r in Resource if np.any(self.capacity_matrix()[:, r.index] != 0)]
        head = "".join(f"<th>{html.escape(r.label)} [{r.unit:~P}]</th>" for r in shown)
        rows = []
        m = self.capacity_matrix()
        for i, s in enumerate(self.sites):
            cells = "".join(f"<td style='text-align:right'>{m[i, r.index]:,.4g}</td>"
                            for r in shown)
            rows.append(f"<tr><td>{html.escape(s.label())}</td><td>{s.status.value}</td>"
                        f"{cells}</tr>")
        tot = "".join(f"<td style='text-align:right'><b>{m[:, r.index].sum():,.4g}</b></td>"
                      for r in shown)
        rows.append(f"<tr><td><b>total</b></td><td></td>{tot}</tr>")
        return (f"<b>{html.escape(self.name)}</b>: {len(self.sites)} sites"
                f"<table><tr><th>site</th><th>status</th>{head}</tr>{''.join(rows)}</table>")


#: Provenance kinds from the best known to the least.
_KIND_ORDER = (Kind.SOURCE, Kind.DERIVED, Kind.ASSUMPTION)

#: The profile field each resource's figure per cabinet comes from.
_PROFILE_FIELD = {Resource.IT_POWER: "it_power", Resource.FLOOR_AREA: "floor_area",
                  Resource.VCPU: "vcpu", Resource.STORAGE: "storage"}


def _figure_kind(profile: CabinetProfile, site: Site, r: Resource) -> Kind | None:
    """How a site's figure of `r` from one profile is known: the weaker of count and density."""
    count = site.provenance.get("cabinets")
    if r is Resource.CABINETS:
        return count.kind if count is not None else None
    density = profile.provenance.get(_PROFILE_FIELD.get(r, "compute"))
    kinds = [p.kind for p in (count, density) if p is not None]
    if len(kinds) < 2:
        return None
    return max(kinds, key=_KIND_ORDER.index)
