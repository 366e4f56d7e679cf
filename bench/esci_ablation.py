"""Label-free ways to rank ESCI better, each against today's hybrid in one run (the issue's ablation).

    python bench/esci_ablation.py

ESCI, 500 real Amazon queries over their 658 judged titles (bench/search.py's set); nothing here reads the labels
except the scoring. Every signal scores the whole catalog; fusion is the engine's own (``hybrid.weighted``:
min-max over each signal's top 100, BM25 weight 0.4, each encoder 1.0). Rows:

* BM25 with words as typed (the analyzer before stemming) and with today's analyzer (Snowball stems, numbers
  split from letters);
* dense MiniLM and dense e5, each alone and fused with BM25 (the hybrid);
* both encoders fused, with and without BM25 (an encoder ensemble: two query encodings per search);
* MiniLM adapted to the catalog without labels (`bench/adapt.py`'s folder: pseudo queries from the titles, mined
  negatives) in place of MiniLM and beside it (when that folder exists);
* dense pseudo-relevance feedback (Rocchio: the query vector plus 0.3 x the mean of its top 3 products);
* corpus-graph smoothing (each product's score plus 0.3 x the mean score of its 3 nearest products);
* the ceiling: the share of queries with any judged product of positive grade (a query whose judged products are
  all irrelevant scores 0 whatever is returned).

Writes bench/results/esci_ablation.json.
"""

from __future__ import annotations

import time

import numpy as np

import search as S  # bench/search.py: datasets and metrics
from _common import machine, write_result  # noqa: E402
from daogou.encode import product_text
from daogou.encode.base import get_encoder
from daogou.search.hybrid import weighted
from daogou.search.lexical import BM25Index, top_k
from daogou.search.vocab import tokens

TOP = 100  # candidates per signal, as SearchConfig.candidates


def _bm25_as_typed(texts: list[str], queries: list[str]) -> np.ndarray:
    import bm25s
    retriever = bm25s.BM25()
    retriever.index([tokens(t, for_search=True) or ["\u2205"] for t in texts], show_progress=False)
    out = np.zeros((len(queries), len(texts)), dtype=np.float32)
    for i, q in enumerate(queries):
        words = [w for w in tokens(q, for_search=True) if w in retriever.vocab_dict]
        if words:
            out[i] = retriever.get_scores(words)
    return out


def _top(scores: np.ndarray, positive_only: bool) -> dict[int, float]:
    """A signal's top 100 as the engine takes them (BM25 keeps only products that share a word)."""
    rows, values = top_k(scores, TOP, positive_only)
    return dict(zip(rows.tolist(), values.tolist()))


def fuse(signals: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Per query: the engine's weighted fusion of each signal's top 100 (unlisted products score 0)."""
    n_q, n_d = next(iter(signals.values())).shape
    out = np.zeros((n_q, n_d), dtype=np.float32)
    for i in range(n_q):
        fused = weighted({name: _top(m[i], name == "lexical") for name, m in signals.items()}, weights)
        for row, score in fused.items():
            out[i, row] = score
    return out


def score(matrix: np.ndarray, ids: list[str], queries: list[dict]) -> dict:
    ndcg, recall = [], []
    for i, q in enumerate(queries):
        order = np.lexsort((np.arange(matrix.shape[1]), -matrix[i]))[:50]
        got = [ids[j] for j in order]
        ndcg.append(S.ndcg(got, q["gain"], 10))
        recall.append(S.recall(got, q["relevant"], 50))
    return {"ndcg@10": round(float(np.mean(ndcg)), 4), "recall@50": round(float(np.mean(recall)), 4)}


def esci_set() -> tuple[list, list[dict], list[str], list[str], list[str]]:
    """ESCI's products, queries, product ids, product texts and query texts (bench/search.py's set)."""
    products, queries = S.esci()
    return products, queries, [p.id for p in products], [product_text(p) for p in products], \
        [q["query"] for q in queries]


def main() -> None:
    started = time.perf_counter()
    products, queries, ids, texts, qs = esci_set()
    bm25 = BM25Index.build(texts)
    lexical = np.stack([bm25.scores(q) for q in qs])
    docs, query_vectors, dense = {}, {}, {}
    for name in ("minilm", "e5-multilingual"):
        enc = get_encoder(name)
        docs[name], query_vectors[name] = enc.encode(texts, kind="passage"), enc.encode(qs, kind="query")
        dense[name] = query_vectors[name] @ docs[name].T
    m, e = dense["minilm"], dense["e5-multilingual"]
    adapted = S.RESULTS / "adapt_home" / "esci-minilm-adapted"  # written by bench/adapt.py
    if adapted.exists():
        enc = get_encoder(str(adapted))
        dense["adapted"] = enc.encode(qs, kind="query") @ enc.encode(texts, kind="passage").T
    else:
        print(f"{adapted} is missing (python bench/adapt.py writes it): the adapted rows are left out")

    def prf(name: str, k: int = 3, beta: float = 0.3) -> np.ndarray:
        d = docs[name]
        top = np.argsort(-dense[name], axis=1)[:, :k]
        q = query_vectors[name] + beta * d[top].mean(1)
        return (q / np.linalg.norm(q, axis=1, keepdims=True)) @ d.T

    def graph(name: str, k: int = 3, a: float = 0.3) -> np.ndarray:
        sim = docs[name] @ docs[name].T
        np.fill_diagonal(sim, -np.inf)
        near = np.argsort(-sim, axis=1)[:, :k]
        return dense[name] + a * dense[name][:, near].mean(2)

    hybrid = {"lexical": 0.4, "dense": 1.0, "dense2": 1.0, "dense3": 1.0}
    variants = [
        ("BM25, words as typed", {"lexical": _bm25_as_typed(texts, qs)}),
        ("BM25, stemmed + numbers split (today)", {"lexical": lexical}),
        ("dense MiniLM", {"dense": m}),
        ("dense e5", {"dense": e}),
        ("hybrid e5 (today's analyzer)", {"lexical": lexical, "dense": e}),
        ("hybrid MiniLM (today's default fusion)", {"lexical": lexical, "dense": m}),
        ("hybrid MiniLM, dense with pseudo-relevance feedback", {"lexical": lexical, "dense": prf("minilm")}),
        ("hybrid MiniLM, corpus-graph smoothing", {"lexical": lexical, "dense": graph("minilm")}),
        ("MiniLM + e5, no BM25", {"dense": m, "dense2": e}),
        ("MiniLM + e5 + BM25", {"lexical": lexical, "dense": m, "dense2": e}),
    ]
    if "adapted" in dense:
        a = dense["adapted"]
        variants += [("adapted MiniLM + e5 + BM25", {"lexical": lexical, "dense": a, "dense2": e}),
                     ("MiniLM + adapted MiniLM + e5 + BM25", {"lexical": lexical, "dense": m, "dense2": e, "dense3": a})]
    rows = []
    for label, signals in variants:
        matrix = signals[next(iter(signals))] if len(signals) == 1 else fuse(signals, hybrid)
        rows.append({"variant": label, **score(matrix, ids, queries)})
    ceiling = float(np.mean([max(q["gain"].values()) > 0 for q in queries]))
    base = next(r["ndcg@10"] for r in rows if r["variant"].startswith("hybrid MiniLM (today"))
    print(f"{'variant':<52} {'nDCG@10':>8} {'Recall@50':>10} {'vs hybrid':>10}")
    for r in rows:
        r["vs_hybrid"] = round(r["ndcg@10"] / base - 1, 4)
        print(f"{r['variant']:<52} {r['ndcg@10']:>8} {r['recall@50']:>10} {r['vs_hybrid']:>+10.1%}")
    print(f"ceiling (queries with a relevant judged product): {ceiling:.3f}")
    write_result("esci_ablation", {"meta": {**machine(), "command": "python bench/esci_ablation.py"},
                                   "queries": len(queries), "products": len(products), "rows": rows,
                                   "ceiling": round(ceiling, 4), "seconds": round(time.perf_counter() - started, 1)})


if __name__ == "__main__":
    main()
