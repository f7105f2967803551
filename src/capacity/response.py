"""How demand responds to the price users pay: voucher shares and the demand they induce.

Below the projection, so that the demand a voucher induces is part of the projected demand
of the run that costs it (its exhaustion dates and fan charts move with the voucher), and
the policy layer pays the vouchers on exactly that demand.

Modelling decisions (each also listed by :func:`capacity.policy.cost_policy`):

* **Spend.** A block's spend in a calendar month is its need of every priced resource ×
  the list price, integrated over that month's hours (a price per month is read as a rate:
  ``50 yuan/vCPU/month`` is 50 yuan per 730.5 hours).
* **Enterprises.** A voucher's eligible spend in a year, times its take-up, is split over
  the enterprises by fixed weights; each claims ``min(rate × spend_e, cap)``, nothing
  below ``min_claim``;
  the scheme pays ``min(Σ_e claims, budget)``.
* **Net price.** Users respond to the year's average net price: the list price × (1 − the
  share of eligible spend the vouchers pay that year), stacked over vouchers, at most 1.
* **Who responds.** Only blocks a voucher covers that buy something priced: a block
  without a list price pays none, so no voucher lowers it.
* **Induced demand.** Constant price elasticity ε: need × (net/list)^ε, solved together
  with caps and budgets by damped fixed-point iteration; the net price is floored at 1 %
  of list for the response alone (constant elasticity has no limit at a free price).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import attrs
import numpy as np
from numpy.typing import NDArray

from capacity import fields
from capacity.demand import DemandBlock
from capacity.instruments import ComputeVoucher, ElectricitySubsidy
from capacity.months import hours_in_month
from capacity.resources import N_RESOURCES, Resource
from capacity.units import Quantity, ureg

__all__ = ["Response", "respond", "unit_spend", "year_index"]

_Floats = NDArray[np.float64]
_NET_FLOOR = 0.01
_MAX_ITER = 200
_TOL = 1e-10


def year_index(months: NDArray[np.datetime64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The calendar years an axis touches and the year index of each month."""
    y = months.astype("datetime64[Y]").astype(np.int64) + 1970
    years = np.unique(y)
    return years.astype(np.int64), np.searchsorted(years, y).astype(np.int64)


def year_starts(year_of: NDArray[np.int64]) -> NDArray[np.int64]:
    """Index of the first month of each year on the axis."""
    return np.concatenate([[0], np.flatnonzero(year_of[1:] != year_of[:-1]) + 1]).astype(
        np.int64)


def yearly_sum(monthly: _Floats, year_of: NDArray[np.int64]) -> _Floats:
    """Sums over each calendar year along the last (month) axis."""
    return np.asarray(np.add.reduceat(monthly, year_starts(year_of), axis=-1),
                      dtype=np.float64)


def unit_spend(blocks: Sequence[DemandBlock], prices: Mapping[Resource, Quantity],
               months: NDArray[np.datetime64]) -> _Floats:
    """``(B, T)`` yuan one unit of each block's primary spends in each calendar month."""
    per_hour = np.zeros(N_RESOURCES)
    for r, q in prices.items():
        per_hour[r.index] = q.m_as(ureg.yuan / r.unit / ureg.hour)
    rate = np.array([b.ratios @ per_hour for b in blocks]).reshape(len(blocks))
    return np.asarray(rate[:, None] * hours_in_month(months)[None, :], dtype=np.float64)


def claims(spend: _Floats, v: ComputeVoucher, weights: _Floats) -> _Floats:
    """Σ over enterprises of their capped claims on `spend` (any shape), before the budget."""
    cap = float(v.cap_per_enterprise.m_as("yuan/year"))
    # enterprises of equal weight claim alike: one claim per distinct weight, counted
    share, count = np.unique(weights, return_counts=True)
    # only the take-up share of eligible spend is claimed
    each = np.minimum(v.rate * v.take_up * spend[..., None] * share, cap)
    if v.min_claim is not None:
        each = np.where(each < float(v.min_claim.m_as("yuan")), 0.0, each)
    return np.asarray(each @ count.astype(np.float64) if share.size > 1
                      else each[..., 0] * float(count[0]), dtype=np.float64)


def budget(v: ComputeVoucher | ElectricitySubsidy) -> float:
    """A scheme's annual budget in yuan (``inf`` without one)."""
    return math.inf if v.annual_budget is None else float(v.annual_budget.m_as("yuan/year"))


def enterprise_weights(enterprises: int | Sequence[float] | _Floats) -> _Floats:
    """Normalised weights of the enterprises sharing a voucher's spend."""
    if isinstance(enterprises, (int, np.integer)):
        return np.full(int(enterprises), 1.0 / int(enterprises))
    w = np.asarray(enterprises, dtype=np.float64).ravel()
    return np.asarray(w / w.sum(), dtype=np.float64)


@attrs.frozen(eq=False)
class Response:
    """The demand response to vouchers over a monthly axis.

    Attributes
    ----------
    yearly
        ``(B, P, Y)`` demand with the policy ÷ demand without it in each calendar year
        (1: no response); :attr:`multiplier` is the same per month.
    year_of
        ``(T,)`` the year of each month, an index into the years.
    share
        ``(B, P, Y)`` share of each block's yearly spend the vouchers pay.
    covers
        ``(V, B)`` 1 where voucher v covers block b.
    valid
        ``(V, T)`` months each voucher is valid.
    converged
        Whether the fixed point met its tolerance.
    """

    yearly: _Floats
    year_of: NDArray[np.int64]
    share: _Floats
    covers: _Floats
    valid: _Floats
    converged: bool

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    @property
    def multiplier(self) -> _Floats:
        """``(B, P, T)`` the response per month (each month takes its year's)."""
        return np.asarray(self.yearly[:, :, self.year_of])


def _shares(vouchers: Sequence[ComputeVoucher], covers: _Floats, spend_year: _Floats,
            spend_window_year: _Floats, multiplier: _Floats, weights: _Floats) -> _Floats:
    share = np.zeros_like(multiplier)
    for k, v in enumerate(vouchers):
        eligible = (covers[k][:, None, None] * multiplier * spend_window_year[k]).sum(axis=0)
        total = (covers[k][:, None, None] * multiplier * spend_year).sum(axis=0)
        paid = np.minimum(claims(eligible, v, weights), budget(v))
        s = np.divide(paid, total, out=np.zeros_like(paid), where=total > 0)
        share += covers[k][:, None, None] * s
    return np.minimum(share, 1.0)


def respond(need: _Floats, blocks: Sequence[DemandBlock], vouchers: Sequence[ComputeVoucher],
            months: NDArray[np.datetime64], *, prices: Mapping[Resource, Quantity],
            elasticity: float, weights: _Floats) -> Response:
    """Solve the vouchers' net price and induced demand together, per path and year.

    Parameters
    ----------
    need
        ``(B, P, T)`` each block's primary need without the policy, canonical units.
    blocks
        The blocks (their kinds decide which vouchers cover them).
    vouchers
        The compute vouchers in force.
    months
        The monthly axis.
    prices
        List price of each priced resource, ``[currency]/[resource]/[time]``.
    elasticity
        Constant price elasticity (≤ 0).
    weights
        Enterprise weights, summing to 1.
    """
    years, year_of = year_index(months)
    n_b, n_p, n_t = need.shape
    covers = np.array([[float(b.kind in v.eligible_kinds) for b in blocks] for v in vouchers]
                      ).reshape(len(vouchers), n_b)
    valid = np.array([v.in_window(months) for v in vouchers], dtype=np.float64).reshape(
        len(vouchers), n_t)
    multiplier = np.ones((n_b, n_p, years.size))
    if not vouchers:
        return Response(multiplier, year_of, np.zeros_like(multiplier), covers, valid, True)
    per_unit = unit_spend(blocks, prices, months)
    # a block that buys nothing priced pays no price: a voucher cannot lower it
    covers = covers * (per_unit.sum(axis=1) > 0)[None, :]
    # Blocks the same vouchers cover see the same net price, so they respond alike: the
    # fixed point is solved once per pattern of cover, on the pattern's total spend.
    patterns, group_of = np.unique(covers.T, axis=0, return_inverse=True)
    group_of = group_of.reshape(n_b)
    n_g = patterns.shape[0]
    spend = np.zeros((n_g, n_p, n_t))
    for b in range(n_b):
        if per_unit[b].any():
            spend[group_of[b]] += need[b] * per_unit[b]
    spend_year = yearly_sum(spend, year_of)
    spend_window_year = yearly_sum(spend[None] * valid[:, None, None, :], year_of)
    covers_g = np.ascontiguousarray(patterns.T)  # (V, G)
    factor = np.ones((n_g, n_p, years.size))
    # Each path iterates until its own step is within tolerance: a path's answer depends
    # on that path alone, so paths computed in chunks agree with one run to the last bit.
    active = np.arange(n_p) if elasticity != 0 else np.arange(0)
    for _ in range(_MAX_ITER):
        if not active.size:
            break
        m = factor[:, active]
        share = _shares(vouchers, covers_g, spend_year[:, active],
                        spend_window_year[:, :, active], m, weights)
        step = np.maximum(1.0 - share, _NET_FLOOR) ** elasticity - m
        factor[:, active] = m + 0.5 * step
        active = active[np.abs(step).max(axis=(0, 2), initial=0.0) >= _TOL]
    share = _shares(vouchers, covers_g, spend_year, spend_window_year, factor, weights)
    multiplier, share = factor[group_of], share[group_of]
    return Response(multiplier, year_of, share, covers, valid, not active.size)
