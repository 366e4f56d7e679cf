"""``hashing``: a deterministic, model-free encoder (hashed word and character n-grams).

Instant and reproducible: the fake encoder of unit tests, and a lexical-ish baseline. Not a language model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import xxhash

from daogou.encode.base import Kind, normalise

_WORD = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]")


class HashingEncoder:
    name = "hashing"
    languages = ("en", "zh")

    def __init__(self, dim: int = 256):
        self.dim = dim

    @property
    def cache_key(self) -> str:
        return f"hashing@{self.dim}"

    def _features(self, text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        grams = [w[i:i + 3] for w in words if len(w) > 3 for i in range(len(w) - 2)]
        pairs = [a + b for a, b in zip(words, words[1:]) if len(a) == 1 and len(b) == 1]  # CJK bigrams
        return words + grams + pairs

    def encode(self, texts: Sequence[str], kind: Kind = "passage", batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feat in self._features(text):
                h = xxhash.xxh3_64_intdigest(feat.encode("utf-8", "surrogatepass"))
                out[row, h % self.dim] += 1.0 if (h >> 63) else -1.0
        return normalise(out)


