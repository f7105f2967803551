"""Policy: compute vouchers, electricity and construction subsidies, and what they cost.

Instruments are frozen, validated values (:mod:`capacity.policy.instruments`); the cost
of energy and cabinets is in :mod:`capacity.policy.costs`; :func:`cost_policy` costs
instruments over a projected scenario (:mod:`capacity.policy.evaluate`); and
:data:`PRESETS` holds the schemes of Chinese cities, each figure with its source
(:mod:`capacity.policy.presets`).
"""

from capacity.policy.costs import amortised, energy_cost, energy_used, hours_in_month
from capacity.policy.evaluate import Elasticity, PolicyCost, cost_policy
from capacity.policy.instruments import (
    ComputeVoucher,
    ConstructionSubsidy,
    ElectricitySubsidy,
    Instrument,
)
from capacity.policy.market import Market
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
