"""Small helpers shared by the Dataloop tests: spec loading and fake (unsigned) JWTs."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from annotate_core import JobSpec, load_spec
from annotate_core.specfile import read_spec_data, spec_from_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: an ``example()`` override that removes the field, so the spec leaves it unset
DROP = object()


def example(name: str, **overrides: Any) -> JobSpec:
    """An examples/dataloop_<name>.yaml spec, optionally with top-level fields replaced (``DROP``: removed)."""
    path = EXAMPLES / f"dataloop_{name}.yaml"
    if not overrides:
        return load_spec(path)
    data = read_spec_data(path)
    data.update(overrides)
    for k in [k for k, v in overrides.items() if v is DROP]:
        del data[k]
    return spec_from_dict(data, str(path))


def fake_jwt(exp: float, email: str = "owner@example.com") -> str:
    """An unsigned JWT with ``exp`` and ``email`` claims: obviously fake, decodable like a real one."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    header, claims = {"alg": "none", "typ": "JWT"}, {"email": email, "exp": int(exp), "iss": "fake"}
    return f"{part(header)}.{part(claims)}.fake-signature"
