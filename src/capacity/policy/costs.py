"""Costs of running and building compute: energy per month, straight-line capex.

Pure, vectorised functions: quantities at the edges, float arrays inside.

Examples
--------
>>> import numpy as np
>>> from capacity import Q_
>>> jan = np.array(["2025-01"], dtype="datetime64[M]")
>>> energy_cost(Q_(np.array([100.0]), "kW"), Q_(0.6, "yuan/kWh"), pue=1.5,
...             load_factor=0.5, months=jan).to("yuan")
<Quantity([33480.], 'yuan')>
>>> amortised(Q_(105, "万元"), years=10).to("yuan/year")
<Quantity(105000.0, 'yuan / year')>
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from capacity.errors import FieldError
from capacity.months import hours_in_month
from capacity.placement import capital_recovery
from capacity.units import Quantity, magnitudes, ureg

__all__ = ["amortised", "energy_cost", "energy_used", "hours_in_month"]


def _energy_kwh(it_kw: NDArray[np.float64], pue: ArrayLike, load_factor: ArrayLike,
                hours: NDArray[np.float64]) -> NDArray[np.float64]:
    # Facility energy = IT draw (installed IT power × average load) grossed up by PUE.
    return np.asarray(it_kw * np.asarray(load_factor) * np.asarray(pue) * hours,
                      dtype=np.float64)


def _check_share(value: ArrayLike, path: str, *, lower: float, upper: float) -> None:
    a = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(a)) or np.any(a < lower) or np.any(a > upper):
        raise FieldError(path, f"must lie in [{lower:g}, {upper:g}]", value)


def energy_used(it_power: Quantity, *, pue: ArrayLike, load_factor: ArrayLike,
                months: NDArray[np.datetime64]) -> Quantity:
    """Facility energy drawn in each month: IT power × load factor × PUE × hours.

    Parameters
    ----------
    it_power
        Installed IT power, ``[power]``, any shape whose last axis is `months`.
    pue
        Power usage effectiveness, dimensionless ≥ 1; broadcasts against `it_power`.
    load_factor
        Average IT draw as a share of installed IT power, dimensionless in [0, 1].
    months
        Calendar months of the last axis; each month counts its own hours.

    Returns
    -------
    Quantity
        Energy, ``[energy]`` (kWh), the shape of `it_power`.
    """
    _check_share(pue, "pue", lower=1.0, upper=np.inf)
    _check_share(load_factor, "load_factor", lower=0.0, upper=1.0)
    kw = magnitudes(it_power, "kW", "it_power")
    return ureg.Quantity(_energy_kwh(kw, pue, load_factor, hours_in_month(months)), "kWh")


def energy_cost(it_power: Quantity, price: Quantity, *, pue: ArrayLike,
                load_factor: ArrayLike, months: NDArray[np.datetime64]) -> Quantity:
    """What the energy of each month costs: IT power × load factor × PUE × hours × price.

    Parameters
    ----------
    it_power
        Installed IT power, ``[power]``, any shape whose last axis is `months`.
    price
        Price of electricity, ``[currency]/[energy]``; broadcasts against `it_power`.
    pue
        Power usage effectiveness, dimensionless ≥ 1.
    load_factor
        Average IT draw as a share of installed IT power, dimensionless in [0, 1].
    months
        Calendar months of the last axis.

    Returns
    -------
    Quantity
        Cost, ``[currency]`` (yuan), the shape of `it_power`.
    """
    kwh = energy_used(it_power, pue=pue, load_factor=load_factor, months=months)
    per_kwh = magnitudes(price, "yuan/kWh", "price")
    return ureg.Quantity(kwh.m_as("kWh") * per_kwh, "yuan")


def amortised(capex: Quantity, *, years: Any, rate: Any = 0.0) -> Quantity:
    """An investment spread over its life, per year: an annuity at `rate`.

    ``capex × rate / (1 − (1 + rate)^−years)``; at a zero rate, straight line (capex ÷
    years).

    Parameters
    ----------
    capex
        Investment, ``[currency]``, scalar or array.
    years
        Amortisation period in years, positive; broadcasts against `capex`.
    rate
        Cost of capital per year, dimensionless in [0, 1) (e.g. the market's
        ``discount_rate``).

    Returns
    -------
    Quantity
        Cost per year, ``[currency]/[time]`` (yuan/year).
    """
    y = np.asarray(years, dtype=np.float64)
    if not np.all(np.isfinite(y)) or np.any(y <= 0):
        raise FieldError("years", "must be positive", years)
    r = np.asarray(rate, dtype=np.float64)
    if r.dtype.kind not in "fiu" or not np.all((r >= 0) & (r < 1)):
        raise FieldError("rate", "must be a fraction in [0, 1)", rate)
    yuan = magnitudes(capex, "yuan", "capex")
    return ureg.Quantity(yuan * capital_recovery(r, y), "yuan/year")
