"""The spec a backend stores on a vendor object reads back equal, with the same fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotate_core import JobSpec, load_spec, spec_from_json, spec_to_json
from annotate_core.errors import MalformedResponseError
from annotate_core.jobkeys import spec_fingerprint
from annotate_core.stored_spec import spec_document
from annotate_core.testing.specs import BASE, FRAGMENTS, spec_needing

REPO = Path(__file__).resolve().parents[2]

PERMANENT_BAN = JobSpec.model_validate({**BASE, "quality": {"rules": [
    {"when": [{"metric": "answer_count", "at_least": 3}], "then": {"action": "ban", "unit": "permanent",
                                                                   "duration": None}}]}})


def _specs() -> list[JobSpec]:
    examples = [load_spec(p) for p in sorted((REPO / "examples").glob("*.yaml"))]
    return [PERMANENT_BAN, *examples, *(spec_needing(cap) for cap in FRAGMENTS)]


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_spec_round_trips_through_text_and_document(spec: JobSpec) -> None:
    back = spec_from_json(spec_to_json(spec))
    assert back == spec
    assert spec_fingerprint(back) == spec_fingerprint(spec)
    assert spec_from_json(spec_document(spec)) == spec
    assert spec_from_json(spec_to_json(spec).encode()) == spec


def test_pricing_interval_is_stored_under_its_alias() -> None:
    spec = spec_needing(next(c for c in FRAGMENTS if c.value == "pricing.dynamic"))
    assert '"from":80' in spec_to_json(spec)


def test_exclude_none_would_lose_an_explicit_null() -> None:
    """Why the pair exists: the obvious ``model_dump_json(exclude_none=True)`` changes this spec."""
    lossy = JobSpec.model_validate_json(PERMANENT_BAN.model_dump_json(by_alias=True, exclude_none=True))
    assert spec_fingerprint(lossy) != spec_fingerprint(PERMANENT_BAN)
    assert spec_fingerprint(spec_from_json(spec_to_json(PERMANENT_BAN))) == spec_fingerprint(PERMANENT_BAN)


def test_an_invalid_document_names_where_and_the_field() -> None:
    with pytest.raises(MalformedResponseError) as err:
        spec_from_json('{"name": "x", "outputs": []}', where="pool 7: metadata.annotate_spec", backend="acme")
    text = str(err.value)
    assert text.startswith("[acme] pool 7: metadata.annotate_spec is not a valid spec")
    assert "first at inputs" in text
    with pytest.raises(MalformedResponseError, match="stored spec is not a valid spec"):
        spec_from_json("not json")
