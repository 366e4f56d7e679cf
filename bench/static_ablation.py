"""What else might bring e5-static nearer its teacher on ESCI: each variant against the student as shipped, one run.

    python bench/static_ablation.py

ESCI, 500 real Amazon queries over their 658 judged titles (bench/search.py's set; the labels only score). The
student is distilled on the titles as ``daogou distill`` does (default config, no teacher texts); every variant
changes one thing and is scored dense and fused with BM25 as the engine fuses them (``esci_ablation.fuse``):

* the teacher itself (the goal: within 2% of its hybrid);
* query words embedded by the teacher as queries ("query: waterproof") instead of as passages, with their own
  shared directions removed or the passages';
* word weights: SIF (shipped), SIF x the catalog's IDF, IDF alone, SIF x sqrt(IDF);
* shared directions removed: 0, 2, 4, 8 (shipped), 16, 32;
* the catalog's bigrams seen in two titles or more, embedded by the teacher and added at 0.5 / 1 / 2 x the mean
  weight of their words.

Writes bench/results/static_ablation.json.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

import search as S  # bench/search.py: datasets and metrics
from _common import machine, write_result  # noqa: E402
from esci_ablation import esci_set, fuse, score  # noqa: E402
from daogou.encode.base import get_encoder
from daogou.encode.static import words
from daogou.search.lexical import BM25Index

WEIGHTS = {"lexical": 0.4, "dense": 1.0}


def _unit(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def _project(v: np.ndarray, mean: np.ndarray, comp: np.ndarray) -> np.ndarray:
    out = v - mean
    return out - (out @ comp.T) @ comp


def main() -> None:
    started = time.perf_counter()
    products, queries, ids, texts, qs = esci_set()
    with tempfile.TemporaryDirectory() as tmp:
        store = S.store_with(Path(tmp) / "esci", products)
        student = get_encoder(S.resolve_encoder("e5-static", store))
        teacher = get_encoder("e5-multilingual")
        st = getattr(student, "instance", student)
        lex = np.stack([BM25Index.build(texts).scores(q) for q in qs]) if qs else None
        rows: list[dict] = []

        def add(label: str, q: np.ndarray, d: np.ndarray) -> None:
            dense = q @ d.T
            r = {"variant": label, "dense_ndcg@10": score(dense, ids, queries)["ndcg@10"],
                 "hybrid_ndcg@10": score(fuse({"lexical": lex, "dense": dense}, WEIGHTS), ids, queries)["ndcg@10"]}
            rows.append(r)
            print(f"{label:<58} {r['dense_ndcg@10']:>8} {r['hybrid_ndcg@10']:>8}", flush=True)

        print(f"{'variant':<58} {'dense':>8} {'hybrid':>8}")
        add("teacher (e5-multilingual)", teacher.encode(qs, kind="query"), teacher.encode(texts, kind="passage"))
        doc = student.encode(texts, kind="passage")
        add("e5-static as shipped", student.encode(qs, kind="query"), doc)

        cw = st.config.char_weight
        parsed = [st._query_words(words(q, cw)) for q in qs]
        tparsed = [words(t, cw) for t in texts]
        table, index = st.table.matrix, st.table.index
        shipped = st._rows()

        def encode(items, weight, rows_=shipped, where=index) -> np.ndarray:
            out = np.zeros((len(items), rows_.shape[1]), np.float32)
            for i, ws in enumerate(items):
                for w, share in ws:
                    j = where.get(w)
                    if j is not None:
                        out[i] += weight(w) * share * rows_[j]
            return _unit(out)

        # query words as the teacher embeds queries
        qwords = sorted({w for ws in parsed for w, _ in ws} | {w for ws in tparsed for w, _ in ws})
        qvec = teacher.encode(qwords, kind="query")
        qidx = {w: i for i, w in enumerate(qwords)}
        cat = np.array(sorted({qidx[w] for ws in tparsed for w, _ in ws}))
        mean_q = qvec[cat].mean(0)
        comp_q = np.linalg.svd(qvec[cat] - mean_q, full_matrices=False)[2][:st.config.components]
        add("query words embedded as queries, their own directions removed",
            encode(parsed, st._weight, _project(qvec, mean_q, comp_q), qidx), doc)
        add("query words embedded as queries, the passages' directions removed",
            encode(parsed, st._weight, st._project(qvec), qidx), doc)

        # word weights
        df = Counter(w for ws in tparsed for w in {w for w, _ in ws})
        idf = lambda w: float(np.log(1 + len(texts) / df.get(w, 1)))  # noqa: E731
        for label, weight in (("SIF x IDF", lambda w: st._weight(w) * idf(w)), ("IDF alone", idf),
                              ("SIF x sqrt(IDF)", lambda w: st._weight(w) * np.sqrt(idf(w)))):
            add(f"weights: {label}", encode(parsed, weight), encode(tparsed, weight))

        # shared directions removed
        seen = sorted({index[w] for ws in tparsed for w, _ in ws})
        mean = table[seen].mean(0)
        vt = np.linalg.svd(table[seen] - mean, full_matrices=False)[2]
        for k in (0, 2, 4, 16, 32):
            projected = _project(table, mean, vt[:k])
            add(f"shared directions removed: {k} (shipped: {st.config.components})",
                encode(parsed, st._weight, projected), encode(tparsed, st._weight, projected))

        # the catalog's bigrams
        def bigrams(ws):
            latin = [w for w, share in ws if share == 1.0]
            return [f"{a} {b}" for a, b in zip(latin, latin[1:])]
        counts = Counter(b for ws in tparsed for b in set(bigrams(ws)))
        kept = sorted(b for b, c in counts.items() if c >= 2)
        bvec = st._project(teacher.encode(kept, kind="passage")) if kept else np.zeros((0, st.dim), np.float32)
        bidx = {b: i for i, b in enumerate(kept)}

        def with_bigrams(items, scale: float) -> np.ndarray:
            out = np.zeros((len(items), st.dim), np.float32)
            for i, ws in enumerate(items):
                for w, share in ws:
                    j = index.get(w)
                    if j is not None:
                        out[i] += st._weight(w) * share * shipped[j]
                for b in bigrams(ws):
                    j = bidx.get(b)
                    if j is not None:
                        a, c = b.split(" ")
                        out[i] += scale * (st._weight(a) + st._weight(c)) / 2 * bvec[j]
            return _unit(out)
        for scale in (0.5, 1.0, 2.0):
            add(f"catalog bigrams ({len(kept)}) at {scale} x their words' weight",
                with_bigrams(parsed, scale), with_bigrams(tparsed, scale))
        store.close()

    goal = round(rows[0]["hybrid_ndcg@10"] * 0.98, 4)
    best = max(rows[1:], key=lambda r: r["hybrid_ndcg@10"])
    print(f"goal (98% of the teacher's hybrid): {goal}; best student variant: {best['variant']} "
          f"{best['hybrid_ndcg@10']}")
    write_result("static_ablation", {"meta": {**machine(), "command": "python bench/static_ablation.py"},
                                     "queries": len(queries), "products": len(products), "rows": rows,
                                     "goal_hybrid_ndcg@10": goal, "seconds": round(time.perf_counter() - started, 1)})


if __name__ == "__main__":
    main()
