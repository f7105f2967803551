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

from typing import Any, Literal

import attrs
import numpy as np
from hypothesis import strategies as st

from capacity.demand import DemandBlock
from capacity.growth import Compound, Fitted, GrowthModel, Linear, Logistic, Milestones
from capacity.instruments import (
    ComputeVoucher,
    ConstructionSubsidy,
    Elasticity,
    ElectricitySubsidy,
    Instrument,
    Market,
)
from capacity.inventory import UNMET, CabinetProfile, Estate, Site, Status
from capacity.plan import Plan, Project, Ramp, Slippage
from capacity.provenance import Assumption, Kind, Provenance
from capacity.resources import Resource
from capacity.scenario import Scenario
from capacity.units import Q_, Precision, Quantity

__all__ = [
    "EQUIVALENT_UNITS",
    "cabinet_profiles",
    "demand_blocks",
    "estates",
    "growth_models",
    "in_other_units",
    "instruments",
    "invalid_site_kwargs",
    "markets",
    "months",
    "plans",
    "projects",
    "provenances",
    "quantities",
    "scenarios",
    "site_ids",
    "sites",
    "slippages",
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


site_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1,
                   max_size=12).filter(lambda t: t != UNMET)  # (the allocation's own)


@st.composite
def slippages(draw: st.DrawFn) -> Slippage:
    """Delays of a completion: a spread only with a positive mean (never negative)."""
    mean = draw(st.floats(0, 24))
    return Slippage(mean, draw(st.floats(0, 12)) if mean > 0 else 0.0)


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


#: Months from 1990-01 to 2060-12, as ``datetime64[M]``.
months: st.SearchStrategy[np.datetime64] = st.integers(20 * 12, 91 * 12 - 1).map(
    lambda n: np.datetime64(n, "M"))

_notes = st.text(min_size=1, max_size=40).filter(lambda t: bool(t.strip()))


@st.composite
def provenances(draw: st.DrawFn) -> Provenance:
    """Provenance of any kind, with a non-blank note and an optional reference."""
    return Provenance(draw(st.sampled_from(list(Kind))), draw(_notes),
                      draw(st.sampled_from(["", "S3", "S5, S6"]) | st.text(max_size=12)))


def _provenance_map(fields: tuple[str, ...]) -> st.SearchStrategy[dict[str, Provenance]]:
    return st.dictionaries(st.sampled_from(fields), provenances(), max_size=3)


def _spread_months() -> st.SearchStrategy[float | Quantity]:
    # A spread in months may be a number of months or a [time] quantity.
    return (st.integers(0, 24) | st.floats(0, 24) | quantities("month", max_value=24.0)
            | quantities("year", max_value=2.0))


@st.composite
def growth_models(draw: st.DrawFn, unit: str = "vCPU") -> GrowthModel:
    """Valid growth models of every kind whose amounts are in `unit`'s dimension.

    Anchored anywhere in 1990-2060, a few grow past the 1e15 limit every figure is held
    to (``MAX_MAGNITUDE``) by a horizon decades away, or draw past the range of numbers,
    and :func:`capacity.project` refuses them by name: a property that projects them
    should ``assume`` past that refusal.
    """
    kinds = ["compound", "logistic", "milestones", "fitted"]
    # Linear's slope check wants [amount]·[time]⁻¹, which a power (J/s) per year is not.
    if "[time]" not in Q_(1, unit).dimensionality:
        kinds.append("linear")
    kind = draw(st.sampled_from(kinds))
    amount = quantities(unit, max_value=1e6).flatmap(in_other_units)
    if kind == "linear":
        return Linear(draw(amount), draw(months),
                      draw(quantities(f"{unit}/year", min_value=-1e5, max_value=1e5)),
                      slope_sd=draw(st.none() | quantities(f"{unit}/year", max_value=1e4)))
    if kind == "compound":
        rate = st.floats(-0.9, 2.0) | quantities("%", min_value=-90.0, max_value=200.0)
        sd = st.floats(0.0, 0.5) | quantities("%", max_value=50.0)
        return Compound(draw(amount), draw(months), draw(rate), rate_sd=draw(sd))
    if kind == "logistic":
        floor = draw(quantities(unit, max_value=1e5))
        ceiling = floor + draw(quantities(unit, min_value=1.0, max_value=1e6))
        return Logistic(ceiling, draw(months), draw(quantities("1/year", min_value=0.01,
                                                               max_value=5.0)),
                        floor=floor, ceiling_sd=draw(quantities(unit, max_value=1e4)),
                        midpoint_sd_months=draw(_spread_months()))
    if kind == "milestones":
        when = sorted(draw(st.sets(months, min_size=1, max_size=5)))
        interpolation: Literal["linear", "geometric"] = draw(
            st.sampled_from(("linear", "geometric")))
        low = 1.0 if interpolation == "geometric" else 0.0
        points = [(m, draw(quantities(unit, min_value=low, max_value=1e6))) for m in when]
        befores: tuple[Literal["zero", "hold", "extrapolate"], ...] = (
            ("zero", "hold", "extrapolate") if len(when) > 1 else ("zero", "hold"))
        before = draw(st.sampled_from(befores))
        return Milestones(points, interpolation=interpolation, before=before,
                          rel_sd=draw(st.floats(0.0, 1.0)),
                          delay_sd_months=draw(_spread_months()))
    curve: Literal["linear", "compound", "logistic"] = draw(
        st.sampled_from(("linear", "compound", "logistic")))
    k = 2 if curve != "logistic" else 3
    if curve == "compound":
        # (ln start, ln(1 + rate)) as a fit to history gives them: a steeper curve would
        # more often pass the 1e15 limit within the horizon, which a projection refuses
        estimate = [draw(st.floats(-5.0, 14.0)), draw(st.floats(-2.0, 1.1))]
        spread = 0.3
    else:
        numbers = st.floats(-1e6, 1e6, allow_nan=False)
        estimate = draw(st.lists(numbers, min_size=k, max_size=k))
        spread = 1e3
    # A covariance is A·Aᵀ for some A: symmetric and positive semi-definite.
    root = np.array([draw(st.lists(st.floats(-spread, spread, allow_nan=False), min_size=k,
                                   max_size=k)) for _ in range(k)])
    return Fitted(curve, draw(months), unit, estimate, (root @ root.T).tolist())


@st.composite
def demand_blocks(draw: st.DrawFn, name: str | None = None) -> DemandBlock:
    """Valid demand blocks on any resource, with companions, eligibility and value."""
    resource = draw(st.sampled_from(list(Resource)))
    companions = draw(st.sets(st.sampled_from([r for r in Resource if r is not resource]),
                              max_size=2))
    per_unit = {r: draw(quantities(f"({r.value}) / ({resource.value})", max_value=10.0))
                for r in companions}
    return DemandBlock(
        name=name if name is not None else draw(site_ids),
        kind=draw(st.sampled_from(["government-cloud", "enterprise-ai", "research-hpc"])),
        resource=resource,
        growth=draw(growth_models(resource.value)),
        per_unit=per_unit,
        eligible=draw(st.frozensets(site_ids, max_size=3)),
        value=draw(st.none() | quantities(f"yuan / ({resource.value}) / year", max_value=1e4)),
        provenance=draw(_provenance_map(("growth", "per_unit", "value"))),
    )


@st.composite
def projects(draw: st.DrawFn, name: str, site_ids: tuple[str, ...],
             profile_names: tuple[str, ...]) -> Project:
    """Valid projects at one of `site_ids`, adding cabinets of `profile_names`."""
    start = draw(months)
    return Project(
        name=name,
        site=draw(st.sampled_from(site_ids)),
        cabinets={n: draw(st.integers(0, 5000)) for n in
                  draw(st.lists(st.sampled_from(profile_names), unique=True))},
        start=start,
        completion=start + np.timedelta64(draw(st.integers(0, 60)), "M"),
        ramp=draw(st.sampled_from(list(Ramp))),
        slippage=draw(slippages()),
        capex=draw(st.none() | quantities("万元", max_value=1e7).flatmap(in_other_units)),
        status=draw(st.sampled_from(list(Status))),
        target=(target := draw(st.none() | quantities("PFLOPS_fp16", max_value=1e4))),
        target_by=None if target is None else draw(st.none() | months),
        provenance=draw(_provenance_map(("cabinets", "start", "completion", "capex"))),
    )


@st.composite
def plans(draw: st.DrawFn, estate: Estate, max_projects: int = 4) -> Plan:
    """Valid plans for `estate`: new sites with fresh ids, projects at known sites."""
    fresh = draw(st.lists(site_ids.filter(lambda i: i not in estate.site_ids), unique=True,
                          max_size=2))
    names = tuple(estate.profiles)
    new_sites = [draw(sites(names, site_id=i)) for i in fresh]
    known = (*estate.site_ids, *fresh)
    project_names = draw(st.lists(site_ids, unique=True, max_size=max_projects))
    return Plan(projects=[draw(projects(n, known, names)) for n in project_names],
                sites=new_sites)


@st.composite
def _described_site(draw: st.DrawFn, site: Site) -> Site:
    # estates() leaves the descriptive fields at their defaults; files must keep them too.
    return attrs.evolve(
        site, operator=draw(st.text(max_size=10)), name_en=draw(st.text(max_size=10)),
        commissioned=draw(st.none() | months), region=draw(st.text(max_size=10)),
        tags=draw(st.frozensets(site_ids, max_size=3)),
        provenance=draw(_provenance_map(("cabinets", "pue", "grid", "status"))))


@st.composite
def instruments(draw: st.DrawFn, name: str) -> Instrument:
    """Valid policy instruments: a voucher, an electricity or a construction subsidy."""
    kind = draw(st.sampled_from(["voucher", "electricity", "construction"]))
    tags = frozenset(draw(st.lists(site_ids, max_size=2)))
    if kind == "voucher":
        return ComputeVoucher(
            name, rate=draw(st.floats(0, 1)),
            cap_per_enterprise=draw(quantities("万元/year", max_value=1e4)),
            annual_budget=draw(st.none() | quantities("万元/year", max_value=1e5)),
            eligible_kinds=tags | {"enterprise-ai"}, start=draw(st.none() | months),
            min_claim=draw(st.none() | quantities("yuan", max_value=1e5)),
            provenance=draw(_provenance_map(("rate", "annual_budget"))))
    if kind == "electricity":
        return ElectricitySubsidy(
            name, amount=draw(quantities("yuan/kWh", max_value=0.5)),
            years=draw(st.none() | st.integers(1, 10)),
            max_pue=draw(st.none() | st.floats(1.0, 2.0)),
            min_green_share=draw(st.none() | st.floats(0, 1)), eligible_tags=tags,
            provenance=draw(_provenance_map(("amount",))))
    if draw(st.booleans()):
        per_cabinet = draw(quantities("万元/cabinet", max_value=100.0))
        return ConstructionSubsidy(name, per_cabinet=per_cabinet, eligible_tags=tags)
    return ConstructionSubsidy(name, share_of_capex=draw(st.floats(0, 1)),
                               cap=draw(st.none() | quantities("亿元", max_value=10.0)),
                               eligible_tags=tags)


@st.composite
def markets(draw: st.DrawFn, site_names: tuple[str, ...] = ()) -> Market:
    """Valid markets: prices, an elasticity, enterprises, load and green shares."""
    return Market(
        prices={"compute_fp16": draw(quantities("yuan/(PFLOPS_fp16*hour)", max_value=100.0)),
                "vcpu": draw(quantities("yuan/vCPU/month", max_value=200.0))},
        elasticity=Elasticity(draw(st.floats(-3, 0)), draw(provenances())),
        enterprises=draw(st.integers(1, 100)),
        load_factor=draw(st.floats(0.01, 1)),
        idle_share=draw(st.floats(0, 1)),
        green_share={s: draw(st.floats(0, 1)) for s in site_names},
        provenance=draw(_provenance_map(("prices",))))


def _matching(policy: Instrument, carried: frozenset[str], kinds: list[str]) -> Instrument:
    """`policy` with its eligibility narrowed to what the scenario has (as it must be)."""
    if isinstance(policy, ComputeVoucher):
        if not kinds:  # no blocks: there is nothing to match
            return policy
        return attrs.evolve(policy, eligible_kinds=(policy.eligible_kinds & set(kinds))
                            | set(kinds[:1]))
    return attrs.evolve(policy, eligible_tags=policy.eligible_tags & carried)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Valid scenarios: an estate, a plan for it, demand blocks, notes and provenance."""
    estate = draw(estates(max_sites=4, max_profiles=3))
    profiles = {n: attrs.evolve(p, capex=draw(st.none() | quantities("yuan", max_value=1e7)),
                                provenance=draw(_provenance_map(("it_power", "compute"))))
                for n, p in estate.profiles.items()}
    estate = attrs.evolve(estate, sites=[draw(_described_site(s)) for s in estate.sites],
                          profiles=profiles, name=draw(st.text(max_size=20)))
    names = draw(st.lists(site_ids, unique=True, max_size=3))
    plan = draw(plans(estate))
    # a block's eligibility names tags some site carries (a scenario refuses others)
    carried = frozenset().union(*(s.tags for s in (*estate.sites, *plan.sites)))
    demands = [draw(demand_blocks(n)) for n in names]
    return Scenario(
        name=draw(st.text(min_size=1, max_size=20).filter(lambda t: bool(t.strip()))),
        estate=estate,
        plan=plan,
        demands=[attrs.evolve(b, eligible=b.eligible & carried) for b in demands],
        # and an instrument's names a carried tag and a kind some block is of
        policies=[_matching(draw(instruments(n)), carried, [b.kind for b in demands])
                  for n in draw(st.lists(site_ids, unique=True, max_size=3))],
        market=draw(markets(tuple(s.id for s in estate.sites))),
        description=draw(st.text(max_size=40)),
        notes=[Assumption(draw(site_ids), draw(provenances()))
               for _ in range(draw(st.integers(0, 2)))],
    )
