"""Deterministic data for the seed 001 recipe: 202 cat/dog images (the recipe's dataset size) and 10
golden images, shared by the end-to-end test and the cassette generator."""

from __future__ import annotations

import hashlib

from annotate_core.items import Item

N_REAL = 202
N_GOLDEN = 10
S3 = "https://tlk.s3.yandex.net/dataset/cats_vs_dogs"


def truth(i: int) -> str:
    return "cat" if i % 2 == 0 else "dog"


def image(kind: str, i: int) -> str:
    digest = hashlib.sha1(f"{kind}-{i}".encode()).hexdigest()[:32]
    return f"{S3}/{truth(i)}s/{digest}.jpg"


def real_items() -> list[Item]:
    return [Item(key=f"img-{i:03d}", inputs={"image": image("real", i)}) for i in range(N_REAL)]


def golden_items() -> list[Item]:
    return [Item(key=f"gold-{i:02d}", inputs={"image": image("golden", i)}, golden={"result": truth(i)})
            for i in range(N_GOLDEN)]


def recipe_items() -> list[Item]:
    return real_items() + golden_items()
