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
from collections.abc import Iterable, Mapping
from typing import Any, cast

import attrs
import numpy as np
from numpy.typing import NDArray

from capacity.checks import Finding, Severity, check_estate
from capacity.errors import FieldError, Problems
from capacity.months import month
from capacity.provenance import Provenance
from capacity.resources import N_RESOURCES, Resource, ResourceVector
from capacity.units import Q_, Precision, Quantity, parse_quantity, ureg

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


def _lenient_quantity(value: object) -> Quantity:
    # Parse "8 kW" strings early so fields hold quantities; anything unreadable is kept
    # as given and reported, with every other problem, by the class's validation pass.
    if isinstance(value, str):
        try:
            return Q_(value)
        except Exception:  # reported later, with its field path
            return cast(Quantity, value)
    return cast(Quantity, value)


def _optional_quantity(value: object) -> Quantity | None:
    return None if value is None else _lenient_quantity(value)


def _check_quantity(problems: Problems, path: str, value: object, unit: str,
                    *, positive: bool = False) -> Quantity | None:
    """Validate one quantity field; record problems, return the quantity if it is good."""
    try:
        q = parse_quantity(value, unit, path)
    except FieldError as exc:
        problems.add(exc.path, exc.reason, exc.value)
        return None
    m = np.asarray(q.magnitude)
    if positive and np.any(m <= 0):
        problems.add(path, "must be positive", f"{q:~P}")
        return None
    if np.any(m < 0):
        problems.add(path, "must not be negative", f"{q:~P}")
        return None
    return q


class Status(enum.Enum):
    """Life-cycle status of a site."""

    OPERATING = "operating"
    UNDER_CONSTRUCTION = "under construction"
    PLANNED = "planned"
    ANNOUNCED = "announced"


_PROFILE_KINDS = ("general", "ai", "hpc", "storage", "network")
_COOLING = ("air", "liquid")


def _compute_map(value: object) -> Mapping[Precision, Quantity]:
    if not isinstance(value, Mapping):
        return cast(Mapping[Precision, Quantity], value)
    out: dict[Any, Any] = {}
    for k, v in value.items():
        key = k
        if isinstance(k, str):
            try:
                key = Precision[k.strip().upper()]
            except KeyError:
                key = k
        out[key] = _lenient_quantity(v)
    return out


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

    name: str
    it_power: Quantity = attrs.field(converter=_lenient_quantity)
    floor_area: Quantity = attrs.field(converter=_lenient_quantity)
    vcpu: Quantity = attrs.field(default="0 vCPU", converter=_lenient_quantity)
    storage: Quantity = attrs.field(default="0 TB", converter=_lenient_quantity)
    compute: Mapping[Precision, Quantity] = attrs.field(factory=dict, converter=_compute_map)
    kind: str = "general"
    cooling: str = "air"
    capex: Quantity | None = attrs.field(default=None, converter=_optional_quantity)
    provenance: Mapping[str, Provenance] = attrs.field(factory=dict)
    _vector: ResourceVector = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        p = Problems(f"cabinet profile {self.name!r}")
        self.validate_into(p)
        p.raise_if_any()
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

    def validate_into(self, p: Problems, prefix: str = "") -> None:
        """Record every problem of this profile in `p`, paths under `prefix`."""
        at = f"{prefix}." if prefix else ""
        if not isinstance(self.name, str) or not self.name.strip():
            p.add(f"{at}name", "must be a non-empty string", self.name)
        _check_quantity(p, f"{at}it_power", self.it_power, "kW", positive=True)
        _check_quantity(p, f"{at}floor_area", self.floor_area, "m**2")
        _check_quantity(p, f"{at}vcpu", self.vcpu, "vCPU")
        _check_quantity(p, f"{at}storage", self.storage, "TB")
        if not isinstance(self.compute, Mapping):
            p.add(f"{at}compute", "must map precisions (fp64, fp32, fp16, int8) to compute",
                  self.compute)
        else:
            for key, q in self.compute.items():
                if not isinstance(key, Precision):
                    p.add(f"{at}compute.{key}", "unknown precision; use fp64, fp32, fp16 or "
                          "int8", key)
                    continue
                _check_quantity(p, f"{at}compute.{key.name.lower()}", q, key.value)
        if self.kind not in _PROFILE_KINDS:
            p.add(f"{at}kind", f"must be one of {', '.join(_PROFILE_KINDS)}", self.kind)
        if self.cooling not in _COOLING:
            p.add(f"{at}cooling", f"must be one of {', '.join(_COOLING)}", self.cooling)
        if self.capex is not None:
            _check_quantity(p, f"{at}capex", self.capex, "yuan")

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


def _site_counts(value: object) -> Mapping[str, int]:
    return dict(value) if isinstance(value, Mapping) else cast(Mapping[str, int], value)


def _month_or_raw(value: object) -> np.datetime64:
    try:
        return month(cast(Any, value))
    except FieldError:
        return cast(np.datetime64, value)


def _optional_month(value: object) -> np.datetime64 | None:
    return None if value is None else _month_or_raw(value)


def _tags(value: Iterable[str]) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else value)


def _status(value: object) -> Status:
    if isinstance(value, Status):
        return value
    try:
        return Status(str(value).replace("_", " ").lower())
    except ValueError:
        return cast(Status, value)


@attrs.frozen
class Site:
    """A data-centre site: cabinets by profile, power, price, status and provenance.

    Parameters
    ----------
    id
        Short unique key, e.g. ``"gannan-data-lake"``.
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
    provenance
        Origin of each figure, keyed by field name.
    """

    id: str
    name: str
    cabinets: Mapping[str, int] = attrs.field(factory=dict, converter=_site_counts)
    operator: str = ""
    name_en: str = ""
    pue: float = 1.5
    grid: Quantity | None = attrs.field(default=None, converter=_optional_quantity)
    electricity_price: Quantity | None = attrs.field(default=None,
                                                     converter=_optional_quantity)
    status: Status = attrs.field(default=Status.OPERATING, converter=_status)
    commissioned: np.datetime64 | None = attrs.field(default=None, converter=_optional_month)
    region: str = ""
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=_tags)
    provenance: Mapping[str, Provenance] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        p = Problems(f"site {self.id!r}")
        self.validate_into(p)
        p.raise_if_any()

    def validate_into(self, p: Problems, prefix: str = "") -> None:
        """Record every problem of this site in `p`, paths under `prefix`."""
        at = f"{prefix}." if prefix else ""
        if not isinstance(self.id, str) or not self.id.strip() or any(
                c.isspace() for c in self.id):
            p.add(f"{at}id", "must be a non-empty key without spaces", self.id)
        if not isinstance(self.cabinets, Mapping):
            p.add(f"{at}cabinets", "must map profile names to cabinet counts", self.cabinets)
        else:
            for name, n in self.cabinets.items():
                if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
                    p.add(f"{at}cabinets.{name}", "must be a whole number of cabinets", n)
                elif n < 0:
                    p.add(f"{at}cabinets.{name}", "must not be negative", n)
        pue = self.pue
        if isinstance(pue, bool) or not isinstance(pue, (int, float, np.floating)):
            p.add(f"{at}pue", "must be a number (facility power / IT power)", pue)
        elif not math.isfinite(pue) or pue < 1.0:
            p.add(f"{at}pue", "must be finite and at least 1", pue)
        if self.grid is not None:
            _check_quantity(p, f"{at}grid", self.grid, "kW")
        if self.electricity_price is not None:
            _check_quantity(p, f"{at}electricity_price", self.electricity_price, "yuan/kWh")
        if not isinstance(self.status, Status):
            p.add(f"{at}status", "must be one of " + ", ".join(s.value for s in Status),
                  self.status)
        if self.commissioned is not None and not isinstance(self.commissioned, np.datetime64):
            p.add(f"{at}commissioned", "is not a month (write it as 'YYYY-MM')",
                  self.commissioned)

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

    value: Quantity = attrs.field(converter=_lenient_quantity)
    provenance: Provenance = attrs.field(factory=lambda: Provenance.source("reported"))


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


def _site_tuple(value: Iterable[Site]) -> tuple[Site, ...]:
    return tuple(value)


def _profile_map(value: Mapping[str, CabinetProfile]) -> Mapping[str, CabinetProfile]:
    return dict(value)


def _reported_map(value: object) -> Mapping[Resource, Reported]:
    if not isinstance(value, Mapping):
        return cast(Mapping[Resource, Reported], value)
    out: dict[Any, Any] = {}
    for k, v in value.items():
        key: Any = k
        if isinstance(k, str):
            try:
                key = Resource.parse(k)
            except ValueError:
                key = k
        out[key] = v if isinstance(v, Reported) else Reported(v)
    return out


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

    sites: tuple[Site, ...] = attrs.field(converter=_site_tuple)
    profiles: Mapping[str, CabinetProfile] = attrs.field(converter=_profile_map)
    reported: Mapping[Resource, Reported] = attrs.field(factory=dict, converter=_reported_map)
    name: str = "estate"
    _counts: NDArray[np.float64] = attrs.field(init=False, repr=False, eq=False)
    _per_cabinet: NDArray[np.float64] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        p = Problems(f"estate {self.name!r}")
        for key, prof in self.profiles.items():
            if not isinstance(prof, CabinetProfile):
                p.add(f"profiles.{key}", "must be a CabinetProfile", prof)
            elif prof.name != key:
                p.add(f"profiles.{key}.name", f"must equal its key {key!r}", prof.name)
        seen: set[str] = set()
        for i, site in enumerate(self.sites):
            if not isinstance(site, Site):
                p.add(f"sites[{i}]", "must be a Site", site)
                continue
            if site.id in seen:
                p.add(f"sites[{i}].id", "duplicate site id", site.id)
            seen.add(site.id)
            for prof_name in site.cabinets:
                if prof_name not in self.profiles:
                    known = ", ".join(sorted(self.profiles)) or "none"
                    p.add(f"sites[{i}].cabinets.{prof_name}",
                          f"unknown cabinet profile (known: {known})", prof_name)
        for r, rep in self.reported.items():
            if not isinstance(r, Resource):
                p.add(f"reported.{r}", "unknown resource", r)
                continue
            _check_quantity(p, f"reported.{r.name.lower()}", rep.value, str(r.unit))
        p.raise_if_any()
        names = list(self.profiles)
        counts = np.array([[site.cabinets.get(n, 0) for n in names] for site in self.sites],
                          dtype=np.float64).reshape(len(self.sites), len(names))
        per_cab = np.array([self.profiles[n].vector.values for n in names],
                           dtype=np.float64).reshape(len(names), N_RESOURCES)
        counts.flags.writeable = False
        per_cab.flags.writeable = False
        object.__setattr__(self, "_counts", counts)
        object.__setattr__(self, "_per_cabinet", per_cab)

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
            out += [(f"profiles.{name}.{f}", pv) for f, pv in prof.provenance.items()
                    if pv.is_assumption]
        for site in self.sites:
            out += [(f"sites.{site.id}.{f}", pv) for f, pv in site.provenance.items()
                    if pv.is_assumption]
        out += [(f"reported.{r.name.lower()}", rep.provenance)
                for r, rep in self.reported.items() if rep.provenance.is_assumption]
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
