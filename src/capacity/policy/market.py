"""What users pay and how they respond: the market a policy acts on.

A :class:`Market` gathers the inputs of :func:`~capacity.policy.cost_policy` that are
facts (or assumptions) about a city rather than about one instrument: list prices, the
price elasticity of demand, how many enterprises share the spend, the load factor and the
green-power share of each site.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from capacity.inventory import _lenient_quantity
from capacity.policy.evaluate import Elasticity, PolicyCost, cost_policy
from capacity.policy.instruments import Instrument
from capacity.projection import Projection
from capacity.provenance import Provenance

__all__ = ["Market"]


def _prices(value: Mapping[str, Any]) -> Mapping[str, Any]:
    # quantities as given, strings read once: a market read from a file equals one built
    # in code
    return {str(getattr(k, "name", k)).lower(): _lenient_quantity(v) for k, v in value.items()}


def _no_response() -> Elasticity:
    return Elasticity(0.0, Provenance.assumption("no price response unless stated"))


@attrs.frozen
class Market:
    """Prices, elasticity, enterprises, load and green power: inputs to policy costing.

    Parameters
    ----------
    prices
        List price of each rented resource by resource name, each
        ``[currency]/[resource]/[time]`` (e.g. ``"30 yuan/(PFLOPS_fp16*hour)"``).
    elasticity
        Constant price elasticity of voucher-eligible demand.
    enterprises
        Number of enterprises sharing each voucher's eligible spend equally.
    load_factor
        Average IT draw as a share of installed IT power.
    green_share
        Share of green power by site id, dimensionless in [0, 1].
    provenance
        Origin of each figure, keyed by field name.
    """

    prices: Mapping[str, Any] = attrs.field(factory=dict, converter=_prices)
    elasticity: Elasticity = attrs.field(factory=_no_response)
    enterprises: int = 10
    load_factor: float = 0.6
    green_share: Mapping[str, float] = attrs.field(factory=dict)
    provenance: Mapping[str, Provenance] = attrs.field(factory=dict)

    def cost(self, projection: Projection, demands: Any,
             policies: tuple[Instrument, ...]) -> PolicyCost:
        """Cost `policies` over a projection in this market (see :func:`cost_policy`)."""
        return cost_policy(projection, demands, policies, prices=self.prices,
                           elasticity=self.elasticity, enterprises=self.enterprises,
                           load_factor=self.load_factor, green_share=dict(self.green_share))
