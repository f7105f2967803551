"""Where a figure comes from: a cited source, a derivation, or an assumption with its rationale.

Every figure in a dataset or scenario carries a :class:`Provenance`, so a report can
separate what a document states from what a planner assumed.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from capacity.errors import Problems

__all__ = ["Assumption", "Kind", "Provenance"]


class Kind(enum.Enum):
    """How a figure is known."""

    SOURCE = "source"
    DERIVED = "derived"
    ASSUMPTION = "assumption"


def _kind(value: Any) -> Any:
    try:
        return Kind(value)
    except ValueError:
        return value  # reported, with the other fields' problems, after construction


@attrs.frozen
class Provenance:
    """The origin of one figure.

    Parameters
    ----------
    kind
        Stated by a source, derived from stated figures, or assumed.
    note
        For a source, the document and section; for a derivation, the arithmetic; for an
        assumption, its rationale.
    reference
        Optional supporting reference (a source id or address) behind an assumption.
    """

    kind: Kind = attrs.field(converter=_kind)
    note: str
    reference: str = ""

    def __attrs_post_init__(self) -> None:
        p = Problems("provenance")
        if not isinstance(self.kind, Kind):
            p.add("kind", "must be one of " + ", ".join(k.value for k in Kind), self.kind)
        for name in ("note", "reference"):
            value = getattr(self, name)
            if not isinstance(value, str):
                p.add(name, f"expected a string, not {type(value).__name__}", value)
        if isinstance(self.note, str) and not self.note.strip():
            p.add("note", "must not be empty", self.note)
        p.raise_if_any()

    @classmethod
    def source(cls, note: str) -> Provenance:
        """A figure stated in a source (`note`: document and section)."""
        return cls(Kind.SOURCE, note)

    @classmethod
    def derived(cls, note: str) -> Provenance:
        """A figure computed from stated figures (`note`: how)."""
        return cls(Kind.DERIVED, note)

    @classmethod
    def assumption(cls, note: str, reference: str = "") -> Provenance:
        """A figure the source does not give (`note`: the rationale)."""
        return cls(Kind.ASSUMPTION, note, reference)

    @property
    def is_assumption(self) -> bool:
        """True for an assumption."""
        return self.kind is Kind.ASSUMPTION

    def __str__(self) -> str:
        ref = f" [{self.reference}]" if self.reference else ""
        return f"{self.kind.value}: {self.note}{ref}"


@attrs.frozen
class Assumption:
    """A figure or rule a scenario assumes, with the field it governs and its rationale."""

    field: str
    provenance: Provenance

    def __attrs_post_init__(self) -> None:
        p = Problems("assumption")
        if not isinstance(self.field, str) or not self.field.strip():
            p.add("field", "must name the field path it governs", self.field)
        if not isinstance(self.provenance, Provenance):
            p.add("provenance", "must be a Provenance", type(self.provenance).__name__)
        p.raise_if_any()

    def __str__(self) -> str:
        ref = f" [{self.provenance.reference}]" if self.provenance.reference else ""
        return f"{self.field}: {self.provenance.note}{ref}"
