"""Resources a data centre provides, and vectors of them backed by one float array.

Each :class:`Resource` has one canonical unit. Inside capacity, amounts of resources
are float64 arrays in those units (the last axis indexes resources); quantities appear
only when a value crosses the public surface.

Examples
--------
>>> from capacity import Q_, Resource
>>> from capacity.resources import ResourceVector
>>> v = ResourceVector.from_quantities({Resource.CABINETS: Q_("104 cabinet"),
...                                     Resource.IT_POWER: Q_("0.5 MW")})
>>> (v + v)[Resource.IT_POWER]
<Quantity(1000.0, 'kilowatt')>
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import numpy as np
import pint
from numpy.typing import NDArray

from capacity import fields
from capacity.errors import FieldError, Problems, closest
from capacity.units import Q_, Precision, Quantity, parse_quantity, ureg

__all__ = ["Resource", "ResourceVector"]


class Resource(enum.Enum):
    """A resource of a data-centre estate, with its canonical unit.

    Compute is one member per precision: FP64, FP32, FP16 and INT8 never add up.
    """

    CABINETS = "cabinet"
    IT_POWER = "kW"
    FLOOR_AREA = "m**2"
    VCPU = "vCPU"
    STORAGE = "TB"
    COMPUTE_FP64 = "TFLOPS_fp64"
    COMPUTE_FP32 = "TFLOPS_fp32"
    COMPUTE_FP16 = "TFLOPS_fp16"
    COMPUTE_INT8 = "TOPS_int8"

    @property
    def unit(self) -> pint.Unit:
        """The canonical unit: arrays inside capacity hold values in this unit."""
        return _UNITS[self]

    @property
    def index(self) -> int:
        """Position of this resource on the resource axis of arrays."""
        return _INDEX[self]

    @property
    def label(self) -> str:
        """A short human label, e.g. ``"compute (FP16)"``."""
        return _LABELS[self]

    @property
    def precision(self) -> Precision | None:
        """The precision of a compute resource, ``None`` for the others."""
        return _PRECISION.get(self)

    @classmethod
    def parse(cls, name: str | Resource, path: str = "resource") -> Resource:
        """Read a resource from its member name, case-insensitively (``"compute_fp16"``).

        Raises
        ------
        FieldError
            Naming `path` (a :class:`ValueError` too), if no resource has that name.
        """
        if isinstance(name, Resource):
            return name
        key = _member_key(name)
        if key in cls.__members__:
            return cls[key]
        names = [m.name.lower() for m in cls]
        raise FieldError(path, f"unknown resource; expected one of {', '.join(names)}"
                         f"{fields._hint(str(name), names)}", name)

    @classmethod
    def argument(cls, value: object, path: str = "resource") -> Resource:
        """A function's resource argument: a member, never a name to guess from.

        Raises
        ------
        FieldError
            Naming `path`, with the member to write when `value` names one.
        """
        if isinstance(value, Resource):
            return value
        guess = closest(_member_key(value), cls.__members__) if isinstance(value, str) \
            else None
        if guess is not None:
            raise FieldError(path, f"must be a Resource: write Resource.{guess}", value)
        raise FieldError(path, "must be a Resource, such as Resource.VCPU or "
                         "Resource.COMPUTE_FP16", value if isinstance(value, str)
                         else type(value).__name__)

    @classmethod
    def compute(cls, precision: Precision) -> Resource:
        """The compute resource of a precision."""
        return {v: k for k, v in _PRECISION.items()}[precision]

    @classmethod
    def for_quantity(cls, quantity: Quantity) -> Resource:
        """The resource whose dimension matches `quantity`.

        Raises
        ------
        ValueError
            If no resource has that dimension.
        """
        for r in cls:
            if r.unit.dimensionality == quantity.dimensionality:
                return r
        raise ValueError(f"no resource has the dimension of {quantity:~P}")


def _member_key(name: object) -> str:
    return str(name).strip().upper().replace("-", "_").replace(" ", "_")


_UNITS = {r: ureg.Unit(r.value) for r in Resource}
_INDEX = {r: i for i, r in enumerate(Resource)}
_LABELS = {
    Resource.CABINETS: "cabinets",
    Resource.IT_POWER: "IT power",
    Resource.FLOOR_AREA: "floor area",
    Resource.VCPU: "vCPU",
    Resource.STORAGE: "storage",
    Resource.COMPUTE_FP64: "compute (FP64)",
    Resource.COMPUTE_FP32: "compute (FP32)",
    Resource.COMPUTE_FP16: "compute (FP16)",
    Resource.COMPUTE_INT8: "compute (INT8)",
}
_PRECISION = {
    Resource.COMPUTE_FP64: Precision.FP64,
    Resource.COMPUTE_FP32: Precision.FP32,
    Resource.COMPUTE_FP16: Precision.FP16,
    Resource.COMPUTE_INT8: Precision.INT8,
}
N_RESOURCES = len(Resource)


def _as_array(values: Any) -> NDArray[np.float64]:
    arr = np.array(values, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != N_RESOURCES:
        raise ValueError(f"resource arrays need a last axis of length {N_RESOURCES}, "
                         f"got shape {arr.shape}")
    arr.flags.writeable = False
    return arr


@attrs.frozen(eq=False)
class ResourceVector:
    """Amounts of every resource, in canonical units, as one float64 array.

    The last axis of :attr:`values` indexes :class:`Resource` (in declaration order);
    leading axes, if any, are batch axes (paths, months, sites). Arithmetic is numpy
    arithmetic on the whole array, never on scalar quantities.

    Parameters
    ----------
    values
        Array of shape ``(..., len(Resource))`` in the canonical units.
    """

    values: NDArray[np.float64] = attrs.field(converter=_as_array)

    @classmethod
    def zeros(cls, *shape: int) -> ResourceVector:
        """A vector (or batch of vectors) of zeros."""
        return cls(np.zeros((*shape, N_RESOURCES)))

    @classmethod
    def from_quantities(cls, amounts: Mapping[Resource, Any], path: str = "") -> ResourceVector:
        """Build a vector from quantities (or ``"value unit"`` strings) keyed by resource.

        Resources not given are zero. Every amount is checked against its resource's
        dimension; all problems are raised together.

        Raises
        ------
        ValidationError
            If any amount has the wrong dimension, no unit, or is not finite.
        """
        out = np.zeros(N_RESOURCES)
        problems = Problems("resource amounts")
        for r, q in amounts.items():
            field = f"{path}.{r.name.lower()}" if path else r.name.lower()
            try:
                out[r.index] = parse_quantity(q, r.unit, field).m_as(r.unit)
            except (ValueError, TypeError) as exc:
                problems.add(field, getattr(exc, "reason", str(exc)), getattr(exc, "value", q))
        problems.raise_if_any()
        return cls(out)

    def __getitem__(self, resource: Resource) -> Quantity:
        resource = Resource.argument(resource)
        if self.values.ndim > 1:
            return ureg.Quantity(self.values[..., resource.index], resource.unit)
        return Q_(float(self.values[resource.index]), resource.unit)

    def magnitude(self, resource: Resource) -> NDArray[np.float64] | float:
        """The raw canonical-unit value(s) of one resource."""
        v = self.values[..., Resource.argument(resource).index]
        return float(v) if v.ndim == 0 else v

    def items(self) -> Iterator[tuple[Resource, Quantity]]:
        """Each resource with its amount."""
        for r in Resource:
            yield r, self[r]

    def nonzero(self) -> dict[Resource, Quantity]:
        """The resources with a non-zero amount (anywhere in a batch)."""
        return {r: q for r, q in self.items() if np.any(self.values[..., r.index] != 0)}

    def sum(self, axis: int = 0) -> ResourceVector:
        """Sum over a batch axis (not the resource axis)."""
        if self.values.ndim < 2:
            raise ValueError("a single vector has no batch axis to sum over")
        if axis < 0:
            axis -= 1
        return ResourceVector(self.values.sum(axis=axis))

    def __add__(self, other: ResourceVector) -> ResourceVector:
        return ResourceVector(self.values + other.values)

    def __sub__(self, other: ResourceVector) -> ResourceVector:
        return ResourceVector(self.values - other.values)

    def __mul__(self, factor: float | NDArray[np.float64]) -> ResourceVector:
        return ResourceVector(self.values * np.asarray(factor, dtype=np.float64))

    __rmul__ = __mul__

    def __le__(self, other: ResourceVector) -> bool:
        """True when every resource fits within `other` (all elements)."""
        return bool(np.all(self.values <= other.values))

    def __ge__(self, other: ResourceVector) -> bool:
        return bool(np.all(self.values >= other.values))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResourceVector):
            return NotImplemented
        return self.values.shape == other.values.shape and bool(
            np.array_equal(self.values, other.values))

    def __hash__(self) -> int:
        return hash(self.values.tobytes())

    def isclose(self, other: ResourceVector, rtol: float = 1e-9, atol: float = 1e-9) -> bool:
        """True when both vectors agree within tolerances, resource by resource."""
        return bool(np.allclose(self.values, other.values, rtol=rtol, atol=atol))

    def __repr__(self) -> str:
        if self.values.ndim > 1:
            return f"ResourceVector(shape={self.values.shape[:-1]})"
        parts = ", ".join(f"{r.name.lower()}={q:~P}" for r, q in self.nonzero().items())
        return f"ResourceVector({parts})"
