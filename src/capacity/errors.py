"""Exceptions of capacity: one root, leaves that also subclass the matching built-in.

Misuse raises; outcomes (an infeasible allocation, a time-limited solve) are results.
Validation collects *every* problem before raising, so a planner fixes a scenario file
in one pass instead of one error at a time.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "CapacityError",
    "DimensionError",
    "FieldError",
    "Problems",
    "ValidationError",
    "closest",
    "did_you_mean",
]


class CapacityError(Exception):
    """Root of every exception raised by capacity."""


class FieldError(CapacityError, ValueError):
    """One problem with one input field.

    Parameters
    ----------
    path
        Where the field is, e.g. ``sites[2].pue`` or ``profiles.ai.it_power``.
    reason
        Why the value is rejected, in plain words.
    value
        The offending value, if there is one to show.
    """

    def __init__(self, path: str, reason: str, value: Any = None) -> None:
        self.path = path
        self.reason = reason
        self.value = value
        shown = "" if value is None else f" (got {value!r})"
        super().__init__(f"{path}: {reason}{shown}")

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt from its fields, not from the message: a worker process's error then
        # reaches the caller as itself, not as a broken pool
        return type(self), (self.path, self.reason, self.value)


class DimensionError(FieldError, TypeError):
    """A quantity has the wrong physical dimension (power given as energy, ...)."""


class ValidationError(ExceptionGroup[FieldError], CapacityError):
    """Every problem found in one input, each a :class:`FieldError` with its path.

    ``str(error)`` lists all the problems, one per line.
    """

    def __new__(cls, message: str, exceptions: Sequence[FieldError]) -> ValidationError:  # noqa: D102
        return super().__new__(cls, message, exceptions)

    @property
    def problems(self) -> tuple[FieldError, ...]:
        """The problems, in the order they were found."""
        return tuple(e for e in self.exceptions if isinstance(e, FieldError))

    def __str__(self) -> str:
        lines = [f"{self.message}: {len(self.exceptions)} problem(s)"]
        lines += [f"  - {e}" for e in self.exceptions]
        return "\n".join(lines)


class Problems:
    """Collector of field problems, raised together as one :class:`ValidationError`.

    Examples
    --------
    >>> p = Problems("site")
    >>> p.add("pue", "must be at least 1", 0.9)
    >>> p.raise_if_any()
    Traceback (most recent call last):
    ...
    capacity.errors.ValidationError: invalid site: 1 problem(s)
      - pue: must be at least 1 (got 0.9)
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self.items: list[FieldError] = []

    def add(self, path: str, reason: str, value: Any = None) -> None:
        """Record a problem with the field at `path`."""
        self.items.append(FieldError(path, reason, value))

    def extend(self, errors: Iterable[FieldError], prefix: str = "") -> None:
        """Record problems found in a nested value, their paths under `prefix`."""
        for e in errors:
            path = f"{prefix}{'.' if prefix and not e.path.startswith('[') else ''}{e.path}"
            err = type(e)(path, e.reason, e.value)
            self.items.append(err)

    def absorb(self, error: ValidationError, prefix: str = "") -> None:
        """Record the problems of a nested :class:`ValidationError`."""
        self.extend(error.problems, prefix)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        """Raise one :class:`ValidationError` listing every recorded problem."""
        if self.items:
            raise ValidationError(f"invalid {self.what}", self.items)


def closest(text: str, names: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The name `text` most likely misspells: the same but for case, else the nearest.

    The first of `names` wins where several differ from `text` only in case, so list the
    likelier ones first; a name that differs in more is offered when its similarity
    (:func:`difflib.get_close_matches`) is at least `cutoff`.

    Examples
    --------
    >>> closest("PUE", ["pue", "grid"]), closest("peu", ["pue", "grid"]), closest("x", ["pue"])
    ('pue', 'pue', None)
    """
    folded: dict[str, str] = {}
    for name in names:
        folded.setdefault(name.casefold(), name)
    key = text.casefold()
    if key in folded:
        return folded[key]
    close = difflib.get_close_matches(key, list(folded), n=1, cutoff=cutoff)
    return folded[close[0]] if close else None


def did_you_mean(text: str, names: Iterable[str], cutoff: float = 0.6) -> str:
    """``"did you mean 'x'?"`` for the name `text` most likely misspells, or ``""``.

    `cutoff` is the least similarity (0 to 1) of a name that differs in more than case.
    """
    found = closest(text, names, cutoff)
    return "" if found is None else f"did you mean {found!r}?"
