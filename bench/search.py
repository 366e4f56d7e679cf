"""Search quality and speed.

    python bench/search.py quality [--encoders e5-multilingual minilm]
    python bench/search.py speed [--sizes 10000 100000] [--encoder e5-multilingual]
    python bench/search.py quality --encoders e5-multilingual minilm e5-static e5-static+passages

e5-static (a static student, daogou distill) is distilled on each catalog it searches, inside the timed build; the
languages' common words it also learns come from a machine cache filled once before the first catalog (timed apart).

quality: nDCG@10 and Recall@50 of BM25, dense and hybrid search
  (a) on the demo store's known-answer queries (English and Chinese, from its planted catalog);
  (b) on 500 real Amazon shopping queries (ESCI, ../shared/datasets/esci_500q_titles_secondlife): all 658
      titles are the catalog; gains E=3/S=2/C=1/I=0 for nDCG@10, relevant = Exact or Substitute for Recall@50;
  (c) ESCI Task-1 re-ranking of each query's judged list with gains E=1, S=0.1, C=0.01, I=0
      (the official cross-encoder baseline scores nDCG 0.83).
speed: generated catalogs; index build rate, encoding efficiency against the raw encoder, search latency
  p50/p99 with query encoding included, memory.
Prints tables and writes JSON to bench/results/search_quality.json and search_speed_<encoder>.json.
Quality runs cache embeddings in bench/results/search_home, so reruns only encode what is new; speed runs
start cold every time.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from daogou.catalog.demo import DemoConfig, generate_demo
from daogou.catalog.models import Product
from daogou.catalog.store import Store
from daogou.config import StoreConfig
from daogou.encode import product_text
from daogou.encode.static import words
from daogou.search.engine import SearchConfig, Searcher
from daogou.catalog.filters import Filters
from _common import machine  # noqa: E402  (bench/ is on sys.path when a script runs)

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("DAOGOU_DATASETS", ROOT.parent / "shared" / "datasets"))
RESULTS = ROOT / "bench" / "results"
ESCI_GAIN = {3: 1.0, 2: 0.1, 1: 0.01, 0: 0.0}


def dcg(gains: list[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg(ranked: list[str], gain: dict[str, float], k: int | None = None) -> float:
    got = [gain.get(pid, 0.0) for pid in ranked[:k]]
    ideal = sorted(gain.values(), reverse=True)[:k]
    best = dcg(ideal)
    return dcg(got) / best if best > 0 else 0.0


def recall(ranked: list[str], relevant: set[str], k: int) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


def store_with(home: Path, products: list[Product]) -> Store:
    store = Store.open(StoreConfig(home))
    with store.transaction() as conn:
        store.write_products(conn, products, overwrite=True)
    return store


def resolve_encoder(name: str, store: Store, progress: bool = False) -> str:
    """``e5-static`` is distilled on the store it searches (as ``daogou distill`` does), ``e5-static@N`` with
    ``--teacher-texts N``, ``e5-static+passages`` with ``--teacher-passages``; other names as they are."""
    if name.split("@")[0].split("+")[0] != "e5-static":
        return name
    from daogou.encode.static import StaticConfig, distill_store
    config = StaticConfig(teacher_texts=int(name.split("@")[1])) if "@" in name else \
        StaticConfig(teacher_passages=True) if name.endswith("+passages") else StaticConfig()
    out = Path(store.config.home) / "encoders" / name.replace("@", "-texts").replace("+", "-")  # its own folder
    return str(distill_store(store, out, progress=progress, config=config)[0])  # is kept by its path


def run_modes(searcher: Searcher, queries: list[dict], label: str, encoder: str | None = None) -> list[dict]:
    encoder = encoder or searcher.config.encoder
    rows = []
    for mode in ("lexical", "dense", "hybrid"):
        scores = {"ndcg10": [], "recall50": []}
        for q in queries:
            got = searcher.search(q["query"], k=50, mode=mode, filters=q.get("filters")).ids()
            scores["ndcg10"].append(ndcg(got, q["gain"], 10))
            scores["recall50"].append(recall(got, q["relevant"], 50))
        rows.append({"set": label, "mode": mode, "encoder": encoder if mode != "lexical" else "-",
                     "queries": len(queries), "ndcg@10": round(float(np.mean(scores["ndcg10"])), 4),
                     "recall@50": round(float(np.mean(scores["recall50"])), 4)})
    return rows


# ---------------------------------------------------------------- datasets

def demo_queries(seed: int = 0) -> tuple[list[Product], list[dict]]:
    """Known-answer queries from the demo catalog: category + colour / brand / price, in English and Chinese."""
    data = generate_demo(DemoConfig(seed=seed, n_shoppers=0))
    products, vocab = data.products, data.truth.vocabulary
    by_cat: dict[str, list[Product]] = {}
    for p in products:
        by_cat.setdefault(" > ".join(p.category), []).append(p)
    queries = []
    for cat, items in sorted(by_cat.items()):
        leaf = cat.split(" > ")[-1]
        leaf_zh = vocab["category"].get(leaf) or vocab["category"].get(cat, "").split(" > ")[-1]
        colours = sorted({p.attributes["color"] for p in items if "color" in p.attributes})
        colour = max(colours, key=lambda c: sum(p.attributes.get("color") == c for p in items))
        brand = max(sorted({p.brand for p in items}), key=lambda b: sum(p.brand == b for p in items))
        brand_zh = vocab.get("brand", {}).get(brand, brand)
        price = float(np.median([p.price for p in items]))
        specs = [
            ("en", f"{colour} {leaf.lower()}", lambda p, c=colour: p.attributes.get("color") == c),
            ("zh", f"{vocab['colour'].get(colour, colour)}{leaf_zh}", lambda p, c=colour: p.attributes.get("color") == c),
            ("en", f"{brand} {leaf.lower()}", lambda p, b=brand: p.brand == b),
            ("zh", f"{brand_zh} {leaf_zh}", lambda p, b=brand: p.brand == b),
            ("en", f"{leaf.lower()} under ¥{price:.0f}", lambda p, x=price: p.price <= x),
            ("zh", f"{price:.0f}元以内的{leaf_zh}", lambda p, x=price: p.price <= x),
        ]
        for lang, text, fits in specs:
            gain = {p.id: (1.0 if fits(p) else 0.1) for p in items}
            queries.append({"query": text, "lang": lang, "gain": gain,
                            "relevant": {pid for pid, g in gain.items() if g == 1.0}})
    return products, queries


def esci() -> tuple[list[Product], list[dict]]:
    data = json.loads((DATASETS / "esci_500q_titles_secondlife" / "esci_subset.json").read_text())
    titles: dict[str, str] = {}
    for q in data:
        for p in q["products"]:
            titles.setdefault(p["product_id"], p["product_text"])
    products = [Product(pid, title=t, language="en") for pid, t in sorted(titles.items())]
    queries = [{"query": q["query"], "judged": {p["product_id"]: p["relevance"] for p in q["products"]},
                "gain": {p["product_id"]: float(p["relevance"]) for p in q["products"]},
                "relevant": {p["product_id"] for p in q["products"] if p["relevance"] >= 2}} for q in data]
    return products, queries


def esci_rerank(searcher: Searcher, queries: list[dict], encoder: str) -> list[dict]:
    rows = []
    for mode in ("lexical", "dense", "hybrid"):
        all_, five = [], []
        for q in queries:
            judged = q["judged"]
            got = searcher.search(q["query"], k=len(judged), mode=mode, filters=Filters(ids=tuple(judged))).ids()
            got += [pid for pid in judged if pid not in got]  # unmatched judged items keep file order at the end
            score = ndcg(got, {pid: ESCI_GAIN[g] for pid, g in judged.items()})
            all_.append(score)
            if len(judged) >= 5:
                five.append(score)
        rows.append({"set": "esci re-rank", "mode": mode, "encoder": encoder if mode != "lexical" else "-",
                     "ndcg_all_500": round(float(np.mean(all_)), 4),
                     "ndcg_queries_with_5plus_judged": round(float(np.mean(five)), 4), "queries_5plus": len(five)})
    return rows


# ---------------------------------------------------------------- quality

def quality(encoders: list[str]) -> dict:
    home = RESULTS / "search_home"
    demo_products, demo_qs = demo_queries()
    esci_products, esci_qs = esci()
    rows, rerank = [], []
    for enc in encoders:
        with store_with(home / "demo", demo_products) as store:
            path = resolve_encoder(enc, store, progress=True)
            s = Searcher.build(store, SearchConfig(encoder=path), progress=True)
            raw = Searcher(s.products, s.encoder, s.dense, s.lexical, s.vocab, SearchConfig(encoder=path, understand=False))
            for lang in ("en", "zh"):
                rows += run_modes(s, [q for q in demo_qs if q["lang"] == lang], f"demo {lang}", enc)
                rows += run_modes(raw, [q for q in demo_qs if q["lang"] == lang], f"demo {lang} raw", enc)
        with store_with(home / "esci", esci_products) as store:
            path = resolve_encoder(enc, store, progress=True)
            s = Searcher.build(store, SearchConfig(encoder=path, understand=False), progress=True)
            rows += run_modes(s, esci_qs, "esci full catalog", enc)
            rerank += esci_rerank(s, esci_qs, enc)
    print("(raw: query understanding off — signals only; esci runs without it: titles have no prices or brands)")
    print(f"{'set':<20} {'mode':<8} {'encoder':<16} {'nDCG@10':>8} {'Recall@50':>10}")
    for r in rows:
        print(f"{r['set']:<20} {r['mode']:<8} {r['encoder']:<16} {r['ndcg@10']:>8} {r['recall@50']:>10}")
    print(f"\n{'ESCI Task-1 re-rank':<20} {'mode':<8} {'encoder':<16} {'nDCG all':>8} {'nDCG ≥5 judged':>15}")
    for r in rerank:
        print(f"{'':<20} {r['mode']:<8} {r['encoder']:<16} {r['ndcg_all_500']:>8} "
              f"{r['ndcg_queries_with_5plus_judged']:>15}")
    return {"retrieval": rows, "rerank": rerank}


# ---------------------------------------------------------------- speed

def real_texts() -> list[tuple[str, str]]:
    """(title, description) of real products from ../shared/datasets: Amazon UK toys (with descriptions), ESCI
    titles, fashion product names."""
    import csv
    out = []
    with open(DATASETS / "amazon_uk_toys_subset" / "subset_productos_por_categoria_10_total_863_productos.csv",
              encoding="utf-8") as f:
        out += [(r["product_name"], r["product_description"] or "") for r in csv.DictReader(f)]
    out += [(p.title, "") for p in esci()[0]]
    with open(DATASETS / "fashion_product_images_subset_azusaw" / "labels.csv", encoding="utf-8") as f:
        out += [(r["productDisplayName"], "") for r in csv.DictReader(f)]
    return [(t, d) for t, d in out if t]


def speed_catalog(n: int, real: bool) -> list[Product]:
    """Generated products (bilingual); with ``real``, every other one is an English-only product with a real
    title and description (the vocabulary of a real catalog: model numbers, brands, long descriptions)."""
    from dataclasses import replace
    products = generate_demo(DemoConfig(seed=11, n_products=n, n_shoppers=0)).products
    if not real:
        return products
    texts = real_texts()
    return [replace(p, title=texts[i // 2 % len(texts)][0], description=texts[i // 2 % len(texts)][1],
                    language="en", translations={}) if i % 2 else p for i, p in enumerate(products)]


def common_words_once(encoder_name: str) -> float | None:
    """e5-static: learn the languages' common words into a fresh machine cache (what the first distillation on a
    machine pays once; every catalog after reuses it). Seconds, or None for another encoder."""
    if encoder_name != "e5-static":
        return None
    from daogou.encode.static import distill
    os.environ["DAOGOU_CACHE_DIR"] = tempfile.mkdtemp(prefix="daogou-cache-")
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        distill(["a"], Path(tmp) / "student")
    return round(time.perf_counter() - t, 1)


def speed(sizes: list[int], encoder_name: str, n_queries: int = 200, real: bool = False) -> dict:
    rows = []
    once_s = common_words_once(encoder_name)
    for n in sizes:
        products = speed_catalog(n, real)
        with tempfile.TemporaryDirectory() as tmp, store_with(Path(tmp), products) as store:  # cold: no cache
            t = time.perf_counter()
            path = resolve_encoder(encoder_name, store, progress=True)  # e5-static: distilled here, timed as build
            distill_s = time.perf_counter() - t
            searcher = Searcher.build(store, SearchConfig(encoder=path), progress=True)
            build_s = time.perf_counter() - t
            encoder = searcher.encoder
            sample = [product_text(p, encoder.languages, full=False) for p in products[-500:]]
            t = time.perf_counter()
            encoder.encode(sample)
            raw_rate = len(sample) / (time.perf_counter() - t)
            queries = _speed_queries(products, n_queries)
            searcher.search(queries[0])  # warm-up
            gc.collect()
            gc.freeze()  # as `daogou serve` does once started: the catalog and models stay out of GC passes
            enc_ms, known_ms = [], []
            table = getattr(getattr(encoder, "instance", encoder), "table", None)  # a static student's words
            for q in queries:  # query encoding alone
                known = table is not None and all(w in table.index for w, _ in words(q))
                t = time.perf_counter()
                encoder.encode([q], kind="query")
                enc_ms.append((time.perf_counter() - t) * 1000)
                if known:
                    known_ms.append(enc_ms[-1])
            lat = []
            for q in queries:
                searcher._query_vectors.clear()  # cold: every query pays its own encoding
                t = time.perf_counter()
                searcher.search(q, k=10)
                lat.append((time.perf_counter() - t) * 1000)
            warm = []
            for q in queries:  # the same queries again: query vectors and parses come from the LRUs
                t = time.perf_counter()
                searcher.search(q, k=10)
                warm.append((time.perf_counter() - t) * 1000)
            gc.unfreeze()
        rows.append({"products": n, "catalog": "generated + real titles" if real else "generated",
                     "encoder": encoder_name, "dense_index": searcher.dense.type,
                     "build_s": round(build_s, 1), "distill_s": round(distill_s, 1),
                     "build_products_per_s": round(n / build_s),
                     "raw_encoder_texts_per_s": round(raw_rate),
                     "query_encode_p50_ms": round(float(np.percentile(enc_ms, 50)), 2),
                     "query_encode_p99_ms": round(float(np.percentile(enc_ms, 99)), 2),
                     # e5-static: queries whose words were all known (no teacher call) and how many were
                     "query_encode_known_words_p99_ms": round(float(np.percentile(known_ms, 99)), 2) if known_ms else None,
                     "queries_with_known_words": len(known_ms),
                     "p50_ms": round(float(np.percentile(lat, 50)), 1),
                     "p99_ms": round(float(np.percentile(lat, 99)), 1),
                     "warm_p50_ms": round(float(np.percentile(warm, 50)), 1),
                     "warm_p99_ms": round(float(np.percentile(warm, 99)), 1),
                     "rss_mb": round(psutil.Process().memory_info().rss / 2**20)})
    print(f"{'products':>9} {'index':>6} {'build s':>8} {'prod/s':>7} {'raw enc/s':>9} {'enc p99':>7} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'warm p99':>8} {'RSS MB':>7}")
    for r in rows:
        print(f"{r['products']:>9,} {r['dense_index']:>6} {r['build_s']:>8} {r['build_products_per_s']:>7} "
              f"{r['raw_encoder_texts_per_s']:>9} {r['query_encode_p99_ms']:>7} {r['p50_ms']:>7} {r['p99_ms']:>7} "
              f"{r['warm_p99_ms']:>8} {r['rss_mb']:>7}")
    if once_s is not None:
        print(f"(common words, learned once per machine before the first catalog: {once_s} s)")
    return {"speed": rows, "common_words_once_s": once_s}


def _speed_queries(products: list[Product], n: int) -> list[str]:
    rng = np.random.default_rng(0)
    picks = rng.choice(len(products), size=n, replace=False)
    out = []
    for i, idx in enumerate(picks):
        p = products[int(idx)]
        words = p.text("zh")[0] if i % 2 else p.text("en")[0]
        out.append(f"{words[: 12 + i % 20]} {'under ¥500' if i % 3 == 0 else ''}".strip())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--encoders", nargs="+", default=["e5-multilingual", "minilm", "e5-static", "e5-static@2000",
                                                    "e5-static+passages"])
    s = sub.add_parser("speed")
    s.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    s.add_argument("--encoder", default="e5-multilingual")
    s.add_argument("--real", action="store_true",
                   help="every other product carries a real title and description from ../shared/datasets")
    args = ap.parse_args()
    result = quality(args.encoders) if args.what == "quality" else speed(args.sizes, args.encoder, real=args.real)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / (f"search_{args.what}.json" if args.what == "quality" else
                     f"search_speed_{args.encoder}{'_real' if args.real else ''}.json")
    meta = {**machine(),
            "command": "python bench/search.py " + " ".join(sys.argv[1:])}
    out.write_text(json.dumps({"meta": meta, **result}, indent=2, ensure_ascii=False))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
