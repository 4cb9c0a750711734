"""Regenerate examples/cats_vs_dogs_items.csv: the items of the README's tour, the demo's own items.

They come from the local backend's demo generator (``annotate_local.datasets.cats_vs_dogs``) with the
demo's default seed, so the tour, ``annotate run ... --items examples/cats_vs_dogs_items.csv`` and
``annotate demo`` label the same 202 items. Columns: ``key``, ``image``, ``golden:result`` (the known
answer of the 20 golden items) and ``truth:result`` (the hidden true label of the others: never
uploaded, only simulators and accuracy figures read it).

Run: python scripts/gen_example_items.py   (tests/core/test_readme.py fails when the file is stale)
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from annotate_local.datasets import CATS_VS_DOGS_SIZE, cats_vs_dogs

ITEMS = Path(__file__).resolve().parents[1] / "examples" / "cats_vs_dogs_items.csv"
COLUMNS = ["key", "image", "golden:result", "truth:result"]
SEED = 1  # annotate demo's default --seed


def render() -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(cats_vs_dogs(CATS_VS_DOGS_SIZE, seed=SEED))
    return out.getvalue()


if __name__ == "__main__":
    ITEMS.write_text(render(), encoding="utf-8")
    print(f"wrote {ITEMS}")
