"""Policy: compute vouchers, electricity and construction subsidies, and what they cost.

Instruments are frozen, validated values (:mod:`capacity.instruments`, re-exported here); the cost
of energy and cabinets is in :mod:`capacity.policy.costs`; :func:`cost_policy` costs
instruments over a projected scenario (:mod:`capacity.policy.evaluate`); and
:data:`PRESETS` holds the schemes of Chinese cities, each figure with its source
(:mod:`capacity.policy.presets`).
"""

from capacity.instruments import (
    ComputeVoucher,
    ConstructionSubsidy,
    Elasticity,
    ElectricitySubsidy,
    Instrument,
    Market,
)
from capacity.policy.costs import amortised, energy_cost, energy_used, hours_in_month
from capacity.policy.evaluate import PolicyCost, cost_policy
from capacity.policy.presets import PRESETS, SOURCES

__all__ = [
    "PRESETS",
    "SOURCES",
    "ComputeVoucher",
    "ConstructionSubsidy",
    "Elasticity",
    "ElectricitySubsidy",
    "Instrument",
    "Market",
    "PolicyCost",
    "amortised",
    "cost_policy",
    "energy_cost",
    "energy_used",
    "hours_in_month",
]
