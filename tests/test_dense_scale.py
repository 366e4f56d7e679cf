"""Large-catalog dense search: index type by size, IVF-PQ recall, memory-mapped vectors on disk."""

from __future__ import annotations

import numpy as np
import pytest

from daogou.errors import ConfigError
from daogou.search.dense import DenseConfig, DenseIndex, iter_chunks, n_lists, pq_bytes, read_rows


def clustered(n: int, dim: int = 64, centers: int = 200, seed: int = 0) -> np.ndarray:
    """Unit vectors around random centres (product embeddings cluster by kind of product)."""
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centers, dim)).astype(np.float32)
    x = c[rng.integers(0, centers, n)] + 0.35 * rng.normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_index_type_is_chosen_by_size():
    c = DenseConfig()
    assert [c.kind_for(n) for n in (100, 20_000, 20_001, 250_000, 250_001, 10**7)] == \
        ["flat", "flat", "hnsw", "hnsw", "ivfpq", "ivfpq"]
    assert DenseConfig(kind="hnsw").kind_for(10) == "hnsw"
    with pytest.raises(ConfigError):
        DenseConfig(kind="lsh")
    assert DenseIndex(clustered(300), config=DenseConfig(exact_max=100, hnsw_max=200)).type == "ivfpq"
    assert pq_bytes(384) == 48 and pq_bytes(256) == 32 and pq_bytes(7) == 1
    assert n_lists(1_000_000) == 1024 and n_lists(300) <= 300 // 39


def test_ivfpq_recall_against_exact():
    x = clustered(20_000)
    queries = clustered(50, seed=1)
    ivf = DenseIndex(x, config=DenseConfig(kind="ivfpq"))
    hits = 0
    for q in queries:
        exact = np.argsort(-(x @ q))[:10]
        rows, scores = ivf.search(q, 10)
        assert len(rows) == 10 and np.all(np.diff(scores) <= 1e-6)
        np.testing.assert_allclose(scores, x[rows] @ q, rtol=1e-5, atol=1e-5)  # re-scored exactly
        hits += len(set(rows.tolist()) & set(exact.tolist()))
    assert hits / (10 * len(queries)) >= 0.9


def test_saved_ivfpq_loads_memory_mapped_and_answers_the_same(tmp_path):
    x = clustered(5_000)
    built = DenseIndex(x, config=DenseConfig(kind="ivfpq"))
    built.save(tmp_path)
    assert (tmp_path / "dense.faiss").exists()
    loaded = DenseIndex.load(tmp_path)
    assert loaded.type == "ivfpq" and isinstance(loaded.vectors, np.memmap)
    mask = np.random.default_rng(0).random(len(x)) < 0.3
    for q in clustered(5, seed=2):
        assert built.search(q, 10)[0].tolist() == loaded.search(q, 10)[0].tolist()
        rows, _ = loaded.search(q, 10, mask)
        assert mask[rows].all() and len(rows) == 10


def test_flat_index_loads_into_memory_and_memmap_chunks_match(tmp_path):
    x = clustered(1_000)
    DenseIndex(x).save(tmp_path)
    assert not (tmp_path / "dense.faiss").exists()
    loaded = DenseIndex.load(tmp_path)
    assert loaded.type == "flat" and not isinstance(loaded.vectors, np.memmap)
    mm = np.load(tmp_path / "vectors.npy", mmap_mode="r")
    blocks = [b for _, b in iter_chunks(mm, 300)]
    np.testing.assert_array_equal(np.concatenate(blocks), x)


def test_memory_mapped_rows_and_exact_subsets_match_in_memory(tmp_path):
    x = clustered(3_000)
    DenseIndex(x, config=DenseConfig(kind="ivfpq")).save(tmp_path)
    loaded = DenseIndex.load(tmp_path)
    rows = np.array([0, 5, 6, 2_999])
    np.testing.assert_array_equal(read_rows(loaded.vectors, rows), x[rows])
    in_memory = DenseIndex(x)
    q = clustered(1, seed=3)[0]
    for allowed in (np.arange(0, 3_000, 2), np.array([3, 70, 900])):  # chunked scan, and row reads
        got, want = loaded._subset(q, allowed, 3), in_memory._subset(q, allowed, 3)
        assert got[0].tolist() == want[0].tolist()
        np.testing.assert_allclose(got[1], want[1], rtol=1e-5)


def test_saved_hnsw_answers_a_filter_correlated_with_the_query_exactly(tmp_path):
    """A price cap on an expensive kind of product: most of the catalog passes, almost nothing near the query
    does, so the graph walk finds too few. The answer is still the exact top k, scored from the vectors the
    HNSW index holds in memory (not read back from the file row by row)."""
    x = clustered(6_000, centers=30)
    built = DenseIndex(x, config=DenseConfig(kind="hnsw", hnsw_ef_search=16))
    built.save(tmp_path)
    loaded = DenseIndex.load(tmp_path, DenseConfig(kind="hnsw", hnsw_ef_search=16))
    assert loaded.type == "hnsw" and isinstance(loaded.vectors, np.memmap)
    assert loaded._resident is not None and not isinstance(loaded._resident, np.memmap)
    q = x[0]
    near = np.argsort(-(x @ q))[:1_500]
    mask = np.ones(len(x), dtype=bool)
    mask[near] = False  # everything close to the query is filtered out; 75% of the catalog passes
    rows, scores = loaded.search(q, 50, mask)
    allowed = np.flatnonzero(mask)
    exact = allowed[np.argsort(-(x[allowed] @ q))[:50]]
    assert len(rows) == 50 and mask[rows].all()
    assert set(rows.tolist()) == set(exact.tolist())
    np.testing.assert_allclose(scores, x[rows] @ q, rtol=1e-5, atol=1e-5)
    small = np.zeros(len(x), dtype=bool)
    small[near[1_000:1_040]] = True  # a selective filter: exact over the subset
    rows, _ = loaded.search(q, 10, small)
    assert set(rows.tolist()) <= set(near[1_000:1_040].tolist()) and len(rows) == 10


def test_ivfpq_widens_its_lists_under_a_filter_instead_of_reading_the_subset_from_disk(tmp_path, monkeypatch):
    """A filter keeping a tenth of the catalog, none of it near the query: IVF-PQ visits more lists (every one,
    when the nearest hold too few allowed products) and re-scores only its candidates from the file; a filter
    keeping at most ``ivf_exact_rows`` products is scored exactly."""
    x = clustered(20_000, centers=40)
    DenseIndex(x, config=DenseConfig(kind="ivfpq")).save(tmp_path)
    index = DenseIndex.load(tmp_path, DenseConfig(kind="ivfpq", ivf_exact_rows=500))
    scored: list[int] = []
    subset = DenseIndex._subset
    monkeypatch.setattr(DenseIndex, "_subset", lambda self, q, allowed, k: (scored.append(len(allowed)),
                                                                            subset(self, q, allowed, k))[1])
    q = x[0]
    near = np.argsort(-(x @ q))[:2_000]
    mask = np.random.default_rng(0).random(len(x)) < 0.1
    mask[near] = False
    allowed = np.flatnonzero(mask)
    rows, scores = index.search(q, 20, mask)
    exact = allowed[np.argsort(-(x[allowed] @ q))[:20]]
    assert len(rows) == 20 and mask[rows].all()
    assert len(set(rows.tolist()) & set(exact.tolist())) >= 16
    np.testing.assert_allclose(scores, x[rows] @ q, rtol=1e-5, atol=1e-5)
    assert scored and max(scored) <= 20 * index.config.rerank  # candidates only: no pass over the subset
    small = np.zeros(len(x), dtype=bool)
    small[near[500:900]] = True  # 400 products: exact over them
    scored.clear()
    rows, _ = index.search(q, 10, small)
    assert scored == [400] and set(rows.tolist()) == set(near[500:510].tolist())
