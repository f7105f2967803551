"""Results as labelled xarray Datasets: named dimensions, coordinates, units in attrs.

Inside, capacity works on numpy arrays; at the surface :meth:`Projection.to_xarray
<capacity.projection.Projection.to_xarray>` and :meth:`PolicyCost.to_xarray
<capacity.policy.PolicyCost.to_xarray>` give the same numbers as xarray Datasets.
Every variable carries its unit in ``attrs["units"]``, written so that
``capacity.ureg.Unit(attrs["units"])`` reads it back, and the Datasets survive
``to_netcdf``/``xarray.open_dataset`` with their values and units.

Dimensions are ``path`` (Monte Carlo path), ``month`` (a datetime coordinate, the first
day of each month), ``year``, ``pool`` (``"site/profile"``), ``site``, ``instrument``,
``resource`` (resource names) and ``quantile``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from capacity import fields
from capacity.errors import FieldError
from capacity.resources import Resource
from capacity.units import ureg

__all__ = ["appraisal_dataset", "policy_dataset", "projection_dataset", "unit_text"]

_BYTES_LIMIT = 2**31  # a Dataset of paths larger than this is refused: take quantiles


def unit_text(unit: Any) -> str:
    """A unit as text that ``capacity.ureg`` parses back to the same unit."""
    text = f"{unit:~C}" if not isinstance(unit, str) else unit
    return text or "dimensionless"


def _xarray() -> Any:
    try:
        import xarray
    except ImportError as error:  # pragma: no cover - xarray is a dependency
        raise ImportError("labelled results need xarray (pip install xarray)") from error
    return xarray


def _check_size(n_values: int, n_paths: int) -> None:
    if 8 * n_values > _BYTES_LIMIT:
        raise FieldError("n_paths", f"a Dataset of every path would hold "
                         f"{8 * n_values / 2**30:,.1f} GiB; pass q=(0.05, 0.5, 0.95) for "
                         "quantiles over paths, or take some paths with .paths(slice(0, k))",
                         n_paths)


def _over_paths(values: NDArray[np.float64], q: Sequence[float] | None,
                ) -> tuple[NDArray[np.float64], tuple[str, ...]]:
    """Paths as they are, or their quantiles (``quantile`` replaces ``path``)."""
    if q is None:
        return values, ("path",)
    return np.asarray(np.quantile(values, _levels(q), axis=0)), ("quantile",)


def _levels(q: Any) -> list[float]:
    got = fields.levels(q)
    return list(got) if isinstance(got, tuple) else [got]


def _month_coord(months: NDArray[np.datetime64]) -> NDArray[np.datetime64]:
    return months.astype("datetime64[ns]")


def projection_dataset(p: Any, q: Sequence[float] | None = None) -> Any:
    """The Dataset of :meth:`Projection.to_xarray <capacity.projection.Projection.to_xarray>`."""
    xarray = _xarray()
    resources = [r for r in Resource if np.any(p.pools.per_cabinet[:, r.index])
                 or r in p._demanded]
    if q is None:
        _check_size(p.n_paths * p.months.size * (2 * len(resources) + p.pools.n), p.n_paths)
    data: dict[str, Any] = {}
    for r in resources:
        for of, paths in (("capacity", p._capacity(r)), ("demand", p._demand(r))):
            values, lead = _over_paths(paths, q)
            data[f"{of}_{r.name.lower()}"] = ((*lead, "month"), values, {
                "units": unit_text(r.unit), "long_name": f"{of} of {r.label}"})
    cab, lead = _over_paths(np.asarray(p.cabinets), q)
    data["cabinets"] = ((*lead, "month", "pool"), cab, {
        "units": "cabinet", "long_name": "cabinets in service in each pool"})
    data["p_shortfall"] = (("month", "resource"), p.shortfall_probability(), {
        "units": "dimensionless",
        "long_name": "probability that demand of the resource is short where it may run"})
    for name, delay in p.delays.items():
        if q is None:
            data[f"delay_{name}"] = (("path",), delay.astype(np.float64), {
                "units": "month", "long_name": f"completion delay of project {name}"})
    coords: dict[str, Any] = {
        "month": _month_coord(p.months),
        "pool": [str(k) for k in p.pools.keys],
        "resource": [r.name.lower() for r in Resource],
    }
    if q is None:
        coords["path"] = np.arange(p.n_paths)
    else:
        coords["quantile"] = np.asarray(_levels(q), dtype=np.float64)
    return xarray.Dataset(data, coords=coords, attrs={
        "title": f"capacity projection of {p.scenario.name}", "seed": p.seed,
        "n_paths": p.n_paths})


def policy_dataset(cost: Any, q: Sequence[float] | None = None) -> Any:
    """The Dataset of :meth:`PolicyCost.to_xarray <capacity.policy.PolicyCost.to_xarray>`."""
    xarray = _xarray()
    n_paths = cost.energy.shape[0]
    if q is None:
        _check_size(cost.energy.size * 4 + cost.induced.size, n_paths)
    data: dict[str, Any] = {}

    def put(name: str, dims: tuple[str, ...], values: NDArray[np.float64], units: str,
            long_name: str) -> None:
        over, lead = _over_paths(values, q)
        data[name] = ((*lead, *dims), over, {"units": units, "long_name": long_name})

    if cost.instruments:
        put("outlay", ("year", "instrument"),
            np.stack([cost.outlays[n] for n in cost.instruments], axis=-1), "yuan",
            "what each instrument pays in each year")
        put("exhausted", ("year", "instrument"), np.stack(
            [(cost.exhausted_at[n] >= 0).astype(np.float64) for n in cost.instruments],
            axis=-1), "dimensionless", "1 where the instrument's budget ran out that year")
    for r, factor in cost.net_price_factor.items():
        put(f"net_price_factor_{r.name.lower()}", ("year",), factor, "dimensionless",
            f"net price ÷ list price of {r.label}")
    for r in Resource:
        if np.any(cost.induced[:, :, r.index]):
            put(f"induced_{r.name.lower()}", ("year",), cost.induced[:, :, r.index],
                unit_text(r.unit), f"mean demand the policy induces, {r.label}")
    with np.errstate(all="ignore"):
        for name, values, units, long_name in (
                ("utilisation_without", cost.utilisation_without, "dimensionless",
                 "mean utilisation without the policy"),
                ("utilisation_with", cost.utilisation_with, "dimensionless",
                 "mean utilisation with the policy"),
                ("energy", cost.energy, "yuan", "energy bill"),
                ("electricity_subsidy", cost.electricity_subsidy, "yuan",
                 "electricity subsidies received")):
            if q is None or "utilisation" not in name:
                put(name, ("year", "site"), values, units, long_name)
            else:  # a site without capacity all year is nan on every path
                import warnings
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    data[name] = (("quantile", "year", "site"),
                                  np.nanquantile(values, _levels(q), axis=0),
                                  {"units": units, "long_name": long_name})
    coords: dict[str, Any] = {"year": cost.years.astype(np.int64),
                              "site": list(cost.site_ids),
                              "instrument": list(cost.instruments)}
    if q is None:
        coords["path"] = np.arange(n_paths)
    else:
        coords["quantile"] = np.asarray(_levels(q), dtype=np.float64)
    return xarray.Dataset(data, coords=coords, attrs={
        "title": "capacity policy costing", "converged": int(cost.converged)})


def appraisal_dataset(a: Any, q: Sequence[float] | None = None) -> Any:
    """The Dataset of :meth:`Appraisal.to_xarray <capacity.policy.Appraisal.to_xarray>`."""
    import warnings

    xarray = _xarray()
    n_paths = a.n_paths
    resources = list(a.resources())
    if q is None:
        _check_size(a.spend_with.size * (4 + 4 * len(resources) + 8 * len(a.site_ids)),
                    n_paths)
    data: dict[str, Any] = {}

    def put(name: str, dims: tuple[str, ...], values: NDArray[np.float64], units: str,
            long_name: str) -> None:
        if q is None:
            data[name] = (("path", *dims), values, {"units": units, "long_name": long_name})
            return
        with warnings.catch_warnings():  # a site without capacity all year is nan
            warnings.simplefilter("ignore", RuntimeWarning)
            over = np.nanquantile(values, _levels(q), axis=0)
        data[name] = (("quantile", *dims), over, {"units": units, "long_name": long_name})

    if a.instruments:
        def stack(table: Any) -> NDArray[np.float64]:
            return np.stack([table[n] for n in a.instruments], axis=-1)

        put("outlay", ("year", "instrument"), stack(a.outlays), "yuan",
            "what each instrument pays in each year")
        put("deadweight", ("year", "instrument"), stack(a.deadweight), "yuan",
            "outlay paid on demand that would have been bought anyway")
    put("net_fiscal_cost", ("year",), a.net_fiscal_cost_paths(), "yuan",
        "outlay less the baseline's, less the public sites' gain in operating margin")
    put("public_gain", ("year",), a.public_gain_paths(), "yuan",
        "change in public sites' revenue - energy + electricity subsidies received")
    for r in resources:
        unit = unit_text(r.unit * ureg.hour)
        put(f"additional_{r.name.lower()}", ("year",),
            a.served_with[:, :, r.index] - a.served_without[:, :, r.index], unit,
            f"additional demand served estate-wide, {r.label}")
    for name, values, units, long_name in (
            ("revenue_without", a.revenue_without, "yuan", "revenue at list price without"),
            ("revenue_with", a.revenue_with, "yuan", "revenue at list price with the policy"),
            ("utilisation_without", a.utilisation_without, "dimensionless",
             "mean utilisation without the policy"),
            ("utilisation_with", a.utilisation_with, "dimensionless",
             "mean utilisation with the policy")):
        put(name, ("year", "site"), values, units, long_name)
    coords: dict[str, Any] = {"year": a.years.astype(np.int64), "site": list(a.site_ids),
                              "instrument": list(a.instruments),
                              "public": ("site", list(a.public))}
    if q is None:
        coords["path"] = np.arange(n_paths)
    else:
        coords["quantile"] = np.asarray(_levels(q), dtype=np.float64)
    return xarray.Dataset(data, coords=coords, attrs={
        "title": "capacity policy appraisal", "discount_rate": a.discount_rate})
