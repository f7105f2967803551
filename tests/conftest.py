"""Shared test configuration: hypothesis profiles and the public benchmark data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# "ci" keeps the whole run within minutes on two cores and draws the same examples every
# run, so a clean clone passes or fails the same way twice; "dev" searches harder, afresh.
settings.register_profile(
    "ci", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    print_blob=True, derandomize=True,
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def benchmark_data_dir() -> Path | None:
    """The public benchmark instances: $CAPACITY_BENCHMARK_DATA, else shared/data beside the
    checkout; None when neither exists."""
    env = os.environ.get("CAPACITY_BENCHMARK_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data" / "benchmarks")
    for c in candidates:
        if c.is_dir():
            return c
    return None


@pytest.fixture(scope="session")
def benchmark_data() -> Path:
    path = benchmark_data_dir()
    if path is None:
        pytest.skip("public benchmark data not found: set CAPACITY_BENCHMARK_DATA to the "
                    "folder holding gap_orlib/ and gap_yagiura/")
    return path
