"""Reader of OR-Library and Yagiura generalized assignment (GAP) files.

Both formats are whitespace-separated integers (line breaks carry no meaning). An
OR-Library file (``gap1.txt`` … ``gapd.txt``) starts with the number of problems ``P``;
a Yagiura file (``c10400``) holds one problem without it. Each problem is ``m n``, then the
costs ``c[agent][job]`` (m × n), the resource use ``r[agent][job]`` (m × n) and the agent
capacities (m). Agents become pools and jobs demands of one unit each.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from capacity.allocation.problem import AllocationProblem
from capacity.errors import FieldError, ValidationError

__all__ = ["read_orlib_gap"]


#: A token of the format: a whole number, written in digits.
_WHOLE = re.compile(r"[+-]?[0-9]+")


def _block(values: NDArray[np.int64], at: int, file: Path, k: int) -> int:
    """Length of the problem block starting at `at` (``m n`` then its arrays).

    Its counts must be positive and the block must fit in the file, checked before its
    length is computed, so no count can make it large.
    """
    if at + 2 > values.size:
        raise FieldError(str(file), f"ends inside problem {k + 1}")
    m, n = int(values[at]), int(values[at + 1])
    if m < 1 or n < 1:
        raise FieldError(str(file), f"problem {k + 1} declares {m} agents and {n} jobs; both "
                         "must be at least 1")
    if m > values.size or n > values.size or 2 + 2 * m * n + m > values.size - at:
        raise FieldError(str(file), f"ends inside problem {k + 1} ({m} agents × {n} jobs "
                         f"take {2 + 2 * m * n + m:,} numbers; {values.size - at:,} are left)")
    return 2 + 2 * m * n + m


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
        If the file cannot be read, is not text, holds anything but whole numbers, its
        counts do not match its length, or a problem in it is not valid (naming the file
        and the reason).
    """
    file = Path(path)
    try:
        text = file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise FieldError(str(file), f"cannot read the file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise FieldError(str(file), "is not a text file") from None
    tokens = text.split()
    for t in tokens:
        if not _WHOLE.fullmatch(t):
            raise FieldError(str(file), "holds something that is not a whole number: "
                             f"{t[:40]!r}")
        if len(t.lstrip("+-")) > 15:
            raise FieldError(str(file), f"holds a number too large for a GAP file: {t[:40]}")
    values = np.array([int(t) for t in tokens], dtype=np.int64)
    if values.size < 2:
        raise FieldError(str(file), "too short to be a GAP file")
    # Yagiura: one block exactly; OR-Library: a count, then that many blocks.
    blocks: list[tuple[int, int]]  # (start, length) of each problem
    try:
        yagiura = _block(values, 0, file, 0) == values.size
    except FieldError:
        yagiura = False
    if yagiura:
        blocks = [(0, values.size)]
    else:
        count = int(values[0])
        if count < 1:
            raise FieldError(str(file), f"declares {count} problems (an OR-Library file starts "
                             "with their number; a Yagiura file with m n)")
        blocks, at = [], 1
        for k in range(count):
            blocks.append((at, _block(values, at, file, k)))
            at += blocks[-1][1]
        if at != values.size:
            raise FieldError(str(file), f"declares {count} problems, which take {at} numbers, "
                             f"but it holds {values.size} (neither an OR-Library nor a Yagiura "
                             "GAP file)")
    multi = len(blocks) > 1 or blocks[0][0] == 1
    problems = []
    for k, (at, length) in enumerate(blocks):
        m, n = int(values[at]), int(values[at + 1])
        body = values[at + 2: at + length].astype(np.float64)
        cost = body[: m * n].reshape(m, n).T
        use = body[m * n: 2 * m * n].reshape(m, n).T[:, :, None]
        capacity = body[2 * m * n:][:, None]
        name = f"{file.name}#{k + 1}" if multi else file.name
        try:
            problems.append(AllocationProblem(use=use, capacity=capacity, cost=cost,
                                              size=np.ones(n), splittable=False, name=name))
        except ValidationError as error:
            reasons = "; ".join(f"{e.path}: {e.reason}" for e in error.problems)
            raise FieldError(str(file), f"problem {k + 1} is not a valid GAP problem "
                             f"({reasons}; jobs are demands and agents pools, so use[j,i,0] "
                             "is the weight of job j at agent i, from 0)") from None
    return problems
