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


def test_the_pair_is_public_api_of_annotate_core() -> None:
    import annotate_core
    from annotate_core import stored_spec

    for name in stored_spec.__all__:
        assert getattr(annotate_core, name) is getattr(stored_spec, name), name
        assert name in annotate_core.__all__, name


def test_aliases_and_explicit_nulls_survive_a_vendor_metadata_round_trip() -> None:
    """A plugin stores the spec inside a vendor object (text in a JSON metadata field, or the document
    as a nested object) and reads it back from the vendor's reply: equal, alias and nulls included."""
    import json

    dynamic = spec_needing(next(c for c in FRAGMENTS if c.value == "pricing.dynamic"))
    spec = dynamic.model_copy(update={"quality": PERMANENT_BAN.quality})
    document = spec_document(spec)
    interval = document["pricing"]["dynamic"]["intervals"][0]
    assert "from" in interval and "from_" not in interval  # stored under its alias, as the model reads it
    ban = document["quality"]["rules"][0]["then"]
    assert "duration" in ban and ban["duration"] is None  # an explicit null is kept, not dropped
    assert None in json.loads(spec_to_json(spec))["quality"]["rules"][0]["then"].values()

    as_text = json.loads(json.dumps({"metadata": {"annotate_spec": spec_to_json(spec)}}))  # a text field
    as_object = json.loads(json.dumps({"metadata": {"annotate_spec": document}}))  # a JSON-object field
    for stored in (as_text["metadata"]["annotate_spec"], as_object["metadata"]["annotate_spec"]):
        back = spec_from_json(stored, where="project 1: metadata.annotate_spec", backend="acme")
        assert back == spec and back.quality.rules[0].then.duration is None
        assert spec_fingerprint(back) == spec_fingerprint(spec)
