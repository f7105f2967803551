"""A scenario: an estate with the plan, demand and policy assumptions to study it under.

Examples
--------
>>> from capacity import Resource
>>> from capacity.datasets import ganzhou
>>> ganzhou().estate.total(Resource.CABINETS)
<Quantity(451.0, 'cabinet')>
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import attrs

from capacity.demand import DemandBlock
from capacity.inventory import Estate
from capacity.plan import Plan
from capacity.policy import Instrument, Market
from capacity.provenance import Provenance

__all__ = ["Assumption", "Scenario"]


@attrs.frozen
class Assumption:
    """A figure or rule a scenario assumes, with the field it governs and its rationale."""

    field: str
    provenance: Provenance

    def __str__(self) -> str:
        ref = f" [{self.provenance.reference}]" if self.provenance.reference else ""
        return f"{self.field}: {self.provenance.note}{ref}"


def _notes(value: Iterable[Assumption]) -> tuple[Assumption, ...]:
    return tuple(value)


def _policies(value: Iterable[Instrument]) -> tuple[Instrument, ...]:
    return tuple(value)


def _demands(value: Iterable[DemandBlock]) -> tuple[DemandBlock, ...]:
    return tuple(value)


@attrs.frozen
class Scenario:
    """An estate and the assumptions a study makes about it.

    Parameters
    ----------
    name
        Short name, e.g. ``"ganzhou-baseline"``.
    estate
        What exists.
    plan
        What will be built, and when.
    demands
        What will be needed.
    policies
        Subsidy instruments in force (vouchers, electricity and construction subsidies).
    market
        Prices, elasticity and the other inputs policy costing needs.
    description
        A sentence or two on what the scenario studies.
    notes
        Scenario-wide assumptions not tied to one figure (e.g. how totals were split).
    """

    name: str
    estate: Estate
    plan: Plan = attrs.field(factory=Plan)
    demands: tuple[DemandBlock, ...] = attrs.field(default=(), converter=_demands)
    policies: tuple[Instrument, ...] = attrs.field(default=(), converter=_policies)
    market: Market = attrs.field(factory=Market)
    description: str = ""
    notes: tuple[Assumption, ...] = attrs.field(default=(), converter=_notes)

    def __attrs_post_init__(self) -> None:
        self.plan.validate_against(self.estate)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Scenario:
        """Read a scenario file (see :mod:`capacity.scenario_io` for the layout).

        Parameters
        ----------
        path
            The TOML file.

        Returns
        -------
        Scenario
            The scenario the file describes.

        Raises
        ------
        ValidationError
            Listing every problem in the file, each named ``"<file>: <field path>"``.
        """
        # Imported here: the file format sits on top of this class, not under it.
        from capacity.scenario_io import load_scenario

        return load_scenario(path)

    def to_toml(self, path: str | os.PathLike[str]) -> None:
        """Write this scenario to a TOML file that :meth:`from_toml` reads back equal.

        Parameters
        ----------
        path
            The file to write; replaced if it exists.
        """
        from capacity.scenario_io import save_scenario

        save_scenario(self, path)

    def assumptions(self) -> list[Assumption]:
        """Every assumption of the scenario: its notes, then each assumed figure."""
        out = [*self.notes, *(Assumption(f, p) for f, p in self.estate.assumptions())]
        for site in self.plan.sites:
            out += [Assumption(f"plan.sites.{site.id}.{f}", p)
                    for f, p in site.provenance.items() if p.is_assumption]
        for proj in self.plan.projects:
            out += [Assumption(f"plan.projects.{proj.name}.{f}", p)
                    for f, p in proj.provenance.items() if p.is_assumption]
        for block in self.demands:
            out += [Assumption(f"demands.{block.name}.{f}", p)
                    for f, p in block.provenance.items() if p.is_assumption]
        for pol in self.policies:
            out += [Assumption(f"policies.{pol.name}.{f}", p)
                    for f, p in pol.provenance.items() if p.is_assumption]
        out += [Assumption(f"market.{f}", p) for f, p in self.market.provenance.items()
                if p.is_assumption]
        if self.market.elasticity.provenance.is_assumption:
            out.append(Assumption("market.elasticity", self.market.elasticity.provenance))
        return out
