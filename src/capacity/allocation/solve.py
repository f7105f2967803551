"""allocate(): solve an AllocationProblem exactly (HiGHS MILP) and/or heuristically.

Outcomes are results: an infeasible problem or a time-limited solve returns an
:class:`Allocation` with a status and a message, never an exception.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import enum
import functools
import html
import importlib.util
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

import attrs
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from capacity import fields
from capacity.allocation.explain import diagnose
from capacity.allocation.heuristic import Packing, eject, greedy, improve, repair
from capacity.allocation.model import Model, build_model
from capacity.allocation.problem import AllocationProblem
from capacity.errors import FieldError
from capacity.inventory import UNMET
from capacity.units import Quantity, ureg

__all__ = ["Allocation", "Status", "allocate"]

#: Share of the time limit ``method="auto"`` gives branch and bound alone before starting
#: the heuristic search beside it: most problems are proven within it, and need no search.
_HEAD_START = 0.05
#: ... and at least this long, ``[s]`` (at most half the limit): city-sized problems close
#: within it, and a search started beside a solve about to end only slows it.
_HEAD_MIN = 0.5
#: How much lower the search's scheduling priority is than the caller's (a nice increment).
_NICE = 19
#: Share of the time limit of the search's own branch and bound, whose answer it improves.
_SEED_SHARE = 0.6
#: Share of the time limit of the second branch and bound beside highspy's (another seed).
_SECOND_SHARE = 0.3
#: Pairs from which the search beside branch and bound repairs the LP-guided greedy's
#: answer for its start. Measured at 10 s: from 13,500 pairs (15 × 900) up, HiGHS is
#: still near its root and the repaired start is the best answer by far (d201600: 13.9
#: -> 0.14 % above best known, d30900 3.4 -> 0.12 %); on 8,000 (d20400) the trees do
#: better than it, and starting from it ended worse in two runs of two (24649 against
#: 24615).
_REPAIR_FROM = 10_000
#: Share of the time limit the heuristic may use when that branch and bound found no answer.
_HEURISTIC_SHARE = 0.1
#: Share of the time limit the local search then spends on the answer.
_LOCAL_SHARE = 0.2
#: Patience that lets the local search run until its deadline.
_UNLIMITED = 2**62
#: Time limit of one neighbourhood re-solve in :func:`_polish`, ``[s]``.
_LNS_ROUND = 0.5
#: Seconds of each turn of the ejection-chain search beside highspy's branch and bound.
_TURN = 0.5
#: Node budget of one neighbourhood re-solve in the deterministic method.
_LNS_NODES = 100

#: Demand-pool pairs above which ``backend="auto"`` uses highspy (see :func:`_backend`).
_HIGHSPY_FROM = 1500
#: Demand-pool pairs up to which ``method="auto"`` on the clock is branch and bound alone:
#: such problems (a city's) close in well under a second, and a search started beside the
#: few that take longer slowed 20 of them by 2 % and never found a better answer.
_SEARCH_FROM = 1500
#: Relative slack below which a capacity is reported as binding.
_BINDING = 1e-6


class Status(enum.StrEnum):
    """How a solve ended."""

    #: Proven optimal (within ``mip_rel_gap``).
    OPTIMAL = "optimal"
    #: A feasible assignment, not proven optimal (time limit, or heuristic only).
    FEASIBLE = "feasible"
    #: Proven to have no feasible assignment.
    INFEASIBLE = "infeasible"
    #: The time limit passed before any feasible assignment was found.
    TIME_LIMIT = "time_limit"
    #: The node budget (``node_limit``) ran out before any feasible assignment was found.
    WORK_LIMIT = "work_limit"
    #: The heuristic found no feasible assignment; infeasibility is not proven.
    NOT_FOUND = "not_found"
    #: The solver failed (numerical trouble, memory).
    ERROR = "error"


def _money(value: float, unit: str | None) -> float | Quantity:
    return value if unit is None else ureg.Quantity(value, unit)


@attrs.frozen(eq=False)
class Allocation:
    """The answer of :func:`allocate`, shaped like scipy's ``OptimizeResult``.

    Besides its own names it answers to ``scipy.optimize.milp``'s: :attr:`x`, :attr:`fun`,
    :attr:`success`, :attr:`status`, :attr:`message`, :attr:`mip_gap`,
    :attr:`mip_dual_bound` and :attr:`mip_node_count`.

    Amounts are float64 arrays in the problem's units (units of demand for assignments,
    ``resource_units`` for resources, ``cost_unit`` for money). Arrays are ``None`` when no
    assignment was found.

    Attributes
    ----------
    problem
        The problem solved.
    status
        How the solve ended (:class:`Status`, a ``str``).
    success
        True when :attr:`assignment` is a feasible answer (status optimal or feasible).
    message
        One line saying what happened; for an infeasible problem, why.
    method
        What produced the answer: ``"milp"``, ``"heuristic"`` or ``"heuristic+milp"``;
        ``"none"`` when there was nothing to decide (no demands, or no pools).
    assignment
        ``(n, m)`` units of each demand placed at each pool.
    objective_value, bound_value
        Objective of the assignment and a proven bound on the optimum (lower for
        ``sense="min"``, upper for ``"max"``), plain floats in ``cost_unit``; ``nan`` when
        unknown, and the bound is ``inf`` (``-inf`` for ``"max"``) for an infeasible
        problem.
    gap
        Relative gap ``|objective - bound| / max(|objective|, 1)``; ``inf`` when unknown.
    solve_time
        Wall-clock seconds spent, ``[time]``.
    unmet
        ``(n,)`` units of each demand left unmet.
    used, utilisation
        ``(m, R)`` resources used at each pool, ``[resource_units[r]]``, and as a share of
        capacity (0 where capacity is 0 or unlimited).
    binding
        ``(m, R)`` capacities used up (slack below 1e-6 relative).
    stranded
        ``(m, R)`` capacity left free at a pool that cannot take more because another of its
        resources, or its site's grid power, is used up (e.g. cabinets free where power is
        exhausted), ``[resource_units[r]]``.
    power_used, power_binding
        ``(n_sites,)`` grid power drawn (IT power × PUE), ``[kW]``, and whether each site's
        envelope is used up; ``None`` without a power envelope.
    shadow_price
        ``(m, R)`` what one more unit of resource ``r`` at pool ``j`` is worth, in
        ``cost_unit`` per ``resource_units[r]`` (≥ 0: cost saved, or value gained for
        ``sense="max"``). Read from the duals of the **LP relaxation** (HiGHS through
        ``scipy.optimize.linprog``), so they price the fractional optimum; for an integer
        answer they are a marginal guide, not an exact re-solve. The relaxation is the
        model's: a pair one step of which alone overfills a capacity is fixed to zero, as
        no integer answer can use it, so a capacity only such a step would take is worth
        nothing. ``None`` when the relaxation is infeasible. Computed on first access.
    power_shadow_price
        ``(n_sites,)`` the same for one more kW of grid power at each site; ``None``
        without a power envelope.
    explanation
        For an infeasible (or unsolved) problem: which resources at which pools or sites
        fall short, and by how much. Empty otherwise.
    node_count
        Branch-and-bound nodes of the exact solve (0 for the heuristic alone).
    """

    problem: AllocationProblem
    status: Status
    message: str
    method: str
    assignment: NDArray[np.float64] | None
    objective_value: float
    bound_value: float
    solve_time: float
    unmet: NDArray[np.float64] | None
    used: NDArray[np.float64] | None
    binding: NDArray[np.bool_] | None
    stranded: NDArray[np.float64] | None
    power_used: NDArray[np.float64] | None
    power_binding: NDArray[np.bool_] | None
    explanation: str
    node_count: int
    _model: Model = attrs.field(repr=False)

    def __attrs_post_init__(self) -> None:
        fields.freeze(self)

    @functools.cached_property
    def _duals(self) -> NDArray[np.float64] | None:
        # solved on first use: most callers never ask for prices, and the LP costs time
        return _relaxation(self._model)[1]

    @property
    def shadow_price(self) -> NDArray[np.float64] | None:
        """``(m, R)`` worth of one more unit of each resource at each pool (see class doc)."""
        if self._duals is None:
            return None
        rows = self._duals[self._model.capacity_rows]
        return np.maximum(-rows.reshape(self.problem.capacity.shape), 0.0)

    @property
    def power_shadow_price(self) -> NDArray[np.float64] | None:
        """``(n_sites,)`` worth of one more kW of grid power at each site (see class doc)."""
        if self._duals is None or self.problem.grid is None:
            return None
        return np.maximum(-self._duals[self._model.power_rows], 0.0)

    @property
    def success(self) -> bool:
        """True when an assignment satisfying every constraint was found."""
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)

    @property
    def objective(self) -> float | Quantity:
        """Objective of the assignment: a float, or a Quantity when ``cost_unit`` is set."""
        return _money(self.objective_value, self.problem.cost_unit)

    @property
    def bound(self) -> float | Quantity:
        """Proven bound on the optimum: a float, or a Quantity when ``cost_unit`` is set."""
        return _money(self.bound_value, self.problem.cost_unit)

    @property
    def gap(self) -> float:
        """Relative gap between objective and bound, ``inf`` when either is unknown."""
        if not (math.isfinite(self.objective_value) and math.isfinite(self.bound_value)):
            return math.inf
        return abs(self.objective_value - self.bound_value) / max(abs(self.objective_value),
                                                                   1.0)

    # -- the names scipy.optimize.milp's result answers to ------------------------------
    @property
    def x(self) -> NDArray[np.float64] | None:
        """The assignment as one vector, as ``scipy.optimize.milp``'s ``x``.

        Demand by demand (``assignment.ravel()``); ``None`` without an answer.
        """
        return None if self.assignment is None else self.assignment.ravel()

    @property
    def fun(self) -> float | None:
        """The objective value, as ``milp``'s ``fun``; ``None`` without an answer."""
        return self.objective_value if self.success else None

    @property
    def mip_gap(self) -> float:
        """The relative gap, as ``milp``'s ``mip_gap`` (see :attr:`gap`)."""
        return self.gap

    @property
    def mip_dual_bound(self) -> float:
        """The proven bound, as ``milp``'s ``mip_dual_bound`` (``nan`` when unknown)."""
        return self.bound_value

    @property
    def mip_node_count(self) -> int:
        """Branch-and-bound nodes, as ``milp``'s ``mip_node_count``."""
        return self.node_count

    def to_pandas(self) -> Any:
        """Where each demand went, as a :class:`pandas.DataFrame`.

        Indexed by (``demand``, ``site``, ``profile``), split from the problem's pool names
        (``"site/profile"``; the whole name is the site otherwise), one row per pool a
        demand uses and a row at site ``"unmet"`` for what it left unserved; the column
        ``amount`` is in units of demand (``frame.attrs["units"]`` says so). Empty without
        an answer. For a scenario's problem, :meth:`ScenarioProblem.to_pandas
        <capacity.allocation.builder.ScenarioProblem.to_pandas>` gives each block's
        primary resource with its unit.
        """
        pd = importlib.import_module("pandas")  # a dependency of xarray; untyped
        p = self.problem
        demands = p.demand_names or tuple(f"demand {i}" for i in range(p.n_demands))
        pools = p.pool_names or tuple(f"pool {j}" for j in range(p.n_pools))
        rows = []
        if self.assignment is not None:
            for i, j in zip(*np.nonzero(self.assignment > 0), strict=True):
                site, _, profile = pools[j].partition("/")
                rows.append((demands[i], site, profile, float(self.assignment[i, j])))
            if self.unmet is not None:
                rows += [(demands[i], UNMET, "", float(self.unmet[i]))
                         for i in np.flatnonzero(self.unmet > 0)]
        frame = pd.DataFrame(rows, columns=["demand", "site", "profile", "amount"])
        frame = frame.set_index(["demand", "site", "profile"])
        frame.attrs["units"] = {"amount": "unit of demand"}
        return frame

    def __repr__(self) -> str:
        n, m = self.problem.n_demands, self.problem.n_pools
        unit = f" {self.problem.cost_unit}" if self.problem.cost_unit else ""
        return (f"Allocation(status={self.status.value!r}, objective={self.objective_value:.6g}"
                f"{unit}, bound={self.bound_value:.6g}, gap={self.gap:.3g}, "
                f"method={self.method!r}, demands={n}, pools={m}, "
                f"nodes={self.node_count}, time={self.solve_time:.2f}s)")

    def _repr_html_(self) -> str:
        rows = [("status", self.status.value), ("objective", f"{self.objective}"),
                ("bound", f"{self.bound}"), ("gap", f"{self.gap:.3g}"),
                ("method", self.method), ("demands × pools",
                                          f"{self.problem.n_demands} × {self.problem.n_pools}"),
                ("nodes", str(self.node_count)), ("time", f"{self.solve_time:.2f} s")]
        body = "".join(f"<tr><th>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
        return f"<b>Allocation</b><table>{body}</table><p>{html.escape(self.message)}</p>"

    @property
    def utilisation(self) -> NDArray[np.float64] | None:
        """``(m, R)`` share of each capacity used (0 where capacity is 0 or unlimited)."""
        if self.used is None:
            return None
        cap = self.problem.capacity
        usable = np.isfinite(cap) & (cap > 0)
        return np.where(usable, self.used / np.where(usable, cap, 1.0), 0.0)

    def stranded_reasons(self) -> list[str]:
        """What is left idle and why: each stranded capacity with what is used up beside it.

        ``"12 cabinets of vcpu at a/general idle: device_time is used up there"``, or, at a
        site whose grid power binds, ``"...: the grid power of site s is used up"``; and
        grid power left at a site whose pools are all full.
        """
        if self.stranded is None or self.binding is None:
            return []
        p = self.problem
        out = []
        site = p.site_of_pool
        for j, r in np.argwhere(self.stranded > 0):
            why = [p.label("resource", int(k)) for k in np.flatnonzero(self.binding[j])]
            if self.power_binding is not None and self.power_binding[site[j]]:
                why.append(f"the grid power of {p.label('site', int(site[j]))}")
            amount = f"{self.stranded[j, r]:,.6g} {p.resource_unit(int(r))}".rstrip()
            if p.per_cabinet is not None and p.per_cabinet[j, r] > 0:
                amount += f" ({self.stranded[j, r] / p.per_cabinet[j, r]:,.1f} cabinets' worth)"
            out.append(f"{amount} of {p.label('resource', int(r))} at "
                       f"{p.label('pool', int(j))} idle: {' and '.join(why)} used up there")
        if self.power_used is not None and p.grid is not None and self.power_binding is not None:
            for s_ in range(p.n_sites):
                pools = np.flatnonzero(site == s_)
                left = p.grid[s_] - self.power_used[s_]
                if np.isfinite(p.grid[s_]) and not self.power_binding[s_] and pools.size and \
                        self.binding[pools].any(axis=1).all():
                    out.append(f"{left:,.6g} kW of grid power at {p.label('site', s_)} idle: "
                               "every pool there is full")
        return out

    def explain(self) -> str:
        """A plain-language account of the answer: status, cost, binding limits, unmet demand.

        Returns
        -------
        str
            Several lines; for an infeasible problem, why it is infeasible.
        """
        p = self.problem
        unit = f" {p.cost_unit}" if p.cost_unit else ""
        lines = [f"{p.name or 'allocation'}: {self.status.value} ({self.method}, "
                 f"{self.solve_time:.2f} s). {self.message}"]
        if self.success:
            lines.append(f"objective {self.objective_value:.6g}{unit}, bound "
                         f"{self.bound_value:.6g}{unit}, gap {self.gap:.3%}")
        if self.binding is not None:
            for j, r in np.argwhere(self.binding):
                price = "" if self.shadow_price is None else (
                    f"; one more is worth {self.shadow_price[j, r]:.4g}{unit}")
                lines.append(f"binding: {p.label('resource', int(r))} at {p.label('pool', int(j))}"
                             f"{price}")
        if self.power_binding is not None:
            for s in np.flatnonzero(self.power_binding):
                lines.append(f"binding: grid power at {p.label('site', int(s))}")
        lines += [f"stranded: {text}" for text in self.stranded_reasons()]
        if self.unmet is not None:
            for i in np.flatnonzero(self.unmet > 0):
                lines.append(f"unmet: {self.unmet[i]:.6g} of {p.size[i]:.6g} units of "
                             f"{p.label('demand', int(i))}")
        if self.explanation:
            lines.append(self.explanation)
        return "\n".join(lines)


@attrs.frozen
class _Outcome:
    """What one solver run produced (internal, minimisation sense)."""

    x: NDArray[np.float64] | None
    bound: float
    status: Status
    nodes: int = 0


class _Milp(Protocol):
    """What the solvers need: ``min c·x, row_lower ≤ matrix x ≤ row_upper``, integer x."""

    @property
    def c(self) -> NDArray[np.float64]: ...
    @property
    def lower(self) -> NDArray[np.float64]: ...
    @property
    def upper(self) -> NDArray[np.float64]: ...
    @property
    def matrix(self) -> sp.csr_array: ...
    @property
    def row_lower(self) -> NDArray[np.float64]: ...
    @property
    def row_upper(self) -> NDArray[np.float64]: ...


def _columns_cost(model: _Milp, x: NDArray[np.float64]) -> float:
    return float(model.c @ x)


def _solve_scipy(model: _Milp, time_limit: float, mip_rel_gap: float,
                 incumbent: float | None, integral: bool, node_limit: int | None = None,
                 ) -> _Outcome:
    """Solve with ``scipy.optimize.milp``; an incumbent's cost becomes an objective cutoff.

    scipy cannot pass a starting solution to HiGHS, so the incumbent enters as the row
    ``c·x ≤ cutoff`` just below it: HiGHS then prunes every node that cannot beat it, and
    "infeasible" proves the incumbent optimal (within ``mip_rel_gap``, or exactly when
    every objective value is an integer).
    """
    matrix, lo, hi = model.matrix, model.row_lower, model.row_upper
    cutoff = math.inf
    if incumbent is not None:
        cutoff = incumbent - (0.5 if integral else mip_rel_gap * max(abs(incumbent), 1.0))
        matrix = sp.vstack([matrix, sp.csr_array(model.c[None, :])], format="csr")
        lo, hi = np.append(lo, -np.inf), np.append(hi, cutoff)
    options: Any = {"time_limit": max(time_limit, 0.01), "mip_rel_gap": mip_rel_gap,
                    "disp": False}
    if node_limit is not None:
        options["node_limit"] = node_limit
    started = time.perf_counter()
    res = milp(model.c, integrality=np.ones(model.c.shape, dtype=np.int8),
               bounds=Bounds(model.lower, model.upper),
               constraints=LinearConstraint(matrix, lo, hi), options=options)
    timed_out = time.perf_counter() - started >= time_limit
    dual = getattr(res, "mip_dual_bound", None)
    bound = -math.inf if dual is None or not np.isfinite(dual) else float(dual)
    nodes = int(getattr(res, "mip_node_count", 0) or 0)
    if res.x is not None:
        status = Status.OPTIMAL if res.status == 0 else Status.FEASIBLE
        return _Outcome(np.round(res.x) + 0.0, min(bound, cutoff), status, nodes)
    if res.status == 2:
        # with a cutoff, "infeasible" means nothing beats the incumbent
        return _Outcome(None, cutoff if incumbent is not None else math.inf,
                        Status.OPTIMAL if incumbent is not None else Status.INFEASIBLE, nodes)
    status = Status.ERROR
    if res.status == 1:  # "iteration or time limit reached": which one, the clock says
        status = Status.WORK_LIMIT if node_limit is not None and not timed_out \
            else Status.TIME_LIMIT
    return _Outcome(None, min(bound, cutoff), status, nodes)


class _Exchange:
    """The best answer branch and bound and the search beside it know of (thread-safe).

    Branch and bound offers each improving solution (``source="milp"``), the search each
    answer it improves (``"search"``); branch and bound takes the search's better answers
    as its incumbent through HiGHS's user-solution callback.
    """

    def __init__(self, model: _Milp) -> None:
        self._model = model
        self._lock = threading.Lock()
        self.x: NDArray[np.float64] | None = None
        self.cost = math.inf
        self.source = ""
        #: Answers of the search branch and bound took as its incumbent.
        self.taken = 0

    def offer(self, x: NDArray[np.float64], source: str) -> bool:
        """Keep `x` when it is cheaper than the best known; True when it is kept."""
        cost = _columns_cost(self._model, x)
        with self._lock:
            if cost < self.cost - 1e-9 * max(1.0, abs(cost)):
                self.x, self.cost, self.source = x, cost, source
                return True
        return False

    def best(self) -> tuple[NDArray[np.float64] | None, float, str]:
        """The best answer known, its cost and who found it."""
        with self._lock:
            return self.x, self.cost, self.source


def _solve_highspy(model: _Milp, time_limit: float, mip_rel_gap: float,
                   start: NDArray[np.float64] | None, seed: int,
                   node_limit: int | None = None, exchange: _Exchange | None = None,
                   name: str = "milp", stop: Callable[[], bool] | None = None) -> _Outcome:
    """Solve with highspy, passing the heuristic's answer as a starting solution.

    With an `exchange`, every improving solution of branch and bound is offered to it,
    and a better answer found meanwhile by the search beside it becomes branch and
    bound's incumbent (``kCallbackMipUserSolution``): it prunes with it from then on.
    """
    import highspy  # optional dependency, imported only when asked for

    h = highspy.Highs()  # type: ignore[no-untyped-call]
    # no "threads": HiGHS's scheduler is global to the process, and a solve asking for a
    # thread count other than the one it was started with fails
    for option, value in (("output_flag", False), ("time_limit", max(time_limit, 0.01)),
                          ("mip_rel_gap", mip_rel_gap), ("random_seed", seed)):
        h.setOptionValue(option, value)
    if node_limit is not None:
        h.setOptionValue("mip_max_nodes", node_limit)
    csc = sp.csc_array(model.matrix)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = model.c.shape[0], csc.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = model.c, model.lower, model.upper
    lp.row_lower_, lp.row_upper_ = model.row_lower, model.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * lp.num_col_
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(start)
        h.setSolution(sol)
    if exchange is not None:
        _connect(h, exchange, name, stop)
    h.run()
    info = h.getInfo()
    ms = h.getModelStatus()
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else -math.inf
    nodes = int(info.mip_node_count)
    if ms == highspy.HighsModelStatus.kInfeasible:
        return _Outcome(None, math.inf, Status.INFEASIBLE, nodes)
    if info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible:
        x = np.round(np.asarray(h.getSolution().col_value)) + 0.0  # no -0.0
        status = Status.OPTIMAL if ms == highspy.HighsModelStatus.kOptimal else Status.FEASIBLE
        return _Outcome(x, bound, status, nodes)
    # `stop` interrupts a solve only when its time is up (or another solve has ended it)
    status = {highspy.HighsModelStatus.kTimeLimit: Status.TIME_LIMIT,
              highspy.HighsModelStatus.kInterrupt: Status.TIME_LIMIT,
              highspy.HighsModelStatus.kSolutionLimit: Status.WORK_LIMIT}.get(ms, Status.ERROR)
    if node_limit is not None and nodes >= node_limit and status is Status.ERROR:
        status = Status.WORK_LIMIT
    return _Outcome(None, bound, status, nodes)


def _connect(h: Any, exchange: _Exchange, name: str, stop: Callable[[], bool] | None) -> None:
    """Subscribe highspy's callbacks that share answers with `exchange` as `name`.

    With `stop`, the solve is also interrupted as soon as it returns True.
    """
    def improving(event: Any) -> None:
        exchange.offer(np.round(np.asarray(event.data_out.mip_solution)) + 0.0, name)

    def user_solution(event: Any) -> None:
        x, cost, source = exchange.best()
        bar = event.data_out.mip_primal_bound
        # only once this tree has an answer of its own: before that HiGHS's own start
        # heuristics find better first answers than the greedy's on some instances
        if x is not None and source != name and math.isfinite(bar) \
                and cost < bar - 1e-9 * max(1.0, abs(bar)):
            event.data_in.setSolution(x)
            event.data_in.user_has_solution = True
            if name == "milp":
                exchange.taken += 1

    def interrupt(event: Any) -> None:
        if stop is not None and stop():
            event.interrupt()

    h.cbMipImprovingSolution += improving
    h.cbMipUserSolution += user_solution
    if stop is not None:
        h.cbMipInterrupt += interrupt


def _lp(model: Model, time_limit: float = math.inf) -> tuple[Any, NDArray[np.bool_]]:
    """The LP relaxation solved by scipy's HiGHS, and which rows went in as inequalities.

    A finite `time_limit` ``[s]`` stops HiGHS there (the result's status is then not 0).
    """
    eq = model.row_lower == model.row_upper
    ub = ~eq & np.isfinite(model.row_upper)
    options = {} if math.isinf(time_limit) else {"time_limit": max(time_limit, 0.01)}
    # scipy-stubs leave out the sparse matrices and (n, 2) bounds array linprog accepts
    res = linprog(model.c, A_ub=model.matrix[ub], b_ub=model.row_upper[ub],  # type: ignore[call-overload]
                  A_eq=model.matrix[eq], b_eq=model.row_upper[eq],
                  bounds=np.column_stack([model.lower, model.upper]), method="highs",
                  options=options)
    return res, ub


def _lp_bound(res: Any) -> float:
    """The bound of an LP relaxation result: its optimum, ``inf`` when infeasible.

    ``-inf`` when it has neither (no optimum within its time limit).
    """
    if res.status != 0:
        return math.inf if res.status == 2 else -math.inf
    return float(res.fun)


def _relaxation(model: Model) -> tuple[float, NDArray[np.float64] | None]:
    """LP relaxation: its optimum (a bound) and the duals of its rows (``None`` if none)."""
    if model.c.size == 0:  # no demands: nothing to price, every capacity worth nothing
        return 0.0, np.zeros(model.row_upper.shape[0])
    res, ub = _lp(model)
    if res.status != 0:
        return _lp_bound(res), None
    duals = np.zeros(model.row_upper.shape[0])
    duals[ub] = res.ineqlin.marginals
    return float(res.fun), duals / model.row_scale  # per unit of the problem's capacity


def _relaxed_steps(problem: AllocationProblem, model: Model, time_limit: float = math.inf,
                   lp: Any = None) -> NDArray[np.float64] | None:
    """``(n, m)`` share of each demand's steps the LP relaxation puts at each pool.

    ``None`` when the LP has no optimum, or found none within `time_limit` ``[s]``. `lp`,
    the relaxation already solved by :func:`_lp`, is read instead of solving it again.
    """
    res = _lp(model, time_limit)[0] if lp is None else lp
    if res.status != 0:
        return None
    steps = model.pair_values(np.asarray(res.x), problem.n_demands, problem.n_pools)
    return steps / np.maximum(problem.size, 1e-300)[:, None]


def _lp_guided(pack: Packing, relaxed: NDArray[np.float64]) -> NDArray[np.float64]:
    """The greedy's desirability that puts each demand at the LP relaxation's pools first.

    `relaxed` is the ``(n, m)`` share of each demand the relaxation places at each pool
    (:func:`_relaxed_steps`); where those pools are full, the cheapest come next.
    """
    eligible = np.isfinite(pack.cost)
    shifted = _shifted_cost(pack)
    return np.where(eligible, (1.0 - relaxed) * (shifted.max() + 1.0) + shifted, np.inf)


def _shifted_cost(pack: Packing) -> NDArray[np.float64]:
    """The cost shifted to ≥ 1 (1 where ineligible): it never multiplies a share by 0."""
    eligible = np.isfinite(pack.cost)
    return np.where(eligible, pack.cost - pack.cost[eligible].min(initial=0.0) + 1.0, 1.0)


def _greedy_start(problem: AllocationProblem, model: Model, pack: Packing,
                  deadline: float = math.inf, stop: Callable[[], bool] = lambda: False,
                  lp: Any = None, repair_lp: bool = False,
                  moves: int | None = None) -> NDArray[np.float64] | None:
    """The regret greedy's best answer over its desirability measures (may overfill).

    The measures are the LP relaxation's placement (:func:`_lp_guided`), the cost, the
    share of capacity a step takes, and their product. A feasible answer ranks before
    any overfilled one. With `repair_lp`, the LP-guided answer, when it overfills, is
    repaired (:func:`~capacity.allocation.heuristic.repair`, at most `moves` moves)
    before the other passes run, and ranked by what it then costs: on the tight
    Yagiura D instances it overfills a few rows and, repaired, is the best start by far
    (d201600: 98072 in 2.7 s, where the best pass that fits gives 149860 and HiGHS's
    root 113076). A repair the deadline cuts short leaves no time for the other
    passes; at a 2 s limit on the larger instances, repairing after them instead did
    not measure better (one run each: d30900 0.43 against 0.28 %, c30900 0.34 against
    0.20 %, the rest within noise). By `deadline` (a
    ``time.perf_counter()`` value), or once `stop` answers True, it gives the best
    answer of the measures that finished (``None`` if none did): on 20 × 1,600 the four
    passes and the LP take about 2 s, the LP 0.9 s of it. `lp`: the LP relaxation, when
    the caller has solved it already (see :func:`_relaxed_steps`).
    """
    def late() -> bool:
        return stop() or time.perf_counter() >= deadline

    with np.errstate(divide="ignore", invalid="ignore"):
        # the largest share of any row's capacity one step would take
        share = np.where(pack.capacity[pack.rows] > 0, pack.load / pack.capacity[pack.rows],
                         np.where(pack.load > 0, np.inf, 0.0)).max(axis=2, initial=0.0)
    last_resort = np.where(np.isfinite(pack.unmet), 1e300, np.inf)
    eligible = np.isfinite(pack.cost)
    measures = [(pack.cost, pack.unmet),
                (np.where(eligible, share, np.inf), last_resort),
                (np.where(eligible, _shifted_cost(pack) * share, np.inf), last_resort)]
    relaxed = None if late() else _relaxed_steps(problem, model,
                                                 deadline - time.perf_counter(), lp)
    if relaxed is not None:
        # the LP relaxation's pools first (its optimum is nearly integral on GAP-like
        # problems); tried first, as the measure that does best on the large instances,
        # should the deadline cut the passes short
        measures.insert(0, (_lp_guided(pack, relaxed), pack.unmet))
    answers: list[NDArray[np.float64]] = []
    for k, (desirability, unmet) in enumerate(measures):
        x = greedy(pack, desirability, unmet, late)
        if x is None:
            continue
        answers.append(x)
        if k == 0 and repair_lp and relaxed is not None and not pack.feasible(x):
            repaired = repair(pack, x, deadline=deadline, stop=stop, moves=moves)
            if repaired is not None:
                answers.append(repaired)
    best: NDArray[np.float64] | None = None
    best_cost = math.inf
    for x in answers:
        # an overfilled start ranks after every feasible one, by its cost
        cost = pack.total_cost(x) + (0.0 if pack.feasible(x) else 1e300)
        if cost < best_cost:
            best, best_cost = x, cost
    return best


def _heuristic(problem: AllocationProblem, model: Model, deadline: float, seed: int,
               stop: Callable[[], bool], moves: int | None = None, lp: Any = None,
               floor: float = -math.inf) -> NDArray[np.float64] | None:
    """The regret greedy's best start (:func:`_greedy_start`), then :func:`_local_search`."""
    pack = Packing.of(problem, model)
    start = _greedy_start(problem, model, pack, deadline, stop, lp, repair_lp=True, moves=moves)
    return None if start is None else _local_search(pack, start, deadline, seed, stop, moves,
                                                    floor)


def _local_search(pack: Packing, start: NDArray[np.float64], deadline: float, seed: int,
                  stop: Callable[[], bool], moves: int | None = None,
                  floor: float = -math.inf) -> NDArray[np.float64] | None:
    """Feasible steps from the greedy's `start` (which may overfill), or ``None``.

    The penalised shift/swap search (:func:`~capacity.allocation.heuristic.improve`)
    repairs and improves it for half the time (or `moves` moves), the iterated
    ejection-chain search (:func:`~capacity.allocation.heuristic.eject`) for the rest
    (or as many moves). Both end early at an answer costing no more than `floor`, a
    bound (within the gap that counts as optimal).
    """
    halfway = time.perf_counter() + 0.5 * max(0.0, deadline - time.perf_counter())
    patience = _UNLIMITED if moves is not None else 200
    repaired = improve(pack, start, deadline=halfway,
                       seed=seed, stop=stop, moves=moves, patience=patience, floor=floor)
    if repaired is None:
        return None
    return eject(pack, repaired, seed=seed, deadline=deadline, stop=stop, moves=moves,
                 floor=floor)


def _exact(model: _Milp, backend: str, time_limit: float, mip_rel_gap: float,
           start: NDArray[np.float64] | None, seed: int,
           node_limit: int | None = None) -> _Outcome:
    """One exact solve on the chosen backend, seeded with `start` when there is one."""
    if backend == "highspy":
        return _solve_highspy(model, time_limit, mip_rel_gap, start, seed, node_limit)
    integral = bool(np.all(model.c == np.round(model.c)))
    cutoff = None if start is None else _columns_cost(model, start)
    return _solve_scipy(model, time_limit, mip_rel_gap, cutoff, integral, node_limit)


@attrs.frozen(eq=False)
class _SubMilp:
    """A MILP cut out of a :class:`Model`: every column integer, rows as bounds."""

    c: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    matrix: sp.csr_array
    row_lower: NDArray[np.float64]
    row_upper: NDArray[np.float64]


def _restrict(model: Model, columns: sp.csc_array, x: NDArray[np.float64],
              free: NDArray[np.intp]) -> _SubMilp:
    """The MILP over columns `free` with every other column held at its value in `x`."""
    part = sp.csc_array(columns[:, free])
    rows = np.unique(part.indices)  # rows that touch a free column (CSC indices are rows)
    held = x.copy()
    held[free] = 0.0
    taken = model.matrix @ held
    return _SubMilp(c=model.c[free], lower=model.lower[free], upper=model.upper[free],
                    matrix=sp.csr_array(sp.csr_array(part)[rows]),
                    row_lower=model.row_lower[rows] - taken[rows],
                    row_upper=model.row_upper[rows] - taken[rows])


def _polish(model: Model, x: NDArray[np.float64], n_pools: int, backend: str, deadline: float,
            seed: int, stop: Callable[[], bool], rounds: int | None = None,
            nodes: int | None = None) -> NDArray[np.float64]:
    """Large-neighbourhood search: re-solve the demands of a few pools, the rest held fixed.

    Each round frees the demands placed at a random set of pools (and the unmet ones),
    lets them move among those pools, and solves that small MILP exactly, seeded with the
    current answer. Rounds start with pairs of pools; after as many fruitless rounds as
    there are pools the sets grow by one pool, and shrink again when a round hits its time
    limit. Branch and bound on the whole problem improves its incumbent slowly on tight
    instances, while these sub-problems solve in milliseconds.

    With a work budget (`rounds` re-solves of at most `nodes` nodes each) and no
    deadline, the same input gives the same answer on any machine; a deadline ends the
    round under way with it (each re-solve is time-limited to what is left).
    """
    rng = np.random.default_rng(seed)
    n, n_pairs = model.steps.shape[0], model.n_pairs
    owner = model.column_demand
    is_pair = np.arange(model.c.shape[0]) < n_pairs
    pool = np.full(model.c.shape[0], -1)
    pool[:n_pairs] = model.pair_pool
    columns = sp.csc_array(model.matrix)
    size, fruitless = 2, 0
    cost = _columns_cost(model, x)
    done = 0
    while n_pools > 2 and (left := deadline - time.perf_counter()) > 0.01 and not stop() \
            and (rounds is None or done < rounds):
        done += 1
        free = np.zeros(n, dtype=bool)
        if done % 2:
            # demands of `size` pools, free to move among those pools
            at_pools = np.isin(pool, rng.choice(n_pools, size=size, replace=False))
            free[owner[is_pair & (x > 0) & at_pools]] = True
        else:
            # as many random demands, free to move to any eligible pool
            at_pools = np.ones(pool.shape[0], dtype=bool)
            free[rng.choice(n, size=min(n, max(2, size * n // n_pools)), replace=False)] = True
        free |= x[n_pairs: n_pairs + n] > 0  # unmet demand may take freed room
        movable = np.flatnonzero(free[owner] & (~is_pair | at_pools))
        sub = _restrict(model, columns, x, movable)
        # on a node budget only the ceiling may stop a re-solve, or it would not repeat
        out = _exact(sub, backend, left if nodes is not None else min(left, _LNS_ROUND), 0.0,
                     x[movable], seed, nodes)
        fruitless += 1
        if out.x is not None:
            trial = x.copy()
            trial[movable] = out.x
            if _columns_cost(model, trial) < cost - 1e-9 * max(abs(cost), 1.0):
                x, cost, fruitless = trial, _columns_cost(model, trial), 0
        if out.status not in (Status.OPTIMAL, Status.INFEASIBLE):
            size, fruitless = max(2, size - 1), 0
        elif fruitless >= n_pools:
            size, fruitless = min(size + 1, n_pools - 1), 0
    return x


#: The largest seed and node budget HiGHS takes (a 32-bit whole number).
_HIGHS_INT = 2**31 - 1


def _check_arguments(problem: Any, time_limit: Any, seed: Any, mip_rel_gap: Any,
                     method: Any, backend: Any, node_limit: Any) -> None:
    """Refuse a bad argument of :func:`allocate` by name, before any work."""
    fields.read_instance(problem, AllocationProblem, "problem")
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float, np.number)) \
            or not 0 < time_limit < math.inf:  # nan fails too
        raise FieldError("time_limit", "must be a positive, finite number of seconds "
                         "(use node_limit for a reproducible budget)", time_limit)
    if time_limit > threading.TIMEOUT_MAX:  # the clock's longest wait
        raise FieldError("time_limit", f"must be at most {threading.TIMEOUT_MAX:.3g} seconds",
                         time_limit)
    fields.read_whole(seed, "seed", most=_HIGHS_INT)
    if isinstance(mip_rel_gap, bool) or not isinstance(mip_rel_gap, (int, float, np.number)) \
            or not 0 <= mip_rel_gap < 1:
        raise FieldError("mip_rel_gap", "must be a fraction in [0, 1)", mip_rel_gap)
    fields.read_text(method, "method", choices=("auto", "milp", "heuristic"))
    fields.read_text(backend, "backend", choices=("auto", "scipy", "highspy"))
    if node_limit is not None:
        fields.read_whole(node_limit, "node_limit", least=1, most=_HIGHS_INT,
                          reason="must be a positive whole number of nodes, or None for no "
                          "budget")


def allocate(
    problem: AllocationProblem,
    *,
    time_limit: float = 60.0,
    mip_rel_gap: float = 1e-4,
    method: Literal["auto", "milp", "heuristic"] = "auto",
    backend: Literal["auto", "scipy", "highspy"] = "auto",
    seed: int = 0,
    node_limit: int | None = None,
) -> Allocation:
    """Assign demands to pools at least cost (or most value) within every capacity.

    Parameters
    ----------
    problem
        The problem to solve.
    time_limit
        Wall-clock limit for the whole solve, ``[s]``: every part of the solve stops by it
        (HiGHS's own limit; the search checks the clock between moves, and its
        re-solves are limited to what is left). A time-limited solve returns the best
        assignment found with status ``feasible`` (or ``time_limit`` if none). Where the
        clock stops a search depends on the machine and its load, so a solve the time
        limit ends is not reproducible: use `node_limit` for answers that are.
    mip_rel_gap
        Relative gap at which the exact solve stops and reports ``optimal``.
    method
        ``"milp"``: HiGHS branch and bound alone. ``"heuristic"``: regret greedy (its
        LP-guided answer repaired when it overfills), then the penalised shift/swap
        local search and the iterated ejection-chain search; the bound is the LP
        relaxation, solved once, first, within the limit (``nan`` when it did not
        finish), and a relaxation that is infeasible returns ``infeasible`` with no
        search. ``"auto"``: branch and bound for the whole limit; when the problem has
        more than 1,500 demand-pool pairs and is not proven optimal within 5 % of the
        limit (at least 0.5 s), a search runs beside it on a second core: the regret
        greedy's start (from 10,000 pairs up with its LP-guided answer repaired), a
        second branch and bound with another seed, then the ejection-chain search in
        short turns, each from the best answer known. With highspy the two trade answers during
        the solve (the search's answers become branch and bound's incumbent through its
        callbacks); with scipy the better answer is returned at the end. The bound is
        branch and bound's. The search uses a second core for most of the limit: at
        equal wall time it may use twice the CPU of branch and bound alone
        (``benchmarks/bench_allocation.py`` reports both).
    backend
        ``"auto"``: the optional ``highspy`` package when it is installed and the problem
        has more than 1,500 demand-pool pairs, else ``scipy.optimize.milp`` (measured:
        scipy's HiGHS closes city-sized problems about 10 % sooner; on larger ones
        highspy's callbacks let branch and bound take the search's answers, and it can
        be interrupted). ``"scipy"``: always available; a starting answer enters as an
        objective cutoff row. ``"highspy"``: highspy whenever it is installed (falls back
        to scipy otherwise).
    seed
        Seed of the heuristic's random moves and of HiGHS.
    node_limit
        A work budget instead of the clock. ``"milp"``: branch and bound stopped after this
        many nodes. ``"auto"``: the same branch and bound then, unless it proved its
        answer, as many moves of the local searches and neighbourhood re-solves of 100
        nodes each for as many nodes in all, one after the other. ``"heuristic"``: the
        greedy and as many moves of each local search. The same problem, seed and budget
        give the same answer on any machine under any load, which is what reports,
        comparisons and sweeps use; `time_limit` stays as a ceiling. Status ``feasible``
        (or ``work_limit`` with no answer) when the budget, not a proof, ends the solve.

    Returns
    -------
    Allocation
        The answer, including for infeasible problems and time-limited solves.

    Raises
    ------
    FieldError
        Naming the argument, for a bad one: a `time_limit` that is not a positive, finite
        number of seconds, a `seed` or `node_limit` that is not a whole number HiGHS
        takes, an unknown `method` or `backend`, ...

    Examples
    --------
    >>> import numpy as np
    >>> from capacity.allocation import AllocationProblem, allocate
    >>> p = AllocationProblem(use=np.ones((2, 2, 1)), capacity=[[1.0], [1.0]],
    ...                       cost=[[1.0, 3.0], [1.0, 2.0]], size=[1, 1])
    >>> a = allocate(p)
    >>> a.status, a.objective, a.assignment.tolist()
    (<Status.OPTIMAL: 'optimal'>, 3.0, [[1.0, 0.0], [0.0, 1.0]])
    """
    _check_arguments(problem, time_limit, seed, mip_rel_gap, method, backend, node_limit)
    started = time.perf_counter()
    deadline = started + time_limit
    model = build_model(problem)
    engine = _backend(backend, model)
    budget = None if node_limit is None else int(node_limit)

    if problem.n_demands == 0 or problem.n_pools == 0:
        outcome, used = _nothing_to_place(problem, model), "none"
    elif method == "heuristic":
        # the LP relaxation first, within the limit: its optimum is the bound, and the
        # greedy reads its placement (solved after the search, it ran past the limit:
        # 1.7 × a 1 s limit on Yagiura e201600); when it is infeasible, so is the problem
        lp = _lp(model, deadline - time.perf_counter())[0]
        relaxed = _lp_bound(lp)
        # an answer at the bound (within the gap that counts as optimal) ends the search
        floor = relaxed + mip_rel_gap * max(abs(relaxed), 1.0) if math.isfinite(relaxed) \
            else -math.inf
        incumbent = None if relaxed == math.inf else _heuristic_columns(
            problem, model, deadline, seed, lambda: False, budget, lp, floor)
        if incumbent is not None:
            status = Status.FEASIBLE
        else:
            status = Status.INFEASIBLE if relaxed == math.inf else Status.NOT_FOUND
        outcome, used = _Outcome(incumbent, relaxed, status), "heuristic"
    elif method == "milp" or (budget is None and model.n_pairs <= _SEARCH_FROM):
        outcome = _exact(model, engine, time_limit, mip_rel_gap, None, seed, budget)
        used = "milp"
    elif budget is not None:
        outcome, used = _auto_budget(problem, model, engine, deadline, mip_rel_gap, seed,
                                     budget)
    else:
        outcome, used = _auto(problem, model, engine, started, time_limit, mip_rel_gap, seed)
    bound = outcome.bound
    if np.all(model.c == np.round(model.c)) and math.isfinite(bound):
        # every objective value is then a whole number: round the bound up to one
        bound = math.ceil(bound - 1e-6 * max(1.0, abs(bound)))
    return _result(problem, model, outcome, bound, used, time.perf_counter() - started,
                   mip_rel_gap)


def _nothing_to_place(problem: AllocationProblem, model: Model) -> _Outcome:
    """The answer when there are no demands or no pools: every demand unmet.

    It is optimal when every demand left unmet may be (its cost is the penalties), and
    infeasible when a demand that must be served has units but no pool to go to.
    """
    unserved = problem.must_serve & (problem.size > 0)
    if np.any(unserved):
        return _Outcome(None, math.inf, Status.INFEASIBLE)
    x = model.columns_of(np.zeros((problem.n_demands, problem.n_pools)))
    return _Outcome(x, _columns_cost(model, x), Status.OPTIMAL)


def _backend(backend: str, model: Model) -> str:
    """The backend to use.

    ``"auto"`` is highspy when it is installed and the model has more than
    ``_HIGHSPY_FROM`` demand-pool pairs, else scipy: measured in
    ``benchmarks/bench_allocation.py``, scipy's HiGHS closes city-sized problems about
    10 % sooner, while on the GAP instances highspy's callbacks let branch and bound and
    the search trade answers.
    """
    if backend == "scipy" or importlib.util.find_spec("highspy") is None:
        return "scipy"
    return "highspy" if backend == "highspy" or model.n_pairs > _HIGHSPY_FROM else "scipy"


def _heuristic_columns(problem: AllocationProblem, model: Model, deadline: float, seed: int,
                       stop: Callable[[], bool], moves: int | None = None, lp: Any = None,
                       floor: float = -math.inf) -> NDArray[np.float64] | None:
    """The heuristic's answer as model columns, or ``None`` when it found none."""
    steps = _heuristic(problem, model, deadline, seed, stop, moves, lp, floor)
    return None if steps is None else model.columns_of(steps * model.step[:, None])


def _improved(problem: AllocationProblem, model: Model, x: NDArray[np.float64], *,
              deadline: float, seed: int, stop: Callable[[], bool],
              moves: int | None = None) -> NDArray[np.float64]:
    """`x` after the iterated ejection-chain search (never costlier).

    The penalised shift/swap local search runs first only when whole demands may be left
    unmet (it moves demands to and from unmet; ejection chains move placed ones).
    """
    pack = Packing.of(problem, model)
    steps = model.pair_values(x, problem.n_demands, problem.n_pools) / model.step[:, None]
    if np.any(np.isfinite(pack.unmet) & pack.whole):
        better = improve(pack, steps, deadline=deadline, seed=seed, patience=_UNLIMITED,
                         kick=2, stop=stop, moves=None if moves is None else moves // 2)
        steps = steps if better is None else better
    steps = eject(pack, steps, seed=seed, deadline=deadline, stop=stop, moves=moves)
    y = model.columns_of(steps * model.step[:, None])
    return y if _columns_cost(model, y) < _columns_cost(model, x) else x


def _auto_budget(problem: AllocationProblem, model: Model, backend: str, deadline: float,
                 mip_rel_gap: float, seed: int, budget: int) -> tuple[_Outcome, str]:
    """The deterministic method: branch and bound, then the search, each on a work budget.

    Branch and bound runs for `budget` nodes. Unless that proves the answer optimal, its
    answer (or the greedy's, when it found none) is improved by `budget` moves of local
    search and then by ``budget // _LNS_NODES`` neighbourhood re-solves of at most
    ``_LNS_NODES`` nodes each. Nothing depends on the clock except the ceiling, so the
    same problem, seed and budget give the same answer on any machine under any load.
    """
    never: Callable[[], bool] = lambda: False  # noqa: E731
    outcome = _exact(model, backend, deadline - time.perf_counter(), mip_rel_gap, None, seed,
                     budget)
    if outcome.status in (Status.OPTIMAL, Status.INFEASIBLE):
        return outcome, "milp"
    x = outcome.x
    if x is None:
        x = _heuristic_columns(problem, model, deadline, seed, never, budget)
        if x is None:
            return outcome, "milp"
    y = _improved(problem, model, x, deadline=deadline, seed=seed, stop=never, moves=budget)
    y = _polish(model, y, problem.n_pools, backend, deadline, seed, never,
                rounds=max(1, budget // _LNS_NODES), nodes=_LNS_NODES)
    if outcome.x is not None and _columns_cost(model, y) >= _columns_cost(model, outcome.x):
        return outcome, "milp"
    return _Outcome(y, outcome.bound, Status.FEASIBLE, outcome.nodes), "heuristic+milp"


def _search_beside(problem: AllocationProblem, model: Model, exchange: _Exchange,
                   started: float, time_limit: float, seed: int,
                   stop: Callable[[], bool]) -> None:
    """A greedy start, a second branch and bound, then the ejection-chain search in turns.

    First the regret greedy's start (:func:`_greedy_start`; from ``_REPAIR_FROM`` pairs
    up with its LP-guided answer repaired) is offered to `exchange` when it fits. Until
    ``_SECOND_SHARE`` of the limit (or, while neither tree has an answer, until
    ``_SEED_SHARE``), a branch and bound of its own with another seed explores the tree
    differently from the main one; the two trade improving solutions through
    `exchange`. Then, in turns of ``_TURN`` seconds, the iterated ejection-chain
    search (:func:`~capacity.allocation.heuristic.eject`) improves the best answer
    known, so it restarts from branch and bound's answer whenever that is ahead, and
    offers what it finds (branch and bound takes it as its incumbent). When neither
    tree has an answer and the start overfills, the local searches repair it. Measured
    at 10 s on the Yagiura D instances, the second tree gave d20200 its best starts and
    the re-synchronised turns gave d20400 its; neighbourhood re-solves
    (:func:`_polish`) added nothing there.
    """
    deadline = started + time_limit
    switch = started + _SECOND_SHARE * time_limit
    pack = Packing.of(problem, model)
    # the repaired LP-guided start only where branch and bound is still near its root
    first = _greedy_start(problem, model, pack, deadline, stop,
                          repair_lp=model.n_pairs >= _REPAIR_FROM)
    if first is not None and pack.feasible(first):
        # a start for the search should the trees find nothing (large instances spend
        # the whole limit at the root)
        exchange.offer(model.columns_of(first * model.step[:, None]), "search")

    def enough() -> bool:
        # the second tree goes on past its share while neither tree has an answer
        return stop() or (time.perf_counter() >= switch and exchange.best()[0] is not None)

    second = started + _SEED_SHARE * time_limit - time.perf_counter()
    if second > 0 and not stop():
        # (a start that already used up the tree's share leaves it out: HiGHS spends a
        # tenth of a second on a 20 × 1,600 problem before it first looks at the clock)
        _solve_highspy(model, second, 0.0, None, seed + 1, exchange=exchange, name="search",
                       stop=enough)
    if exchange.best()[0] is None:
        # neither tree found an answer and the greedy's overfills: repair that one
        steps = None if first is None else _local_search(
            pack, first, min(deadline, time.perf_counter() + _HEURISTIC_SHARE * time_limit),
            seed, stop)
        if steps is None:
            return
        exchange.offer(model.columns_of(steps * model.step[:, None]), "search")
    turn = 0
    while not stop() and (now := time.perf_counter()) < deadline - 0.01:
        x, _, _ = exchange.best()
        assert x is not None
        exchange.offer(_improved(problem, model, x, seed=seed + turn, stop=stop,
                                 deadline=min(deadline, now + _TURN)), "search")
        turn += 1


def _auto(problem: AllocationProblem, model: Model, backend: str, started: float,
          time_limit: float, mip_rel_gap: float, seed: int) -> tuple[_Outcome, str]:
    """Branch and bound for the whole limit, with a heuristic search beside it.

    HiGHS releases the GIL, so branch and bound runs here for the whole limit while a
    worker thread, at a lower scheduling priority, searches for better answers once
    :func:`_head_start` has passed without a proof; the better of the two answers is
    returned with branch and bound's proven bound. With highspy installed the search is
    :func:`_search_beside`, which stops as soon as branch and bound ends; without it,
    :func:`_search`, whose own scipy branch and bound cannot be interrupted. On the
    highspy backend the two trade answers during the solve: each improving solution of
    branch and bound is handed to the search, which restarts from it, and each answer
    the search improves becomes branch and bound's incumbent through its callback, so it
    prunes with it. scipy's branch and bound takes no answers during the solve. Chosen
    by measurement (``benchmarks/bench_allocation.py``): stopping branch and bound early
    to make room for the search lost on instances it closes late (Yagiura c10200,
    c20400), while the search finds answers branch and bound reaches late or never (D
    instances). The lower priority keeps branch and bound's share of a busy machine as
    it would be alone.
    """
    finished = threading.Event()
    exchange = _Exchange(model)
    deadline = started + time_limit
    trades = backend == "highspy"

    def search() -> NDArray[np.float64] | None:
        if finished.wait(_head_start(time_limit)):
            return None
        _lower_priority()
        if importlib.util.find_spec("highspy") is not None:
            _search_beside(problem, model, exchange, started, time_limit, seed,
                           finished.is_set)
            return exchange.best()[0]
        return _search(problem, model, backend, started, time_limit, mip_rel_gap, seed,
                       finished.is_set)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        beside = pool.submit(search)
        try:
            if trades:
                outcome = _solve_highspy(model, deadline - time.perf_counter(), mip_rel_gap,
                                         None, seed, exchange=exchange)
            else:
                outcome = _exact(model, backend, time_limit, mip_rel_gap, None, seed)
        finally:
            finished.set()
        x = beside.result()
    took = "milp" if exchange.taken == 0 else "heuristic+milp"
    if outcome.status in (Status.OPTIMAL, Status.INFEASIBLE) or x is None:
        return outcome, took
    if outcome.x is not None:
        own, found = _columns_cost(model, outcome.x), _columns_cost(model, x)
        # a tie is branch and bound's own answer unless it took it from the search
        if own < found or (own == found and not (trades and exchange.best()[2] == "search")):
            return outcome, "milp"
    return _Outcome(x, outcome.bound, Status.FEASIBLE, outcome.nodes), "heuristic+milp"


def _head_start(time_limit: float) -> float:
    """Seconds branch and bound runs alone before the search starts beside it."""
    return min(max(_HEAD_START * time_limit, _HEAD_MIN), 0.5 * time_limit)


def _lower_priority() -> None:
    """Lower the calling thread's scheduling priority by ``_NICE``, where that is per thread.

    On Linux a nice value belongs to one thread, so this leaves branch and bound (and the
    caller's other threads) alone; elsewhere it would change the whole process, so it is
    skipped.
    """
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                           os.getpriority(os.PRIO_PROCESS, 0) + _NICE)


def _search(problem: AllocationProblem, model: Model, backend: str, started: float,
            time_limit: float, mip_rel_gap: float, seed: int,
            stop: Callable[[], bool]) -> NDArray[np.float64] | None:
    """Without highspy: branch and bound's early answer, improved by local searches.

    A scipy branch and bound of its own for ``_SEED_SHARE`` of the limit gives the start:
    on the Yagiura instances the greedy's answers are 1-50 % above the best known, and
    local search from there ends worse than branch and bound alone, while from its
    incumbent it often beats it. The local searches (:func:`_improved`) then run for
    ``_LOCAL_SHARE`` and :func:`_polish` for the rest. The greedy starts only when branch
    and bound found no answer. scipy's branch and bound cannot be interrupted, so when
    the other thread proves optimality meanwhile, ``allocate`` returns only once this one
    ends (at most ``_SEED_SHARE`` of the limit later; never after the limit). Measured
    once at 10 s, ``_SEED_SHARE`` 0.6 ended lower than 0.3 on d10400 and d20400 and
    equal elsewhere; larger neighbourhoods, other kick sizes and branch and bound with
    permuted columns as start did not end lower.
    """
    deadline = started + time_limit
    early = _exact(model, backend, _SEED_SHARE * time_limit, mip_rel_gap, None, seed)
    x = early.x
    if x is None:
        x = _heuristic_columns(problem, model,
                               time.perf_counter() + _HEURISTIC_SHARE * time_limit, seed, stop)
    if x is None or stop():
        return x
    x = _improved(problem, model, x, seed=seed, stop=stop,
                  deadline=started + (_SEED_SHARE + _LOCAL_SHARE) * time_limit)
    return _polish(model, x, problem.n_pools, backend, deadline, seed, stop)


def _result(problem: AllocationProblem, model: Model, outcome: _Outcome, bound: float,
            method: str, elapsed: float, mip_rel_gap: float) -> Allocation:
    """Turn a solver outcome (minimisation columns) into an :class:`Allocation`."""
    sign = -1.0 if problem.sense == "max" else 1.0
    n, m, _ = problem.use.shape
    status = outcome.status
    fields: dict[str, Any] = dict.fromkeys(
        ("assignment", "unmet", "used", "binding", "stranded", "power_used", "power_binding"))
    objective = math.nan
    if outcome.x is not None:
        x = outcome.x
        assignment = model.pair_values(x, n, m)
        objective = _columns_cost(model, x)
        if status == Status.FEASIBLE and abs(objective - bound) <= mip_rel_gap * max(
                abs(objective + sign * problem.fixed_cost), 1.0):
            status = Status.OPTIMAL
        fields.update(_usage(problem, assignment))
    if status == Status.INFEASIBLE:
        bound = math.inf
    # a time limit says nothing about feasibility, so only these get a diagnosis
    explanation = diagnose(problem) if status in (Status.INFEASIBLE, Status.NOT_FOUND) else ""
    message = {
        Status.OPTIMAL: "Optimal assignment found.",
        Status.FEASIBLE: "Feasible assignment found; optimality not proven within the limits.",
        Status.INFEASIBLE: "No assignment satisfies every constraint.",
        Status.TIME_LIMIT: "Time limit reached before any feasible assignment was found.",
        Status.WORK_LIMIT: "Node limit reached before any feasible assignment was found.",
        Status.NOT_FOUND: "The heuristic found no feasible assignment (infeasibility not "
                          "proven; try method='milp').",
        Status.ERROR: "The solver failed.",
    }[status]
    if explanation:
        message = f"{message} {explanation.splitlines()[0]}"
    return Allocation(
        problem=problem, status=status, message=message, method=method,
        objective_value=sign * objective + problem.fixed_cost if not math.isnan(objective)
        else math.nan,
        # -inf (minimising) means no bound is known; +inf is the bound of an infeasible problem
        bound_value=sign * bound + problem.fixed_cost if bound > -math.inf else math.nan,
        solve_time=elapsed,
        explanation=explanation, node_count=outcome.nodes, model=model, **fields)


def _usage(problem: AllocationProblem, assignment: NDArray[np.float64]) -> dict[str, Any]:
    """Resources used, binding and stranded capacities of an ``(n, m)`` assignment.

    A capacity binds when what is left of it cannot take one more unit of any eligible
    demand that uses it (integer slack below one unit), or is used up to rounding.
    Stranded capacity is what is left of the other resources at a pool where something
    binds, or at the pools of a site whose grid power is used up.
    """
    used = np.einsum("ij,ijr->jr", assignment, problem.use)
    cap = problem.capacity
    slack = cap - used
    use = np.where(problem.eligible_mask[:, :, None] & (problem.use > 0), problem.use, np.inf)
    one_unit = use.min(axis=0, initial=np.inf)  # (m, R): the smallest step into each capacity
    tight = slack <= _BINDING * cap  # relative: a capacity of 1e-8 is not always used up
    # a capacity of zero binds nothing: the pool simply lacks that resource
    binding = np.isfinite(cap) & (cap > 0) & (tight | (slack < one_unit * (1 - 1e-9)))
    binding &= np.isfinite(one_unit) | tight
    full_pool = binding.any(axis=1)
    power_used = power_binding = None
    grid_use = problem.grid_power_use
    if grid_use is not None and problem.grid is not None:
        site = problem.site_of_pool
        power_used = np.bincount(site, weights=(assignment * grid_use).sum(axis=0),
                                 minlength=problem.n_sites)
        room = problem.grid - power_used
        step = np.where(problem.eligible_mask & (grid_use > 0), grid_use, np.inf)
        site_step = np.full(problem.n_sites, np.inf)
        np.minimum.at(site_step, site, step.min(axis=0, initial=np.inf))
        used_up = room <= _BINDING * problem.grid
        # where no demand that may go there draws power, only a used-up grid binds
        power_binding = np.isfinite(problem.grid) & (
            used_up | ((room < site_step * (1 - 1e-9)) & np.isfinite(site_step)))
        full_pool |= power_binding[site]
    # only what some demand there could use counts as stranded
    stranded = np.where(full_pool[:, None] & ~binding & np.isfinite(slack) & (cap > 0)
                        & np.isfinite(one_unit), slack, 0.0)
    unmet = problem.size - assignment.sum(axis=1)
    return {"assignment": assignment, "unmet": np.where(unmet > 0, unmet, 0.0), "used": used,
            "binding": binding, "stranded": stranded, "power_used": power_used,
            "power_binding": power_binding}
