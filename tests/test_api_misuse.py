"""A bad argument of a public function is a CapacityError naming the argument."""

import math

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
