"""MLM domain pretraining: does continuing MiniLM's masked-LM training on the store's own text help?

    python bench/pretrain.py [--budget 240] [--rec-budget 150]

For two stores — the ESCI catalog (658 real Amazon titles) and the demo store (2,000 products) — it reports
held-out masked-token perplexity before/after, dense and hybrid search nDCG@10 with the base MiniLM and with
the adapted encoder, and (demo only, which has events) daogou-rec test NDCG@10 with either encoder as its
text feature. JSON goes to bench/results/pretrain.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from search import RESULTS, demo_queries, esci, run_modes, store_with  # noqa: E402

from daogou.catalog.demo import DemoConfig  # noqa: E402
from daogou.catalog.demo_store import build_demo_store  # noqa: E402
from daogou.catalog.store import Store  # noqa: E402
from daogou.config import StoreConfig  # noqa: E402
from daogou.encode.mlm import MLMConfig, pretrain  # noqa: E402
from daogou.encode.product_text import product_text  # noqa: E402
from daogou.evaluate.protocols import evaluate  # noqa: E402
from daogou.rec.base import RECOMMENDERS  # noqa: E402
from daogou.rec.data import DataConfig, prepare  # noqa: E402
from daogou.rec.train import TrainConfig  # noqa: E402
from daogou.search.engine import SearchConfig, Searcher  # noqa: E402


def search_rows(home: Path, products, queries, encoder: str, label: str) -> list[dict]:
    with store_with(home, products) as store:
        s = Searcher.build(store, SearchConfig(encoder=encoder, understand=False), progress=False)
        return [r for r in run_modes(s, queries, label) if r["mode"] != "lexical"]


def rec_ndcg(home: Path, encoder: str, budget: float) -> dict:
    with Store.open(StoreConfig(home=home)) as store:
        prep = prepare(store, DataConfig(encoder=encoder))
    model = RECOMMENDERS.get("daogou-rec")(prep.data.items)
    result = model.fit(prep.data, TrainConfig(budget_s=budget, progress=False), log=lambda m: None)
    full = evaluate(model, prep.test, prep.data.item_counts())["full"]
    return {"encoder": Path(encoder).name, "ndcg@10": full["ndcg@10"], "hr@10": full["hr@10"],
            "epochs": len(result.history)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=240, help="MLM training seconds per store.")
    parser.add_argument("--rec-budget", type=float, default=150, help="daogou-rec training seconds per encoder.")
    args = parser.parse_args()
    work = RESULTS / "pretrain_home"
    out: dict = {"command": " ".join(["python", "bench/pretrain.py", *sys.argv[1:]])}
    t0 = time.perf_counter()

    esci_products, esci_qs = esci()
    esci_enc = work / "encoders" / "esci"
    out["esci_mlm"] = pretrain([product_text(p, ("en",)) for p in esci_products], esci_enc,
                               config=MLMConfig(epochs=10, budget_s=args.budget), progress=False)
    out["esci_search"] = (search_rows(work / "esci_base", esci_products, esci_qs, "minilm", "esci base")
                          + search_rows(work / "esci_mlm", esci_products, esci_qs, str(esci_enc), "esci mlm"))

    demo_home = work / "demo"
    with Store.open(StoreConfig(home=demo_home)) as store:
        build_demo_store(store, DemoConfig())
        texts = [product_text(p, ("en",)) for p in store.iter_products()]
    demo_enc = work / "encoders" / "demo"
    out["demo_mlm"] = pretrain(texts, demo_enc, config=MLMConfig(epochs=5, budget_s=args.budget), progress=False)
    demo_products, demo_qs = demo_queries()
    en = [q for q in demo_qs if q["lang"] == "en"]
    out["demo_search"] = (search_rows(work / "demo_base_s", demo_products, en, "minilm", "demo en base")
                          + search_rows(work / "demo_mlm_s", demo_products, en, str(demo_enc), "demo en mlm"))
    out["demo_rec"] = [rec_ndcg(demo_home, "minilm", args.rec_budget),
                       rec_ndcg(demo_home, str(demo_enc), args.rec_budget)]
    out["wall_s"] = round(time.perf_counter() - t0, 1)

    for key in ("esci_mlm", "demo_mlm"):
        m = out[key]
        print(f"{key}: held-out perplexity {m['perplexity_before']:.2f} → {m['perplexity_after']:.2f} "
              f"({m['train_texts']} train / {m['heldout_texts']} held-out texts, {m['seconds']}s)")
    print(f"\n{'set':<16} {'mode':<8} {'encoder':<50} {'nDCG@10':>8}")
    for r in out["esci_search"] + out["demo_search"]:
        print(f"{r['set']:<16} {r['mode']:<8} {Path(r['encoder']).name:<50} {r['ndcg@10']:>8}")
    print(f"\n{'daogou-rec text feature':<30} {'NDCG@10':>8} {'HR@10':>7}")
    for r in out["demo_rec"]:
        print(f"{r['encoder']:<30} {r['ndcg@10']:>8.4f} {r['hr@10']:>7.4f}")
    print(f"\nwall time {out['wall_s']:.0f}s")
    (RESULTS / "pretrain.json").write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
