"""Plain-language reasons why an allocation problem has no feasible assignment.

The checks are necessary conditions, cheapest first, each naming what falls short:

1. a demand that must be served but fits no eligible pool (unsplittable: the whole demand;
   splittable: all its eligible pools together);
2. for each group of pools that some demands are confined to (their eligible pools), each
   resource and the sites' grid power: the least those demands need there against what the
   group holds.

When none of them fails, the demands are short of no single resource in total and the
packing itself (whole demands, spread rules, the mix of resources) is what fails.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from capacity.allocation.problem import AllocationProblem

__all__ = ["diagnose"]

#: How many shortfalls of each kind an explanation lists.
_LISTED = 5


def _names(problem: AllocationProblem, kind: Literal["demand", "pool", "site"],
           idx: NDArray[np.intp]) -> str:
    shown = ", ".join(problem.label(kind, int(k)) for k in idx[:_LISTED])
    return shown + (f" and {len(idx) - _LISTED} more" if len(idx) > _LISTED else "")


def _amount(value: float, unit: str) -> str:
    return f"{value:.6g} {unit}".rstrip()


def _cabinets(problem: AllocationProblem, pools: NDArray[np.intp], r: int,
              short: float) -> str:
    """The shortfall in whole cabinets of the group's best-endowed pool, when known."""
    if problem.per_cabinet is None:
        return ""
    per = float(problem.per_cabinet[pools, r].max(initial=0.0)) if pools.size else 0.0
    if per <= 0 or not np.isfinite(short):
        return ""
    best = problem.label("pool", int(pools[np.argmax(problem.per_cabinet[pools, r])]))
    return f" ({int(np.ceil(short / per - 1e-9)):,} more cabinets like {best}'s)"


def _demand_fits(problem: AllocationProblem, must: NDArray[np.bool_]) -> list[str]:
    """Demands that must be served but that no eligible pool (or all of them) can hold."""
    lines: list[str] = []
    elig = problem.eligible_mask
    size = problem.size
    use = problem.use
    cap = problem.capacity
    with np.errstate(divide="ignore", invalid="ignore"):
        # units of demand i that pool j could hold on its own, per resource
        room = np.where(use > 0, np.floor(cap[None] / use + 1e-9), np.inf)
    grid_use = problem.grid_power_use
    if grid_use is not None and problem.grid is not None:
        site_grid = problem.grid[problem.site_of_pool]
        with np.errstate(divide="ignore", invalid="ignore"):
            power_room = np.where(grid_use > 0, np.floor(site_grid[None] / grid_use + 1e-9),
                                  np.inf)
        room = np.concatenate([room, power_room[:, :, None]], axis=2)
    units = np.where(elig, room.min(axis=2, initial=np.inf), 0.0)
    whole = ~problem.splittable_mask
    holdable = np.where(whole, units.max(axis=1, initial=0.0), units.sum(axis=1))
    for i in np.flatnonzero(must & (holdable < size))[:_LISTED]:
        pools = np.flatnonzero(elig[i])
        best = pools[np.argmax(units[i, pools])]
        short = [k for k in range(room.shape[2]) if room[i, best, k] < size[i]]
        what = ", ".join(
            f"{problem.label('resource', k)} (needs "
            f"{_amount(use[i, best, k] * size[i], problem.resource_unit(k))}, has "
            f"{_amount(cap[best, k], problem.resource_unit(k))})" if k < use.shape[2] else
            "grid power" for k in short)
        kind = "fits no eligible pool on its own" if whole[i] else (
            f"has {size[i]:.6g} units but its eligible pools hold at most {holdable[i]:.6g}")
        lines.append(f"{problem.label('demand', i)} {kind}; at "
                     f"{problem.label('pool', best)}, the roomiest, it is short of {what}.")
    return lines


def _group_shortfalls(problem: AllocationProblem, must: NDArray[np.bool_]) -> list[str]:
    """Resources a group of demands confined to the same pools needs more of than they hold."""
    elig = problem.eligible_mask & must[:, None]
    patterns = np.unique(elig[must], axis=0)
    found: list[tuple[float, str]] = []
    size = problem.size
    least = np.where(elig[:, :, None], problem.use, np.inf).min(axis=1, initial=np.inf)
    least = np.where(must[:, None] & (size[:, None] > 0), least, 0.0) * size[:, None]
    grid_use = problem.grid_power_use
    for pattern in patterns:
        if not pattern.any():
            continue  # demands with no pool at all are named on their own
        confined = must & ~np.any(elig & ~pattern[None, :], axis=1)
        demands = np.flatnonzero(confined)
        pools = np.flatnonzero(pattern)
        need = least[confined].sum(axis=0)
        have = problem.capacity[pools].sum(axis=0)
        for r in np.flatnonzero(need > have * (1 + 1e-9)):
            unit = problem.resource_unit(int(r))
            found.append((need[r] - have[r], (
                f"{problem.label('resource', int(r))}: {_names(problem, 'demand', demands)} "
                f"can only use {_names(problem, 'pool', pools)}, which hold "
                f"{_amount(have[r], unit)}; they need at least {_amount(need[r], unit)}, "
                f"short by {_amount(need[r] - have[r], unit)}"
                f"{_cabinets(problem, pools, int(r), need[r] - have[r])}.")))
        if grid_use is not None and problem.grid is not None:
            sites = np.unique(problem.site_of_pool[pools])
            least_power = np.where(elig, grid_use, np.inf).min(axis=1, initial=np.inf)
            power_need = float((least_power[confined] * size[confined]).sum())
            power_have = float(problem.grid[sites].sum())
            if power_need > power_have * (1 + 1e-9):
                found.append((power_need - power_have, (
                    f"grid power: {_names(problem, 'demand', demands)} can only use sites "
                    f"{_names(problem, 'site', sites)}, whose grid allows "
                    f"{_amount(power_have, 'kW')}; they draw at least "
                    f"{_amount(power_need, 'kW')} (IT × PUE), short by "
                    f"{_amount(power_need - power_have, 'kW')}.")))
    found.sort(key=lambda item: -item[0])
    unique = list(dict.fromkeys(text for _, text in found))
    return unique[:_LISTED]


def diagnose(problem: AllocationProblem) -> str:
    """Explain why `problem` has no feasible assignment, as far as simple counts show.

    Parameters
    ----------
    problem
        The problem found (or suspected) infeasible.

    Returns
    -------
    str
        One finding per line, biggest shortfall first; the first line summarises.
    """
    must = problem.must_serve & (problem.size > 0)
    homeless = must & ~problem.eligible_mask.any(axis=1)
    lines = [f"{problem.label('demand', int(i))} must be served but may use no pool."
             for i in np.flatnonzero(homeless)[:_LISTED]]
    must = must & ~homeless
    lines += _group_shortfalls(problem, must) + _demand_fits(problem, must)
    if not lines:
        return ("No single resource is short in total: the demands that must be served cannot "
                "be packed together (whole demands, spread rules or the mix of resources "
                "prevent it).")
    return "\n".join(lines)
