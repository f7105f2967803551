"""A bad argument of a public function is a CapacityError naming the argument."""

import math

import attrs
import pytest

from capacity import allocate, project
from capacity.allocation import build_problem
from capacity.datasets import ganzhou
from capacity.errors import CapacityError
from capacity.policy import cost_policy


@pytest.fixture(scope="module")
def problem():
    return build_problem(ganzhou(), "2027-12").problem


@pytest.mark.parametrize(("kw", "name"), [
    ({"time_limit": math.inf}, "time_limit"), ({"time_limit": "30"}, "time_limit"),
    ({"time_limit": 0}, "time_limit"), ({"time_limit": -1}, "time_limit"),
    ({"time_limit": math.nan}, "time_limit"), ({"seed": -1}, "seed"),
    ({"mip_rel_gap": 2}, "mip_rel_gap"), ({"method": "fast"}, "method"),
    ({"backend": "gurobi"}, "backend"), ({"node_limit": 0}, "node_limit"),
])
def test_allocate_refuses_bad_arguments_by_name(problem, kw, name):
    with pytest.raises(CapacityError, match=name):
        allocate(problem, **kw)


@pytest.fixture(scope="module")
def projection():
    return project(ganzhou(), start="2025-01", end="2026-12", n_paths=20, seed=0)


def test_projection_methods_refuse_a_resource_name_saying_what_to_write(projection):
    for call in (lambda: projection.quantiles("vcpu"),
                 lambda: projection.capacity_paths("vcpu"),
                 lambda: projection.capacity_at("2026-01", "vcpu"),
                 lambda: projection.shortfall_probability("vcpu")):
        with pytest.raises(CapacityError, match=r"resource: must be a Resource: write "
                                                r"Resource\.VCPU"):
            call()


def test_unknown_profile_is_named_with_the_known_ones(projection):
    with pytest.raises(CapacityError, match=r"profile.*known: cloud-general"):
        projection.cabinets_needed("nope")


def test_policy_cost_refuses_a_resource_name(projection):
    cost = cost_policy(projection)
    with pytest.raises(CapacityError, match="resource"):
        cost.effective_price("compute_fp16")


def test_policy_costing_refuses_an_enterprise_count_that_is_not_a_whole_number(projection):
    # a float or text used to be read as one weight: one enterprise, so the voucher's
    # per-enterprise cap bound as if a single firm claimed it
    for enterprises in (20.0, "20", 2.5):
        with pytest.raises(CapacityError) as info:
            cost_policy(projection, enterprises=enterprises)
        assert "enterprises: must be a whole number" in str(info.value.problems[0])


def test_an_instrument_nothing_qualifies_for_is_refused_not_costed_at_zero():
    from capacity.instruments import ComputeVoucher, ElectricitySubsidy

    scenario = ganzhou()
    typo = ComputeVoucher("v", rate=0.5, cap_per_enterprise="100 万元/year",
                          eligible_kinds={"enterprize-ai"})
    with pytest.raises(CapacityError) as info:
        attrs.evolve(scenario, policies=[typo])
    assert "policies[0].eligible_kinds: 'enterprize-ai': no demand block is of this kind" \
        in str(info.value.problems[0])
    assert "did you mean 'enterprise-ai'?" in str(info.value.problems[0])
    nowhere = ElectricitySubsidy("e", amount="0.1 yuan/kWh", eligible_tags={"aii"})
    with pytest.raises(CapacityError) as info:
        attrs.evolve(scenario, policies=[nowhere])
    assert "policies[0].eligible_tags: 'aii': no site carries it" in str(
        info.value.problems[0])
    # a scheme may name kinds this city lacks beside one it has (a preset voucher's
    # research-hpc where no HPC demand is forecast): accepted, it costs what matches
    blocks = tuple(b for b in scenario.demands if b.kind != "research-hpc")
    scheme = ComputeVoucher("v", rate=0.5, cap_per_enterprise="100 万元/year",
                            eligible_kinds={"enterprise-ai", "research-hpc"})
    assert attrs.evolve(scenario, demands=blocks, policies=[scheme]).policies == (scheme,)


def test_a_selection_of_no_paths_is_refused(projection):
    assert projection.paths(slice(5, 10)).n_paths == 5
    with pytest.raises(CapacityError, match="which: selects no paths of the 20"):
        projection.paths(slice(100, 200))


def test_policy_flags_must_be_true_or_false(projection):
    cost = cost_policy(projection)
    site = projection.scenario.estate.sites[0].id
    with pytest.raises(CapacityError, match="policy: must be true or false"):
        cost.utilisation(site, policy="no")
    with pytest.raises(CapacityError, match="net: must be true or false"):
        cost.energy_cost(net="yes")
    with pytest.raises(CapacityError, match="policies: must be a list of instruments"):
        cost_policy(projection, policies=projection.scenario.policies[0]
                    if projection.scenario.policies else ganzhou_voucher())


def ganzhou_voucher():
    from capacity.instruments import ComputeVoucher

    return ComputeVoucher("v", rate=0.5, cap_per_enterprise="100 万元/year",
                          eligible_kinds={"enterprise-ai"})


def test_a_scenario_file_too_large_to_be_one_is_refused_before_it_is_read(tmp_path,
                                                                         monkeypatch):
    from capacity import Scenario, scenario_io

    monkeypatch.setattr(scenario_io, "MAX_FILE_BYTES", 1000)
    big = tmp_path / "big.toml"
    big.write_text("#" * 2000)
    with pytest.raises(CapacityError) as info:
        Scenario.from_toml(big)
    assert "a scenario file is text of at most" in str(info.value.problems[0])


def test_the_command_line_refuses_an_allocation_month_outside_the_projection(capsys):
    from capacity.cli import main

    with pytest.raises(SystemExit) as info:
        main(["report", "--month", "2040-01"])
    assert info.value.code == 2
    assert "--month: 2040-01 is outside --start 2025-01 … --end 2030-12" in capsys.readouterr().err
