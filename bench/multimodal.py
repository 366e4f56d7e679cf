"""Pictures ablation: text-only / image-only / concat / gated / aligned.

    python bench/multimodal.py [all|fashion|demo] [--encoder minilm] [--home DIR] [--rec-epochs 30]

fashion: ../shared/datasets/fashion_product_images_subset_azusaw (278 real product photos with titles, article type
    and colour). Linear probe (logistic regression, 5-fold cross-validation) for article type and colour; the gated
    row trains the gate and the classifier together; the aligned row probes the pictures mapped into the text space.
    Text→image Recall@10 with the alignment head trained on the other folds (held-out products).
demo: the demo store (seed 0). Search nDCG@10 on "<colour> <category>" queries for colours that some products show
    only in their picture (relevant: every product of that colour and category; "hidden" counts only the ones whose
    text never says it), the ordinary known-answer queries of bench/search.py (where pictures add nothing), and
    daogou-rec test NDCG@10 (full ranking) without and with picture features.

Prints tables and writes bench/results/multimodal.json.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import machine  # noqa: E402  (bench/ is on sys.path when a script runs)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
FASHION = ROOT.parent / "shared" / "datasets" / "fashion_product_images_subset_azusaw"
IMAGE_ENCODER = "efficientnet-lite0"


# ---------------------------------------------------------------- fashion photos

def fashion(encoder_name: str, folds: int = 5, seed: int = 0) -> dict:
    from daogou.encode.base import get_encoder
    from daogou.encode.images import get_image_encoder, load_image
    with open(FASHION / "labels.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    started = time.perf_counter()
    x_i = get_image_encoder(IMAGE_ENCODER).encode([load_image(FASHION / r["image_file"]) for r in rows],
                                                  progress=True)
    image_s = time.perf_counter() - started
    x_t = get_encoder(encoder_name).encode([r["productDisplayName"] for r in rows], kind="query")
    labels = {"article type": [r["articleType"] for r in rows], "colour": [r["baseColour"] for r in rows]}
    fold_of = np.random.default_rng(seed).permutation(len(rows)) % folds
    out: dict = {"products": len(rows), "article_types": len(set(labels["article type"])),
                 "colours": len(set(labels["colour"])), "image_encode_s": round(image_s, 1), "rows": {}}
    aligned, recalls, randoms = np.zeros((len(rows), x_t.shape[1]), np.float32), [], []
    for f in range(folds):
        train, test = fold_of != f, fold_of == f
        head = _align(x_i[train], x_t[train], seed)
        aligned[test] = _project(head, x_i[test])
        recalls.append(_recall(x_t[test], aligned[test], 10))
        randoms.append(min(1.0, 10 / test.sum()))
    feats = {"text-only": x_t, "image-only": x_i, "concat": np.concatenate([x_t, x_i], 1), "aligned": None}
    for name in ("text-only", "image-only", "concat", "gated", "aligned"):
        row = {}
        for task, y in labels.items():
            if name == "gated":
                row[task] = _gated_probe(x_t, x_i, y, fold_of, seed)
            elif name == "aligned":
                row[task] = _probe_aligned(x_i, x_t, y, fold_of, seed)
            else:
                row[task] = _probe(feats[name], y, fold_of)
        out["rows"][name] = row
    out["rows"]["aligned"]["text→image recall@10"] = round(float(np.mean(recalls)), 4)
    out["random text→image recall@10"] = round(float(np.mean(randoms)), 4)
    out["majority"] = {t: round(max(y.count(v) for v in set(y)) / len(y), 4) for t, y in labels.items()}
    return out


def _probe(x: np.ndarray, y: list[str], fold_of: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    y = np.array(y)
    correct = 0
    for f in np.unique(fold_of):
        tr, te = fold_of != f, fold_of == f
        scaler = StandardScaler().fit(x[tr])
        clf = LogisticRegression(max_iter=3000, C=0.5).fit(scaler.transform(x[tr]), y[tr])
        correct += int((clf.predict(scaler.transform(x[te])) == y[te]).sum())
    return round(correct / len(y), 4)


def _probe_aligned(x_i, x_t, y, fold_of, seed) -> float:
    """The probe on pictures mapped into the text space by a head trained on the training folds only."""
    from sklearn.linear_model import LogisticRegression
    y = np.array(y)
    correct = 0
    for f in np.unique(fold_of):
        tr, te = fold_of != f, fold_of == f
        head = _align(x_i[tr], x_t[tr], seed)
        a_tr, a_te = _project(head, x_i[tr]), _project(head, x_i[te])
        clf = LogisticRegression(max_iter=3000, C=5.0).fit(a_tr, y[tr])
        correct += int((clf.predict(a_te) == y[te]).sum())
    return round(correct / len(y), 4)


def _gated_probe(x_t, x_i, y, fold_of, seed, epochs: int = 300) -> float:
    """Gated fusion + linear classifier trained together (cross-entropy), per fold."""
    import torch

    from daogou.encode.fusion import FusionConfig, GatedFusion
    classes = sorted(set(y))
    target = torch.tensor([classes.index(v) for v in y])
    t, i = torch.from_numpy(x_t), torch.from_numpy(x_i)
    correct = 0
    for f in np.unique(fold_of):
        torch.manual_seed(seed)
        tr, te = torch.from_numpy(fold_of != f), torch.from_numpy(fold_of == f)
        fusion = GatedFusion(FusionConfig("gated", x_t.shape[1], x_i.shape[1], 256, dropout=0.2))
        clf = torch.nn.Linear(256, len(classes))
        opt = torch.optim.AdamW(list(fusion.parameters()) + list(clf.parameters()), lr=3e-3, weight_decay=1e-2)
        for _ in range(epochs):
            fusion.train()
            logits = clf(torch.relu(fusion(t[tr], i[tr])[0]))
            loss = torch.nn.functional.cross_entropy(logits, target[tr])
            opt.zero_grad()
            loss.backward()
            opt.step()
        fusion.eval()
        with torch.no_grad():
            pred = clf(torch.relu(fusion(t[te], i[te])[0])).argmax(1)
        correct += int((pred == target[te]).sum())
    return round(correct / len(y), 4)


def _align(image, text, seed):
    from daogou.encode.align import AlignConfig, train_alignment
    cfg = AlignConfig(image_dim=image.shape[1], text_dim=text.shape[1], epochs=60, batch_size=64, seed=seed)
    return train_alignment(image, text, cfg).head


def _project(head, image):
    from daogou.encode.align import project
    return project(head, image)


def _recall(queries, items, k):
    from daogou.encode.align import recall_at_k
    return recall_at_k(queries, items, k)


# ---------------------------------------------------------------- demo store

def demo(encoder_name: str, home: Path, rec_epochs: int, with_rec: bool = True) -> dict:
    from daogou.catalog.demo import DemoConfig
    from daogou.catalog.demo_store import build_demo_store, load_demo_truth
    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    from daogou.encode.multimodal import MultimodalConfig, fit_store_alignment
    from daogou.search.engine import SearchConfig, Searcher
    out: dict = {"home": str(home), "encoder": encoder_name}
    with Store.open(StoreConfig(home)) as store:
        build_demo_store(store, DemoConfig(seed=0))
        truth = load_demo_truth(home)
        started = time.perf_counter()
        alignment = fit_store_alignment(store, MultimodalConfig(text_encoder=encoder_name,
                                                                image_encoder=IMAGE_ENCODER), progress=True)
        out["alignment"] = {**alignment.metrics, "seconds": round(time.perf_counter() - started, 1),
                            "with_picture": int(alignment.images.has_image.sum())}
        searchers = {
            "text-only": Searcher.build(store, SearchConfig(encoder=encoder_name)),
            "concat": Searcher.build(store, SearchConfig(encoder=encoder_name, images=IMAGE_ENCODER,
                                                         image_fusion="concat")),
            "aligned": Searcher.build(store, SearchConfig(encoder=encoder_name, images=IMAGE_ENCODER)),
            "aligned w=1": Searcher.build(store, SearchConfig(encoder=encoder_name, images=IMAGE_ENCODER,
                                                              weights={**SearchConfig().weights, "image": 1.0})),
        }
        hidden_q = hidden_colour_queries(searchers["text-only"].products, truth)
        ordinary_q = ordinary_queries()
        out["search"] = {"hidden_colour_queries": len(hidden_q), "ordinary_queries": len(ordinary_q), "rows": {}}
        for name in ("text-only", "image-only", "concat", "aligned", "aligned w=1"):
            s = searchers["aligned"] if name == "image-only" else searchers[name]
            run = (lambda q, s=s: image_only(s, q)) if name == "image-only" else \
                (lambda q, s=s: s.search(q, k=1000).ids())
            out["search"]["rows"][name] = score_queries(run, hidden_q, ordinary_q)
    if with_rec:
        out["rec"] = rec_rows(home, encoder_name, rec_epochs)
    return out


def hidden_colour_queries(products, truth) -> list[dict]:
    colour_of = {p.id: p.attributes.get("color") or truth.hidden_colour.get(p.id) for p in products}
    leaf_of = {p.id: " > ".join(p.category) for p in products}
    groups: dict[tuple[str, str], set[str]] = {}
    for pid, colour in truth.hidden_colour.items():
        groups.setdefault((colour, leaf_of[pid]), set()).add(pid)
    queries = []
    for (colour, cat), hidden in sorted(groups.items()):
        if len(hidden) < 2:
            continue
        relevant = {pid for pid in colour_of if colour_of[pid] == colour and leaf_of[pid] == cat}
        pool = {pid for pid, c in truth.hidden_colour.items() if leaf_of[pid] == cat}  # colour not in the text
        queries.append({"query": f"{colour} {cat.split(' > ')[-1].lower()}", "relevant": relevant,
                        "hidden": hidden, "pool": pool})
    return queries


def ordinary_queries() -> list[dict]:
    spec = importlib.util.spec_from_file_location("bench_search", ROOT / "bench" / "search.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    _, queries = mod.demo_queries(0)
    return [{"query": q["query"], "gain": q["gain"]} for q in queries]


def image_only(searcher, query: str) -> list[str]:
    idx, _ = searcher.images.by_text(searcher.query_vector(query), 1000, None)
    return [searcher.table.ids[i] for i in idx]


def score_queries(run, hidden_q: list[dict], ordinary_q: list[dict]) -> dict:
    h_all, h_hidden, h_pool, o_all = [], [], [], []
    for q in hidden_q:
        got = run(q["query"])
        h_all.append(_ndcg(got, {p: 1.0 for p in q["relevant"]}, 10))
        h_hidden.append(_ndcg(got, {p: 1.0 for p in q["hidden"]}, 10))
        # Among the products of the category whose text names no colour: are the right-coloured ones first?
        h_pool.append(_ndcg([p for p in got if p in q["pool"]], {p: 1.0 for p in q["hidden"]}, 10))
    for q in ordinary_q:
        o_all.append(_ndcg(run(q["query"]), q["gain"], 10))
    return {"hidden-colour nDCG@10": round(float(np.mean(h_all)), 4),
            "hidden-only nDCG@10": round(float(np.mean(h_hidden)), 4),
            "colourless-pool nDCG@10": round(float(np.mean(h_pool)), 4),
            "ordinary nDCG@10": round(float(np.mean(o_all)), 4)}


def _ndcg(ranked: list[str], gain: dict[str, float], k: int) -> float:
    dcg = sum(gain.get(p, 0.0) / np.log2(i + 2) for i, p in enumerate(ranked[:k]))
    ideal = sorted(gain.values(), reverse=True)[:k]
    best = sum(g / np.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best > 0 else 0.0


def rec_rows(home: Path, encoder_name: str, epochs: int) -> dict:
    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    from daogou.evaluate.protocols import evaluate
    from daogou.rec.base import RECOMMENDERS
    from daogou.rec.data import DataConfig, prepare
    from daogou.rec.workflow import train_config_for
    rows = {}
    specs = [("text-only", None, "sum"), ("text + image (sum)", IMAGE_ENCODER, "sum"),
             ("concat", IMAGE_ENCODER, "concat"), ("gated", IMAGE_ENCODER, "gated")]
    with Store.open(StoreConfig(home)) as store:
        prepared = {img: prepare(store, DataConfig(encoder=encoder_name, images=img)) for img in
                    (None, IMAGE_ENCODER)}
    for label, img, fusion in specs:
        prep = prepared[img]
        model = RECOMMENDERS.get("daogou-rec")(prep.data.items, fusion=fusion)
        tc = train_config_for("daogou-rec", epochs=epochs, patience=3, progress=False, seed=0)
        started = time.perf_counter()
        result = model.fit(prep.data, tc, log=lambda m: print(m, file=sys.stderr, flush=True))
        report = evaluate(model, prep.test, prep.data.item_counts())
        rows[label] = {"test NDCG@10": round(report["full"]["ndcg@10"], 4),
                       "test HR@10": round(report["full"]["hr@10"], 4),
                       "valid NDCG@10": round(result.best_metric, 4), "epochs": len(result.history),
                       "train_s": round(time.perf_counter() - started, 1)}
        print(label, rows[label], file=sys.stderr, flush=True)
    return rows


# ---------------------------------------------------------------- output

def print_tables(result: dict) -> None:
    if "fashion" in result:
        f = result["fashion"]
        print(f"\nfashion photos: {f['products']} products, {f['article_types']} article types, {f['colours']} colours"
              f" (majority class: {f['majority']['article type']:.3f} / {f['majority']['colour']:.3f})")
        print(f"{'features':<12} {'article type acc':>17} {'colour acc':>11} {'text→image R@10':>16}")
        for name, r in f["rows"].items():
            rec = r.get("text→image recall@10")
            print(f"{name:<12} {r['article type']:>17.3f} {r['colour']:>11.3f} "
                  f"{(f'{rec:.3f}' if rec is not None else '–'):>16}")
        print(f"{'random':<12} {'':>17} {'':>11} {f['random text→image recall@10']:>16.3f}")
    if "demo" in result:
        d = result["demo"]
        s = d["search"]
        print(f"\ndemo store search ({d['encoder']}): {s['hidden_colour_queries']} hidden-colour queries, "
              f"{s['ordinary_queries']} ordinary queries; alignment held-out R@10 "
              f"{d['alignment'].get('heldout_recall@10')} (random {d['alignment'].get('random_recall@10')})")
        print(f"{'search':<12} {'hidden-colour nDCG@10':>22} {'hidden-only nDCG@10':>20} "
              f"{'colourless-pool nDCG@10':>24} {'ordinary nDCG@10':>17}")
        for name, r in s["rows"].items():
            print(f"{name:<12} {r['hidden-colour nDCG@10']:>22.3f} {r['hidden-only nDCG@10']:>20.3f} "
                  f"{r['colourless-pool nDCG@10']:>24.3f} {r['ordinary nDCG@10']:>17.3f}")
        print(f"{'gated':<12} {'n/a: search has no labels to train a gate on':>61}")
        if "rec" not in d:
            return
        print(f"\n{'daogou-rec':<20} {'test NDCG@10':>13} {'test HR@10':>11} {'valid NDCG@10':>14} {'epochs':>7}")
        for name, r in d["rec"].items():
            print(f"{name:<20} {r['test NDCG@10']:>13.4f} {r['test HR@10']:>11.4f} {r['valid NDCG@10']:>14.4f} "
                  f"{r['epochs']:>7}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", choices=["all", "fashion", "demo"], default="all")
    ap.add_argument("--encoder", default="minilm")
    ap.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "daogou-bench-multimodal")
    ap.add_argument("--rec-epochs", type=int, default=30)
    ap.add_argument("--no-rec", action="store_true", help="demo: search only (skip the recommender rows)")
    args = ap.parse_args()
    result: dict = {"meta": machine(), "encoder": args.encoder, "image_encoder": IMAGE_ENCODER}
    if args.what in ("all", "fashion"):
        result["fashion"] = fashion(args.encoder)
    if args.what in ("all", "demo"):
        result["demo"] = demo(args.encoder, args.home, args.rec_epochs, with_rec=not args.no_rec)
    print_tables(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.what == "all" else f"_{args.what}" + ("_search" if args.no_rec else "")
    out = RESULTS / f"multimodal{suffix}.json"
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(f"\n→ {out}")


if __name__ == "__main__":
    main()
