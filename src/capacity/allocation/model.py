"""The mixed-integer model of an :class:`AllocationProblem`, built as sparse matrices.

Only eligible (demand, pool) pairs become variables. One variable ``v`` per eligible pair
counts *steps* of the demand at the pool: a step is one unit for a splittable demand and
the whole demand for an unsplittable one (``v`` binary). With ``step[i]`` units per step
and ``steps[i]`` steps in the demand (``size`` or 1), every demand is::

    Σ_j v[i,j] + u[i] = steps[i]          (u: unmet steps, fixed to 0 when it must be served)

so splittable and unsplittable demands share one vectorised constraint matrix.
Rows are laid out as: demand rows (n, equalities), capacity rows (m·R, pool-major),
power rows (one per site, when there is a power envelope), then spread-rule rows.
"""

from __future__ import annotations

import attrs
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from capacity.allocation.problem import AllocationProblem
from capacity.errors import FieldError

__all__ = ["Model", "build_model"]


@attrs.frozen(eq=False)
class Model:
    """A MILP ``min c·x  s.t.  row_lower ≤ A x ≤ row_upper, lower ≤ x ≤ upper``.

    The cost vector is always to be minimised (negated values for ``sense="max"``).

    Attributes
    ----------
    pair_demand, pair_pool
        ``(P,)`` demand and pool of each pair variable (the first ``P`` columns).
    step
        ``(n,)`` units of demand per step.
    steps
        ``(n,)`` steps in each demand.
    c, lower, upper, integrality
        Column data; ``integrality`` is 1 for integer columns (scipy's convention). A pair
        one step of which alone overfills a capacity has ``upper`` 0.
    matrix, row_lower, row_upper
        The constraint matrix (CSR) and its row bounds, capacity rows divided by
        ``row_scale``.
    capacity_rows, power_rows
        Slices of the rows holding capacity ``(m·R)`` and site power constraints.
    row_scale
        ``(rows,)`` what each row was divided by: 1 for rows other than capacity and
        power and for capacity rows of everyday magnitudes; a row whose bound is below 1
        or above 1e9, or whose coefficients leave 1e-6…1e9, is divided by its bound (or
        less, so its smallest coefficient stays at 1e-6 or more). HiGHS's tolerances are
        absolute and it drops coefficients at or below 1e-9, so unscaled such rows could
        be overfilled. A row dual in the problem's units is the solver's divided by this.
    pair_site
        ``(P,)`` site of each pair's pool.
    y_demand, y_site
        Demand and site of each spread indicator column (after the unmet columns).
    z_demand
        Demand of each "served" flag column (the last columns).
    """

    pair_demand: NDArray[np.intp]
    pair_pool: NDArray[np.intp]
    step: NDArray[np.float64]
    steps: NDArray[np.float64]
    c: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    integrality: NDArray[np.int8]
    matrix: sp.csr_array
    row_lower: NDArray[np.float64]
    row_upper: NDArray[np.float64]
    capacity_rows: slice
    power_rows: slice
    row_scale: NDArray[np.float64]
    pair_site: NDArray[np.intp]
    y_demand: NDArray[np.intp]
    y_site: NDArray[np.intp]
    z_demand: NDArray[np.intp]

    @property
    def column_demand(self) -> NDArray[np.intp]:
        """Demand each column belongs to (pairs, unmet, spread indicators, served flags)."""
        n = self.steps.shape[0]
        return np.concatenate([self.pair_demand, np.arange(n), self.y_demand, self.z_demand])

    @property
    def n_pairs(self) -> int:
        """Number of pair variables (eligible demand-pool pairs)."""
        return int(self.pair_demand.shape[0])

    def pair_values(self, x: NDArray[np.float64], n: int, m: int) -> NDArray[np.float64]:
        """``(n, m)`` units placed, from a column vector `x` of this model."""
        out = np.zeros((n, m))
        out[self.pair_demand, self.pair_pool] = x[: self.n_pairs] * self.step[self.pair_demand]
        return out

    def columns_of(self, assignment: NDArray[np.float64]) -> NDArray[np.float64]:
        """Column vector of an ``(n, m)`` assignment in units (the reverse of pair_values).

        Unmet steps take up the rest of each demand; spread indicators are 1 exactly where
        the demand holds units (``y``) or is served at all (``z``).
        """
        n = assignment.shape[0]
        v = np.round(assignment[self.pair_demand, self.pair_pool] / self.step[self.pair_demand])
        placed = np.bincount(self.pair_demand, weights=v, minlength=n)
        at_site = np.zeros((n, int(self.pair_site.max(initial=-1)) + 1))
        np.add.at(at_site, (self.pair_demand, self.pair_site), v)
        return np.concatenate([v, self.steps - placed,
                               (at_site[self.y_demand, self.y_site] > 0).astype(np.float64),
                               (placed[self.z_demand] > 0).astype(np.float64)])


def build_model(problem: AllocationProblem) -> Model:
    """Build the sparse MILP of `problem`, vectorised over eligible pairs.

    Parameters
    ----------
    problem
        The allocation problem.

    Returns
    -------
    Model
        Columns: pair steps ``v`` (P), unmet steps ``u`` (n), then, for demands with a
        spread rule, site indicators ``y`` and served flags ``z``.

    Raises
    ------
    FieldError
        Naming ``use[i,j,r]`` (or ``power_use[i,j]``), when a demand's share of a capacity
        is too small for the solver to hold to even after rescaling, while the demands
        there could overfill it.
    """
    n, m, r_count = problem.use.shape
    split = problem.splittable_mask
    size = problem.size
    step = np.where(split, 1.0, np.maximum(size, 1.0))
    steps = np.where(split, size, (size > 0).astype(np.float64))
    pi, pj = np.nonzero(problem.eligible_mask)
    n_pairs = pi.shape[0]
    sign = -1.0 if problem.sense == "max" else 1.0

    penalty = problem.penalty_values
    must = problem.must_serve
    c_pairs = sign * problem.cost[pi, pj] * step[pi]
    c_unmet = np.where(must, 0.0, penalty * step)

    cols_c = [c_pairs, c_unmet]
    cols_lo = [np.zeros(n_pairs), np.zeros(n)]
    cols_hi = [steps[pi], np.where(must, 0.0, steps)]

    pair_col = np.arange(n_pairs)
    # demand rows: Σ_j v + u = steps
    rows = [pi, np.arange(n)]
    cols = [pair_col, n_pairs + np.arange(n)]
    vals = [np.ones(n_pairs), np.ones(n)]
    row_lo = [steps]
    row_hi = [steps]

    # capacity rows (j, r) -> n + j*R + r
    cap_start = n
    use = problem.use[pi, pj, :] * step[pi, None]  # (P, R)
    rows.append((cap_start + pj[:, None] * r_count + np.arange(r_count)[None, :]).ravel())
    cols.append(np.repeat(pair_col, r_count))
    vals.append(use.ravel())
    row_lo.append(np.full(m * r_count, -np.inf))
    row_hi.append(problem.capacity.ravel())
    next_row = cap_start + m * r_count

    power_start = next_row
    grid_use = problem.grid_power_use
    if grid_use is not None and problem.grid is not None:
        site = problem.site_of_pool
        rows.append(power_start + site[pj])
        cols.append(pair_col)
        vals.append(grid_use[pi, pj] * step[pi])
        row_lo.append(np.full(problem.n_sites, -np.inf))
        row_hi.append(problem.grid)
        next_row += problem.n_sites
    power_rows = slice(power_start, next_row)

    n_cols = n_pairs + n
    spread = problem.min_sites_values
    yi = ys = spread_demands = np.zeros(0, dtype=np.intp)
    if np.any(spread > 1):
        site = problem.site_of_pool
        wants = spread > 1
        # one indicator y per (demand with a rule, site it can reach)
        keyed = np.unique(pi[wants[pi]] * problem.n_sites + site[pj[wants[pi]]])
        yi, ys = np.divmod(keyed, problem.n_sites)
        n_y = yi.shape[0]
        y_col = n_cols + np.arange(n_y)
        spread_demands = np.flatnonzero(wants)
        z_col_of = np.full(n, -1)
        z_col_of[spread_demands] = n_cols + n_y + np.arange(spread_demands.shape[0])
        n_cols += n_y + spread_demands.shape[0]
        cols_c += [np.zeros(n_y), np.zeros(spread_demands.shape[0])]
        cols_lo += [np.zeros(n_y), must[spread_demands].astype(np.float64)]
        cols_hi += [np.ones(n_y), np.ones(spread_demands.shape[0])]

        # y[i,s] - Σ_{j at s} v[i,j] ≤ 0: a site counts only when it holds a unit
        y_row = next_row + np.arange(n_y)
        sel = np.flatnonzero(wants[pi])
        pair_row = np.searchsorted(keyed, pi[sel] * problem.n_sites + site[pj[sel]])
        rows += [y_row, y_row[pair_row]]
        cols += [y_col, pair_col[sel]]
        vals += [np.ones(n_y), -np.ones(sel.shape[0])]
        next_row += n_y
        # k·z[i] - Σ_s y[i,s] ≤ 0: a served demand covers k sites
        k_row = next_row + np.searchsorted(spread_demands, yi)
        z_rows = next_row + np.arange(spread_demands.shape[0])
        rows += [z_rows, k_row]
        cols += [z_col_of[spread_demands], y_col]
        vals += [spread[spread_demands].astype(np.float64), -np.ones(n_y)]
        next_row += spread_demands.shape[0]
        # Σ_j v[i,j] - steps[i]·z[i] ≤ 0: nothing is placed unless the demand is served
        served_rows = next_row + np.arange(spread_demands.shape[0])
        rows += [served_rows, next_row + np.searchsorted(spread_demands, pi[sel])]
        cols += [z_col_of[spread_demands], pair_col[sel]]
        vals += [-steps[spread_demands], np.ones(sel.shape[0])]
        next_row += spread_demands.shape[0]
        n_rule = n_y + 2 * spread_demands.shape[0]
        row_lo.append(np.full(n_rule, -np.inf))
        row_hi.append(np.zeros(n_rule))

    matrix = sp.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(next_row, n_cols))
    lower = np.concatenate(cols_lo)
    upper = np.concatenate(cols_hi)
    row_hi_all = np.concatenate(row_hi)
    matrix, scale = _scaled(problem, matrix, upper, row_hi_all,
                            slice(cap_start, power_rows.stop), pi, pj)
    row_hi_all = row_hi_all / scale
    return Model(
        pair_demand=pi, pair_pool=pj, step=step, steps=steps, c=np.concatenate(cols_c),
        lower=lower, upper=upper, integrality=np.ones(n_cols, dtype=np.int8),
        matrix=matrix, row_lower=np.concatenate(row_lo) / scale, row_upper=row_hi_all,
        capacity_rows=slice(cap_start, cap_start + m * r_count), power_rows=power_rows,
        row_scale=scale,
        pair_site=problem.site_of_pool[pj], y_demand=yi, y_site=ys, z_demand=spread_demands)


#: HiGHS drops matrix coefficients at or below this magnitude (its ``small_matrix_value``).
_SMALLEST = 1e-9
#: By how much (relative to the row's bound) dropped coefficients may overfill a row
#: before the model is refused.
_TOLERANCE = 1e-7
#: Capacity bounds and coefficients the solvers take as they are. HiGHS's tolerances are
#: absolute (1e-7 would be 5 % of a capacity of 2e-6), so a row with a bound below 1, or
#: a coefficient outside, is rescaled.
_PLAIN_BOUND = (1.0, 1e9)
_PLAIN_COEFFICIENT = (1e-6, 1e9)


def _scaled(problem: AllocationProblem, matrix: sp.csr_array, upper: NDArray[np.float64],
            bound: NDArray[np.float64], limited: slice, pi: NDArray[np.intp],
            pj: NDArray[np.intp]) -> tuple[sp.csr_array, NDArray[np.float64]]:
    """The matrix with its capacity rows of odd magnitudes rescaled, and each row's divisor.

    A pair one step of which alone overfills a capacity row is fixed to zero in `upper`
    (in place), as no integer answer can use it, and its coefficient there is clipped to
    the row's bound: coefficients up to 1e30 no longer reach the solver, and the LP
    relaxation tightens as presolve would tighten the tree's. Each capacity
    row of `limited` whose bound or coefficients leave ``_PLAIN_BOUND`` /
    ``_PLAIN_COEFFICIENT`` is divided by its bound (by its largest coefficient when the
    bound is not finite and positive: a capacity of 0 with loads of 1e-12 is divided by
    them, so the heuristic, which works in this scale, sees them), or by less where that
    would push its smallest coefficient under 1e-6; rows of everyday magnitudes are left
    as they are (the Yagiura and Ganzhou rows are).

    Raises
    ------
    FieldError
        When a coefficient is still at or below HiGHS's 1e-9 after that and its pairs
        could overfill the row unseen (see :func:`_check_precision`).
    """
    coo = sp.coo_array(matrix)
    n_rows, n_pairs = matrix.shape[0], pi.shape[0]
    at = (coo.row >= limited.start) & (coo.row < limited.stop)
    pair = at & (coo.col < n_pairs)
    data = coo.data.copy()
    cap = bound[coo.row]
    over = pair & np.isfinite(cap) & (data > cap * (1 + 1e-9) + 1e-300)
    # the rows' ranges without the overfilling pairs: a clipped one counts at the bound
    nonzero = at & (data != 0)
    sized = np.where(over & (cap > 0), cap, np.abs(data))
    smallest, largest = np.full(n_rows, np.inf), np.zeros(n_rows)
    np.minimum.at(smallest, coo.row[nonzero], sized[nonzero])
    np.maximum.at(largest, coo.row[nonzero], sized[nonzero])
    finite = np.isfinite(bound) & (bound > 0)
    odd = (finite & ((bound < _PLAIN_BOUND[0]) | (bound > _PLAIN_BOUND[1]))) \
        | (smallest < _PLAIN_COEFFICIENT[0]) | (largest > _PLAIN_COEFFICIENT[1])
    by = np.where(finite, bound, np.where(largest > 0, largest, 1.0))
    # no smaller than 1e-12 of the bound, so the bound stays far below HiGHS's infinity
    by = np.maximum(np.minimum(by, smallest * 1e6), by * 1e-12)
    scale = np.ones(n_rows)
    rows = np.arange(limited.start, limited.stop)
    scale[rows] = np.where(odd[rows], by[rows], 1.0)
    # an overfilling pair is fixed to zero, its coefficient clipped to the bound (to the
    # row's scale where the bound is 0: what the pair is is irrelevant, only that it is)
    upper[coo.col[over]] = 0.0
    data[over] = np.where(cap[over] > 0, cap[over], scale[coo.row[over]])
    data = data / scale[coo.row]
    _check_precision(problem, data[pair], coo.row[pair], coo.col[pair], upper,
                     bound / scale, limited, pi, pj)
    return sp.csr_array((data, (coo.row, coo.col)), shape=matrix.shape), scale


def _check_precision(problem: AllocationProblem, data: NDArray[np.float64],
                     rows: NDArray[np.intp], cols: NDArray[np.intp],
                     upper: NDArray[np.float64], bound: NDArray[np.float64], limited: slice,
                     pi: NDArray[np.intp], pj: NDArray[np.intp]) -> None:
    """Refuse a model one of whose capacities the solver could not hold to.

    HiGHS drops a (scaled) coefficient at or below :data:`_SMALLEST`. That is harmless
    unless the row can be filled (its pairs' most steps would exceed it) and the dropped
    pairs' most steps could add more than :data:`_TOLERANCE` of it: then the answer could
    overfill the row unseen. After :func:`_scaled` this takes a capacity whose demands'
    shares span more than 21 orders of magnitude. `data`, `rows` and `cols` are the pair
    entries of the capacity rows.
    """
    finite = np.isfinite(bound[rows])
    mass = np.where(finite, np.abs(data) * upper[cols], 0.0)
    small = finite & (np.abs(data) <= _SMALLEST) & (data != 0)
    n_rows = bound.shape[0]
    full = np.bincount(rows, weights=mass, minlength=n_rows)
    dropped = np.bincount(rows, weights=mass * small, minlength=n_rows)
    with np.errstate(invalid="ignore"):  # rows without a finite bound are never risky
        risky = (dropped > _TOLERANCE * bound) & (full > bound * (1 + _TOLERANCE))
    if not risky.any():
        return
    k = int(np.argmax(np.where(small & risky[rows], mass, -1.0)))  # the largest share
    i, j, row = int(pi[cols[k]]), int(pj[cols[k]]), int(rows[k]) - limited.start
    r_count = problem.n_resources
    grid_use, grid = problem.grid_power_use, problem.grid
    if row < problem.n_pools * r_count or grid_use is None or grid is None:
        field, value = f"use[{i},{j},{row % r_count}]", float(problem.use[i, j, row % r_count])
        cap = float(problem.capacity.ravel()[row])
    else:
        field, value = f"power_use[{i},{j}]", float(grid_use[i, j])
        cap = float(grid[row - problem.n_pools * r_count])
    raise FieldError(
        field, f"{problem.label('demand', i)} takes {float(value):.3g} per unit at "
        f"{problem.label('pool', j)}, a share of its capacity ({cap:.3g}) too small for the "
        "solver to hold to, while the demands there could fill it: count the demands in "
        "larger units (fewer, bigger units)", float(value))
