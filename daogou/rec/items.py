"""The item space every recommender scores: catalog ids ↔ rows, plus each item's content features.

Row 0 is padding; items are rows 1..N in catalog order. Content features are (a) *tokens* — category path
prefixes, brand, short attribute values, a price bucket, anonymous attribute ids — and (b) optionally a text
embedding matrix from any daogou text encoder. A product added after training gets content at once (and no
ID history), which is what lets content-aware models recommend it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from daogou.catalog.models import Product

MAX_TOKENS = 24
_SHORT_VALUE = 40


def content_tokens(p: Product) -> list[str]:
    """The product's categorical content as tokens, e.g. ``cat:Shoes``, ``cat:Shoes>Running``, ``brand:X``."""
    tokens = [f"cat:{'>'.join(p.category[:i])}" for i in range(1, len(p.category) + 1)]
    if p.brand:
        tokens.append(f"brand:{p.brand.casefold()}")
    if p.price is not None and p.price > 0:
        tokens.append(f"price:{int(math.log2(p.price + 1) * 2)}")
    for key, value in sorted(p.attributes.items()):
        values = value if isinstance(value, list) else [value]
        for v in values:
            text = str(v)
            if len(text) <= _SHORT_VALUE:
                tokens.append(f"{key}:{text.casefold()}")
    return tokens[:MAX_TOKENS]


@dataclass
class ItemSpace:
    """Ids, token vocabulary and per-item token rows (``tokens[row]`` are vocabulary indices, 0 = padding)."""

    ids: list[str]
    vocab: list[str] = field(default_factory=lambda: ["<pad>"])
    tokens: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), dtype=np.int64))
    text: np.ndarray | None = None  # [N + 1, text_dim], row 0 zeros
    image: np.ndarray | None = None  # [N + 1, image_dim], row 0 and products without a picture zeros

    def __post_init__(self) -> None:
        self.index = {pid: i + 1 for i, pid in enumerate(self.ids)}

    @property
    def n(self) -> int:
        return len(self.ids)

    @classmethod
    def from_products(cls, products: Iterable[Product], min_token_count: int = 2) -> ItemSpace:
        products = list(products)
        per_item = [content_tokens(p) for p in products]
        counts: dict[str, int] = {}
        for toks in per_item:
            for t in toks:
                counts[t] = counts.get(t, 0) + 1
        vocab = ["<pad>"] + sorted(t for t, c in counts.items() if c >= min_token_count)
        space = cls([p.id for p in products], vocab)
        space.tokens = space.token_rows(per_item, with_padding_row=True)
        return space

    @classmethod
    def from_ids(cls, ids: Sequence[str]) -> ItemSpace:
        space = cls(list(ids))
        space.tokens = np.zeros((len(ids) + 1, 1), dtype=np.int64)
        return space

    def token_rows(self, per_item: Sequence[Sequence[str]], with_padding_row: bool = False) -> np.ndarray:
        lookup = {t: i for i, t in enumerate(self.vocab)}
        width = max([1] + [len(t) for t in per_item])
        rows = np.zeros((len(per_item) + int(with_padding_row), width), dtype=np.int64)
        for r, toks in enumerate(per_item, start=int(with_padding_row)):
            known = [lookup[t] for t in toks if t in lookup]
            rows[r, :len(known)] = known
        return rows

    def rows(self, ids: Sequence[str], missing: int = 0) -> np.ndarray:
        """Rows of ``ids`` (``missing`` for ids the space does not know)."""
        return np.fromiter((self.index.get(i, missing) for i in ids), dtype=np.int64, count=len(ids))

    def add(self, products: Sequence[Product], text: np.ndarray | None = None) -> np.ndarray:
        """Append new products (unknown ids only); returns their rows. Their content uses the existing vocabulary."""
        fresh = [p for p in products if p.id not in self.index]
        if not fresh:
            return np.zeros(0, dtype=np.int64)
        start = self.n + 1
        new_rows = self.token_rows([content_tokens(p) for p in fresh])
        width = max(self.tokens.shape[1], new_rows.shape[1])
        self.tokens = np.concatenate([_pad_to(self.tokens, width), _pad_to(new_rows, width)])
        if self.text is not None:
            extra = np.zeros((len(fresh), self.text.shape[1]), dtype=np.float32) if text is None else text
            self.text = np.concatenate([self.text, extra.astype(np.float32)])
        if self.image is not None:  # pictures of live additions are not encoded here: content + text only
            self.image = np.concatenate([self.image, np.zeros((len(fresh), self.image.shape[1]), np.float32)])
        for p in fresh:
            self.ids.append(p.id)
            self.index[p.id] = len(self.ids)
        return np.arange(start, self.n + 1)

    def set_text(self, vectors: np.ndarray) -> None:
        """Text embeddings for rows 1..N (in ``ids`` order)."""
        if len(vectors) != self.n:
            raise ValueError(f"text vectors: {len(vectors)} rows for {self.n} items")
        self.text = np.concatenate([np.zeros((1, vectors.shape[1]), np.float32), vectors.astype(np.float32)])

    def set_image(self, vectors: np.ndarray) -> None:
        """Image features for rows 1..N (in ``ids`` order; zero rows for products without a picture)."""
        if len(vectors) != self.n:
            raise ValueError(f"image vectors: {len(vectors)} rows for {self.n} items")
        self.image = np.concatenate([np.zeros((1, vectors.shape[1]), np.float32), vectors.astype(np.float32)])


def _pad_to(rows: np.ndarray, width: int) -> np.ndarray:
    if rows.shape[1] == width:
        return rows
    return np.pad(rows, ((0, 0), (0, width - rows.shape[1])))
