"""Dense search with FAISS: exact inner product for small catalogs, HNSW for large ones.

Filters are honoured exactly: the index searches with an ID selector, and when a selective filter leaves
HNSW short of ``k`` answers the allowed subset is searched exhaustively, so k results come back whenever
k products pass the filter and none that fail it ever does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from daogou.search.lexical import top_k

EXACT_MAX = 20_000  # up to this many vectors, a flat (exact) index is fast enough
HNSW_M, HNSW_EF_SEARCH, HNSW_EF_CONSTRUCTION = 32, 96, 80
SUBSET_EXACT = 0.05  # filters keeping under this share of the catalog: search the subset exactly


class DenseIndex:
    kind = "dense"

    def __init__(self, vectors: np.ndarray, index=None):
        import faiss
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.size, self.dim = self.vectors.shape if self.vectors.ndim == 2 else (0, 0)
        if index is None:
            if self.size > EXACT_MAX:
                index = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
                index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            else:
                index = faiss.IndexFlatIP(max(self.dim, 1))
            if self.size:
                index.add(self.vectors)
        self.index = index
        self.type = "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if self.size == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if mask is None:
            return self._faiss(q, min(k, self.size), None)
        allowed = np.flatnonzero(mask)
        want = min(k, len(allowed))
        if want == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self.type == "flat" or len(allowed) <= SUBSET_EXACT * self.size:
            return self._subset(q[0], allowed, want)
        idx, scores = self._faiss(q, want, allowed)
        if len(idx) < want:  # HNSW can miss under a filter: fall back to exact over the allowed subset
            return self._subset(q[0], allowed, want)
        return idx, scores

    def _faiss(self, q: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        import faiss
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(allowed.astype(np.int64))
            params = (faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_EF_SEARCH, k))
                      if self.type == "hnsw" else faiss.SearchParameters(sel=selector))
        elif self.type == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, k))
        scores, idx = self.index.search(q, k, params=params)
        keep = idx[0] >= 0
        return idx[0][keep].astype(np.int64), scores[0][keep]

    def _subset(self, q: np.ndarray, allowed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        sims = self.vectors[allowed] @ q
        local, scores = top_k(sims, k)
        return allowed[local], scores

    def save(self, folder: Path) -> None:
        np.save(folder / "vectors.npy", self.vectors)

    @classmethod
    def load(cls, folder: Path) -> "DenseIndex":
        return cls(np.load(folder / "vectors.npy"))
