"""Hypothesis strategies for small random allocation problems, and a brute-force solver."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from capacity.allocation import AllocationProblem


@st.composite
def problems(
    draw: st.DrawFn,
    *,
    max_demands: int = 4,
    max_pools: int = 3,
    max_resources: int = 2,
    splittable: bool | None = None,
    sites: bool | None = None,
    spread: bool = False,
) -> AllocationProblem:
    """A small problem with whole-number data (so optima compare exactly).

    `splittable`/`sites`: force the choice, or draw it when None. `spread` adds spread rules
    (and forces splittable demands and sites).
    """
    n = draw(st.integers(1, max_demands))
    m = draw(st.integers(1, max_pools))
    r = draw(st.integers(1, max_resources))
    ints = st.integers(0, 6)

    def array(shape: tuple[int, ...], elements: Any = ints) -> NDArray[np.float64]:
        flat = draw(st.lists(elements, min_size=int(np.prod(shape)),
                             max_size=int(np.prod(shape))))
        return np.array(flat, dtype=float).reshape(shape)

    use = array((n, m, r), st.integers(0, 4))
    capacity = array((m, r), st.integers(0, 12))
    cost = array((n, m), st.integers(0, 9))
    size = array((n,), st.integers(1, 3))
    eligible = array((n, m), st.booleans()).astype(bool)
    # a demand with no eligible pool must be allowed to go unmet (else it is invalid input)
    penalty = array((n,), st.one_of(st.integers(0, 30), st.just(np.inf)))
    penalty = np.where(eligible.any(axis=1), penalty, np.where(np.isinf(penalty), 25, penalty))
    split: bool | NDArray[np.bool_]
    if spread:
        split = True
    elif splittable is None:
        split = array((n,), st.booleans()).astype(bool)
    else:
        split = splittable
    kwargs: dict[str, Any] = {}
    with_sites = spread or (draw(st.booleans()) if sites is None else sites)
    if with_sites:
        pool_site = array((m,), st.integers(0, max(0, m - 1)))
        n_sites = int(pool_site.max()) + 1
        kwargs.update(pool_site=pool_site, power_use=array((n, m), st.integers(0, 3)),
                      pue=1.0 + array((m,), st.integers(0, 5)) / 10,
                      grid=array((n_sites,), st.integers(0, 30)))
        if spread:
            reach = np.zeros((n, n_sites), dtype=bool)
            ii, jj = np.nonzero(eligible)
            reach[ii, pool_site[jj].astype(int)] = True
            kwargs["min_sites"] = np.minimum(
                array((n,), st.integers(0, 2)), np.minimum(reach.sum(axis=1), size))
    return AllocationProblem(use=use, capacity=capacity, cost=cost, size=size, penalty=penalty,
                             eligible=eligible, splittable=split, cost_unit="yuan", **kwargs)


def _options(p: AllocationProblem, i: int) -> list[NDArray[np.float64]]:
    """Every way to place demand i: units per pool (the rest unmet)."""
    m = p.n_pools
    size = int(p.size[i])
    pools = np.flatnonzero(p.eligible_mask[i])
    out: list[NDArray[np.float64]] = []
    if not p.splittable_mask[i]:
        out.append(np.zeros(m))
        for j in pools:
            x = np.zeros(m)
            x[j] = size
            out.append(x)
    else:
        for counts in itertools.product(range(size + 1), repeat=len(pools)):
            if sum(counts) <= size:
                x = np.zeros(m)
                x[pools] = counts
                out.append(x)
    if np.isinf(p.penalty_values[i]):
        out = [x for x in out if x.sum() == size]
    return out


def cost_of(p: AllocationProblem, x: NDArray[np.float64]) -> float:
    """Objective of assignment x (min sense), unmet penalties included."""
    unmet = p.size - x.sum(axis=1)
    pen = np.where(unmet > 0, p.penalty_values, 0.0) * unmet
    return float((p.cost * x).sum() + pen.sum())


def violations(p: AllocationProblem, x: NDArray[np.float64]) -> list[str]:
    """Every rule assignment x breaks (empty when feasible)."""
    found = []
    tol = 1e-6
    if np.any(x < -tol) or np.any(np.abs(x - np.round(x)) > tol):
        found.append("negative or fractional units")
    if np.any((x > 0) & ~p.eligible_mask):
        found.append("ineligible pool used")
    placed = x.sum(axis=1)
    if np.any(placed > p.size + tol):
        found.append("more than the demand placed")
    if np.any((placed < p.size - tol) & p.must_serve):
        found.append("a demand that must be served is short")
    whole = ~p.splittable_mask
    if np.any(whole & ((x > 0).sum(axis=1) > 1)) or np.any(
            whole & (placed > tol) & (placed < p.size - tol)):
        found.append("an unsplittable demand is split")
    used = np.einsum("ij,ijr->jr", x, p.use)
    if np.any(used > p.capacity + tol):
        found.append("capacity exceeded")
    grid_use = p.grid_power_use
    if grid_use is not None and p.grid is not None:
        power = np.bincount(p.site_of_pool, weights=(x * grid_use).sum(axis=0),
                            minlength=p.n_sites)
        if np.any(power > p.grid + tol):
            found.append("grid power exceeded")
    spread = p.min_sites_values
    if np.any(spread > 1):
        for i in np.flatnonzero((spread > 1) & (placed > 0)):
            if len(set(p.site_of_pool[x[i] > 0].tolist())) < spread[i]:
                found.append("spread rule broken")
    return found


def brute_force(p: AllocationProblem) -> float | None:
    """Optimal objective (min sense) by enumeration, None when infeasible."""
    best: float | None = None
    for combo in itertools.product(*(_options(p, i) for i in range(p.n_demands))):
        x = np.array(combo).reshape(p.n_demands, p.n_pools)
        if violations(p, x):
            continue
        c = cost_of(p, x)
        if best is None or c < best:
            best = c
    return best


def enumeration_size(p: AllocationProblem) -> int:
    """How many combinations brute_force would try."""
    return int(np.prod([len(_options(p, i)) for i in range(p.n_demands)]))
