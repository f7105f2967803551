"""Labelled results: xarray Datasets whose numbers are the numpy answers, through netCDF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from capacity import Resource, project, ureg
from capacity.policy import cost_policy
from capacity.scenario import Scenario

xr = pytest.importorskip("xarray", reason="xarray is a dependency; install the package")

VOUCHER = Path(__file__).parents[1] / "scenarios" / "ganzhou-voucher.toml"


@pytest.fixture(scope="module")
def projection():
    return project(Scenario.from_toml(VOUCHER), start="2025-01", end="2030-12", n_paths=40,
                   seed=2)


def _round_trip(ds, tmp_path):
    path = tmp_path / "result.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path) as back:
        back.load()
    return back


def test_a_projection_dataset_holds_the_projections_numbers_labelled(projection):
    ds = projection.to_xarray()
    assert dict(ds.sizes) == {"path": 40, "month": 72, "pool": projection.pools.n,
                              "resource": len(Resource)}
    fp16 = ds["capacity_compute_fp16"].sel(month="2027-12-01")
    assert float(fp16.median()) == projection.capacity_at("2027-12", Resource.COMPUTE_FP16
                                                          ).m_as("TFLOPS_fp16")
    assert ureg.Unit(ds["capacity_compute_fp16"].attrs["units"]) == ureg.Unit("TFLOPS_fp16")
    np.testing.assert_array_equal(ds["demand_vcpu"].values,
                                  projection.demand_paths(Resource.VCPU).m_as("vCPU"))
    np.testing.assert_array_equal(ds["p_shortfall"].sel(resource="vcpu").values,
                                  projection.shortfall_probability(Resource.VCPU))
    q = projection.to_xarray(q=(0.05, 0.5, 0.95))
    np.testing.assert_allclose(q["capacity_vcpu"].values, projection.quantiles(
        Resource.VCPU, (0.05, 0.5, 0.95)).m_as("vCPU"))


def test_datasets_survive_netcdf_with_values_and_units(projection, tmp_path):
    cost = cost_policy(projection)
    for ds in (projection.to_xarray(), cost.to_xarray(), cost.to_xarray(q=(0.5,))):
        back = _round_trip(ds, tmp_path)
        assert set(back.data_vars) == set(ds.data_vars)
        for name, var in ds.data_vars.items():
            assert np.array_equal(back[name].values, var.values, equal_nan=True), name
            assert back[name].attrs["units"] == var.attrs["units"]
            ureg.Unit(back[name].attrs["units"])  # parses back
        for name in ds.coords:
            assert np.array_equal(back[name].values, ds[name].values), name


def test_a_policy_dataset_holds_the_costings_numbers_labelled(projection):
    cost = cost_policy(projection)
    ds = cost.to_xarray()
    name = cost.instruments[0]
    outlay = ds["outlay"].sel(instrument=name)
    np.testing.assert_array_equal(outlay.median("path").values,
                                  cost.outlay(name).m_as("yuan"))
    assert ds["outlay"].attrs["units"] == "yuan"
    assert list(ds["year"].values) == list(cost.years)


def test_every_path_of_a_huge_projection_is_refused_naming_n_paths(projection, monkeypatch):
    import capacity.labelled as labelled
    from capacity.errors import CapacityError

    monkeypatch.setattr(labelled, "_BYTES_LIMIT", 1000)
    with pytest.raises(CapacityError) as info:
        projection.to_xarray()
    assert info.value.path == "n_paths"
    assert projection.to_xarray(q=(0.5,))["capacity_vcpu"].shape == (1, 72)


def test_the_embedded_scenarios_results_each_go_to_netcdf_and_back(tmp_path):
    # the acceptance: a Projection, a PolicyCost and a SweepResult of ganzhou()
    from capacity.datasets import ganzhou
    from capacity.sweep import sweep

    s = ganzhou()
    p = project(s, start="2025-01", end="2030-12", n_paths=30, seed=0)
    grid = {"demands[enterprise-ai].scale": [1.0, 1.5]}
    table = sweep(s, grid, n_paths=30, seed=0)
    assert list(table.to_pandas().index.names) == list(grid)
    for ds in (p.to_xarray(), cost_policy(p).to_xarray(), table.to_xarray()):
        back = _round_trip(ds, tmp_path)
        for name, var in ds.data_vars.items():
            if var.dtype.kind in "fiub":
                assert np.array_equal(back[name].values, var.values, equal_nan=True), name
            else:  # words and months
                assert list(back[name].values.ravel()) == list(var.values.ravel()), name
            assert back[name].attrs.get("units") == var.attrs.get("units"), name
    units = table.to_xarray()["p_shortfall_end.vcpu"].attrs["units"]
    assert ureg.Unit(units) == ureg.dimensionless
