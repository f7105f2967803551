"""Which assumptions move the answer: each one varied on its own, the rest held.

:func:`rank_assumptions` takes every assumption of a scenario that is a number (or a
table of numbers, a month, a demand block's growth, a project's slippage), sets it a
fixed step lower and higher (20 % by default; months by six), and measures what that
does to the answers a planner reads: the month each resource first runs short with
P ≥ 0.5, the yearly cost of the allocation, and the policy outlay over the horizon.
Every variant uses the same seed as the base (common random numbers), so a difference
comes from the assumption alone. Assumptions that are not numbers (a reading of the
source, a ramp shape, an unknown envelope) are listed as not varied, with the reason.

Examples
--------
>>> from capacity.datasets import ganzhou
>>> effects = rank_assumptions(ganzhou(), n_paths=100)
>>> top = effects[0]
>>> top.group, top.months_moved() > 12
('demand', True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import attrs
import numpy as np
import pint

from capacity.allocation import allocate, build_problem
from capacity.errors import CapacityError, FieldError
from capacity.months import MonthLike
from capacity.policy import cost_policy
from capacity.projection import project
from capacity.scenario import Scenario
from capacity.sweep import value_at, vary

__all__ = ["GROUPS", "Effect", "group_of", "grouped", "rank_assumptions"]

#: What each part of a scenario decides, in the order a report lists them.
GROUPS = {
    "estate": "the estate today (what we have)",
    "plan": "the build-out plan (what we will have, and when)",
    "demand": "demand (what will be needed)",
    "market": "prices, market and policy (what a subsidy costs)",
}

#: Branch-and-bound nodes each variant's allocation may take (a work budget).
_NODES = 2000


def group_of(field: str) -> str:
    """The part of a scenario (a key of :data:`GROUPS`) an assumption's field belongs to."""
    if field.startswith("plan."):
        return "plan"
    if field.startswith("demands"):
        return "demand"
    if field.startswith(("market", "policies")):
        return "market"
    return "estate"


@attrs.frozen
class Effect:
    """What setting one assumption lower and higher does to a scenario's answers.

    Attributes
    ----------
    field
        The assumption's field path.
    note
        The assumption's rationale, as the scenario gives it.
    group
        The part of the scenario it belongs to (a key of :data:`GROUPS`).
    varied
        The field path set, when the assumption is varied (a demand block's growth is
        varied through its ``scale``, a slippage through its mean); else ``None``.
    step
        The step, in words: ``"±20 %"`` or ``"±6 months"``.
    exhaustion
        Per resource (its name), the months the first month with P(shortfall) ≥ 0.5 moves
        when the assumption is set lower and higher (positive: later). A resource that
        never runs short within the horizon counts as running short the month after it.
    cost
        Relative change of the allocation's yearly cost, lower and higher; a side is
        ``None`` when that variant (or the base) has no feasible allocation.
    outlay
        Relative change of the policy outlay summed over the horizon, lower and higher
        (``None``: no policy, or no outlay to compare with).
    reason
        Why the assumption is not varied, or why one side could not be.
    """

    field: str
    note: str
    group: str
    varied: str | None = None
    step: str = ""
    exhaustion: Mapping[str, tuple[int, int]] = attrs.field(factory=dict)
    cost: tuple[float | None, float | None] | None = None
    outlay: tuple[float | None, float | None] | None = None
    reason: str = ""

    def months_moved(self) -> int:
        """The largest move, in months, of any resource's first month short."""
        return max((abs(m) for pair in self.exhaustion.values() for m in pair), default=0)

    def score(self) -> tuple[int, float, float]:
        """How much it moves the answer: months first, then cost, then outlay."""
        cost = max((abs(c) for c in self.cost or () if c is not None), default=0.0)
        outlay = max((abs(c) for c in self.outlay or () if c is not None), default=0.0)
        return self.months_moved(), cost, outlay


def _steps(value: Any, change: float, months: int) -> tuple[Any, Any] | str:
    """The lower and higher value of an assumed figure, or why it has none."""
    if isinstance(value, bool) or value is None:
        return "not a number (nothing is assumed to vary)" if value is None else \
            "a yes/no choice"
    if isinstance(value, np.datetime64):
        step = np.timedelta64(months, "M")
        return value - step, value + step
    if isinstance(value, pint.Quantity):
        if float(value.magnitude) == 0:
            return "zero: a relative step changes nothing"
        return value * (1 - change), value * (1 + change)
    if isinstance(value, int):
        low, high = round(value * (1 - change)), round(value * (1 + change))
        return (max(low, 1), high) if high != value else "too small to step"
    if isinstance(value, float):
        if value == 0:
            return "zero: a relative step changes nothing"
        return value * (1 - change), value * (1 + change)
    if isinstance(value, Mapping) and value and all(
            isinstance(v, (pint.Quantity, float)) and not isinstance(v, bool)
            for v in value.values()):
        return ({_written(k): v * (1 - change) for k, v in value.items()},
                {_written(k): v * (1 + change) for k, v in value.items()})
    return f"not a number ({type(value).__name__})"


def _written(key: Any) -> Any:
    """A table key as a file writes it ("fp16" for Precision.FP16)."""
    return key if isinstance(key, str) else str(getattr(key, "name", key)).lower()


def _target(field: str, scenario: Scenario) -> tuple[str, Any] | str:
    """The path to vary for an assumption, and its current value, or why there is none."""
    if field.startswith("demands") and field.endswith(".growth"):
        return field.removesuffix("growth") + "scale", 1.0
    if field.endswith(".slippage"):
        field += ".mean"
    elif field == "market.elasticity":
        field += ".value"
    try:
        return field, value_at(scenario, field)
    except FieldError:
        return "a reading of the source, not a field with a value"


@attrs.frozen
class _Measure:
    short: Mapping[str, int]   # resource → month index of first P(shortfall) ≥ 0.5
    cost: float | None         # allocation, yuan per year
    outlay: float | None       # policy outlay over the horizon, yuan


def _measure(scenario: Scenario, seed: int, start: MonthLike, end: MonthLike, n_paths: int,
             month: MonthLike) -> _Measure:
    p = project(scenario, start=start, end=end, n_paths=n_paths, seed=seed)
    first = {}
    for e in p.exhaustion(0.5):
        i = p.months.size if e.month is None else int((e.month - p.months[0]).astype(int))
        first[e.resource.name.lower()] = i
    result = allocate(build_problem(scenario, month).problem, node_limit=_NODES, seed=seed)
    cost = result.objective_value if result.success else None
    outlay = None
    if scenario.policies:
        outlay = float(cost_policy(p).total_outlay().m_as("yuan").sum())
    return _Measure(first, cost, outlay)


def _relative(new: float | None, base: float | None) -> float | None:
    if new is None or base is None or base == 0:
        return None
    return (new - base) / abs(base)


def _run(args: tuple[Scenario, int, MonthLike, MonthLike, int, MonthLike]) -> _Measure:
    return _measure(*args)


def rank_assumptions(scenario: Scenario, *, change: float = 0.2, months: int = 6,
                     n_paths: int = 400, seed: int = 0, start: MonthLike = "2025-01",
                     end: MonthLike = "2030-12", month: MonthLike = "2027-12",
                     executor: Executor | None = None) -> list[Effect]:
    """Vary each assumption on its own and rank them by how much they move the answer.

    Parameters
    ----------
    scenario
        The scenario whose assumptions to vary.
    change
        Relative step for numbers (0.2: 20 % lower and higher), in (0, 1).
    months
        Step for months (a completion, a policy's start), a positive whole number.
    n_paths, seed, start, end
        The projection each variant runs (the same seed for all).
    month
        The month whose demand is allocated.
    executor
        Any ``concurrent.futures.Executor`` to run the variants on; serial if omitted.

    Returns
    -------
    list of Effect
        The varied assumptions, those that move the answer most first (months moved,
        then cost, then outlay), then those not varied.
    """
    if isinstance(change, bool) or not isinstance(change, (int, float)) or not (
            0 < change < 1):
        raise FieldError("change", "must be a fraction between 0 and 1, such as 0.2", change)
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise FieldError("months", "must be a positive whole number of months", months)
    base = _measure(scenario, seed, start, end, n_paths, month)
    plans: list[tuple[Effect, list[Scenario | str]]] = []
    for a in scenario.assumptions():
        effect = Effect(a.field, a.provenance.note, group_of(a.field))
        target = _target(a.field, scenario)
        if isinstance(target, str):
            plans.append((attrs.evolve(effect, reason=target), []))
            continue
        path, value = target
        steps = _steps(value, change, months)
        if isinstance(steps, str):
            plans.append((attrs.evolve(effect, reason=steps), []))
            continue
        sides: list[Scenario | str] = []
        for v in steps:
            try:
                sides.append(vary(scenario, path, v))
            except CapacityError as exc:
                sides.append(f"{v!s} is refused: {exc}")
        word = (f"±{months} months" if isinstance(value, np.datetime64)
                else f"±{change * 100:g} %")
        plans.append((attrs.evolve(effect, varied=path, step=word), sides))
    jobs = [(s, seed, start, end, n_paths, month) for _, sides in plans for s in sides
            if isinstance(s, Scenario)]
    measured = iter(list(executor.map(_run, jobs)) if executor is not None else
                    [_run(j) for j in jobs])
    out = []
    for effect, sides in plans:
        if not sides:
            out.append(effect)
            continue
        got = [next(measured) if isinstance(s, Scenario) else None for s in sides]
        refused = "; ".join(s for s in sides if isinstance(s, str))
        done = [m if m is not None else base for m in got]
        shifts = {r: (done[0].short.get(r, i) - i, done[1].short.get(r, i) - i)
                  for r, i in base.short.items()}
        out.append(attrs.evolve(
            effect, exhaustion=shifts, reason=refused,
            cost=_pair(_relative(d.cost, base.cost) for d in done),
            outlay=_pair(_relative(d.outlay, base.outlay) for d in done)))
    varied = sorted((e for e in out if e.varied), key=lambda e: e.score(), reverse=True)
    return varied + [e for e in out if not e.varied]


def _pair(values: Any) -> tuple[float | None, float | None] | None:
    low, high = (None if v is None or not math.isfinite(v) else float(v) + 0.0
                 for v in values)
    return None if low is None and high is None else (low, high)


def grouped(effects: Sequence[Effect]) -> list[tuple[str, list[Effect]]]:
    """Effects by the part of the scenario they belong to, the group that moves most first."""
    groups: dict[str, list[Effect]] = {}
    for e in effects:
        groups.setdefault(e.group, []).append(e)
    return sorted(groups.items(), key=lambda kv: max(e.score() for e in kv[1]), reverse=True)
