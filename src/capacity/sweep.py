"""Run many variants of a scenario through any ``concurrent.futures.Executor``.

A grid maps field paths of a scenario (:mod:`capacity.paths`:
``"sites[smart-computing-centre].pue"``, ``"demands[enterprise-ai].scale"``,
``"plan.projects[ic-enablement-base].slippage.mean"``) to the values to try;
:func:`sweep` evaluates every combination and returns a table. Work is cut into
batches so thousands of small variants are not dominated by per-task overhead, and
every variant uses the same seed (common random numbers), so results are identical
whichever executor runs them: serially, on a ``ProcessPoolExecutor``, or on a cluster
through ``dask.distributed.Client(...).get_executor()``.

Examples
--------
>>> from capacity.datasets import ganzhou
>>> table = sweep(ganzhou(), {"demands[enterprise-ai].scale": [1.0, 1.5]}, n_paths=200)
>>> [row["demands[enterprise-ai].scale"] for row in table.rows]
[1.0, 1.5]
>>> table.rows[0]["exhaustion.compute_fp16"] > table.rows[1]["exhaustion.compute_fp16"]
True
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, as_completed
from typing import Any

import attrs
import numpy as np
import pint

from capacity import fields
from capacity.errors import FieldError, Problems, ValidationError
from capacity.months import MonthLike
from capacity.paths import Item, join, parse
from capacity.policy import cost_policy
from capacity.projection import project
from capacity.resources import Resource
from capacity.scenario import Scenario

__all__ = ["SweepResult", "summarise", "sweep", "value_at", "vary"]

Evaluate = Callable[[Scenario, int], dict[str, Any]]

def _key(item: Any) -> str:
    return str(getattr(item, "id", None) or getattr(item, "name", ""))


def _set(obj: Any, parts: Sequence[str | Item], value: Any, path: str,
         at: tuple[str | Item, ...] = ()) -> Any:
    head, rest = parts[0], parts[1:]
    if head == "scale" and not rest and hasattr(obj, "growth"):
        # a demand's size as a factor of its default growth path
        try:
            return attrs.evolve(obj, growth=obj.growth.scaled(value))
        except ValidationError as error:
            where = at[1:] if at[:1] == ("estate",) else at
            raise ValidationError(f"invalid {path}", [
                type(e)(join(*where, "scale") if e.path == "factor" else
                        join(*where, "growth", *parse(e.path)) if e.path else
                        join(*where, "growth"), e.reason, e.value)
                for e in error.problems]) from None
    if isinstance(obj, tuple):
        if not isinstance(head, Item):
            raise FieldError(path, f"{head!r} is read in a list; pick an element by its key "
                             "or position, e.g. 'sites[tianyi-huawei]' or 'sites[0]'")
        keys = [_key(o) for o in obj]
        if str(head.key) in keys:  # a key first: a site may be called "2025"
            i = keys.index(str(head.key))
        elif isinstance(head.key, int):
            if not 0 <= head.key < len(obj):
                raise FieldError(path, f"no element [{head.key}] (there are {len(obj)})")
            i = head.key
        else:
            raise FieldError(path, f"no element [{head.key}] (known: {', '.join(keys)})")
        new = _set(obj[i], rest, value, path, (*at, head)) if rest else value
        return (*obj[:i], new, *obj[i + 1:])
    if isinstance(head, Item):
        raise FieldError(path, f"[{head.key}] picks an element of a list, and this is "
                         f"a {type(obj).__name__}")
    if isinstance(obj, Mapping):
        # keys as a file writes them: "fp16" for Precision.FP16, "vcpu" for Resource.VCPU
        written = {str(getattr(k, "name", k)).lower() if not isinstance(k, str) else k: k
                   for k in obj}
        if head not in written:
            if rest:
                raise FieldError(path, f"no entry {head!r} (known: {', '.join(written)})")
            return {**obj, head: value}  # a new entry, checked by the class that holds it
        key = written[head]
        return {**obj, key: _set(obj[key], rest, value, path, (*at, head)) if rest else value}
    public = {f.name for f in attrs.fields(type(obj)) if f.init} if attrs.has(type(obj)) \
        else set()
    if head not in public:
        raise FieldError(path, f"{type(obj).__name__} has no field {head!r}")
    current = getattr(obj, head)
    new = _set(current, rest, value, path, (*at, head)) if rest else value
    try:
        return attrs.evolve(obj, **{head: new})
    except ValidationError as error:
        # Named from the scenario down, as the path was written (the estate's parts at
        # the top, as in a file).
        where = at[1:] if at[:1] == ("estate",) else at
        raise ValidationError(f"invalid {path}", [
            type(e)(join(*where, *parse(e.path)) if e.path else join(*where), e.reason,
                    e.value) for e in error.problems]) from None


def vary(scenario: Scenario, path: str, value: Any) -> Scenario:
    """The scenario with the field at `path` set to `value` (validated as on construction).

    Paths are those of :mod:`capacity.paths`, as errors name them, with the estate's
    parts at the top as in a scenario file: ``"sites[tianyi-huawei].pue"``,
    ``"sites[0].pue"``, ``"plan.projects[smart-computing-centre].completion"``,
    ``"profiles.smart-ai.it_power"``, ``"policies[ganzhou-voucher].rate"``, and
    ``"demands[enterprise-ai].scale"`` (a factor on the block's growth).

    Raises
    ------
    FieldError
        If the path names nothing.
    """
    parts = list(parse(path))
    if parts[0] in ("sites", "profiles", "reported"):
        parts = ["estate", *parts]
    varied: Scenario = _set(scenario, parts, value, path)
    return varied


def value_at(scenario: Scenario, path: str) -> Any:
    """The value of the field at `path`, read as :func:`vary` would set it.

    Examples
    --------
    >>> from capacity.datasets import ganzhou
    >>> value_at(ganzhou(), "sites[tianyi-huawei].pue")
    1.5

    Raises
    ------
    FieldError
        If the path names nothing.
    """
    return _walk(scenario, path)[0]


def _walk(scenario: Scenario, path: str) -> tuple[Any, tuple[str | int, ...]]:
    """The value at `path`, and the steps that reach it (an element by its position).

    Two paths reach the same field when their steps are equal, and one holds the
    other's field when its steps begin with the other's.
    """
    parts = list(parse(path))
    if parts[0] in ("sites", "profiles", "reported"):
        parts = ["estate", *parts]
    obj: Any = scenario
    steps: list[str | int] = []
    for head in parts:
        if isinstance(obj, tuple) and isinstance(head, Item):
            keys = [_key(o) for o in obj]
            if str(head.key) in keys:
                at = keys.index(str(head.key))
            elif isinstance(head.key, int) and 0 <= head.key < len(obj):
                at = head.key
            else:
                raise FieldError(path, f"no element [{head.key}] (known: {', '.join(keys)})")
            steps.append(at)
            obj = obj[at]
        elif isinstance(obj, Mapping) and not isinstance(head, Item):
            written = {str(getattr(k, "name", k)).lower() if not isinstance(k, str) else k: k
                       for k in obj}
            if head not in written:
                raise FieldError(path, f"no entry {head!r} (known: {', '.join(written)})")
            steps.append(head)
            obj = obj[written[head]]
        elif not isinstance(head, Item) and attrs.has(type(obj)) and head in {
                f.name for f in attrs.fields(type(obj))}:
            steps.append(head)
            obj = getattr(obj, head)
        else:
            raise FieldError(path, f"{type(obj).__name__} has no field {head!s}")
    return obj, tuple(steps)


def _reach(scenario: Scenario, path: str) -> tuple[str | int, ...]:
    """The steps of :func:`_walk`, a block's ``scale`` counted as its ``growth``."""
    if path.endswith(".scale"):
        path = path.removesuffix("scale") + "growth"
    return _walk(scenario, path)[1]


def _same(a: Any, b: Any) -> bool:
    """True when two grid values are equal (False when they cannot be compared)."""
    try:
        return bool(np.all(a == b))
    except Exception:  # values of unlike kinds are simply not equal
        return False


def summarise(scenario: Scenario, seed: int, *, start: MonthLike = "2025-01",
              end: MonthLike = "2030-12", n_paths: int = 1000,
              alpha: float = 0.05) -> dict[str, Any]:
    """The default figures of one variant: exhaustion months and end-of-horizon shortfall.

    Returns
    -------
    dict
        ``exhaustion.<resource>`` (first month P(shortfall) ≥ 0.5, as ``"YYYY-MM"``, or
        ``"never"``), ``p_shortfall_end.<resource>``, and ``binding`` at `alpha`. With
        policies, also per year (medians over paths): ``outlay.<instrument>.<year>`` and
        ``outlay.total.<year>`` in 万元, ``budget_exhausted.<instrument>.<year>``,
        ``induced.<resource>.<year>`` in the resource's canonical unit and
        ``utilisation.<site>.<year>``.
    """
    fields.read_real(alpha, "alpha", low=0, high=1, low_open=True)
    p = project(scenario, start=start, end=end, n_paths=n_paths, seed=seed)
    out: dict[str, Any] = {}
    end_p = p.shortfall_probability()[-1]
    for e in p.exhaustion(0.5):
        name = e.resource.name.lower()
        out[f"exhaustion.{name}"] = str(e.month) if e.month is not None else "never"
        out[f"p_shortfall_end.{name}"] = float(end_p[e.resource.index])
    binding = p.binding_resource(alpha)
    out["binding"] = binding.name.lower() if isinstance(binding, Resource) else "none"
    if scenario.policies:
        cost = cost_policy(p)
        years = [int(y) for y in cost.years]
        for name in cost.instruments:
            for y, v in zip(years, cost.outlay(name).m_as("万元"), strict=True):
                out[f"outlay.{name}.{y}"] = float(v)
            for y, m in zip(years, cost.budget_exhausted(name), strict=True):
                out[f"budget_exhausted.{name}.{y}"] = str(m) if m is not None else "no"
        for y, v in zip(years, cost.total_outlay().m_as("万元"), strict=True):
            out[f"outlay.total.{y}"] = float(v)
        for r in cost.list_prices:
            for y, more in zip(years, cost.induced_demand(r).m_as(r.unit), strict=True):
                out[f"induced.{r.name.lower()}.{y}"] = float(more)
        for site in cost.site_ids:
            for y, u in zip(years, cost.utilisation(site), strict=True):
                out[f"utilisation.{site}.{y}"] = float(u)
    return out


def _unit_of(figure: str) -> str | None:
    """The unit of one of :func:`summarise`'s figures (``None``: a word or a month)."""
    kind, _, rest = figure.partition(".")
    if kind == "outlay":
        return "万元"
    if kind == "induced":
        try:
            return str(Resource.parse(rest).unit)
        except (KeyError, ValueError):
            return None
    if kind in ("utilisation", "p_shortfall_end"):
        return "dimensionless"
    return None


@attrs.frozen
class SweepResult:
    """A table of sweep results: one row per variant, the grid's columns first.

    Attributes
    ----------
    columns
        Every column, the grid's paths first.
    rows
        One dict per variant, in the order of the grid's product.
    grid
        The grid's paths (the leading columns), whose values label each row.
    """

    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    grid: tuple[str, ...] = ()

    def to_pandas(self) -> Any:
        """The rows as a :class:`pandas.DataFrame` indexed by the grid's values.

        The index is a MultiIndex whose levels are named by the grid's paths (a plain
        index for a one-path grid); the other columns are the figures.
        """
        pd = importlib.import_module("pandas")  # a dependency of xarray; untyped
        frame = pd.DataFrame.from_records(self.to_records(), columns=list(self.columns))
        return frame.set_index(list(self.grid)) if self.grid else frame

    def to_xarray(self) -> Any:
        """The rows as an :class:`xarray.Dataset` with one dimension per grid path.

        Each grid path's values are its coordinate, in the grid's order. Figures given per
        year (``outlay.<instrument>.<year>``) become one variable with a ``year``
        dimension (``outlay.<instrument>``); the others are variables of their own. A
        cell of the grid that was not run is ``nan``.
        """
        xarray = importlib.import_module("xarray")
        pd = importlib.import_module("pandas")
        # a grid of quantities is a coordinate of magnitudes in the first one's unit, with
        # that unit in its attributes (pandas and xarray hold no pint quantities)
        units: dict[str, Any] = {}
        for k in self.grid:
            first = self.column(k)[0] if self.rows else None
            if isinstance(first, pint.Quantity):
                units[k] = first.units
        records = [{k: (v.m_as(units[k]) if k in units else v) for k, v in r.items()}
                   for r in self.rows]
        frame = pd.DataFrame.from_records(records, columns=list(self.columns))
        data = (frame.set_index(list(self.grid)) if self.grid else frame).to_xarray()
        # pandas sorts the levels ("1000", "10000", "3000"); the grid's order is the one given
        data = data.reindex({k: list(dict.fromkeys(r[k] for r in records))
                             for k in self.grid})
        for k, unit in units.items():
            data[k].attrs["units"] = f"{unit:~C}"
        yearly: dict[str, dict[int, str]] = {}
        for name in data.data_vars:
            found = re.fullmatch(r"(.+)\.(\d{4})", str(name))
            if found:
                yearly.setdefault(found[1], {})[int(found[2])] = str(name)
        for figure, by_year in yearly.items():
            years = sorted(by_year)
            data[figure] = xarray.concat([data[by_year[y]] for y in years],
                                         dim=xarray.Variable("year", years))
            data = data.drop_vars(list(by_year.values()))
        for name in data.data_vars:
            unit = _unit_of(str(name))
            if unit is not None:
                data[name].attrs["units"] = unit
        return data

    def __repr__(self) -> str:
        return (f"SweepResult({len(self.rows)} variants over {', '.join(self.grid) or 'no grid'}"
                f"; {len(self.columns) - len(self.grid)} figures)")

    def column(self, name: str) -> list[Any]:
        """All values of one column, in row order."""
        return [r.get(name) for r in self.rows]

    def to_records(self) -> list[dict[str, Any]]:
        """The rows as plain dicts (e.g. for ``pandas.DataFrame.from_records``)."""
        return [dict(r) for r in self.rows]


def _check_arguments(scenario: Any, executor: Any, evaluate: Any, batch_size: Any,
                     options: Mapping[str, Any]) -> None:
    """Refuse a bad argument of :func:`sweep` by name, before any work."""
    fields.read_instance(scenario, Scenario, "scenario")
    if executor is not None:
        fields.read_instance(executor, Executor, "executor")
    if evaluate is not None and not callable(evaluate):
        raise FieldError("evaluate", "must be a function f(scenario, seed) -> dict",
                         type(evaluate).__name__)
    if batch_size is not None:
        fields.read_whole(batch_size, "batch_size", least=1)
    known = [n for n, a in inspect.signature(summarise).parameters.items()
             if a.kind is inspect.Parameter.KEYWORD_ONLY]
    if evaluate is not None and options:
        name = next(iter(options))
        raise FieldError(name, "would be ignored: options go to the default figures, and "
                         "an evaluate function is given (pass them to it instead)")
    for name in options:
        if name not in known:
            raise FieldError(name, f"is not an option of the default figures (options: "
                             f"{', '.join(known)}){fields._hint(name, known)}")


def _run_batch(scenario: Scenario, variants: list[dict[str, Any]], seed: int,
               evaluate: Evaluate | None, options: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for assignment in variants:
        s = scenario
        for path, value in assignment.items():
            s = vary(s, path, value)
        figures = evaluate(s, seed) if evaluate is not None else summarise(s, seed, **options)
        if not isinstance(figures, Mapping):
            raise FieldError("evaluate", "must return a mapping of figure names to values",
                             type(figures).__name__)
        clash = [k for k in figures if k in assignment]
        if clash:
            raise FieldError("evaluate", f"returned {clash[0]!r}, a path of the grid: a "
                             "figure would overwrite the value the row was run with")
        rows.append({**assignment, **figures})
    return rows


def _progress(total: int, show: bool | None) -> Callable[[int], None]:
    if show is None:
        show = sys.stderr.isatty()
    done = 0

    def report(n: int) -> None:
        nonlocal done
        done += n
        if show:
            end = "\n" if done >= total else ""
            sys.stderr.write(f"\rsweep: {done}/{total} variants{end}")
            sys.stderr.flush()

    return report


def sweep(scenario: Scenario, grid: Mapping[str, Iterable[Any]], *,
          executor: Executor | None = None, seed: int = 0,
          evaluate: Evaluate | None = None, batch_size: int | None = None,
          progress: bool | None = None, **options: Any) -> SweepResult:
    """Evaluate every combination of the grid's values.

    Parameters
    ----------
    scenario
        The base scenario.
    grid
        Field path → values to try; the variants are the Cartesian product.
    executor
        Any ``concurrent.futures.Executor``; ``None`` runs serially in this process.
        Functions sent to it are module-level, so process pools and dask work.
    seed
        Seed given to every variant (common random numbers).
    evaluate
        ``f(scenario, seed) -> dict`` of figures; :func:`summarise` by default. Must be
        picklable (a module-level function) for process-based executors.
    batch_size
        Variants per task; by default about four tasks per worker, at most 64 variants.
    progress
        Print a progress line to standard error as batches finish (it updates in place on
        a terminal and in Jupyter); by default only when standard error is a terminal.
    **options
        Passed to :func:`summarise` (``start``, ``end``, ``n_paths``, ``alpha``); refused
        with `evaluate`, which would ignore them.

    Returns
    -------
    SweepResult
        Rows in the order of the grid's product, whatever the executor.

    Raises
    ------
    ValidationError
        If a grid path names nothing, two paths reach one field (``sites[0].pue`` and
        ``sites[tianyi-huawei].pue``, a field and a part of it, a block's ``scale`` and
        its ``growth``), or an axis repeats a value; checked on the base scenario before
        any work.
    FieldError
        Naming the argument, for another bad one (an unknown option, a batch size of 0),
        or ``evaluate`` when it returns no mapping or a figure named as a grid path.
    """
    _check_arguments(scenario, executor, evaluate, batch_size, options)
    if not isinstance(grid, Mapping):
        raise ValidationError("invalid sweep grid", [FieldError(
            "grid", "must map field paths to the values to try", type(grid).__name__)])
    p = Problems("sweep grid")
    for k, v in grid.items():
        if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, Iterable):
            p.add(str(k), "must be a list of values to try", v)
    p.raise_if_any()
    keys = list(grid)
    values = [list(v) for v in grid.values()]
    for k, vals in zip(keys, values, strict=True):
        if not vals:
            p.add(k, "has no values to try")
            continue
        # every value of every axis, before any work: a bad one fails now, not mid-sweep
        for v in vals:
            try:
                vary(scenario, k, v)
            except ValidationError as exc:
                p.items.extend(FieldError(k, e.reason if e.path in ("", k) else
                                          f"{e.path}: {e.reason}", v) for e in exc.problems)
            except (FieldError, TypeError, ValueError) as exc:
                p.add(k, getattr(exc, "reason", str(exc)), v)
                if isinstance(exc, FieldError) and exc.path == k:
                    break  # the path itself names nothing: one problem is enough
    p.raise_if_any()
    # two paths to one field (by index and by key, or a field and a part of it): the
    # later would override the earlier, and rows would be labelled with values not used
    steps = [_reach(scenario, k) for k in keys]
    for later, k in enumerate(keys):
        for earlier in range(later):
            shorter = min(len(steps[earlier]), len(steps[later]))
            if steps[earlier][:shorter] == steps[later][:shorter]:
                p.add(k, f"sets the same field as {keys[earlier]!r}, or a part of it: one "
                      "would override the other")
        vals = values[later]
        for j in range(1, len(vals)):
            if any(_same(vals[i], vals[j]) for i in range(j)):
                p.add(k, "repeats a value: two rows would be one variant", vals[j])
                break
    p.raise_if_any()
    variants = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]
    if batch_size is None:
        workers = getattr(executor, "_max_workers", 2) if executor is not None else 1
        batch_size = max(1, min(64, int(np.ceil(len(variants) / (4 * max(workers, 1))))))
    batches = [variants[i:i + batch_size] for i in range(0, len(variants), batch_size)]
    report = _progress(len(variants), progress)
    if executor is None:
        results = []
        for b in batches:
            results.append(_run_batch(scenario, b, seed, evaluate, options))
            report(len(b))
    else:
        futures = [executor.submit(_run_batch, scenario, b, seed, evaluate, options)
                   for b in batches]
        for done in as_completed(futures):
            report(len(done.result()))
        results = [f.result() for f in futures]
    rows = tuple(row for batch in results for row in batch)
    extra = list(dict.fromkeys(c for row in rows for c in row if c not in keys))
    return SweepResult(tuple(keys + extra), rows, tuple(keys))
