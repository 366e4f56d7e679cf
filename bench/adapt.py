"""Search that adapts to the store: label-free encoder adaptation and the behaviour re-ranker, against today's hybrid.

    python bench/adapt.py [--skip-adapt]

Variants x datasets, one run:
  (a) ESCI, 500 real Amazon queries over their 658 titles (bench/search.py's set): hybrid MiniLM vs hybrid with the
      MiniLM adapted by `daogou adapt` on the 658 titles (pseudo queries + mined negatives; no ESCI labels or
      queries are used), nDCG@10 / Recall@50 / search latency p50/p99.
  (b) The demo store's search log split by time: the re-ranker trains on the earliest 80% of searches followed by
      something the shopper did, and is scored on the latest 20%: nDCG@10 and Recall@50 of the products bought
      after each search, hybrid order vs re-ranked (anonymous: popularity only; personal: with the shopper's
      history), and the re-ranking cost (p50/p99, 100 candidates).
  (c) The demo's known-answer queries (English and Chinese, bench/search.py) with the trained re-ranker on, to show
      it keeps query relevance.
Writes bench/results/adapt.json.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import search as S  # bench/search.py: datasets and metrics
from _common import machine, write_result  # noqa: E402
from daogou.catalog.demo import DemoConfig
from daogou.catalog.demo_store import build_demo_store
from daogou.catalog.store import Store
from daogou.config import StoreConfig
from daogou.encode import product_text
from daogou.search import rerank as R
from daogou.search.adapt import AdaptConfig, adapt
from daogou.search.engine import SearchConfig, Searcher

RESULTS = S.RESULTS


def _latency(searcher: Searcher, queries: list[dict]) -> dict:
    times = []
    for q in queries:
        t = time.perf_counter()
        searcher.search(q["query"], k=10, facets=False)
        times.append(time.perf_counter() - t)
    return {"p50_ms": round(float(np.percentile(times, 50)) * 1e3, 2), "p99_ms": round(float(np.percentile(times, 99)) * 1e3, 2)}


def esci_rows(skip_adapt: bool) -> tuple[list[dict], dict]:
    products, queries = S.esci()
    rows, report = [], {}
    with S.store_with(RESULTS / "search_home" / "esci", products) as store:
        base = Searcher.build(store, SearchConfig(encoder="minilm", understand=False, rerank=False))
        for r in S.run_modes(base, queries, "esci"):
            if r["mode"] != "lexical":
                rows.append({**r, "variant": f"{r['mode']} minilm", **_latency(base, queries)})
        if skip_adapt:
            return rows, report
        index = {p.id: i for i, p in enumerate(base.products)}
        passages = [product_text(p, base.encoder.languages, full=False) for p in base.products]
        out = RESULTS / "adapt_home" / "esci-minilm-adapted"
        report = adapt(base.products, passages,
                       lambda q, k: [(index[h.product_id], h.score) for h in base.search(q, k=k, facets=False).hits],
                       base.encoder, out, AdaptConfig(), progress=True)
        adapted = Searcher.build(store, SearchConfig(encoder=str(out), understand=False, rerank=False))
        for r in S.run_modes(adapted, queries, "esci"):
            if r["mode"] != "lexical":
                rows.append({**r, "encoder": "minilm+adapt", "variant": f"{r['mode']} minilm+adapt",
                             **_latency(adapted, queries)})
    report = {k: report[k] for k in ("pseudo_queries", "hard_negatives", "examples", "epochs", "seconds")}
    return rows, report


def demo_rows() -> tuple[list[dict], dict, R.Reranker]:
    home = RESULTS / "adapt_home" / "demo"
    with Store.open(StoreConfig(home)) as store:
        build_demo_store(store, DemoConfig())
        searcher = Searcher.build(store, SearchConfig(rerank=False), progress=True)
        products = {p.id: p for p in searcher.products}
        rows_ = list(store.events_frame(with_extra=True).itertuples(index=False, name=None))
    cases, pop = R.search_cases(rows_, products)
    cases.sort(key=lambda c: c.ts_ms)
    cut = int(len(cases) * 0.8)
    train, test = cases[:cut], cases[cut:]

    def hybrid(q: str, k: int):
        return searcher.search(q, k=k, facets=False, rerank=False).hits

    t = time.perf_counter()
    model = R.train(hybrid, train, pop, searcher.encoder.cache_key)
    train_s = time.perf_counter() - t
    scores: dict[str, dict[str, list[float]]] = {v: {"ndcg": [], "recall": []}
                                                for v in ("hybrid", "re-ranked anonymous", "re-ranked personal")}
    cost = []
    for c in test:
        bought = {pid for pid, g in c.gains.items() if g == 3}
        if not bought:
            continue
        hits = hybrid(c.query, model.config.candidates)
        model.popularity = R.Popularity(c.views, c.purchases)  # popularity as it was at the search
        t = time.perf_counter()
        personal = model.rerank(hits, c.history)
        cost.append(time.perf_counter() - t)
        for name, order in (("hybrid", hits), ("re-ranked anonymous", model.rerank(hits, None)),
                            ("re-ranked personal", personal)):
            ids = [h.product_id for h in order]
            scores[name]["ndcg"].append(R.ndcg_at_k([1.0 if i in bought else 0.0 for i in ids], 10))
            scores[name]["recall"].append(len(bought & set(ids[:50])) / len(bought))
    model.popularity = pop
    rows = [{"set": "demo later sessions", "variant": name, "searches": len(v["ndcg"]),
             "ndcg@10": round(float(np.mean(v["ndcg"])), 4), "recall@50": round(float(np.mean(v["recall"])), 4)}
            for name, v in scores.items()]
    base = rows[0]["ndcg@10"]
    for r in rows:
        r["lift"] = round(r["ndcg@10"] / base - 1, 3) if base else None
    info = {"train_searches": cut, "test_searches": len(test), "train_seconds": round(train_s, 1),
            "rerank_ms_p50": round(float(np.percentile(cost, 50)) * 1e3, 2),
            "rerank_ms_p99": round(float(np.percentile(cost, 99)) * 1e3, 2), "trees": model.report["trees"],
            "importance": dict(sorted(model.report["importance"].items(), key=lambda kv: -kv[1])[:8])}
    return rows, info, model


def known_answer_rows(model: R.Reranker) -> list[dict]:
    products, queries = S.demo_queries()
    rows = []
    with S.store_with(RESULTS / "search_home" / "demo", products) as store:
        s = Searcher.build(store, SearchConfig(rerank=False))
        for lang in ("en", "zh"):
            qs = [q for q in queries if q["lang"] == lang]
            for variant, reranker in (("hybrid", None), ("hybrid + re-ranker", model)):
                s.reranker = reranker
                r = [x for x in S.run_modes(s, qs, f"demo {lang}") if x["mode"] == "hybrid"][0]
                rows.append({**r, "variant": variant})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-adapt", action="store_true", help="ESCI without the adaptation run (quick)")
    args = ap.parse_args()
    esci, adapt_report = esci_rows(args.skip_adapt)
    demo, rerank_info, model = demo_rows()
    known = known_answer_rows(model)
    print(f"\n{'set':<22} {'variant':<22} {'nDCG@10':>8} {'Recall@50':>10} {'p50 ms':>7} {'p99 ms':>7}")
    for r in esci:
        print(f"{'esci 500 queries':<22} {r['variant']:<22} {r['ndcg@10']:>8} {r['recall@50']:>10} "
              f"{r['p50_ms']:>7} {r['p99_ms']:>7}")
    for r in demo:
        print(f"{r['set']:<22} {r['variant']:<22} {r['ndcg@10']:>8} {r['recall@50']:>10}   (lift {r['lift']:+.1%})")
    for r in known:
        print(f"{r['set']:<22} {r['variant']:<22} {r['ndcg@10']:>8} {r['recall@50']:>10}")
    print(f"re-ranking cost per search (100 candidates): p50 {rerank_info['rerank_ms_p50']} ms, "
          f"p99 {rerank_info['rerank_ms_p99']} ms")
    write_result("adapt", {"meta": {**machine(), "command": "python bench/adapt.py"}, "esci": esci,
                           "adapt": adapt_report, "demo": demo, "rerank": rerank_info, "known_answer": known})


if __name__ == "__main__":
    main()
