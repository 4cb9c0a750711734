"""Generated docs stay current: the capability matrix is derived from the backends' declarations."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_backends_doc_matches_declared_capabilities() -> None:
    spec = importlib.util.spec_from_file_location("gen_backends_doc", REPO / "scripts" / "gen_backends_doc.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    current = (REPO / "docs" / "backends.md").read_text()
    assert current == gen.render(), "docs/backends.md is stale: run python scripts/gen_backends_doc.py"


def test_python_examples_in_the_docs_compile() -> None:
    """A guide whose snippets do not even parse sends a newcomer off on the wrong foot."""
    import re

    blocks = 0
    for doc in [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]:
        for n, code in enumerate(re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)):
            compile(code, f"{doc.name}[python block {n}]", "exec")
            blocks += 1
    assert blocks >= 5
