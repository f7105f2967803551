"""Hypothesis strategies for capacity's values, for your own property tests.

Needs the ``hypothesis`` package (in the ``dev`` extra).

Examples
--------
>>> from hypothesis import given
>>> from capacity.testing import estates
>>> @given(estates())
... def test_cabinets_add_up(estate): ...
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from capacity.inventory import CabinetProfile, Estate, Site, Status
from capacity.units import Q_, Precision, Quantity

__all__ = [
    "EQUIVALENT_UNITS",
    "cabinet_profiles",
    "estates",
    "in_other_units",
    "invalid_site_kwargs",
    "quantities",
    "site_ids",
    "sites",
]

#: Units each canonical unit may be written in, for "same answer in other units" laws.
EQUIVALENT_UNITS: dict[str, tuple[str, ...]] = {
    "cabinet": ("cabinet",),
    "kW": ("kW", "W", "MW", "standard_rack"),
    "m**2": ("m**2", "cm**2", "ha"),
    "vCPU": ("vCPU",),
    "TB": ("TB", "GB", "PB", "TiB", "GiB"),
    "TFLOPS_fp64": ("TFLOPS_fp64", "GFLOPS_fp64", "PFLOPS_fp64"),
    "TFLOPS_fp32": ("TFLOPS_fp32", "GFLOPS_fp32", "PFLOPS_fp32"),
    "TFLOPS_fp16": ("TFLOPS_fp16", "PFLOPS_fp16", "EFLOPS_fp16"),
    "TOPS_int8": ("TOPS_int8", "POPS_int8"),
    "yuan": ("yuan", "万元", "亿元"),
    "yuan/kWh": ("yuan/kWh", "yuan/MWh", "万元/GWh"),
}


def quantities(unit: str, *, min_value: float = 0.0, max_value: float = 1e6) -> st.SearchStrategy[
        Quantity]:
    """Quantities of `unit`'s dimension between `min_value` and `max_value` (in `unit`)."""
    return st.floats(min_value=min_value, max_value=max_value, allow_nan=False,
                     allow_infinity=False).map(
        lambda m: Q_(m, unit))


def in_other_units(q: Quantity) -> st.SearchStrategy[Quantity]:
    """The same quantity expressed in one of the equivalent units of its dimension."""
    options = next((v for k, v in EQUIVALENT_UNITS.items()
                    if Q_(1, k).dimensionality == q.dimensionality), (str(q.units),))
    return st.sampled_from(options).map(lambda u: q.to(u))


site_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)


@st.composite
def cabinet_profiles(draw: st.DrawFn, name: str | None = None) -> CabinetProfile:
    """Valid cabinet profiles with plausible per-cabinet figures."""
    kind = draw(st.sampled_from(["general", "ai", "hpc", "storage"]))
    compute: dict[Precision, Quantity] = {}
    for p in draw(st.sets(st.sampled_from(list(Precision)), max_size=3)):
        compute[p] = draw(quantities(f"TFLOPS_{p.name.lower()}" if p is not Precision.INT8
                                     else "TOPS_int8", max_value=5000.0))
    return CabinetProfile(
        name=name if name is not None else draw(site_ids),
        it_power=draw(quantities("kW", min_value=0.5, max_value=150.0)),
        floor_area=draw(quantities("m**2", max_value=30.0)),
        vcpu=draw(quantities("vCPU", max_value=4000.0)),
        storage=draw(quantities("TB", max_value=2000.0)),
        compute=compute,
        kind=kind,
        cooling=draw(st.sampled_from(["air", "liquid"])),
    )


@st.composite
def sites(draw: st.DrawFn, profile_names: tuple[str, ...] = ("general",),
          site_id: str | None = None) -> Site:
    """Valid sites counting cabinets of the given profiles."""
    counts = {n: draw(st.integers(0, 5000)) for n in
              draw(st.lists(st.sampled_from(profile_names), unique=True, min_size=1))}
    return Site(
        id=site_id if site_id is not None else draw(site_ids),
        name=draw(st.text(min_size=1, max_size=10)),
        cabinets=counts,
        pue=draw(st.floats(1.0, 2.5, allow_nan=False)),
        grid=draw(st.none() | quantities("kW", max_value=1e5)),
        electricity_price=draw(st.none() | quantities("yuan/kWh", max_value=2.0)),
        status=draw(st.sampled_from(list(Status))),
    )


@st.composite
def estates(draw: st.DrawFn, max_sites: int = 6, max_profiles: int = 3) -> Estate:
    """Valid estates: unique site ids, every counted profile defined."""
    names = tuple(draw(st.lists(site_ids, min_size=1, max_size=max_profiles, unique=True)))
    profiles = {n: draw(cabinet_profiles(name=n)) for n in names}
    ids = draw(st.lists(site_ids, min_size=1, max_size=max_sites, unique=True))
    return Estate(sites=tuple(draw(sites(names, site_id=i)) for i in ids), profiles=profiles)


def _valid_site_kwargs() -> dict[str, Any]:
    return {"id": "s1", "name": "Site", "cabinets": {"general": 10}, "pue": 1.3,
            "grid": "1 MW", "electricity_price": "0.6 yuan/kWh"}


#: (field, bad value) pairs every Site must reject, with the field path named.
_BAD_SITE_FIELDS: list[tuple[str, Any]] = [
    ("id", ""), ("id", "has space"),
    ("pue", 0.8), ("pue", float("nan")), ("pue", float("inf")), ("pue", "1.3"),
    ("grid", "1 MWh"), ("grid", "-5 kW"), ("grid", 500), ("grid", "5 TB"),
    ("grid", "nonsense unit"),
    ("electricity_price", "0.6 yuan"), ("electricity_price", "-0.1 yuan/kWh"),
    ("status", "demolished"), ("commissioned", "soon"),
]


@st.composite
def invalid_site_kwargs(draw: st.DrawFn) -> tuple[dict[str, Any], set[str]]:
    """Site keyword arguments with one or more bad fields.

    Returns the keyword arguments for :class:`~capacity.inventory.Site` and the set of
    field paths its validation error must name.
    """
    kwargs = _valid_site_kwargs()
    bad = draw(st.lists(st.sampled_from(_BAD_SITE_FIELDS), min_size=1, max_size=4,
                        unique_by=lambda fv: fv[0]))
    paths = set()
    for field, value in bad:
        kwargs[field] = value
        paths.add(field)
    if draw(st.booleans()):
        n = draw(st.sampled_from([-1, 2.5, True]))
        kwargs["cabinets"] = {"general": n}
        paths.add("cabinets.general")
    return kwargs, paths
