"""Datasets shipped with capacity: the embedded Ganzhou estate and its sources.

Examples
--------
>>> from capacity import Resource
>>> from capacity.datasets import ganzhou
>>> scenario = ganzhou()
>>> scenario.estate.total(Resource.VCPU)
<Quantity(46000.0, 'vCPU')>
"""

from capacity.datasets.ganzhou import LETTER, SOURCES, ganzhou

__all__ = ["LETTER", "SOURCES", "ganzhou"]
