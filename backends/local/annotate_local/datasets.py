"""Generated demo data: the items of the cats-vs-dogs job, with a hidden true label each.

No network: image URLs are deterministic placeholders, and the true label of every item is drawn
from the seed. About a tenth of the items are golden (their ``golden:result`` column holds the known
answer); the others carry their true label in a ``truth:result`` column, which ``split_truth``
takes out before upload so that only the simulator ever sees it.
"""

from __future__ import annotations

import random
from typing import Any

from annotate_core.items import GOLDEN_PREFIX, KEY_COLUMN, TRUTH_PREFIX, split_truth

__all__ = ["cats_vs_dogs", "split_truth"]
CATS_VS_DOGS_SIZE = 202  # the toy dataset of toloka-kit's sample project recipe has 202 rows
IMAGE_BASE = "https://images.example.org/cats-vs-dogs"


def cats_vs_dogs(n: int = CATS_VS_DOGS_SIZE, *, golden_fraction: float = 0.1, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` rows ``{key, image, golden:result | truth:result}``; the same rows for the same seed."""
    if n < 1:
        raise ValueError(f"n: expected at least one item, got {n}")
    if not 0 <= golden_fraction < 1:
        raise ValueError(f"golden_fraction: expected a share in [0, 1), got {golden_fraction}")
    rng = random.Random(seed)
    n_golden = round(n * golden_fraction)
    golden_at = set(rng.sample(range(n), n_golden))
    rows = []
    for i in range(n):
        label = rng.choice(("cat", "dog"))
        row: dict[str, Any] = {KEY_COLUMN: f"img-{i:04d}", "image": f"{IMAGE_BASE}/{seed}/{i:04d}.jpg"}
        if i in golden_at:
            row[GOLDEN_PREFIX + "result"] = label
        else:
            row[TRUTH_PREFIX + "result"] = label
        rows.append(row)
    return rows

