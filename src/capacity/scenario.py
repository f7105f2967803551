"""A scenario: an estate with the plan, demand and policy assumptions to study it under.

Examples
--------
>>> from capacity import Resource
>>> from capacity.datasets import ganzhou
>>> ganzhou().estate.total(Resource.CABINETS)
<Quantity(451.0, 'cabinet')>
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from typing import Any

import attrs

from capacity import fields
from capacity.demand import DemandBlock
from capacity.errors import Problems, ValidationError, did_you_mean
from capacity.instruments import (
    ComputeVoucher,
    ConstructionSubsidy,
    ElectricitySubsidy,
    Instrument,
    Market,
)
from capacity.inventory import Estate
from capacity.paths import Item, join
from capacity.plan import Plan
from capacity.provenance import Assumption
from capacity.scenario_io import from_dict, read_file, to_dict, write_file

__all__ = [
    "Assumption",
    "Scenario",
    "load_scenario",
    "save_scenario",
    "scenario_from_dict",
    "scenario_to_dict",
]


@attrs.frozen
class Scenario:
    """An estate and the assumptions a study makes about it.

    Parameters
    ----------
    name
        Short name, e.g. ``"ganzhou-baseline"``; not blank.
    estate
        What exists.
    plan
        What will be built, and when.
    demands
        What will be needed. A block's ``eligible`` tags must include one that some site
        of the estate or the plan carries.
    policies
        Subsidy instruments in force (vouchers, electricity and construction subsidies).
        When some site carries tags, an instrument's ``eligible_tags`` must include one
        of them; when there are demand blocks, a voucher's ``eligible_kinds`` must
        include the kind of one.
    market
        Prices, elasticity and the other inputs policy costing needs.
    description
        A sentence or two on what the scenario studies.
    notes
        Scenario-wide assumptions not tied to one figure (e.g. how totals were split).
    """

    name: str = fields.text(nonempty=True)
    estate: Estate = fields.nested(Estate)
    plan: Plan = fields.nested(Plan, factory=Plan)
    demands: tuple[DemandBlock, ...] = fields.instances(DemandBlock)
    policies: tuple[Instrument, ...] = fields.instances(
        (ComputeVoucher, ElectricitySubsidy, ConstructionSubsidy))
    market: Market = fields.nested(Market, factory=Market)
    description: str = fields.text(default="")
    notes: tuple[Assumption, ...] = fields.instances(Assumption)

    def __repr__(self) -> str:
        planned = f" (+{len(self.plan.sites)} planned)" if self.plan.sites else ""
        return (f"Scenario({self.name!r}: {len(self.estate.sites)} sites{planned}, "
                f"{len(self.plan.projects)} projects, {len(self.demands)} demand blocks, "
                f"{len(self.policies)} policies)")

    def _repr_html_(self) -> str:
        names = ", ".join(html.escape(p.name) for p in self.policies) or "none"
        return (f"<b>Scenario {html.escape(self.name)}</b>: {len(self.plan.projects)} "
                f"projects, {len(self.demands)} demand blocks, policies: {names}"
                f"{self.estate._repr_html_()}")

    def __attrs_post_init__(self) -> None:
        fields.settle(self, fields.named("scenario", self.name), self._rules)

    def _rules(self, p: Problems) -> None:
        if not fields.valid(self, "estate", "plan", "demands", "policies", "market"):
            return
        try:
            self.plan.validate_against(self.estate)
        except ValidationError as exc:
            p.absorb(exc)
        for what, noun, items in (("demands", "demand block", self.demands),
                                  ("policies", "policy", self.policies)):
            seen: set[str] = set()
            for i, item in enumerate(items):
                if item.name in seen:
                    # Blocks are keyed by name (paths, random streams, reports): two blocks
                    # of one name would draw the same paths and be indistinguishable.
                    p.add(f"{what}[{i}].name", f"duplicate {noun} name", item.name)
                seen.add(item.name)
        ids = {s.id for s in (*self.estate.sites, *self.plan.sites)}
        for key in self.market.green_share:
            if key not in ids:
                p.add(f"market.green_share.{key}", "unknown site", key)
        # A block that no site may host could never be placed, and an instrument that
        # nothing qualifies for would cost 0 and read as a finding: refused, each label
        # with a guess. A label that matches nothing beside one that matches is accepted:
        # a scheme's kinds or a block's tags may name what this city lacks (a preset
        # voucher's research-hpc, a what-if without the HPC centre).
        tags = frozenset().union(*(s.tags for s in (*self.estate.sites, *self.plan.sites)))
        kinds = frozenset(b.kind for b in self.demands)
        carry = f"sites carry: {', '.join(sorted(tags)) or 'none'}"
        checks = [(f"demands[{i}].eligible", block.eligible, tags, "no site carries it", carry)
                  for i, block in enumerate(self.demands)]
        for i, policy in enumerate(self.policies):
            if kinds:  # (no blocks yet: nothing to match)
                checks.append((f"policies[{i}].eligible_kinds",
                               getattr(policy, "eligible_kinds", frozenset()), kinds,
                               "no demand block is of this kind",
                               f"blocks are: {', '.join(sorted(kinds))}"))
            if tags:
                checks.append((f"policies[{i}].eligible_tags",
                               getattr(policy, "eligible_tags", frozenset()), tags,
                               "no site carries it", carry))
        for path, wanted, known, reason, hint in checks:
            if wanted & known or not wanted:
                continue
            for label in sorted(wanted):
                guess = did_you_mean(label, known)
                p.add(path, f"{label!r}: {reason} ({hint}){'; ' + guess if guess else ''}",
                      sorted(wanted))
        p.raise_if_any()

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
        return read_file(path, cls)

    def to_toml(self, path: str | os.PathLike[str]) -> None:
        """Write this scenario to a TOML file that :meth:`from_toml` reads back equal.

        Parameters
        ----------
        path
            The file to write; replaced if it exists.
        """
        write_file(self, path)

    def assumptions(self) -> list[Assumption]:
        """Every assumption of the scenario: its notes, then each assumed figure."""
        out = [*self.notes, *(Assumption(f, p) for f, p in self.estate.assumptions())]
        for where, items in ((("plan", "sites"), self.plan.sites),
                             (("plan", "projects"), self.plan.projects),
                             (("demands",), self.demands), (("policies",), self.policies)):
            for item in items:
                key = Item(getattr(item, "id", None) or item.name)
                out += [Assumption(join(*where, key, f), p)
                        for f, p in item.provenance.items() if p.is_assumption]
        out += [Assumption(join("market", f), p) for f, p in self.market.provenance.items()
                if p.is_assumption]
        if self.market.elasticity.provenance.is_assumption:
            out.append(Assumption("market.elasticity", self.market.elasticity.provenance))
        return out


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read a scenario file; the same as :meth:`Scenario.from_toml`."""
    return read_file(path, Scenario)


def save_scenario(scenario: Scenario, path: str | os.PathLike[str]) -> None:
    """Write a scenario file; the same as :meth:`Scenario.to_toml`."""
    write_file(scenario, path)


def scenario_from_dict(data: Mapping[str, Any], *, source: str = "<scenario>") -> Scenario:
    """Build a scenario from the data of a scenario file (as :mod:`tomllib` reads it).

    Raises
    ------
    ValidationError
        Listing every problem, each path led by `source`.
    """
    return from_dict(data, Scenario, source=source)


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The data of a scenario file (plain tables, lists, strings and numbers)."""
    return to_dict(scenario)
