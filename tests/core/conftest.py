from __future__ import annotations

from typing import Any

import pytest

from annotate_core import JobSpec


def make_spec(**overrides: Any) -> JobSpec:
    """A small valid spec: one image input, one cat/dog label output."""
    data: dict[str, Any] = {
        "name": "cats",
        "inputs": [{"name": "image", "type": "image"}],
        "outputs": [{"name": "result", "type": "label", "options": ["cat", "dog"]}],
    }
    data.update(overrides)
    return JobSpec.model_validate(data)


@pytest.fixture
def spec() -> JobSpec:
    return make_spec()
