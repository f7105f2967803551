"""Reader of OR-Library and Yagiura generalized assignment (GAP) files.

Both formats are whitespace-separated integers (line breaks carry no meaning). An
OR-Library file (``gap1.txt`` … ``gapd.txt``) starts with the number of problems ``P``;
a Yagiura file (``c10400``) holds one problem without it. Each problem is ``m n``, then the
costs ``c[agent][job]`` (m × n), the resource use ``r[agent][job]`` (m × n) and the agent
capacities (m). Agents become pools and jobs demands of one unit each.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from capacity.allocation.problem import AllocationProblem
from capacity.errors import FieldError

__all__ = ["read_orlib_gap"]


def _block(values: NDArray[np.float64], at: int) -> int:
    """Length of the problem block starting at `at` (``m n`` then its arrays)."""
    m, n = values[at], values[at + 1]
    return int(2 + 2 * m * n + m)


def read_orlib_gap(path: str | os.PathLike[str]) -> list[AllocationProblem]:
    """Read every GAP problem in an OR-Library or Yagiura file, as cost minimisation.

    Parameters
    ----------
    path
        The file. A multi-problem OR-Library file is told from a single-problem Yagiura
        file by its token count.

    Returns
    -------
    list of AllocationProblem
        One per problem, named ``<file>#<k>`` (k from 1) for multi-problem files and
        ``<file>`` otherwise; one resource, unsplittable unit demands, every demand to be
        served, ``sense="min"``, plain numbers (no units).

    Raises
    ------
    FieldError
        If the file cannot be read, holds non-numbers, or its counts do not match its
        length (naming the file and the reason).
    """
    file = Path(path)
    try:
        tokens = file.read_text().split()
    except OSError as exc:
        raise FieldError(str(file), f"cannot read the file: {exc.strerror}") from None
    try:
        values = np.array([float(t) for t in tokens])
    except ValueError as exc:
        raise FieldError(str(file), f"holds something that is not a number: {exc}") from None
    if values.size < 3 or np.any(values[:3] != np.round(values[:3])) or np.any(values[:3] < 1):
        raise FieldError(str(file), "too short or does not start with whole-number counts "
                         "(P, or m n) to be a GAP file")
    # Yagiura: one block exactly; OR-Library: a count, then that many blocks.
    starts: list[int]
    if _block(values, 0) == values.size:
        starts = [0]
    else:
        count = int(values[0])
        starts, at = [], 1
        for k in range(count):
            if at + 2 > values.size:
                raise FieldError(str(file), f"ends inside problem {k + 1} of {count}")
            starts.append(at)
            at += _block(values, at)
        if at != values.size:
            raise FieldError(str(file), f"declares {count} problems, which take {at} numbers, "
                             f"but it holds {values.size} (neither an OR-Library nor a Yagiura "
                             "GAP file)")
    multi = len(starts) > 1 or starts[0] == 1
    problems = []
    for k, at in enumerate(starts):
        m, n = int(values[at]), int(values[at + 1])
        body = values[at + 2: at + _block(values, at)]
        cost = body[: m * n].reshape(m, n).T
        use = body[m * n: 2 * m * n].reshape(m, n).T[:, :, None]
        capacity = body[2 * m * n:][:, None]
        name = f"{file.name}#{k + 1}" if multi else file.name
        problems.append(AllocationProblem(use=use, capacity=capacity, cost=cost,
                                          size=np.ones(n), splittable=False, name=name))
    return problems
