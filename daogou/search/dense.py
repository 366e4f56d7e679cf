"""Dense search with FAISS; the index type is chosen by catalog size.

- up to 20k vectors: exact inner product (flat) — fast enough, and exact;
- up to 250k: HNSW — sub-linear search, but it keeps the full vectors plus a graph in memory;
- above: IVF-PQ — vectors are compressed to ``dim / 8`` bytes in memory, and the full vectors stay in a
  memory-mapped ``.npy`` file on disk, read only to re-score the candidates exactly. A million 384-d vectors
  (1.5 GB as float32) need ~50 MB of codes in memory.

Filters are honoured exactly: the index searches with an ID selector, and when a selective filter leaves the
approximate index short of ``k`` answers the allowed subset is searched exhaustively, so k results come back
whenever k products pass the filter and none that fail it ever does. Under a filter IVF-PQ visits more lists, in
inverse proportion to the share of the catalog the filter keeps (``nprobe / share``, at most all of them), so the
lists it scans hold about as many allowed products as an unfiltered search sees; only a small subset (at most
``ivf_exact_rows``) is scored exactly from the file, whose rows are read one by one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from daogou.errors import ConfigError
from daogou.search.lexical import top_k

INDEX_TYPES = ("flat", "hnsw", "ivfpq")
SUBSET_EXACT = 0.05  # filters keeping under this share of the catalog: search the subset exactly


@dataclass(frozen=True)
class DenseConfig:
    kind: str | None = None        # None: chosen by size (flat ≤ exact_max < hnsw ≤ hnsw_max < ivfpq)
    exact_max: int = 20_000
    hnsw_max: int = 250_000
    hnsw_m: int = 32
    hnsw_ef_search: int = 96
    hnsw_ef_construction: int = 80
    nprobe: int = 24               # IVF lists visited per query (more under a filter: nprobe / share kept)
    ivf_exact_rows: int = 2_048    # IVF-PQ: a filter keeping at most this many products is scored exactly
    rerank: int = 10               # IVF-PQ: k × rerank candidates are re-scored exactly from the full vectors
    train_points: int = 64         # IVF k-means training points per list
    chunk: int = 65_536            # vectors read from disk at a time while building

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in INDEX_TYPES:
            raise ConfigError(f"dense index type must be one of {INDEX_TYPES}, got {self.kind!r}")

    def kind_for(self, size: int) -> str:
        if self.kind:
            return self.kind
        return "flat" if size <= self.exact_max else "hnsw" if size <= self.hnsw_max else "ivfpq"


def n_lists(size: int) -> int:
    """IVF lists: the power of two at or above √size (1M vectors → 1024 lists of ~1,000)."""
    return max(1, min(2 ** math.ceil(math.log2(max(math.sqrt(size), 1))), size // 39 or 1))


def pq_bytes(dim: int) -> int:
    """PQ sub-quantisers: the largest divisor of ``dim`` not above dim / 8 (384 → 48 bytes per vector)."""
    return max(m for m in range(1, max(dim // 8, 1) + 1) if dim % m == 0)


def iter_chunks(vectors: np.ndarray, chunk: int) -> Iterator[tuple[int, np.ndarray]]:
    """(start row, float32 block) over ``vectors``; a memory-mapped file is read with plain reads, so the
    blocks do not stay resident in this process once used."""
    n = len(vectors)
    filename = getattr(vectors, "filename", None)
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        if filename is not None and vectors.flags.c_contiguous:
            width = vectors.shape[1]
            block = np.fromfile(filename, dtype=vectors.dtype, count=(hi - lo) * width,
                                offset=vectors.offset + lo * width * vectors.itemsize).reshape(hi - lo, width)
        else:
            block = vectors[lo:hi]
        yield lo, np.ascontiguousarray(block, dtype=np.float32)


def read_rows(vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``vectors[rows]`` as float32. A memory-mapped file is read row by row with ``pread``: touching the mapping
    would read ahead and keep megabytes of the file resident in this process for every few rows."""
    filename = getattr(vectors, "filename", None)
    if filename is None or not vectors.flags.c_contiguous:
        return np.asarray(vectors[rows], dtype=np.float32)
    width = vectors.shape[1] * vectors.itemsize
    out = np.empty((len(rows), vectors.shape[1]), dtype=vectors.dtype)
    with open(filename, "rb", buffering=0) as fh:
        for i, row in enumerate(np.asarray(rows).tolist()):
            out[i] = np.frombuffer(os.pread(fh.fileno(), width, vectors.offset + row * width), dtype=vectors.dtype)
    return out.astype(np.float32, copy=False)


class DenseIndex:
    kind = "dense"

    def __init__(self, vectors: np.ndarray, index=None, config: DenseConfig = DenseConfig()):
        self.vectors = vectors if isinstance(vectors, np.memmap) else np.ascontiguousarray(vectors, dtype=np.float32)
        self.size, self.dim = self.vectors.shape if self.vectors.ndim == 2 else (0, 0)
        self.config = config
        self.type = _type_of(index) if index is not None else config.kind_for(self.size)
        self.index = index if index is not None else self._build()
        self._resident = self._vectors_in_memory()

    def _vectors_in_memory(self) -> np.ndarray | None:
        """The full vectors as an in-memory array: ``vectors`` itself, or — when that is a memory-mapped file — the
        copy a flat or HNSW index already holds (a view, no second copy). None for IVF-PQ, whose full vectors
        stay on disk. Exact scoring of a filtered subset reads from here instead of the file row by row."""
        if not isinstance(self.vectors, np.memmap):
            return self.vectors
        if self.type not in ("flat", "hnsw") or not self.size:
            return None
        import faiss
        flat = self.index if self.type == "flat" else faiss.downcast_index(self.index.storage)
        if not isinstance(flat, faiss.IndexFlat) or flat.ntotal != self.size:
            return None
        return faiss.rev_swig_ptr(flat.get_xb(), self.size * self.dim).reshape(self.size, self.dim)

    def _build(self):
        import faiss
        if self.type == "ivfpq" and self.size:
            return self._build_ivfpq()
        if self.type == "hnsw":
            index = faiss.IndexHNSWFlat(self.dim, self.config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self.config.hnsw_ef_construction
        else:
            index = faiss.IndexFlatIP(max(self.dim, 1))
        for _, block in iter_chunks(self.vectors, self.config.chunk):
            index.add(block)
        return index

    def _build_ivfpq(self):
        import faiss
        lists = n_lists(self.size)
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFPQ(quantizer, self.dim, lists, pq_bytes(self.dim), 8, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = 10
        index.train(self._training_sample(lists))
        for _, block in iter_chunks(self.vectors, self.config.chunk):
            index.add(block)
        return index

    def _training_sample(self, lists: int) -> np.ndarray:
        want = min(self.size, max(lists * self.config.train_points, 256 * 39))
        rows = np.sort(np.random.default_rng(0).choice(self.size, want, replace=False))
        parts = []
        for lo, block in iter_chunks(self.vectors, self.config.chunk):
            sel = rows[(rows >= lo) & (rows < lo + len(block))]
            parts.append(block[sel - lo])
        return np.ascontiguousarray(np.concatenate(parts))

    # ---------------------------------------------------------------- search
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
        exact = SUBSET_EXACT * self.size if self.type != "ivfpq" else self.config.ivf_exact_rows
        if self.type == "flat" or len(allowed) <= exact:
            return self._subset(q[0], allowed, want)
        idx, scores = self._faiss(q, want, mask, len(allowed) / self.size)
        if len(idx) < want and self.type == "ivfpq":
            # the allowed products lie away from the query (a filter at odds with it): every list, still compressed
            idx, scores = self._faiss(q, want, mask, 0.0)
        if len(idx) < want:
            # an approximate index can miss under a filter — one correlated with the query, such as a price cap
            # on an expensive kind of product, leaves the graph walk with few allowed neighbours: exact over the
            # allowed subset (from memory for flat and HNSW: ~10 ms at 100k products)
            return self._subset(q[0], allowed, want)
        return idx, scores

    def _faiss(self, q: np.ndarray, k: int, mask: np.ndarray | None,
               share: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        import faiss
        c = self.config
        bits = None if mask is None else np.packbits(mask, bitorder="little")  # alive until the search returns
        selector = None if bits is None else faiss.IDSelectorBitmap(self.size, faiss.swig_ptr(bits))
        fetch = k
        if self.type == "hnsw":
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(c.hnsw_ef_search, k))
        elif self.type == "ivfpq":
            nprobe = min(self.index.nlist, math.ceil(c.nprobe / max(share, 1e-9)))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
            fetch = min(self.size, k * c.rerank)
        else:
            params = None if selector is None else faiss.SearchParameters(sel=selector)
        scores, idx = self.index.search(q, fetch, params=params)
        keep = idx[0] >= 0
        idx, scores = idx[0][keep].astype(np.int64), scores[0][keep]
        if self.type == "ivfpq" and len(idx):  # compressed scores pick candidates; full vectors rank them
            return self._subset(q[0], np.sort(idx), min(k, len(idx)))
        return idx, scores

    def _subset(self, q: np.ndarray, allowed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact top ``k`` among the sorted rows ``allowed``."""
        if self._resident is not None:
            # a large subset: one pass over every row beats gathering most of them first
            sims = (self._resident @ q)[allowed] if len(allowed) > self.size // 4 else self._resident[allowed] @ q
        elif len(allowed) > self.size // 64:
            sims = np.empty(len(allowed), dtype=np.float32)
            for lo, block in iter_chunks(self.vectors, self.config.chunk):
                a, b = np.searchsorted(allowed, [lo, lo + len(block)])
                sims[a:b] = block[allowed[a:b] - lo] @ q
        else:
            sims = read_rows(self.vectors, allowed) @ q
        local, scores = top_k(sims, k)
        return allowed[local], scores

    # ---------------------------------------------------------------- files
    def save(self, folder: Path) -> None:
        """``vectors.npy`` (memory-mapped on load) and, for approximate types, ``dense.faiss`` (FAISS's format)."""
        import faiss
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "vectors.npy"
        if not (isinstance(self.vectors, np.memmap) and Path(self.vectors.filename).resolve() == target.resolve()):
            out = np.lib.format.open_memmap(target, mode="w+", dtype=np.float32, shape=(self.size, self.dim))
            for lo, block in iter_chunks(self.vectors, self.config.chunk):
                out[lo:lo + len(block)] = block
            out.flush()
            del out
        (folder / "dense.faiss").unlink(missing_ok=True)
        if self.type != "flat":
            faiss.write_index(self.index, str(folder / "dense.faiss"))

    @classmethod
    def load(cls, folder: Path, config: DenseConfig = DenseConfig()) -> DenseIndex:
        import faiss
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        index = None
        if (folder / "dense.faiss").exists():
            index = faiss.read_index(str(folder / "dense.faiss"))
            if index.ntotal != len(vectors):
                index = None
        if index is None and config.kind_for(len(vectors)) != "ivfpq":
            vectors = np.array(vectors, dtype=np.float32)  # flat and HNSW hold the vectors in memory anyway
        return cls(vectors, index, config)


def _type_of(index) -> str:
    import faiss
    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    return "ivfpq" if isinstance(index, faiss.IndexIVF) else "flat"
