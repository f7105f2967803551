"""Which assumptions move the answer: each one varied on its own, the rest held.

:func:`rank_assumptions` takes every assumption of a scenario that is a number (or a
table of numbers, a month, a demand block's growth, a project's slippage), sets it a
fixed step lower and higher (20 % by default; months by six), and measures what that
does to the answers a planner reads: the month each resource first runs short with
P ≥ 0.5, the yearly cost of the allocation, and the policy outlay over the horizon.
Every variant uses the same seed as the base (common random numbers), so a difference
comes from the assumption alone. Assumptions that are not numbers (a reading of the
source, a ramp shape, an unknown envelope) are listed as not varied, with the reason.

:func:`appraisal_tornado` does the same for a policy appraisal, over each input's
*plausible range* rather than a fixed step (:func:`appraisal_ranges`: elasticity, take-up,
list prices, covered demand's growth, load factor, discount rate, public sites'
electricity price, each range with its provenance), and says which inputs flip the
conclusion (whether the policy pays for itself) inside their range.

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

from capacity import fields
from capacity.allocation import allocate, build_problem
from capacity.errors import CapacityError, FieldError, ValidationError
from capacity.months import MonthLike
from capacity.months import month as _month
from capacity.policy import cost_policy
from capacity.projection import project
from capacity.provenance import Provenance
from capacity.resources import Resource
from capacity.scenario import Scenario
from capacity.sweep import _reach, value_at, vary

__all__ = ["CPB_ANALOGUE", "GROUPS", "Bar", "Effect", "Range", "Tornado", "appraisal_ranges",
           "appraisal_tornado", "group_of", "grouped", "rank_assumptions"]

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
    fields.read_text(field, "field", nonempty=True)
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
        A side is ``None`` when its value is refused (see `refused`).
    cost
        Relative change of the allocation's yearly cost, lower and higher; a side is
        ``None`` when that variant (or the base) has no feasible allocation, or its
        value is refused.
    outlay
        Relative change of the policy outlay summed over the horizon, lower and higher
        (``None``: no policy, no outlay to compare with, or a refused value).
    reason
        Why the assumption is not varied, or why one side could not be.
    refused
        Lower and higher: True when that side's value is refused (nothing was measured).
    """

    field: str
    note: str
    group: str
    varied: str | None = None
    step: str = ""
    exhaustion: Mapping[str, tuple[int | None, int | None]] = attrs.field(factory=dict)
    cost: tuple[float | None, float | None] | None = None
    outlay: tuple[float | None, float | None] | None = None
    reason: str = ""
    refused: tuple[bool, bool] = (False, False)

    def months_moved(self) -> int:
        """The largest move, in months, of any resource's first month short."""
        return max((abs(m) for pair in self.exhaustion.values() for m in pair
                    if m is not None), default=0)

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
    month = _month(month, "month")  # named as the argument, before any work
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
        # a refused side was not measured: None, not the base case's "no change"
        shifts = {r: (None if got[0] is None else got[0].short.get(r, i) - i,
                      None if got[1] is None else got[1].short.get(r, i) - i)
                  for r, i in base.short.items()}
        out.append(attrs.evolve(
            effect, exhaustion=shifts, reason=refused,
            refused=(got[0] is None, got[1] is None),
            cost=_pair(None if d is None else _relative(d.cost, base.cost) for d in got),
            outlay=_pair(None if d is None else _relative(d.outlay, base.outlay)
                         for d in got)))
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


# -- what moves an appraisal ---------------------------------------------------------------
#: The Dutch innovation-voucher lottery: the analogue for a voucher's additionality.
CPB_ANALOGUE = (
    "Dutch innovation-voucher lottery (Cornet, Vroomen & van der Steeg, 'Do innovation "
    "vouchers help SMEs to cross the bridge towards science?', CPB Discussion Paper 58, "
    "2006): about 8 in 10 vouchers funded projects that would not otherwise have happened. "
    "An analogue from another market (small firms buying research, 2004), not Chinese "
    "evidence; used as the most responsive end of the range")


@attrs.frozen
class Range:
    """A plausible range of one input of an appraisal, and where it comes from.

    Attributes
    ----------
    field
        The path set (as :func:`capacity.sweep.vary` takes it).
    label
        What the input is, in words.
    low, high
        The two ends of the range, as :func:`~capacity.sweep.vary` sets them.
    provenance
        Why the range is plausible (an assumption with its rationale, a source, an
        analogue).
    """

    field: str
    label: str
    low: Any
    high: Any
    provenance: Provenance


@attrs.frozen
class Bar:
    """What one input's range does to an appraisal's answers (one bar of a tornado).

    Attributes
    ----------
    range
        The input and its range.
    net_fiscal_cost
        Median present value of the net fiscal cost at the low and the high end, yuan.
    additional
        Median additional demand served over the horizon at each end, resource-hours of
        the resource the policy's vouchers buy (:attr:`Tornado.resource`).
    deadweight_share
        Median deadweight share at each end.
    pays_off
        Whether the policy pays for itself (net fiscal cost ≤ 0) at each end.
    reason
        Why an end could not be evaluated (its value is refused), else empty. A refused
        end has ``nan`` figures and ``None`` for `pays_off`: nothing was measured there.
    """

    range: Range
    net_fiscal_cost: tuple[float, float]
    additional: tuple[float, float]
    deadweight_share: tuple[float, float]
    pays_off: tuple[bool | None, bool | None]
    reason: str = ""

    def swing(self) -> float:
        """How far the net fiscal cost moves across the range, yuan."""
        lo, hi = self.net_fiscal_cost
        return abs(hi - lo) if math.isfinite(hi - lo) else 0.0


@attrs.frozen
class Tornado:
    """Which inputs move an appraisal most, over their plausible ranges.

    Attributes
    ----------
    resource
        The resource whose additional demand is measured (the vouchers' primary), if any.
    base
        The base appraisal's medians: ``net_fiscal_cost``, ``additional``,
        ``deadweight_share`` and ``pays_off``.
    bars
        One per input, the largest swing in net fiscal cost first.
    n_paths, seed
        The paths every variant was appraised on.
    """

    resource: Resource | None
    base: Mapping[str, Any]
    bars: tuple[Bar, ...]
    n_paths: int
    seed: int

    def flips(self) -> list[Bar]:
        """The inputs whose range holds a different conclusion (pays off or not)."""
        base = bool(self.base["pays_off"])
        return [b for b in self.bars if any(p is not None and p != base for p in b.pays_off)]


def appraisal_ranges(scenario: Scenario) -> list[Range]:
    """The plausible range of each input an appraisal of `scenario` rests on, with provenance.

    The price elasticity (inelastic to the response an 80 % additionality implies, the
    Dutch analogue), each voucher's take-up, the list price of each priced resource,
    the growth of the demand the vouchers cover, the load factor, the discount rate and
    each public site's electricity price.
    """
    from capacity.instruments import ComputeVoucher

    vouchers = [x for x in scenario.policies if isinstance(x, ComputeVoucher)]
    eps = scenario.market.elasticity.value
    out = []
    if vouchers:
        rate = max(v.rate for v in vouchers)
        analogue = math.log(0.2) / math.log(1 - rate) if 0 < rate < 1 else -4.0
        out.append(Range(
            "market.elasticity.value", "price elasticity of covered demand",
            max(-0.3, eps) if eps < 0 else -0.3, min(-analogue, -1.5) if analogue > 0 else -1.5,
            Provenance.assumption(
                "from -0.3 (compute a firm cannot do without) to the response at which 8 in "
                f"10 voucher yuan buy additional demand at a {rate:.0%} rate: {CPB_ANALOGUE}")))
        for v in vouchers:
            out.append(Range(
                f"policies[{v.name}].take_up", f"take-up of {v.name}", 0.5, 1.0,
                Provenance.assumption(
                    "from half of eligible spend claiming (firms unaware of the scheme, or "
                    "finding the paperwork not worth it) to all of it")))
    for key, price in scenario.market.prices.items():
        out.append(Range(
            f"market.prices.{key}", f"list price of {key}", price * 0.5, price * 1.5,
            Provenance.assumption(f"half to one and a half times {price:~P}: rents for "
                                  "the same hardware vary that much between providers "
                                  "and contract lengths")))
    covered = [b for b in scenario.demands if any(b.kind in v.eligible_kinds
                                                  for v in vouchers)]
    for b in covered:
        out.append(Range(
            f"demands[{b.name}].scale", f"growth of {b.name}", 0.7, 1.3,
            Provenance.assumption("30 % less to 30 % more demand: about one standard "
                                  "deviation of the forecasts' spread")))
    out.append(Range("market.load_factor", "load factor", 0.4, 0.8, Provenance.assumption(
        "servers under production load draw 40-80 % of nameplate IT power")))
    out.append(Range("market.discount_rate", "discount rate", 0.06, 0.10,
                     Provenance.assumption(
                         "6 %: the floor the official guide allows for long-lived projects "
                         "of wide social benefit; 10 %: two points above its 8 %")))
    here = {s.id for s in scenario.estate.sites}
    for s in scenario.plan.built_estate(scenario.estate).sites:
        if s.public and s.electricity_price is not None:
            at = "sites" if s.id in here else "plan.sites"
            out.append(Range(
                f"{at}[{s.id}].electricity_price", f"electricity price at {s.id}",
                _times(s.electricity_price, 11 / 12), _times(s.electricity_price, 7 / 6),
                Provenance.assumption("0.55-0.70 yuan/kWh for 0.6: the plausible range of "
                                      "industrial tariffs, scaled to the site's price")))
    return out


def _times(q: Any, factor: float) -> Any:
    """`q` × `factor`, rounded to 12 significant digits (0.55, not 0.5499999999999999)."""
    return type(q)(float(f"{float(q.magnitude) * factor:.12g}"), q.units)


def _in_plan(scenario: Scenario, path: str) -> bool:
    try:
        value_at(scenario, path)
    except FieldError:
        return False
    return True


def _appraise_job(args: tuple[Scenario, Scenario | None, dict[str, Any]]) -> dict[str, Any]:
    from capacity.policy import appraise

    policy, baseline, kw = args
    a = appraise(policy, baseline, **kw)
    t = a.totals()
    return {"net_fiscal_cost": t["net_fiscal_cost"], "additional": t["additional"],
            "deadweight_share": t["deadweight_share"], "pays_off": a.pays_off()}


def appraisal_tornado(policy: Scenario, baseline: Scenario | None = None, *,
                      ranges: Sequence[Range] | None = None, n_paths: int = 400,
                      seed: int = 0, start: MonthLike = "2025-01",
                      end: MonthLike = "2030-12",
                      executor: Executor | None = None) -> Tornado:
    """Appraise a policy at both ends of each input's range, the rest held: a tornado.

    Each variant is appraised on the same paths and seed as the base (common random
    numbers), against its own baseline: the policy scenario without its instruments,
    varied alike, or `baseline` varied where it has the field.

    Parameters
    ----------
    policy, baseline
        As for :func:`capacity.policy.appraise`.
    ranges
        The inputs and their ranges; :func:`appraisal_ranges` by default.
    n_paths, seed, start, end
        The appraisal each variant runs.
    executor
        Any ``concurrent.futures.Executor`` for the variants; serial if omitted.

    Returns
    -------
    Tornado
    """
    from capacity.instruments import ComputeVoucher
    from capacity.policy.appraise import baseline_of

    fields.read_instance(policy, Scenario, "policy")
    chosen = appraisal_ranges(policy) if ranges is None else list(ranges)
    for i, r in enumerate(chosen):
        fields.read_instance(r, Range, f"ranges[{i}]")
        try:
            _reach(policy, r.field)  # a path that names nothing has no range to try
        except FieldError as exc:
            raise FieldError(f"ranges[{i}].field", exc.reason, r.field) from None
    kw = {"n_paths": n_paths, "seed": seed, "start": start, "end": end}

    # one job per end, None where the end's value is refused: nothing is measured there
    jobs: list[tuple[Scenario, Scenario | None, dict[str, Any]] | None] = [
        (policy, baseline, kw)]
    refused: dict[int, list[str]] = {}
    for i, r in enumerate(chosen):
        for v in (r.low, r.high):
            try:
                p = vary(policy, r.field, v)
                b = (baseline_of(p) if baseline is None else
                     vary(baseline, r.field, v) if _in_plan(baseline, r.field) else baseline)
                jobs.append((p, b, kw))
            except CapacityError as exc:
                why = ("; ".join(str(e) for e in exc.problems)
                       if isinstance(exc, ValidationError) else str(exc))  # one line
                refused.setdefault(i, []).append(f"{v!s} is refused: {why}")
                jobs.append(None)
    todo = [j for j in jobs if j is not None]
    measured = iter(list(executor.map(_appraise_job, todo)) if executor is not None else
                    [_appraise_job(j) for j in todo])
    nothing: dict[str, Any] = {"net_fiscal_cost": math.nan, "additional": {},
                               "deadweight_share": math.nan, "pays_off": None}
    done = [nothing if j is None else next(measured) for j in jobs]
    base, rest = done[0], done[1:]
    vouchers = [x for x in policy.policies if isinstance(x, ComputeVoucher)]
    covered = [b.resource for b in policy.demands
               if any(b.kind in v.eligible_kinds for v in vouchers)]
    resource = covered[0] if covered else None

    def extra(m: Mapping[str, Any]) -> float:
        if m["pays_off"] is None:  # a refused end
            return math.nan
        return float(m["additional"].get(resource, 0.0)) if resource is not None else 0.0

    def pays(m: Mapping[str, Any]) -> bool | None:
        return None if m["pays_off"] is None else bool(m["pays_off"])

    bars = []
    for i, r in enumerate(chosen):
        lo, hi = rest[2 * i], rest[2 * i + 1]
        bars.append(Bar(r, (lo["net_fiscal_cost"], hi["net_fiscal_cost"]), (extra(lo), extra(hi)),
                        (lo["deadweight_share"], hi["deadweight_share"]), (pays(lo), pays(hi)),
                        "; ".join(refused.get(i, []))))
    bars.sort(key=lambda b: b.swing(), reverse=True)
    return Tornado(resource, {**base, "additional": extra(base)}, tuple(bars), n_paths, seed)
