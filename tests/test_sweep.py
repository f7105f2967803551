from concurrent.futures import ProcessPoolExecutor

import pytest

from capacity import ValidationError
from capacity.datasets import ganzhou
from capacity.errors import FieldError
from capacity.sweep import sweep, vary

GRID = {
    "demands[enterprise-ai].scale": [0.8, 1.0, 1.5],
    "sites[tianyi-huawei].pue": [1.5, 1.3],
    "plan.projects[smart-computing-centre].slippage.mean": [2, 6],
}


@pytest.fixture(scope="module")
def serial():
    return sweep(ganzhou(), GRID, n_paths=200, seed=3)


def test_rows_cover_the_grid_in_order(serial):
    assert len(serial.rows) == 12
    assert serial.columns[:3] == tuple(GRID)
    assert serial.column("demands[enterprise-ai].scale") == [0.8] * 4 + [1.0] * 4 + [1.5] * 4


def test_more_ai_demand_runs_out_sooner(serial):
    by_scale = {r["demands[enterprise-ai].scale"]: r for r in serial.rows
                if r["sites[tianyi-huawei].pue"] == 1.5
                and r["plan.projects[smart-computing-centre].slippage.mean"] == 2}
    assert by_scale[1.5]["exhaustion.compute_fp16"] < by_scale[1.0]["exhaustion.compute_fp16"]
    assert by_scale[1.5]["p_shortfall_end.compute_fp16"] >= by_scale[0.8][
        "p_shortfall_end.compute_fp16"]


def test_same_results_on_a_process_pool(serial):
    with ProcessPoolExecutor(2) as ex:
        pooled = sweep(ganzhou(), GRID, executor=ex, n_paths=200, seed=3, batch_size=5)
    assert pooled.rows == serial.rows


def test_same_results_on_a_local_dask_cluster(serial):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        clustered = sweep(ganzhou(), GRID, executor=client.get_executor(), n_paths=200, seed=3)
    assert clustered.rows == serial.rows


def test_vary_sets_nested_fields():
    s = vary(ganzhou(), "plan.projects[ic-enablement-base].slippage.mean", 12.0)
    proj = next(p for p in s.plan.projects if p.name == "ic-enablement-base")
    assert proj.slippage.mean == 12.0
    assert vary(ganzhou(), "sites[gannan-data-lake].pue", 1.2).estate.site(
        "gannan-data-lake").pue == 1.2


def test_bad_grid_paths_are_listed_together():
    with pytest.raises(ValidationError) as info:
        sweep(ganzhou(), {"sites[nowhere].pue": [1.2], "sites[tianyi-huawei].colour": [1],
                          "demands[enterprise-ai].scale": []})
    assert {p.path for p in info.value.problems} == {
        "sites[nowhere].pue", "sites[tianyi-huawei].colour", "demands[enterprise-ai].scale"}


def test_progress_is_reported(capsys):
    sweep(ganzhou(), {"demands[enterprise-ai].scale": [1.0, 2.0]}, n_paths=50, batch_size=1,
          progress=True)
    err = capsys.readouterr().err
    assert "sweep: 1/2 variants" in err
    assert err.endswith("sweep: 2/2 variants\n")


def test_a_sweep_is_a_table_indexed_by_its_grid_and_a_dataset_over_it(serial):
    frame = serial.to_pandas()
    assert list(frame.index.names) == list(GRID)
    assert len(frame) == len(serial.rows)
    row = serial.rows[5]
    key = tuple(row[k] for k in GRID)
    assert frame.loc[key, "exhaustion.compute_fp16"] == row["exhaustion.compute_fp16"]
    ds = serial.to_xarray()
    assert dict(ds.sizes) == {k: len(v) for k, v in GRID.items()}
    cell = ds["p_shortfall_end.vcpu"].sel(dict(zip(GRID, key, strict=True)))
    assert float(cell) == row["p_shortfall_end.vcpu"]
    assert "12 variants" in repr(serial)
    for k, values in GRID.items():  # in the grid's order, not sorted
        assert list(ds[k].values) == values


def test_every_value_of_every_axis_is_checked_before_any_work():
    with pytest.raises(ValidationError) as info:
        sweep(ganzhou(), {"sites[tianyi-huawei].pue": [1.3, 0.5, "x"],
                          "demands[enterprise-ai].scale": [1.0, -2.0]}, n_paths=10)
    found = {(e.path, e.value) for e in info.value.problems}
    assert found == {("sites[tianyi-huawei].pue", 0.5), ("sites[tianyi-huawei].pue", "x"),
                     ("demands[enterprise-ai].scale", -2.0)}


def test_a_site_whose_id_holds_a_dot_is_addressed_by_a_sweep_path():
    import attrs

    s = ganzhou()
    sites = (attrs.evolve(s.estate.sites[0], id="dc.1"), *s.estate.sites[1:])
    dotted = attrs.evolve(s, estate=attrs.evolve(s.estate, sites=sites))
    for path in ("sites[dc.1].pue", 'sites["dc.1"].pue'):
        assert vary(dotted, path, 1.2).estate.site("dc.1").pue == 1.2
    table = sweep(dotted, {'sites["dc.1"].pue': [1.2, 1.4]}, n_paths=20)
    assert table.column('sites["dc.1"].pue') == [1.2, 1.4]


def test_yearly_sweep_figures_become_one_variable_over_years_and_survive_netcdf(tmp_path):
    xr = pytest.importorskip("xarray")
    from capacity.scenario import Scenario

    voucher = Scenario.from_toml(__import__("pathlib").Path(__file__).parents[1]
                                 / "scenarios" / "ganzhou-voucher.toml")
    rate = "policies[ganzhou-voucher].rate"
    table = sweep(voucher, {rate: [0.3, 0.1]}, n_paths=60, seed=1)
    ds = table.to_xarray()
    assert len(ds.data_vars) < len(table.columns) - 1
    outlay = ds["outlay.total"]
    assert outlay.dims == ("year", rate)
    assert list(ds["year"].values) == list(range(2025, 2031))
    for row in table.rows:
        for y in range(2025, 2031):
            assert float(outlay.sel({"year": y, rate: row[rate]})) == row[f"outlay.total.{y}"]
    ds.to_netcdf(tmp_path / "sweep.nc")
    with xr.open_dataset(tmp_path / "sweep.nc") as back:
        assert float(back["outlay.total"].sel({"year": 2030, rate: 0.3})) == float(
            outlay.sel({"year": 2030, rate: 0.3}))
        assert list(back[rate].values) == [0.3, 0.1]


def test_two_grid_paths_to_one_field_are_refused_not_run_with_one_value():
    # each pair reaches one field (by index and by key; a field and a part of it; a
    # block's scale, which rescales its growth): the later would override the earlier,
    # and the rows would be labelled with values they were not run with
    s = ganzhou()
    slip = s.plan.projects[1].slippage
    for grid in ({"sites[0].pue": [1.2, 1.3], "sites[tianyi-huawei].pue": [1.8]},
                 {"plan.projects[smart-computing-centre].slippage.mean": [1.0, 9.0],
                  "plan.projects[smart-computing-centre].slippage": [slip]},
                 {"demands[enterprise-ai].scale": [1.0, 3.0],
                  "demands[enterprise-ai].growth": [s.demands[2].growth]}):
        with pytest.raises(ValidationError) as info:
            sweep(s, grid, evaluate=lambda sc, seed: {"x": 1})
        first, second = grid
        (problem,) = info.value.problems
        assert problem.path == second
        assert f"sets the same field as {first!r}" in problem.reason
    with pytest.raises(ValidationError, match="sweep grid") as info:
        sweep(s, {"sites[0].pue": [1.2, 1.2]}, evaluate=lambda sc, seed: {"x": 1})
    assert "repeats a value" in info.value.problems[0].reason
    # different fields of one site are two axes
    assert len(sweep(s, {"sites[0].pue": [1.2], "sites[0].grid": [None]},
                     evaluate=lambda sc, seed: {"x": 1}).rows) == 1


def test_an_evaluate_that_overwrites_the_grid_or_returns_no_mapping_is_refused():
    s = ganzhou()
    for evaluate, reason in ((lambda sc, seed: {"sites[0].pue": 99}, "a path of the grid"),
                             (lambda sc, seed: 5, "must return a mapping")):
        with pytest.raises(FieldError) as info:
            sweep(s, {"sites[0].pue": [1.2]}, evaluate=evaluate)
        assert info.value.path == "evaluate"
        assert reason in info.value.reason
    # options go to the default figures: beside an evaluate they would be ignored
    with pytest.raises(FieldError) as info:
        sweep(s, {"sites[0].pue": [1.2]}, evaluate=lambda sc, seed: {"x": 1}, n_path=8)
    assert info.value.path == "n_path"
    assert "would be ignored" in info.value.reason
    # a figure a later row has and the first lacks is a column too
    r = sweep(s, {"sites[0].pue": [1.2, 1.3]},
              evaluate=lambda sc, seed: {"a": 1} | ({"b": 2} if sc.estate.sites[0].pue > 1.25
                                                    else {}))
    assert r.columns == ("sites[0].pue", "a", "b")


def test_a_grid_of_quantities_becomes_a_coordinate_with_its_unit():
    # pandas and xarray hold no pint quantities: the coordinate is the magnitudes in the
    # first value's unit (10,000 W is 10 kW), and says which unit
    from capacity import Q_

    r = sweep(ganzhou(), {"profiles.smart-ai.it_power": [Q_("8 kW"), Q_("10000 W")]},
              evaluate=lambda sc, seed: {"kw": sc.estate.profiles["smart-ai"].it_power
                                         .m_as("kW")})
    ds = r.to_xarray()
    coord = ds["profiles.smart-ai.it_power"]
    assert coord.values.tolist() == [8.0, 10.0]
    assert coord.attrs["units"] == "kW"
    assert ds["kw"].values.tolist() == [8.0, 10.0]
