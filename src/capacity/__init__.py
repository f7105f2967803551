"""capacity: unit-safe capacity planning for data-centre estates.

What an estate has (sites, cabinets, power, floor, vCPU, storage, compute per precision),
what it will have (build-out plans), what it will need (demand growth with uncertainty),
where demand should go (optimised allocation) and what policy costs (subsidies).
"""

from capacity.allocation import Allocation, AllocationProblem, allocate
from capacity.errors import CapacityError, FieldError, ValidationError
from capacity.projection import Projection, project
from capacity.resources import Resource, ResourceVector
from capacity.scenario import Scenario
from capacity.units import Q_, Precision, ureg

__all__ = [
    "Q_",
    "Allocation",
    "AllocationProblem",
    "CapacityError",
    "FieldError",
    "Precision",
    "Projection",
    "Resource",
    "ResourceVector",
    "Scenario",
    "ValidationError",
    "allocate",
    "project",
    "ureg",
]
__version__ = "0.1.0"
