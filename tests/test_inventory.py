import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity import Q_, Resource, ValidationError
from capacity.datasets import ganzhou
from capacity.inventory import CabinetProfile, Estate, Site
from capacity.testing import estates, in_other_units, invalid_site_kwargs

GENERAL = CabinetProfile("general", it_power="5 kW", floor_area="12 m**2", vcpu="1000 vCPU")


# -- the letter's figures --------------------------------------------------------------------
def test_ganzhou_totals_match_the_letter():
    estate = ganzhou().estate
    assert estate.total(Resource.CABINETS) == Q_(451, "cabinet")
    assert estate.total(Resource.VCPU).m_as("vCPU") == pytest.approx(46_000)
    assert estate.total(Resource.STORAGE).m_as("TB") == pytest.approx(5_600)
    assert estate.total(Resource.COMPUTE_FP32).m_as("TFLOPS_fp32") == pytest.approx(623)
    assert estate.total(Resource.FLOOR_AREA).m_as("m**2") == pytest.approx(5_300)
    assert estate.total(Resource.COMPUTE_FP16).m_as("TFLOPS_fp16") == 0


def test_ganzhou_sites_match_the_letter():
    estate = ganzhou().estate
    per_site = {s.name: estate.capacity(s.id)[Resource.CABINETS].m_as("cabinet")
                for s in estate.sites}
    assert per_site == {"天翼华为云": 104, "移动浪潮云": 105, "赣南数据湖": 242}
    assert all(rec.agrees() for rec in estate.reconciliation())


def test_ganzhou_marks_what_the_letter_does_not_give():
    scenario = ganzhou()
    assumed = {a.field for a in scenario.assumptions()}
    assert "profiles.cloud-general.it_power" in assumed
    assert "profiles.cloud-general.compute" in assumed
    assert {f"sites[{s}].pue" for s in scenario.estate.site_ids} <= assumed
    assert "estate.split" in assumed
    # what the letter states is a source, never an assumption
    for site in scenario.estate.sites:
        assert not site.provenance["cabinets"].is_assumption
        assert "§I.2" in site.provenance["cabinets"].note


def test_ganzhou_findings_flag_the_low_densities():
    codes = {(f.code, f.subject) for f in ganzhou().estate.findings()}
    assert ("density.vcpu", "cloud-general") in codes  # 102 vCPU/cabinet < 500
    assert ("density.storage", "cloud-general") in codes  # 12.4 TB/cabinet < 50
    assert ("density.floor_area", "cloud-general") not in codes  # 11.75 m² is plausible
    assert not any(f.code == "reported.mismatch" for f in ganzhou().estate.findings())


def test_ganzhou_standard_racks():
    # 451 cabinets × 5 kW (assumed) / 2.5 kW
    assert ganzhou().estate.standard_racks().m_as("standard_rack") == pytest.approx(902)


# -- laws --------------------------------------------------------------------------------------
@given(estates())
def test_totals_equal_sums_over_sites(estate):
    for r in Resource:
        by_site = sum(estate.capacity(s.id).magnitude(r) for s in estate.sites)
        assert estate.total(r).m_as(r.unit) == pytest.approx(by_site, rel=1e-9, abs=1e-9)
    cabinets = sum(s.n_cabinets for s in estate.sites)
    assert estate.total(Resource.CABINETS).m_as("cabinet") == cabinets


@given(estates(max_sites=3, max_profiles=2), st.data())
def test_totals_unchanged_in_other_units(estate, data):
    profiles = {}
    for name, p in estate.profiles.items():
        profiles[name] = CabinetProfile(
            name, it_power=data.draw(in_other_units(p.it_power)),
            floor_area=data.draw(in_other_units(p.floor_area)),
            vcpu=p.vcpu, storage=data.draw(in_other_units(p.storage)),
            compute={k: data.draw(in_other_units(v)) for k, v in p.compute.items()},
            kind=p.kind, cooling=p.cooling)
    other = Estate(sites=estate.sites, profiles=profiles)
    np.testing.assert_allclose(other.totals().values, estate.totals().values, rtol=1e-9,
                               atol=1e-9)


@given(invalid_site_kwargs())
def test_validation_names_every_bad_field(case):
    kwargs, paths = case
    with pytest.raises(ValidationError) as info:
        Site(**kwargs)
    assert {p.path for p in info.value.problems} == paths


@given(estates(max_sites=4))
def test_estate_rejects_duplicate_ids_and_unknown_profiles(estate):
    dup = Site(estate.sites[0].id, "again", cabinets={"no-such-profile": 1})
    with pytest.raises(ValidationError) as info:
        Estate(sites=(*estate.sites, dup), profiles=estate.profiles)
    paths = {p.path for p in info.value.problems}
    n = len(estate.sites)
    assert paths == {f"sites[{n}].id", f"sites[{n}].cabinets.no-such-profile"}


# -- examples of bad input -------------------------------------------------------------------
def test_profile_rejects_wrong_dimensions_all_at_once():
    with pytest.raises(ValidationError) as info:
        CabinetProfile("p", it_power="5 kWh", floor_area="-1 m**2", vcpu="100",
                       storage="12 cabinet", compute={"fp16": "1 TFLOPS_fp32", "fp128": "1 W"})
    reasons = {p.path: p.reason for p in info.value.problems}
    assert set(reasons) == {"it_power", "floor_area", "vcpu", "storage", "compute.fp16",
                            "compute.fp128"}
    assert "energy" in reasons["it_power"]
    assert "power" in reasons["it_power"]
    assert "negative" in reasons["floor_area"]
    assert "information" in reasons["storage"]
    assert "unknown precision" in reasons["compute.fp128"]


def test_densities_and_facility_power():
    estate = Estate(sites=(Site("a", "A", cabinets={"general": 10}, pue=1.25),),
                    profiles={"general": GENERAL})
    d = estate.densities()
    assert d[Resource.VCPU] == Q_("1000 vCPU/cabinet")
    assert estate.facility_power("a") == Q_("62.5 kW")
    assert Resource.COMPUTE_FP16 not in d
    with pytest.raises(ValueError, match="unknown site"):
        estate.site("b")


def test_reported_total_that_disagrees_is_a_finding():
    estate = Estate(sites=(Site("a", "A", cabinets={"general": 10}),),
                    profiles={"general": GENERAL}, reported={"vcpu": "12000 vCPU"})
    [rec] = estate.reconciliation()
    assert rec.difference == Q_("-2000 vCPU")
    assert math.isclose(rec.relative, -1 / 6)
    assert any(f.code == "reported.mismatch" for f in estate.findings())


def test_ai_profile_checks():
    ai = CabinetProfile("ai", it_power="40 kW", floor_area="10 m**2", kind="ai", cooling="air",
                        compute={"fp16": "650 TFLOPS_fp16"})
    estate = Estate(sites=(Site("s", "S", cabinets={"ai": 200}),), profiles={"ai": ai})
    codes = {f.code for f in estate.findings()}
    assert "power.air_cooled" in codes
    liquid = Estate(sites=estate.sites, profiles={"ai": CabinetProfile(
        "ai", it_power="40 kW", floor_area="10 m**2", kind="ai", cooling="liquid")})
    assert "power.air_cooled" not in {f.code for f in liquid.findings()}


def test_html_reprs():
    estate = ganzhou().estate
    assert "赣南数据湖" in estate._repr_html_()
    assert "<table>" in estate.sites[0]._repr_html_()


def test_accelerator_density_is_checked_against_the_hardware_it_implies():
    from capacity.checks import Severity, check_accelerator_density
    from capacity.datasets import ganzhou

    profiles = ganzhou().estate.profiles
    (sparse,) = check_accelerator_density(profiles["smart-ai"])
    # 650 TFLOPS ÷ 280 per Ascend 910B, ÷ 989.4 per H100; 650 ÷ 8 kW ÷ 373 TFLOPS/kW
    assert sparse.severity is Severity.WARNING
    assert "2.3 Ascend 910B or 0.66 H100 SXM" in sparse.message
    assert "81 TFLOPS per kW" in sparse.message
    assert "22%" in sparse.message
    (dense,) = check_accelerator_density(profiles["ai-dense-910b"])  # 4 × 8 × 280 at 24 kW
    assert dense.severity is Severity.INFO
    assert "100%" in dense.message
    assert check_accelerator_density(profiles["cloud-general"]) == []
