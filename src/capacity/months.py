"""The monthly time axis used throughout capacity.

Months are ``numpy.datetime64`` values with unit ``"M"``; a month axis is a 1-D array
of them. Inputs may be ``"2025-03"`` strings, ``datetime.date`` values or
``numpy.datetime64`` values; all are read to a month.

Examples
--------
>>> from capacity.months import month, month_range, months_between
>>> month("2025-03-17")
np.datetime64('2025-03')
>>> month_range("2025-01", "2025-04").size
4
>>> months_between("2024-06", "2025-04")
10
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TypeAlias, cast

import numpy as np
from numpy.typing import NDArray

from capacity.errors import FieldError

__all__ = ["MonthLike", "hours_in_month", "month", "month_index", "month_range",
           "months_between"]

#: What a month may be given as (a real alias, so annotations resolve at run time).
MonthLike: TypeAlias = str | dt.date | np.datetime64

_MONTH_TEXT = re.compile(r"\s*(\d{4})-(\d{2})(?:-(\d{2}))?\s*")


def month(value: MonthLike, path: str = "month") -> np.datetime64:
    """Read a month from a string (``"2025-03"``, ``"2025-03-17"``), date or datetime64.

    A string is read whole: ``"2025-03 garbage"`` and ``"2025-13"`` are refused.

    Raises
    ------
    FieldError
        If the value cannot be read as a month.
    """
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise FieldError(path, "is not a date (NaT)", value)
        return cast(np.datetime64, value.astype("datetime64[M]"))
    if isinstance(value, dt.date):
        if not isinstance(value.year, int):  # pandas' NaT is a datetime with no year
            raise FieldError(path, "is not a date (NaT)", str(value))
        return np.datetime64(f"{value.year:04d}-{value.month:02d}", "M")
    if isinstance(value, str):
        # The whole text is a month or a date; "2025-03 garbage" is not 2025-03.
        found = _MONTH_TEXT.fullmatch(value)
        if found:
            try:
                day = np.datetime64(f"{found[1]}-{found[2]}-{found[3] or '01'}", "D")
                return cast(np.datetime64, day.astype("datetime64[M]"))
            except ValueError:
                pass
    raise FieldError(path, "is not a month (write it as 'YYYY-MM')", value)


def month_range(start: MonthLike, end: MonthLike) -> NDArray[np.datetime64]:
    """Every month from `start` to `end`, both included.

    Raises
    ------
    FieldError
        If `end` is before `start`.
    """
    a, b = month(start, "start"), month(end, "end")
    if b < a:
        raise FieldError("end", f"is before start ({a})", str(b))
    return np.arange(a, b + np.timedelta64(1, "M"), dtype="datetime64[M]")


def months_between(start: MonthLike, end: MonthLike) -> int:
    """Whole months from `start` to `end` (negative if `end` is earlier)."""
    return int((month(end, "end") - month(start, "start")).astype(int))


def month_index(axis: NDArray[np.datetime64], when: MonthLike, path: str = "date") -> int:
    """Position of a month on an axis; `path` names the month in errors.

    Raises
    ------
    FieldError
        If the month is not on the axis.
    """
    m = month(when, path)
    axis = np.asarray(axis).astype("datetime64[M]")  # a day axis counts in months too
    if axis.ndim != 1 or not axis.size:
        raise FieldError(path, "has no month axis to be found on (the axis is empty)", str(m))
    i = int((m - axis[0]).astype(int))
    if not 0 <= i < axis.size:
        raise FieldError(path, f"is outside the axis {axis[0]} to {axis[-1]}", str(m))
    return i


def hours_in_month(months: NDArray[np.datetime64]) -> NDArray[np.float64]:
    """Hours in each calendar month of a month axis (672 to 744).

    Parameters
    ----------
    months
        Months, ``datetime64[M]``.

    Raises
    ------
    FieldError
        Naming ``months``, when one is not a date (NaT).
    """
    m = np.asarray(months, dtype="datetime64[M]")
    if np.any(np.isnat(m)):
        raise FieldError("months", "holds a month that is not a date (NaT)", str(m))
    days = ((m + np.timedelta64(1, "M")).astype("datetime64[D]")
            - m.astype("datetime64[D]")).astype(np.float64)
    return np.asarray(days * 24.0, dtype=np.float64)
