"""What policy instruments buy, and what they cost the city, against a baseline.

:func:`appraise` projects a policy scenario and its baseline with the same seed and paths
(common random numbers: each component's draws are keyed by its name, so the two differ
only by what the policy changes), places both on every path and month by the one rule of
:mod:`capacity.placement`, and returns an :class:`Appraisal`: per calendar year and path,

* the **additional demand served** of each resource (in resource-hours: PFLOPS-hours,
  vCPU-hours) and the **deadweight** of each instrument, the part of its outlay paid on
  demand that would have been bought anyway;
* the **cost per additional unit** served, per instrument;
* each site's utilisation and revenue with and without the policy, and the **net fiscal
  cost**: the outlay less what publicly owned sites (``Site.public``) gain, since their
  operating margin returns to the public purse;
* what the extra demand **brings forward**: each resource's exhaustion date with and
  without, and the change in the present value of the capex needed to keep up,
  discounted at the market's ``discount_rate``.

Modelling decisions (each also listed in :attr:`Appraisal.assumptions`):

* **Served.** Demand served is what the least-cost placement finds room for; demand with
  no room buys nothing and is paid no voucher.
* **Deadweight.** A block a voucher covers is served ``s₀`` without the policy and ``s₁``
  with it; ``min(s₀, s₁)`` would have been bought anyway. A voucher's outlay in a year is
  split between that and the rest in proportion to their spend at list price, so
  deadweight + additional = outlay exactly. Subsidies to operators (electricity,
  construction) change no user price in this model (nothing is passed through), so all
  their outlay is deadweight: it pays for energy and cabinets the sites have anyway.
* **Net fiscal cost.** Outlay of the policy's instruments (less the baseline's own) minus
  the change in public sites' operating margin: revenue at list price − energy bill +
  subsidies received (electricity, and construction for their projects: money the city
  pays its own investment group stays in the public purse). Capex is not in the margin
  (the cabinets are built in both).
* **Capex.** For each resource that runs short, the expansion that closes it is a profile's
  cabinets (the densest profile offering the resource whose capex is known):
  ``cabinets_needed`` at α = 5 % without and with the policy, in service by the month the
  resource first runs short on each path (the month after the horizon when it does not).
  The change in present value splits into capex *brought forward* (the baseline's
  cabinets, earlier) and *more* capex (the extra cabinets).

Examples
--------
>>> from capacity.datasets import ganzhou
>>> from capacity.policy import PRESETS
>>> s = attrs.evolve(ganzhou(), policies=(PRESETS["chengdu-2023"],))
>>> a = appraise(s, n_paths=50, end="2027-12")
>>> law = a.deadweight_paths("chengdu-2023") + a.additional_outlay_paths("chengdu-2023")
>>> bool(np.allclose(law, a.outlays["chengdu-2023"]))
True
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from capacity import fields
from capacity.errors import FieldError
from capacity.instruments import ComputeVoucher, Instrument
from capacity.months import MonthLike, hours_in_month
from capacity.placement import CostModel, place
from capacity.policy.evaluate import PolicyCost, cost_policy
from capacity.projection import PATH_BLOCK, Projection, project
from capacity.provenance import Provenance
from capacity.resources import N_RESOURCES, Resource
from capacity.response import unit_spend, year_index, yearly_sum
from capacity.scenario import Scenario
from capacity.units import Quantity, ureg

__all__ = ["Appraisal", "CapexShift", "FrontierPoint", "appraise", "appraise_projections",
           "baseline_of", "compare_instruments", "voucher_frontier"]

_Floats = NDArray[np.float64]
#: The accepted probability of shortfall the capex of keeping up is sized for.
CAPEX_ALPHA = 0.05


def _quantile(paths: _Floats, q: float | Sequence[float]) -> _Floats:
    return np.asarray(np.quantile(paths, fields.levels(q), axis=0), dtype=np.float64)


@attrs.frozen
class CapexShift:
    """The expansion that keeps up with one group of resources, without and with a policy.

    Attributes
    ----------
    profile
        The cabinet profile built.
    resources
        The resources it closes (those that run short and that this profile offers best).
    cabinets_without, cabinets_with
        Cabinets needed (``cabinets_needed`` at α = 5 %), ``[cabinet]``.
    capex_per_cabinet
        The profile's investment per cabinet, ``[currency]``.
    earlier, more
        Per path, the change in present value, yuan: the baseline's cabinets brought
        forward, and the extra cabinets, ``(n_paths,)``.
    """

    profile: str
    resources: tuple[Resource, ...]
    cabinets_without: Quantity
    cabinets_with: Quantity
    capex_per_cabinet: Quantity
    earlier: _Floats = attrs.field(repr=False)
    more: _Floats = attrs.field(repr=False)

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)


@attrs.frozen(eq=False)
class Appraisal:
    """What a policy buys and costs against its baseline, per calendar year, over paths.

    Build it with :func:`appraise`. Arrays hold each path's figure per calendar year of
    the axis; the methods return quantiles over paths (median by default), or horizon
    totals where the method says so.

    Attributes
    ----------
    months, years
        The monthly axis and the calendar years it touches.
    site_ids
        Sites of the built estate, in the order of the site axis.
    public
        Whether each site is publicly owned.
    instruments
        The policy scenario's instruments, in order.
    discount_rate
        Real rate per year at which present values are taken (to the first month).
    outlays
        Each instrument's payments, ``(n_paths, n_years)`` yuan.
    baseline_outlay
        What the baseline's own instruments pay, ``(n_paths, n_years)`` yuan (zero when the
        baseline is the policy scenario without its instruments).
    deadweight
        Per instrument, the part of its outlay paid on demand bought anyway, yuan.
    additional_by
        Per instrument, the additional demand served that it pays for,
        ``(n_paths, n_years, R)`` resource-hours (zero for subsidies to operators).
    bought
        Per instrument, the primary resources of the demand blocks it pays on (empty for
        subsidies to operators).
    served_without, served_with
        Demand served estate-wide, ``(n_paths, n_years, R)`` resource-hours (canonical unit
        × hour).
    spend_without, spend_with
        What served demand pays at list price, ``(n_paths, n_years)`` yuan.
    revenue_without, revenue_with, energy_without, energy_with, received_without,
    received_with
        Each site's revenue at list price, energy bill and the subsidies it receives
        (electricity, and construction for its projects), ``(n_paths, n_years, n_sites)``
        yuan.
    utilisation_without, utilisation_with
        Each site's mean utilisation over the year (``nan``: no capacity).
    first_short_without, first_short_with
        Per resource, each path's first month short (an index; ``n_months``: never).
    capex
        The expansions that keep up, per group of resources.
    assumptions
        Every assumption of the appraisal and the costings under it, as (field, provenance).
    policy, baseline
        The names of the scenarios appraised.
    """

    months: NDArray[np.datetime64]
    years: NDArray[np.int64]
    site_ids: tuple[str, ...]
    public: tuple[bool, ...]
    instruments: tuple[str, ...]
    discount_rate: float
    outlays: Mapping[str, _Floats] = attrs.field(repr=False)
    baseline_outlay: _Floats = attrs.field(repr=False)
    deadweight: Mapping[str, _Floats] = attrs.field(repr=False)
    additional_by: Mapping[str, _Floats] = attrs.field(repr=False)
    bought: Mapping[str, tuple[Resource, ...]] = attrs.field(repr=False)
    served_without: _Floats = attrs.field(repr=False)
    served_with: _Floats = attrs.field(repr=False)
    spend_without: _Floats = attrs.field(repr=False)
    spend_with: _Floats = attrs.field(repr=False)
    revenue_without: _Floats = attrs.field(repr=False)
    revenue_with: _Floats = attrs.field(repr=False)
    energy_without: _Floats = attrs.field(repr=False)
    energy_with: _Floats = attrs.field(repr=False)
    received_without: _Floats = attrs.field(repr=False)
    received_with: _Floats = attrs.field(repr=False)
    utilisation_without: _Floats = attrs.field(repr=False)
    utilisation_with: _Floats = attrs.field(repr=False)
    first_short_without: Mapping[Resource, NDArray[np.int64]] = attrs.field(repr=False)
    first_short_with: Mapping[Resource, NDArray[np.int64]] = attrs.field(repr=False)
    capex: tuple[CapexShift, ...] = attrs.field(repr=False)
    assumptions: tuple[tuple[str, Provenance], ...] = attrs.field(repr=False, default=())
    policy: str = ""
    baseline: str = ""

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    @property
    def n_paths(self) -> int:
        """Number of Monte Carlo paths."""
        return int(self.spend_with.shape[0])

    def __repr__(self) -> str:
        return (f"Appraisal({', '.join(self.instruments) or 'no instruments'}: "
                f"{self.n_paths:,} paths, {self.years[0]}..{self.years[-1]}, "
                f"discount rate {self.discount_rate:g})")

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in self.headline().items())
        return f"<b>Appraisal</b> (medians over {self.n_paths:,} paths)<table>{rows}</table>"

    # -- checks -----------------------------------------------------------------------------
    def _instrument(self, name: str | None) -> list[str]:
        if name is None:
            return list(self.instruments)
        if not isinstance(name, str) or name not in self.outlays:
            raise FieldError("name", f"unknown instrument (known: "
                             f"{', '.join(self.instruments) or 'none'})"
                             f"{fields._hint(str(name), self.instruments)}", name)
        return [name]

    def _site(self, site: str) -> int:
        if not isinstance(site, str) or site not in self.site_ids:
            raise FieldError("site", f"unknown (known: {', '.join(self.site_ids)})"
                             f"{fields._hint(str(site), self.site_ids)}", site)
        return self.site_ids.index(site)

    # -- discounting ------------------------------------------------------------------------
    def discount_factors(self) -> _Floats:
        """``(n_years,)`` the present value of one yuan spent evenly over each year's months.

        Each month's money counts at its middle, discounted to the first month of the axis.
        """
        t = (np.arange(self.months.size) + 0.5) / 12.0
        per_month = np.asarray((1.0 + self.discount_rate) ** -t, dtype=np.float64)
        year_of = year_index(self.months)[1]
        counts = yearly_sum(np.ones(self.months.size), year_of)
        return np.asarray(yearly_sum(per_month, year_of) / counts, dtype=np.float64)

    def present_value_paths(self, yearly: _Floats) -> _Floats:
        """Per path, the present value of ``(n_paths, n_years)`` yuan flows, ``(n_paths,)``."""
        return np.asarray(np.asarray(yearly, dtype=np.float64) @ self.discount_factors(),
                          dtype=np.float64)

    _pv = present_value_paths

    # -- outlay and deadweight -----------------------------------------------------------
    def _sum(self, table: Mapping[str, _Floats], name: str | None) -> _Floats:
        return sum((table[n] for n in self._instrument(name)),
                   np.zeros_like(self.spend_with))

    def outlay_paths(self, name: str | None = None) -> _Floats:
        """``(n_paths, n_years)`` yuan: one instrument's outlay, or all the policy's."""
        return self._sum(self.outlays, name)

    def deadweight_paths(self, name: str | None = None) -> _Floats:
        """``(n_paths, n_years)`` yuan paid on demand that would have been bought anyway."""
        return self._sum(self.deadweight, name)

    def additional_outlay_paths(self, name: str | None = None) -> _Floats:
        """``(n_paths, n_years)`` yuan paid on additional demand: outlay − deadweight."""
        return self.outlay_paths(name) - self.deadweight_paths(name)

    def outlay(self, name: str | None = None, q: float | Sequence[float] = 0.5) -> Quantity:
        """Quantile(s) over paths of the yearly outlay, one instrument or all, ``[currency]``."""
        return ureg.Quantity(_quantile(self.outlay_paths(name), q), "yuan")

    def deadweight_share(self, name: str | None = None,
                         q: float | Sequence[float] = 0.5) -> _Floats:
        """Quantile(s) over paths of the share of the horizon's outlay that is deadweight.

        ``nan`` on a path with no outlay (there is nothing to share); quantiles skip them.
        """
        paid = self.outlay_paths(name).sum(axis=1)
        dead = self.deadweight_paths(name).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(paid > 0, dead / paid, np.nan)
        return _nanquantile(share, q)

    # -- demand served ---------------------------------------------------------------------
    def additional_paths(self, resource: Resource, name: str | None = None) -> Quantity:
        """``(n_paths, n_years)`` additional demand served, resource-hours.

        Estate-wide (``name=None``): served with the policy − without, which nets out any
        demand the policy's extra demand crowds out. For one instrument: the additional
        demand of the blocks it pays for.
        """
        r = Resource.argument(resource)
        if name is None:
            values = self.served_with[:, :, r.index] - self.served_without[:, :, r.index]
        else:
            values = self.additional_by[self._instrument(name)[0]][:, :, r.index]
        return ureg.Quantity(values, r.unit * ureg.hour)

    def additional(self, resource: Resource, name: str | None = None,
                   q: float | Sequence[float] = 0.5) -> Quantity:
        """Quantile(s) over paths of the yearly additional demand served, resource-hours."""
        paths = self.additional_paths(resource, name)
        return ureg.Quantity(_quantile(paths.magnitude, q), paths.units)

    def cost_per_additional(self, name: str, resource: Resource,
                            q: float | Sequence[float] = 0.5) -> Quantity:
        """Quantile(s) over paths of an instrument's outlay per additional unit served.

        Over the horizon: the instrument's outlay ÷ the additional resource-hours it pays
        for, ``[currency]/([resource]·[time])`` (``yuan/(PFLOPS_fp16*hour)``); infinite on
        a path where it buys none.
        """
        extra = self.additional_paths(resource, name)
        total = extra.magnitude.sum(axis=1)
        paid = self.outlay_paths(name).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            per = np.where(total > 0, paid / total, np.where(paid > 0, np.inf, np.nan))
        return ureg.Quantity(_nanquantile(per, q), ureg.yuan / extra.units)

    def additional_spend_per_yuan(self, q: float | Sequence[float] = 0.5) -> _Floats:
        """Quantile(s) over paths of the extra spend at list price per yuan of outlay.

        Over the horizon; above 1, each yuan of subsidy brings more than a yuan of extra
        purchases (leverage); ``nan`` on a path with no outlay.
        """
        extra = (self.spend_with - self.spend_without).sum(axis=1)
        paid = (self.outlay_paths() - self.baseline_outlay).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(paid > 0, extra / paid, np.nan)
        return _nanquantile(ratio, q)

    # -- sites -------------------------------------------------------------------------------
    def revenue(self, site: str, q: float | Sequence[float] = 0.5, *,
                policy: bool = True) -> Quantity:
        """Quantile(s) over paths of a site's yearly revenue at list price, ``[currency]``."""
        table = self.revenue_with if policy else self.revenue_without
        return ureg.Quantity(_quantile(table[:, :, self._site(site)], q), "yuan")

    def utilisation(self, site: str, q: float | Sequence[float] = 0.5, *,
                    policy: bool = True) -> _Floats:
        """Quantile(s) over paths of a site's yearly mean utilisation (``nan``: no capacity)."""
        table = self.utilisation_with if policy else self.utilisation_without
        return _nanquantile(table[:, :, self._site(site)], q)

    def public_gain_paths(self) -> _Floats:
        """``(n_paths, n_years)`` yuan: the change in public sites' operating margin.

        Revenue − energy bill + subsidies received (electricity, construction), with −
        without the policy: a subsidy paid to a public site's operator stays in the
        public purse.
        """
        mask = np.array(self.public, dtype=np.float64)
        margin_with = self.revenue_with - self.energy_with + self.received_with
        margin_without = self.revenue_without - self.energy_without + self.received_without
        return np.asarray((margin_with - margin_without) @ mask, dtype=np.float64)

    def net_fiscal_cost_paths(self) -> _Floats:
        """``(n_paths, n_years)`` yuan: outlay (less the baseline's) − public sites' gain."""
        return self.outlay_paths() - self.baseline_outlay - self.public_gain_paths()

    def net_fiscal_cost(self, q: float | Sequence[float] = 0.5, *,
                        present_value: bool = False) -> Quantity:
        """Quantile(s) over paths of the net fiscal cost, per year or over the horizon.

        With `present_value`, the horizon's total discounted to the first month (one
        figure per quantile); else the yearly figures.
        """
        paths = self.net_fiscal_cost_paths()
        values = self._pv(paths) if present_value else paths
        return ureg.Quantity(_quantile(values, q), "yuan")

    def present_value(self, yearly: _Floats, q: float | Sequence[float] = 0.5) -> Quantity:
        """Quantile(s) over paths of the present value of ``(n_paths, n_years)`` yuan flows."""
        return ureg.Quantity(_quantile(self._pv(np.asarray(yearly, dtype=np.float64)), q),
                             "yuan")

    # -- what is brought forward ---------------------------------------------------------
    def exhaustion(self, probability: float = 0.5,
                   ) -> dict[Resource, tuple[np.datetime64 | None, np.datetime64 | None]]:
        """Per resource, the first month P(short) ≥ `probability` without and with the policy."""
        probability = fields.read_real(probability, "probability", low=0, high=1,
                                       low_open=True)
        out: dict[Resource, tuple[np.datetime64 | None, np.datetime64 | None]] = {}
        for r, first in self.first_short_with.items():
            pair = []
            for table in (self.first_short_without[r], first):
                p = np.array([(table <= t).mean() for t in range(self.months.size)])
                hit = np.flatnonzero(p >= probability)
                pair.append(self.months[int(hit[0])] if hit.size else None)
            out[r] = (pair[0], pair[1])
        return out

    def months_earlier(self, resource: Resource, q: float | Sequence[float] = 0.5) -> _Floats:
        """Quantile(s) over paths of how many months earlier `resource` first runs short.

        A path on which it never runs short counts the month after the horizon, so a
        figure is a lower bound where the baseline lasts the horizon.
        """
        r = Resource.argument(resource)
        if r not in self.first_short_with:
            raise FieldError("resource", "has no demand in this appraisal", r.name.lower())
        moved = (self.first_short_without[r] - self.first_short_with[r]).astype(np.float64)
        return _quantile(moved, q)

    def capex_change(self, q: float | Sequence[float] = 0.5) -> dict[str, Quantity]:
        """Quantile(s) over paths of the change in the present value of expansion capex.

        ``{"earlier": ..., "more": ..., "total": ...}`` in yuan, summed over the
        expansions (:attr:`capex`).
        """
        earlier = sum((c.earlier for c in self.capex), np.zeros(self.n_paths))
        more = sum((c.more for c in self.capex), np.zeros(self.n_paths))
        return {k: ureg.Quantity(_quantile(v, q), "yuan")
                for k, v in (("earlier", earlier), ("more", more), ("total", earlier + more))}

    # -- summaries -----------------------------------------------------------------------
    def resources(self) -> tuple[Resource, ...]:
        """Resources with demand, in :class:`~capacity.Resource` order."""
        return tuple(self.first_short_with)

    def totals(self, q: float = 0.5) -> dict[str, Any]:
        """The headline figures over the horizon, each a quantile over paths (median).

        Keys: ``outlay`` (the policy's instruments), ``baseline_outlay`` (the baseline's
        own) and ``net_fiscal_cost`` (present values, yuan), ``deadweight_share``,
        ``additional`` and ``cost_per_additional`` (per resource with any, resource-hours
        and yuan per resource-hour; the cost for all the policy's vouchers together),
        ``spend_per_yuan``, ``months_earlier`` (per resource) and ``capex`` (present
        values, yuan).
        """
        vouchers = [n for n in self.instruments if self.bought[n]]
        additional = {r: float(np.quantile(self.additional_paths(r).magnitude.sum(axis=1), q))
                      for r in self.resources()}
        cost: dict[Resource, float] = {}
        for r in dict.fromkeys(r for n in vouchers for r in self.bought[n]):
            paid = sum((self.outlay_paths(n).sum(axis=1) for n in vouchers),
                       np.zeros(self.n_paths))
            extra = sum((self.additional_by[n][:, :, r.index].sum(axis=1) for n in vouchers),
                        np.zeros(self.n_paths))
            if vouchers and np.any(extra > 0):
                with np.errstate(divide="ignore", invalid="ignore"):
                    per = np.where(extra > 0, paid / extra, np.inf)
                cost[r] = float(_nanquantile(per, q))
        return {
            "outlay": float(self.present_value(self.outlay_paths(), q).magnitude),
            "baseline_outlay": float(self.present_value(self.baseline_outlay, q).magnitude),
            "net_fiscal_cost": float(self.net_fiscal_cost(q, present_value=True).magnitude),
            "public_gain": float(self.present_value(self.public_gain_paths(), q).magnitude),
            "deadweight_share": float(self.deadweight_share(q=q)),
            "additional": additional,
            "cost_per_additional": cost,
            "spend_per_yuan": float(self.additional_spend_per_yuan(q)),
            "months_earlier": {r: float(self.months_earlier(r, q)) for r in self.resources()},
            "capex": {k: float(v.magnitude) for k, v in self.capex_change(q).items()},
        }

    def pays_off_paths(self) -> NDArray[np.bool_]:
        """Per path, whether the policy pays for itself: net fiscal cost (PV) ≤ 0.

        A net cost within a billionth of the outlay counts as zero (rounding in the sums
        of a pure transfer to public sites).
        """
        net = self._pv(self.net_fiscal_cost_paths())
        scale = np.abs(self._pv(self.outlay_paths())) + np.abs(self._pv(self.baseline_outlay))
        return np.asarray(net <= 1e-9 * np.maximum(scale, 1.0))

    def pays_off(self, q: float = 0.5) -> bool:
        """Whether the policy pays for itself at quantile `q` of the net fiscal cost (PV)."""
        net = float(self.net_fiscal_cost(q, present_value=True).magnitude)
        scale = float(np.median(np.abs(self._pv(self.outlay_paths()))))
        return net <= 1e-9 * max(scale, 1.0)

    def headline(self) -> dict[str, str]:
        """The headline figures in words (medians), for a notebook or a report."""
        t = self.totals()
        out = {"outlay (PV)": f"{t['outlay'] / 1e4:,.0f} 万元",
               "net fiscal cost (PV)": f"{t['net_fiscal_cost'] / 1e4:,.0f} 万元",
               "deadweight share": "n/a" if math.isnan(t["deadweight_share"])
               else f"{t['deadweight_share']:.0%}"}
        for r, v in t["cost_per_additional"].items():
            unit = _display_hour(r)
            per = ureg.Quantity(v, ureg.yuan / (r.unit * ureg.hour)).m_as(ureg.yuan / unit)
            words = f"{unit / ureg.hour:~P}-hour"  # PFLOPS_fp16-hour
            out[f"cost per additional {words}"] = (
                f"{per:,.1f} yuan" if math.isfinite(per) else "buys none")
        return out

    def to_xarray(self, q: Sequence[float] | None = None) -> Any:
        """The appraisal as a labelled :class:`xarray.Dataset`.

        Dimensions ``path`` (or ``quantile`` when `q` is given), ``year``, ``instrument``,
        ``site`` and ``resource``; each variable carries its unit in ``attrs["units"]``.
        """
        from capacity.labelled import appraisal_dataset

        return appraisal_dataset(self, q)


def _display_hour(r: Resource) -> Any:
    """The unit-hour unit prices are read in: PFLOPS of a precision, else the canonical."""
    unit = r.unit
    if r.precision is not None:
        unit = ureg.Unit(f"{r.unit:~C}".replace("TFLOPS", "PFLOPS").replace("TOPS", "POPS"))
    return unit * ureg.hour


def _nanquantile(values: _Floats, q: float | Sequence[float]) -> _Floats:
    """Quantiles skipping ``nan``; an infinite value is a quantile, not interpolated into nan."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-nan: the quantile is nan
        if np.isinf(values).any():
            return np.asarray(np.nanquantile(values, fields.levels(q), axis=0,
                                             method="higher"), dtype=np.float64)
        return np.asarray(np.nanquantile(values, fields.levels(q), axis=0), dtype=np.float64)


# -- the computation --------------------------------------------------------------------------
def _check_pair(policy: Projection, baseline: Projection) -> None:
    """Refuse a baseline that is not the same estate and demand on the same paths."""
    if baseline.n_paths != policy.n_paths or baseline.seed != policy.seed or not np.array_equal(
            baseline.months, policy.months):
        raise FieldError("baseline", "must be projected with the same paths, seed and months "
                         f"as the policy ({policy.n_paths:,} paths, seed {policy.seed}, "
                         f"{policy.months[0]} to {policy.months[-1]})")
    names = [b.name for b in policy.uses.blocks]
    theirs = [b.name for b in baseline.uses.blocks]
    if names != theirs:
        raise FieldError("baseline", f"has other demand blocks ({', '.join(theirs)}) than the "
                         f"policy ({', '.join(names)}); appraise against the same demand")
    sites = [s.id for s in policy.pools.sites]
    if [s.id for s in baseline.pools.sites] != sites:
        raise FieldError("baseline", "has other sites than the policy; appraise against the "
                         "same estate and plan")


@attrs.frozen
class _Served:
    """One chunk of paths placed: what each block is served, its spend and site revenue."""

    served: _Floats        # (B, P, T) primary
    per_unit: _Floats      # (B, T) yuan per unit-month at list price
    revenue: _Floats       # (P, T, S) yuan


def _serve(part: Projection, electricity_price: float | None) -> _Served:
    scenario = part.scenario
    model = CostModel.of(part.pools, part.months, scenario.market, scenario.policies,
                         electricity_price=electricity_price)
    wanted = part.need * part.multiplier
    placed = place(wanted, part.cabinets, part.pools, part.uses, model.unit_cost(part.uses))
    per_unit = unit_spend(part.uses.blocks, scenario.market.priced(), part.months)
    revenue = part.pools.by_site(placed.valued(wanted, per_unit, part.pools.n))
    return _Served(placed.served(wanted), per_unit, revenue)


def _covers(v: ComputeVoucher, part: Projection, per_unit: _Floats) -> _Floats:
    """``(B,)`` 1 where the voucher pays on the block (its kind, and something priced)."""
    return np.array([float(b.kind in v.eligible_kinds and per_unit[i].any())
                     for i, b in enumerate(part.uses.blocks)]).reshape(len(part.uses.blocks))


def _yearly(monthly: _Floats, year_of: NDArray[np.int64]) -> _Floats:
    """Sum over each year of the month axis 1 of ``(P, T, ...)`` → ``(P, Y, ...)``."""
    return np.asarray(np.moveaxis(yearly_sum(np.moveaxis(monthly, 1, -1), year_of), -1, 1),
                      dtype=np.float64)


def _capex(without: Projection, with_: Projection, rate: float) -> tuple[CapexShift, ...]:
    """The expansions that keep up with what runs short, and their change in present value."""
    short = [r for r in Resource if r in with_._demanded
             and (with_.short_paths(r).any() or without.short_paths(r).any())]
    profiles = with_.pools.profiles
    by_profile: dict[str, list[Resource]] = {}
    for r in short:
        offering = [(float(p.amount(r).m_as(r.unit)), name) for name, p in profiles.items()
                    if p.capex is not None and p.amount(r).magnitude > 0]
        if offering:
            by_profile.setdefault(max(offering)[1], []).append(r)
    n_months = with_.months.size
    out = []
    for name, resources in by_profile.items():
        k0 = float(without.cabinets_needed(name, CAPEX_ALPHA).cabinets.m_as("cabinet"))
        k1 = float(with_.cabinets_needed(name, CAPEX_ALPHA).cabinets.m_as("cabinet"))
        t0 = np.min([without.first_short(r) for r in resources], axis=0)
        t1 = np.min([with_.first_short(r) for r in resources], axis=0)
        each = profiles[name].capex
        assert each is not None
        capex = float(each.m_as("yuan"))
        v0 = (1.0 + rate) ** (-np.minimum(t0, n_months) / 12.0)
        v1 = (1.0 + rate) ** (-np.minimum(t1, n_months) / 12.0)
        out.append(CapexShift(name, tuple(resources), ureg.Quantity(k0, "cabinet"),
                              ureg.Quantity(k1, "cabinet"), each.to("yuan"),
                              capex * k0 * (v1 - v0), capex * (k1 - k0) * v1))
    return tuple(out)


def _notes(policy: Projection, cost: PolicyCost, rate: float) -> tuple[tuple[str, Provenance],
                                                                       ...]:
    market = policy.scenario.market
    rate_note = market.provenance_of("discount_rate") or Provenance.assumption(
        f"a real discount rate of {rate:g} a year")
    public = [s.id for s in policy.pools.sites if s.public]
    notes = [("market.discount_rate", rate_note),
             *((f"sites[{s.id}].public", s.provenance.get("public", Provenance.assumption(
                 "publicly owned, as the scenario states"))) for s in policy.pools.sites
               if s.public),
             ("appraisal.public", Provenance.assumption(
                 "public sites' operating margin offsets the outlay: "
                 + (", ".join(public) if public else "no site is public, so none does"))),
             ("appraisal.deadweight", Provenance.assumption(
                 "a voucher's outlay is split between demand bought anyway (served without "
                 "the policy too) and additional demand in proportion to their spend at list "
                 "price")),
             ("appraisal.pass_through", Provenance.assumption(
                 "operators pass none of an electricity or construction subsidy on to user "
                 "prices, so those subsidies induce no demand: all their outlay is deadweight")),
             ("appraisal.capex", Provenance.assumption(
                 "the expansion that keeps up is cabinets_needed at α = 5 % of the densest "
                 "profile offering the short resource, in service when it first runs short")),
             *((f"policies[{v.name}].take_up", Provenance.assumption(
                 f"take-up {v.take_up:g}: every eligible purchase claims" if v.take_up == 1
                 else f"take-up {v.take_up:g} of eligible spend claims"))
               for v in policy.scenario.policies
               if isinstance(v, ComputeVoucher) and "take_up" not in v.provenance),
             *cost.assumptions]
    first: dict[str, Provenance] = {}
    for field, pv in notes:
        first.setdefault(field, pv)
    return tuple(first.items())


def appraise_projections(policy: Projection, baseline: Projection, *,
                         electricity_price: Quantity | None = None) -> Appraisal:
    """Appraise a projected policy scenario against a projected baseline.

    Both must be projected with the same paths, seed and months, and hold the same sites
    and demand blocks (:func:`appraise` projects them so).

    Parameters
    ----------
    policy, baseline
        Projections of the policy scenario and of its baseline.
    electricity_price
        Price for sites without their own, ``[currency]/[energy]``.

    Returns
    -------
    Appraisal

    Raises
    ------
    FieldError
        If the baseline does not match the policy.
    ValidationError
        Listing every problem of the costing's inputs.
    """
    fields.read_instance(policy, Projection, "policy")
    fields.read_instance(baseline, Projection, "baseline")
    _check_pair(policy, baseline)
    cost1 = cost_policy(policy, electricity_price=electricity_price)
    cost0 = cost_policy(baseline, electricity_price=electricity_price)
    price = None if electricity_price is None else float(
        ureg.Quantity(electricity_price).m_as("yuan/kWh"))
    months = policy.months
    years, year_of = year_index(months)
    hours = hours_in_month(months)
    n, n_y = policy.n_paths, years.size
    blocks = policy.uses.blocks
    ratios = np.array([b.ratios for b in blocks]).reshape(-1, N_RESOURCES)
    vouchers = [x for x in policy.scenario.policies if isinstance(x, ComputeVoucher)]
    anyway = {v.name: np.zeros((n, n_y)) for v in vouchers}
    eligible = {v.name: np.zeros((n, n_y)) for v in vouchers}
    extra = {v.name: np.zeros((n, n_y, N_RESOURCES)) for v in vouchers}
    served = [np.zeros((n, n_y, N_RESOURCES)) for _ in range(2)]
    spend = [np.zeros((n, n_y)) for _ in range(2)]
    revenue = [np.zeros((n, n_y, len(policy.pools.sites))) for _ in range(2)]
    wide = max(int(policy.uses.eligible.sum()), policy.pools.n, 1) * len(blocks)
    size = max(16, min(PATH_BLOCK, 2**22 // (months.size * wide)))
    for start in range(0, n, size):
        rows = slice(start, min(start + size, n))
        got = [_serve(p.paths(rows), price) for p in (baseline, policy)]
        for k, g in enumerate(got):
            hourly = g.served * hours  # (B, P, T) unit-hours
            served[k][rows] = _yearly(np.einsum("bpt,br->ptr", hourly, ratios), year_of)
            spend[k][rows] = yearly_sum((g.served * g.per_unit[:, None, :]).sum(axis=0),
                                        year_of)
            revenue[k][rows] = _yearly(g.revenue, year_of)
        s0, s1 = got[0].served, got[1].served
        kept = np.minimum(s0, s1)
        for v in vouchers:
            cover = _covers(v, policy, got[1].per_unit)[:, None, None] \
                * v.in_window(months)[None, None, :]
            price_bt = got[1].per_unit[:, None, :]
            eligible[v.name][rows] = yearly_sum((cover * s1 * price_bt).sum(axis=0), year_of)
            anyway[v.name][rows] = yearly_sum((cover * kept * price_bt).sum(axis=0), year_of)
            extra[v.name][rows] = _yearly(np.einsum("bpt,br->ptr", cover * (s1 - kept) * hours,
                                                    ratios), year_of)
    names = cost1.instruments
    deadweight: dict[str, _Floats] = {}
    additional_by: dict[str, _Floats] = {}
    bought: dict[str, tuple[Resource, ...]] = {}
    per_unit = unit_spend(blocks, policy.scenario.market.priced(), months)
    for name in names:
        paid = cost1.outlays[name]
        if name in eligible:
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(eligible[name] > 0, anyway[name] / eligible[name], 1.0)
            deadweight[name] = paid * share
            additional_by[name] = extra[name]
            v = next(x for x in vouchers if x.name == name)
            bought[name] = tuple(dict.fromkeys(
                b.resource for b, c in zip(blocks, _covers(v, policy, per_unit), strict=True)
                if c))
        else:
            deadweight[name] = paid.copy()
            additional_by[name] = np.zeros((n, n_y, N_RESOURCES))
            bought[name] = ()
    rate = float(policy.scenario.market.discount_rate)
    demanded = policy._demanded
    base_outlay = sum((cost0.outlays[x] for x in cost0.instruments), np.zeros((n, n_y)))
    return Appraisal(
        months=months, years=years, site_ids=tuple(s.id for s in policy.pools.sites),
        public=tuple(bool(s.public) for s in policy.pools.sites), instruments=names,
        discount_rate=rate, outlays=dict(cost1.outlays), baseline_outlay=base_outlay,
        deadweight=deadweight, additional_by=additional_by, bought=bought,
        served_without=served[0], served_with=served[1],
        spend_without=spend[0], spend_with=spend[1],
        revenue_without=revenue[0], revenue_with=revenue[1],
        energy_without=cost0.energy, energy_with=cost1.energy,
        received_without=cost0.electricity_subsidy + cost0.construction_subsidy,
        received_with=cost1.electricity_subsidy + cost1.construction_subsidy,
        utilisation_without=cost0.utilisation_with, utilisation_with=cost1.utilisation_with,
        first_short_without={r: baseline.first_short(r) for r in demanded},
        first_short_with={r: policy.first_short(r) for r in demanded},
        capex=_capex(baseline, policy, rate), assumptions=_notes(policy, cost1, rate),
        policy=policy.scenario.name, baseline=baseline.scenario.name if
        baseline.scenario.policies or baseline.scenario.name != policy.scenario.name else
        f"{policy.scenario.name} without its instruments")


def baseline_of(policy: Scenario) -> Scenario:
    """The policy scenario without its instruments: the baseline :func:`appraise` implies."""
    return attrs.evolve(policy, policies=())


def _same_study(a: Scenario, b: Scenario) -> bool:
    """True when `a` and `b` differ at most in their names, descriptions and notes."""
    return attrs.evolve(a, name=b.name, description=b.description, notes=b.notes) == b


def appraise(policy: Scenario, baseline: Scenario | None = None, *,
             start: MonthLike = "2025-01", end: MonthLike = "2030-12", n_paths: int = 2000,
             seed: int = 0, executor: Executor | None = None,
             electricity_price: Quantity | None = None) -> Appraisal:
    """Appraise a policy scenario against its baseline: what it buys and what it costs.

    Parameters
    ----------
    policy
        The scenario with the instruments in force.
    baseline
        The scenario without them; by default the policy scenario with no instruments.
        It must hold the same sites and demand blocks (it may differ in anything else).
    start, end
        First and last month of the axis (``"2025-01"``), both included.
    n_paths, seed
        Monte Carlo paths, and the seed both projections share.
    executor
        Where the projections' chunks run (see :func:`capacity.project`).
    electricity_price
        Price for sites without their own, ``[currency]/[energy]``.

    Returns
    -------
    Appraisal

    Raises
    ------
    FieldError, ValidationError
        For a bad argument, a baseline that does not match the policy, or a policy
        scenario with no instruments and no baseline (or one that is the same scenario).
    """
    fields.read_instance(policy, Scenario, "policy")
    if baseline is not None:
        fields.read_instance(baseline, Scenario, "baseline")
    if not policy.policies and (baseline is None or _same_study(baseline, policy)):
        # against itself without instruments every figure would be zero by construction
        raise FieldError("policy.policies", f"scenario {policy.name!r} has no instruments, "
                         "so against its baseline (the same scenario) there is nothing to "
                         "appraise: add an instrument, or pass a baseline that differs")
    if baseline is None:
        baseline = baseline_of(policy)
    kw: dict[str, Any] = {"start": start, "end": end, "n_paths": n_paths, "seed": seed,
                          "executor": executor}
    return appraise_projections(project(policy, **kw), project(baseline, **kw),
                                electricity_price=electricity_price)


def compare_instruments(policy: Scenario, instruments: Sequence[Instrument] | None = None,
                        *, baseline: Scenario | None = None,
                        **kw: Any) -> dict[str, Appraisal]:
    """Each instrument appraised on its own against the same baseline, by name.

    `instruments` defaults to the policy scenario's; each is put alone into the policy
    scenario (the rest as given) and appraised against `baseline` (by default the policy
    scenario without instruments) with the keywords of :func:`appraise`, so the
    appraisals share paths and compare per yuan of outlay.
    """
    fields.read_instance(policy, Scenario, "policy")
    chosen = tuple(policy.policies if instruments is None else instruments)
    base = baseline_of(policy) if baseline is None else baseline
    return {x.name: appraise(attrs.evolve(policy, policies=(x,)), base, **kw) for x in chosen}


@attrs.frozen
class FrontierPoint:
    """One voucher design (rate × annual budget) appraised, for a cost-effectiveness frontier.

    Attributes
    ----------
    rate, budget
        The voucher's rate and annual budget (``None``: no budget).
    outlay, net_fiscal_cost
        Medians of the present values over the horizon, yuan.
    additional
        Median additional demand served over the horizon, resource-hours of `resource`.
    resource
        The resource the voucher buys (its covered demand's primary).
    deadweight_share
        Median share of the outlay paid on demand bought anyway.
    efficient
        Whether no other design serves at least as much additional demand for no more net
        fiscal cost (and does strictly better in one).
    """

    rate: float
    budget: Quantity | None
    outlay: float
    net_fiscal_cost: float
    additional: float
    resource: Resource | None
    deadweight_share: float
    efficient: bool = False


def voucher_frontier(policy: Scenario, voucher: str | None = None, *,
                     rates: Sequence[float] = (0.1, 0.2, 0.3, 0.4, 0.5),
                     budgets: Sequence[Any] = ("1000 万元/year", "3000 万元/year",
                                               "5000 万元/year", "8000 万元/year"),
                     **kw: Any) -> list[FrontierPoint]:
    """Appraise a voucher at every rate × budget and mark the efficient designs.

    Each design is the policy scenario with the voucher's rate and annual budget set (the
    rest as given), appraised against the same baseline with the keywords of
    :func:`appraise` (same paths and seed, so designs compare path by path).

    Parameters
    ----------
    policy
        The policy scenario.
    voucher
        Name of the voucher to vary; the scenario's first voucher by default.
    rates
        Rates to try, each a share in [0, 1].
    budgets
        Annual budgets to try, ``[currency]/[time]`` (``None``: no budget).

    Returns
    -------
    list of FrontierPoint
        In the order rates × budgets; `efficient` marks the frontier.
    """
    fields.read_instance(policy, Scenario, "policy")
    found = [x for x in policy.policies if isinstance(x, ComputeVoucher)
             and (voucher is None or x.name == voucher)]
    if not found:
        known = [x.name for x in policy.policies if isinstance(x, ComputeVoucher)]
        raise FieldError("voucher", f"no such compute voucher in the scenario (vouchers: "
                         f"{', '.join(known) or 'none'})", voucher)
    v = found[0]
    if not rates or not budgets:
        raise FieldError("rates" if not rates else "budgets", "must hold at least one value")
    base = baseline_of(policy)
    points = []
    for rate in rates:
        for budget in budgets:
            design = attrs.evolve(v, rate=rate, annual_budget=budget)
            s = attrs.evolve(policy, policies=tuple(design if x is v else x
                                                    for x in policy.policies))
            a = appraise(s, base, **kw)
            t = a.totals()
            bought = a.bought[v.name]
            r = bought[0] if bought else None
            points.append(FrontierPoint(
                float(design.rate), design.annual_budget, t["outlay"], t["net_fiscal_cost"],
                float(t["additional"].get(r, 0.0)) if r is not None else 0.0, r,
                t["deadweight_share"]))
    return [attrs.evolve(p, efficient=not any(
        o.additional >= p.additional and o.net_fiscal_cost <= p.net_fiscal_cost
        and (o.additional > p.additional or o.net_fiscal_cost < p.net_fiscal_cost)
        for o in points)) for p in points]
