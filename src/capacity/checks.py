"""Sanity checks a planner wants flagged: figures outside the bands practice expects.

Checks return :class:`Finding` values; they never raise. Every band names its source
(the codes refer to the source list of the domain notes shipped with the Ganzhou dataset,
:data:`capacity.datasets.SOURCES`).

This module sits below :mod:`capacity.inventory`: it reads profiles, sites and estates
through the small protocols below, so the estate can run its own checks without an
import circle.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import attrs
import numpy as np

from capacity.resources import Resource, ResourceVector
from capacity.units import Precision, Quantity

__all__ = [
    "BANDS",
    "Band",
    "Finding",
    "Severity",
    "check_accelerator_density",
    "check_estate",
    "check_profile",
]


class Severity(enum.Enum):
    """How much a finding matters."""

    INFO = "info"
    WARNING = "warning"


@attrs.frozen
class Finding:
    """One result of a sanity check: a figure outside the band a planner expects.

    Parameters
    ----------
    code
        Stable identifier of the check, e.g. ``"density.vcpu"``.
    severity
        Info or warning.
    subject
        What the finding is about (a site id, a profile name, or ``"estate"``).
    message
        The finding in plain words, with its figures.
    reference
        The source of the expected band.
    """

    code: str
    severity: Severity
    subject: str
    message: str
    reference: str = ""

    def __str__(self) -> str:
        ref = f" [{self.reference}]" if self.reference else ""
        return f"{self.severity.value}: {self.subject}: {self.message}{ref}"


class _Profile(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def cooling(self) -> str: ...
    @property
    def it_power(self) -> Quantity: ...
    @property
    def vector(self) -> ResourceVector: ...
    def amount(self, resource: Resource) -> Quantity: ...


class _Status(Protocol):
    @property
    def value(self) -> str: ...


class _Site(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def pue(self) -> float: ...
    @property
    def status(self) -> _Status: ...
    @property
    def commissioned(self) -> np.datetime64 | None: ...
    @property
    def cabinets(self) -> Mapping[str, int]: ...


class _Reconciliation(Protocol):
    @property
    def resource(self) -> Resource: ...
    @property
    def computed(self) -> Quantity: ...
    @property
    def reported(self) -> Quantity: ...
    @property
    def relative(self) -> float: ...
    @property
    def provenance(self) -> object: ...
    def agrees(self, rtol: float = ...) -> bool: ...


class _Estate(Protocol):
    @property
    def sites(self) -> Sequence[_Site]: ...
    @property
    def profiles(self) -> Mapping[str, _Profile]: ...
    def totals(self) -> ResourceVector: ...
    def standard_racks(self, site_id: str | None = None) -> Quantity: ...
    def reconciliation(self) -> Iterable[_Reconciliation]: ...


@attrs.frozen
class Band:
    """An expected range of a per-cabinet figure, in the resource's canonical unit."""

    low: float
    high: float
    unit: str
    reference: str


#: Expected per-cabinet bands by (profile kind, resource).
BANDS: dict[tuple[str, Resource], Band] = {
    ("general", Resource.VCPU): Band(
        500, 2000, "vCPU", "10 dual-socket servers × 96-128 threads per rack; S21, S31"),
    ("general", Resource.STORAGE): Band(
        50, float("inf"), "TB", "one 36-bay storage node alone holds hundreds of TB (estimate)"),
    ("general", Resource.FLOOR_AREA): Band(
        7, 14, "m**2", "3.5-5.5 m² main room per cabinet, auxiliary ≈ 1× main room; S23"),
    ("general", Resource.IT_POWER): Band(3, 10, "kW", "conventional racks 3-5 (5-10) kW; S18, S19"),
    ("ai", Resource.IT_POWER): Band(20, 130, "kW", "AI racks 20-100 kW, GB200 NVL72 ~120 kW; "
                                    "S15, S18, S19"),
    ("ai", Resource.FLOOR_AREA): Band(
        7, 14, "m**2", "3.5-5.5 m² main room per cabinet, auxiliary ≈ 1× main room; S23"),
}

#: Peak FLOPS per vCPU expected of CPUs (FLOP/cycle × GHz ÷ threads per core), in GFLOPS.
FLOPS_PER_VCPU = Band(8, 64, "GFLOPS", "AVX2 + FMA: 16 FP64 / 32 FP32 FLOP per cycle; S30")

AIR_COOLED_LIMIT_KW = 15.0  # air cooling strains above this; S18, S19
NEW_LARGE_PUE = 1.3  # national ceiling for new large DCs; S5, S6
SURCHARGE_PUE = 1.35  # Beijing differential price from 2026; S11
NATIONAL_AVERAGE_PUE = 1.5  # end-2025 national average target; S7
LARGE_DC_STANDARD_RACKS = 3000.0  # "large" DC threshold (estimate), consistent with S10
# The NDRC ceiling for new large DCs dates from late 2021 (S6); sites commissioned since
# then are held to it.
_NEW_RULES_FROM = np.datetime64("2021-12", "M")


def check_profile(profile: _Profile, used_by: str = "") -> list[Finding]:
    """Check one cabinet profile's per-cabinet figures against the expected bands."""
    out: list[Finding] = []
    where = f" (used by {used_by})" if used_by else ""
    kind = "ai" if profile.kind in ("ai", "hpc") else profile.kind
    for (band_kind, resource), band in BANDS.items():
        if band_kind != kind:
            continue
        value = float(profile.amount(resource).m_as(band.unit))
        if value == 0 and resource in (Resource.VCPU, Resource.STORAGE):
            continue
        if not band.low <= value <= band.high:
            side = "below" if value < band.low else "above"
            hi = "" if band.high == float("inf") else f"-{band.high:g}"
            out.append(Finding(
                f"density.{resource.name.lower()}", Severity.WARNING, profile.name,
                f"{value:,.4g} {band.unit} per cabinet is {side} the usual "
                f"{band.low:g}{hi} {band.unit} for {kind} cabinets{where}", band.reference))
    kw = float(profile.it_power.m_as("kW"))
    if profile.kind in ("ai", "hpc") and profile.cooling == "air" and kw > AIR_COOLED_LIMIT_KW:
        out.append(Finding(
            "power.air_cooled", Severity.WARNING, profile.name,
            f"{kw:g} kW per air-cooled AI cabinet exceeds the ~{AIR_COOLED_LIMIT_KW:g} kW "
            "air cooling handles; plan liquid cooling", "S18, S19"))
    if profile.kind in ("ai", "hpc") and kw < 2.0:
        out.append(Finding(
            "power.sparse", Severity.INFO, profile.name,
            f"{kw:g} kW per AI cabinet is sparse: a phased or partial fit-out", "S18, S19"))
    return out


#: FP16 peak of one Ascend 910B, TFLOPS (sources give 256-320; S13) and of one H100 SXM
#: (dense; S12).
ASCEND_910B_FP16 = 280.0
H100_SXM_FP16 = 989.4
#: FP16 per kW of IT power of a fitted-out AI cabinet, TFLOPS/kW: an eight-910B server
#: (8 × 280 TFLOPS at ~6 kW; S13, S17) and Qingyang's 0.95 PFLOPS per 2.5 kW standard rack
#: (S27), which agree at ~375.
FITTED_FP16_PER_KW = Band(373, 380, "TFLOPS_fp16/kW",
                          "eight-910B server ~373 TFLOPS/kW; Qingyang 0.95 P per standard "
                          "rack; S13, S17, S27")


def check_accelerator_density(profile: _Profile) -> list[Finding]:
    """Check an AI profile's FP16 per cabinet against the hardware it implies.

    A target met by sizing cabinets to it (130 PFLOPS ÷ 200 cabinets) holds by
    construction; what can be checked is whether that density is hardware one can fit:
    how many accelerators a cabinet holds, and FP16 per kW against fitted AI cabinets.
    """
    fp16 = float(profile.vector.values[Resource.COMPUTE_FP16.index])
    kw = float(profile.it_power.m_as("kW"))
    if profile.kind not in ("ai", "hpc") or fp16 <= 0 or kw <= 0:
        return []
    per_kw = fp16 / kw
    fitted = FITTED_FP16_PER_KW.low
    share = per_kw / fitted
    text = (f"{fp16 / 1000:,.3g} PFLOPS FP16 per cabinet is {fp16 / ASCEND_910B_FP16:,.2g} "
            f"Ascend 910B or {fp16 / H100_SXM_FP16:,.2g} H100 SXM; at {per_kw:,.0f} TFLOPS "
            f"per kW of IT power it is {share:.0%} of a fitted AI cabinet's ~{fitted:,.0f}")
    if share < 0.5:
        return [Finding("compute.density", Severity.WARNING, profile.name,
                        text + f": a sparse or phased fit-out ({kw:g} kW would power about "
                        f"{kw * fitted / 1000:,.2g} PFLOPS FP16 of fitted AI hardware)",
                        FITTED_FP16_PER_KW.reference)]
    return [Finding("compute.density", Severity.INFO, profile.name, text,
                    FITTED_FP16_PER_KW.reference)]


def check_estate(estate: _Estate) -> list[Finding]:
    """Run every sanity check on an estate.

    Checks: per-cabinet density bands of each profile in use; implied FLOPS per vCPU
    estate-wide; each site's PUE against the national rules; standard-rack size; and
    reported totals that disagree with the computed ones.
    """
    out: list[Finding] = []
    users: dict[str, list[str]] = {}
    for site in estate.sites:
        for used, n in site.cabinets.items():
            if n > 0:
                users.setdefault(used, []).append(site.id)
    for name, prof in estate.profiles.items():
        if name in users:
            out += check_profile(prof, ", ".join(users[name]))

    tot = estate.totals()
    vcpu = float(tot.values[Resource.VCPU.index])
    if vcpu > 0:
        for precision in (Precision.FP64, Precision.FP32):
            r = Resource.compute(precision)
            flops = float(tot[r].m_as(f"GFLOPS_{precision.name.lower()}"))
            if flops == 0:
                continue
            per = flops / vcpu
            ok = FLOPS_PER_VCPU.low <= per <= FLOPS_PER_VCPU.high
            out.append(Finding(
                "compute.per_vcpu", Severity.INFO if ok else Severity.WARNING, "estate",
                f"{per:.1f} GFLOPS ({precision.name}) per vCPU is "
                f"{'within' if ok else 'outside'} the {FLOPS_PER_VCPU.low:g}-"
                f"{FLOPS_PER_VCPU.high:g} GFLOPS a CPU thread peaks at", FLOPS_PER_VCPU.reference))

    for site in estate.sites:
        racks = float(estate.standard_racks(site.id).m_as("standard_rack"))
        new = site.status.value != "operating" or (
            site.commissioned is not None and site.commissioned >= _NEW_RULES_FROM)
        if new and racks >= LARGE_DC_STANDARD_RACKS and site.pue > NEW_LARGE_PUE:
            out.append(Finding(
                "pue.new_large", Severity.WARNING, site.id,
                f"PUE {site.pue:g} exceeds the ≤{NEW_LARGE_PUE:g} required of new large data "
                f"centres ({racks:,.0f} standard racks)", "S5, S6"))
        if site.pue >= NATIONAL_AVERAGE_PUE:
            out.append(Finding(
                "pue.national_average", Severity.WARNING, site.id,
                f"PUE {site.pue:g} is at or above the national end-2025 average target "
                f"<{NATIONAL_AVERAGE_PUE:g}", "S7"))
        elif site.pue > SURCHARGE_PUE:
            out.append(Finding(
                "pue.surcharge", Severity.INFO, site.id,
                f"PUE {site.pue:g} would pay Beijing's differential electricity price "
                f"(PUE > {SURCHARGE_PUE:g} from 2026)", "S11"))
        if racks >= LARGE_DC_STANDARD_RACKS:
            out.append(Finding(
                "size.large", Severity.INFO, site.id,
                f"{racks:,.0f} standard racks: a large data centre (≥3000)", "S10"))

    for rec in estate.reconciliation():
        if not rec.agrees(1e-6):
            out.append(Finding(
                "reported.mismatch", Severity.WARNING, "estate",
                f"{rec.resource.label}: computed {rec.computed:,.6g~P} differs from reported "
                f"{rec.reported:,.6g~P} by {rec.relative:+.2%}",
                str(getattr(rec.provenance, "note", ""))))
    return out
