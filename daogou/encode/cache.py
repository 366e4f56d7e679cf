"""Embeddings cached in the store, keyed by (encoder identity, hash of kind + text).

Re-indexing therefore encodes only texts that changed; a different model never reuses another's vectors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa
import xxhash

from daogou.catalog.store import Store
from daogou.encode.base import Kind, TextEncoder

_CHUNK = 500


def text_key(text: str, kind: Kind) -> str:
    return xxhash.xxh3_128_hexdigest(f"{kind}\x1f{text}".encode("utf-8", "surrogatepass"))


class EmbeddingCache:
    def __init__(self, store: Store):
        self.store = store
        self.table = store.t["embeddings"]
        self.hits = 0
        self.misses = 0

    def encode(self, encoder: TextEncoder, texts: Sequence[str], kind: Kind = "passage",
               progress: bool = False) -> np.ndarray:
        """Vectors for ``texts`` in order; only texts never encoded by this exact model are encoded now."""
        keys = [text_key(t, kind) for t in texts]
        found = self._lookup(encoder.cache_key, sorted(set(keys)), encoder.dim)
        first: dict[str, int] = {}
        for i, k in enumerate(keys):
            if k not in found:
                first.setdefault(k, i)
        missing = list(first.items())  # in order of first appearance
        if missing:
            vectors = encoder.encode([texts[i] for _, i in missing], kind=kind, progress=progress)
            fresh = {k: v for (k, _), v in zip(missing, vectors)}
            self._save(encoder.cache_key, fresh)
            found.update(fresh)
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if not keys:
            return np.zeros((0, encoder.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def _lookup(self, encoder: str, keys: list[str], dim: int) -> dict[str, np.ndarray]:
        t, out = self.table, {}
        with self.store.engine.connect() as conn:
            for i in range(0, len(keys), _CHUNK):
                rows = conn.execute(sa.select(t.c.text_hash, t.c.vector).where(
                    t.c.encoder == encoder, t.c.dim == dim, t.c.text_hash.in_(keys[i:i + _CHUNK])))
                out.update((h, np.frombuffer(v, dtype="<f4")) for h, v in rows)
        return out

    def _save(self, encoder: str, vectors: dict[str, np.ndarray]) -> None:
        rows = [(encoder, k, int(v.shape[0]), np.asarray(v, dtype="<f4").tobytes()) for k, v in vectors.items()]
        with self.store.transaction() as conn:
            for i in range(0, len(rows), 5000):
                self.store.insert_ignore(conn, "embeddings", ("encoder", "text_hash", "dim", "vector"),
                                               rows[i:i + 5000])
