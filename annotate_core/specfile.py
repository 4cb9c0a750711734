"""Reading job specs from YAML or TOML files, with errors that name the file and each bad field."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from annotate_core.errors import SpecError, describe_decode_error
from annotate_core.model.source import ItemsSource
from annotate_core.model.spec import JobSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def format_validation_error(exc: ValidationError, source: str = "spec") -> str:
    """One line per problem: ``field.path: message (got value)``."""
    lines = [f"{source}: {exc.error_count()} problem(s)"]
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"] if not _is_union_tag(p)) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
        lines.append(f"  - {loc}: {msg}{shown}")
    return "\n".join(lines)


def _is_union_tag(part: Any) -> bool:
    # pydantic adds the tag of a discriminated/smart union member to the location; drop the noise
    return isinstance(part, str) and (part in {"AllOf", "AnyOf", "Condition"} or part.startswith("function-"))


def spec_from_dict(data: Any, source: str = "spec") -> JobSpec:
    if not isinstance(data, dict):
        raise SpecError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return JobSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_validation_error(exc, source)) from None


def read_spec_data(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise SpecError(f"spec file {p} does not exist")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{p}: not UTF-8 text ({describe_decode_error(exc)}); save the file as UTF-8") from None
    except OSError as exc:
        raise SpecError(f"{p}: cannot read the spec file ({exc.strerror or exc}); check its permissions") from None
    try:
        if p.suffix.lower() == ".toml":
            return tomllib.loads(text)
        if p.suffix.lower() in (".yaml", ".yml", ".json"):
            data = yaml.safe_load(text)
            return data if data is not None else {}
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{p}: not valid {p.suffix.lstrip('.').upper()}: {exc}") from None
    raise SpecError(f"{p}: expected a .yaml, .yml, .json or .toml spec file")


def load_spec(path: str | Path) -> JobSpec:
    """Load and validate a spec file. Relative ``source.path`` is resolved against the file's folder."""
    p = Path(path)
    data = read_spec_data(p)
    spec = spec_from_dict(data, str(p))
    src = spec.source
    if isinstance(src, ItemsSource) and src.path and not Path(src.path).is_absolute():
        spec = spec.model_copy(update={"source": src.model_copy(update={"path": str(p.parent / src.path)})})
    return spec


def dump_spec(spec: JobSpec) -> str:
    """The spec as YAML (every field, so union tags such as ``kind`` survive a round trip)."""
    data = spec.model_dump(mode="json", exclude_none=True, by_alias=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
