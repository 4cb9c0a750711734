"""Fixtures for the aggregation tests: the real bluebirds crowd and crowd-kit when importable."""

from __future__ import annotations

from types import ModuleType

import pandas as pd
import pytest

from .cases import BLUEBIRDS, bluebirds


@pytest.fixture(scope="session")
def bluebirds_data() -> tuple[pd.DataFrame, pd.Series]:
    assert (BLUEBIRDS / "answers.csv").is_file(), f"bluebirds data not found at {BLUEBIRDS}"
    return bluebirds()


@pytest.fixture(scope="session")
def crowdkit() -> ModuleType | None:
    """crowd-kit's aggregation module, or None: tests then use its recorded results instead."""
    try:
        import crowdkit.aggregation as ck
    except Exception:  # not installed, or scikit-learn too new for it
        return None
    return ck
