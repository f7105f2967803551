"""Allocation: where demand should go, as a multi-resource generalized assignment problem.

:class:`AllocationProblem` holds the arrays (demands × pools × resources); :func:`allocate`
solves it with HiGHS (``scipy.optimize.milp``, or ``highspy`` when installed) helped by a
regret greedy, a penalised local search and ejection chains, and returns an
:class:`Allocation` with the
assignment, a proven bound, binding and stranded capacity, shadow prices and, when no
assignment exists, why. :func:`read_orlib_gap` reads the OR-Library and Yagiura GAP
benchmark files whose published optima check the solver.

Examples
--------
>>> import numpy as np
>>> from capacity.allocation import AllocationProblem, allocate
>>> p = AllocationProblem(use=[[[2.0], [1.0]]], capacity=[[1.0], [1.0]], cost=[[1.0, 5.0]],
...                       size=[1], resource_names=["cabinets"], cost_unit="yuan")
>>> a = allocate(p)
>>> a.objective, a.assignment.tolist()
(<Quantity(5.0, 'yuan')>, [[0.0, 1.0]])
"""

from capacity.allocation.builder import PoolKey, ScenarioProblem, build_problem
from capacity.allocation.orlib import read_orlib_gap
from capacity.allocation.problem import AllocationProblem
from capacity.allocation.solve import Allocation, Status, allocate

__all__ = [
    "Allocation",
    "AllocationProblem",
    "PoolKey",
    "ScenarioProblem",
    "Status",
    "allocate",
    "build_problem",
    "read_orlib_gap",
]
