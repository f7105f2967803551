"""Policy: compute vouchers, electricity and construction subsidies, and what they cost.

Instruments are frozen, validated values (:mod:`capacity.instruments`, re-exported here); the cost
of energy and cabinets is in :mod:`capacity.policy.costs`; :func:`cost_policy` costs
instruments over a projected scenario (:mod:`capacity.policy.evaluate`); :func:`appraise`
weighs what they buy against what they cost the city (:mod:`capacity.policy.appraise`); and
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
from capacity.policy.appraise import (
    Appraisal,
    CapexShift,
    FrontierPoint,
    appraise,
    appraise_projections,
    baseline_of,
    compare_instruments,
    voucher_frontier,
)
from capacity.policy.costs import amortised, energy_cost, energy_used, hours_in_month
from capacity.policy.evaluate import PolicyCost, cost_policy
from capacity.policy.presets import PRESETS, SOURCES

__all__ = [
    "PRESETS",
    "SOURCES",
    "Appraisal",
    "CapexShift",
    "ComputeVoucher",
    "ConstructionSubsidy",
    "Elasticity",
    "ElectricitySubsidy",
    "FrontierPoint",
    "Instrument",
    "Market",
    "PolicyCost",
    "amortised",
    "appraise",
    "appraise_projections",
    "baseline_of",
    "compare_instruments",
    "cost_policy",
    "energy_cost",
    "energy_used",
    "hours_in_month",
    "voucher_frontier",
]
