"""Recommendation benchmark: daogou's models beside RecBole SASRec on the same split, plus two data questions.

    python bench/rec.py beauty [--budget 1200] [--full] [--models popularity,item-knn,recbole-sasrec,seed-bert,daogou-rec] [--seeds 0 1 2]
    python bench/rec.py beauty --full --models recbole-sasrec --resume   # RecBole to convergence over sittings
    python bench/rec.py beauty --full --models daogou-rec --label "filter a.7 lr5e-4" \
        --options '{"filter_alpha": 0.7, "filter_c": 5}' --train '{"lr": 0.0005}' --out rec_beauty_variants
    python bench/rec.py taobao [--budget 600]      # does browsing history help next-purchase prediction?
    python bench/rec.py movielens [--budget 300]   # cold-start items: content (titles, genres) vs ID-only
    python bench/rec.py demo [--budget 300] [--seeds 0 1 2] [--patience 15]   # next event vs next session's purchase

beauty: Amazon Beauty (S3-Rec files) imported with its item2attributes as content; leave-one-out, full ranking
over all 12,101 items without history masking (RecBole's protocol). Every trained model gets the same wall-clock
training budget (default 20 minutes; ``--full`` trains each to early-stopping convergence instead). RecBole
SASRec runs in its own virtual environment on the same split (bench/recbole_sasrec.py).
Each daogou model trains in its own subprocess so its peak memory is its own. Tables are printed and JSON is
written to bench/results/rec_<dataset>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from _common import machine  # noqa: E402  (bench/ is on sys.path when a script runs)

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("DAOGOU_DATASETS", ROOT.parent / "shared" / "datasets"))
RESULTS = ROOT / "bench" / "results"
PUBLISHED = [  # S3-Rec paper (CIKM 2020), Beauty, full ranking
    {"model": "SASRec (S3-Rec paper)", "ndcg@10": 0.0318, "hr@10": 0.0605},
    {"model": "S3-Rec (S3-Rec paper)", "ndcg@10": 0.0327, "hr@10": 0.0647},
    # BSARec (AAAI 2024) on the same files, its code's protocol: the shopper's history masked out of the ranking
    {"model": "BSARec (BSARec paper)", "masked": {"ndcg@10": 0.0611, "hr@10": 0.1008}},
]
METRICS = ("ndcg@10", "hr@10", "ndcg@20", "hr@20", "mrr")
IMPORTS = {
    "beauty": ["amazon-seq", "amazon_s3rec/Beauty.txt", "--attributes", "amazon_s3rec/Beauty_item2attributes.json"],
    "taobao": ["taobao", "taobao_userbehavior_head/UserBehavior_head84k.csv"],
    "movielens": ["recbole", "movielens_100k_recbole"],
}


def home_for(dataset: str) -> Path:
    """A store holding the dataset (imported once, reused by later runs)."""
    home = RESULTS / "rec_home" / dataset
    if not (home / "daogou.db").exists():
        fmt, path, *rest = IMPORTS[dataset]
        rest = [str(DATASETS / r) if r.endswith(".json") else r for r in rest]
        subprocess.run([sys.executable, "-m", "daogou.cli", "--home", str(home), "import", fmt,
                        str(DATASETS / path), *rest, "--json"], check=True, capture_output=True)
    return home


# ---------------------------------------------------------------- one model in a subprocess

def worker(args: argparse.Namespace) -> None:
    """Train + evaluate one model; print one JSON line. Runs in its own process."""
    import numpy as np

    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    from daogou.evaluate.protocols import evaluate
    from daogou.rec.base import RECOMMENDERS
    from daogou.rec.data import DataConfig, prepare
    from daogou.rec.workflow import train_config_for
    spec = json.loads(args.spec)
    with Store.open(StoreConfig(home=Path(spec["home"]))) as store:
        data_cfg = DataConfig(encoder=spec.get("encoder"), inputs=tuple(spec["inputs"]) if spec.get("inputs") else None,
                              history=spec.get("history", "event"))
        prep = prepare(store, data_cfg)
    if spec.get("cold_fraction"):
        prep = _with_cold_items(prep, spec["cold_fraction"], spec.get("split_seed", 0))  # one split for every seed
    name = spec["model"]
    model = RECOMMENDERS.get(name)(prep.data.items, **spec.get("options", {}))
    tc = train_config_for(name, budget_s=spec.get("budget"), epochs=spec.get("epochs", 10_000),
                          patience=spec.get("patience", 5), progress=False, seed=spec.get("seed", 0),
                          **spec.get("train", {}))
    started, cpu0 = time.perf_counter(), _cpu_s()
    result = model.fit(prep.data, tc, log=lambda m: print(m, file=sys.stderr, flush=True))
    train_s, train_cpu_s = time.perf_counter() - started, _cpu_s() - cpu0
    report = evaluate(model, prep.test, prep.data.item_counts())
    masked = evaluate(model, prep.test, prep.data.item_counts(), mask_history=True)["full"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"model": spec.get("label", name), "train_s": round(train_s, 1),
                      "train_cpu_s": round(train_cpu_s, 1),
                      "epochs": len(result.history) or None, "best_epoch": result.best_epoch,
                      "valid_ndcg@10": result.best_metric if np.isfinite(result.best_metric) else None,
                      "stopped": result.stopped, "peak_rss_mb": round(peak_mb), "history": result.history,
                      "untrained_valid": result.untrained_metric,
                      **{k: report["full"][k] for k in (*METRICS, "cases")},
                      "sampled_100_ndcg@10": report["sampled_100"]["ndcg@10"],
                      "masked": {k: masked[k] for k in METRICS},
                      "cold": report.get("cold_targets"), "by_history_length": report["by_history_length"]}))


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _with_cold_items(prep, fraction: float, seed: int):
    """Hold a random ``fraction`` of items out of training entirely: their events leave the training data
    (histories still show them), so test targets among them are true cold-start items."""
    import numpy as np

    from daogou.rec.base import TrainData
    from daogou.rec.sequences import EventSequences
    rng = np.random.default_rng(seed)
    ids = np.array(prep.data.items.ids)
    cold = set(ids[rng.random(len(ids)) < fraction].tolist())
    train_frame = prep.split.train[~prep.split.train["product_id"].isin(cold)]
    train = EventSequences.from_frame(train_frame, prep.data.items)
    data = TrainData(prep.data.items, train, prep.data.valid, prep.data.query_vectors, prep.data.fingerprint + "-cold")
    return type(prep)(data, prep.test, prep.split, prep.config)


def run_model(spec: dict) -> dict:
    """Train one model in a subprocess; its epoch lines are shown as they come (long runs can be watched)."""
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([sys.executable, __file__, "_worker", json.dumps(spec)], stdout=out,
                                stderr=subprocess.PIPE, text=True, cwd=ROOT)
        err = []
        for line in proc.stderr:
            err.append(line)
            if line.startswith("epoch"):
                print(f"  {spec.get('label', spec['model'])}: {line.rstrip()}", flush=True)
        proc.wait()
        out.seek(0)
        stdout = out.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{spec['model']} failed:\n{''.join(err)[-3000:]}")
    return json.loads(stdout.strip().splitlines()[-1])


def run_seeds(spec: dict, seeds: list[int]) -> dict:
    """One row trained with each of ``seeds`` (same data and split): the metrics' mean, each seed's figures and
    the spread; the first seed's run gives the rest of the row (curve, times)."""
    import numpy as np
    runs = [run_model({**spec, "seed": seed}) for seed in seeds]
    if len(runs) == 1:
        return runs[0]
    mean = lambda values: float(np.mean(values))  # noqa: E731
    row = dict(runs[0])
    row.update({k: mean([r[k] for r in runs]) for k in METRICS})
    row["masked"] = {k: mean([r["masked"][k] for r in runs]) for k in METRICS}
    if all((r.get("cold") or {}).get("cases") for r in runs):
        row["cold"] = {**runs[0]["cold"], **{k: mean([r["cold"][k] for r in runs]) for k in ("ndcg@10", "hr@20")}}
    row["seeds"] = [{"seed": seed, "ndcg@10": r["ndcg@10"], "masked_ndcg@10": r["masked"]["ndcg@10"],
                     "cold_hr@20": (r.get("cold") or {}).get("hr@20"), "epochs": r["epochs"], "train_s": r["train_s"]}
                    for seed, r in zip(seeds, runs)]
    return row


# ---------------------------------------------------------------- the benchmarks

def beauty(args: argparse.Namespace) -> dict:
    home = home_for("beauty")
    budget = None if args.full else args.budget
    rows = []
    for name in args.models.split(","):
        t0 = time.perf_counter()
        print(f"[{time.strftime('%H:%M:%S')}] {name} …", flush=True)
        if name == "recbole-sasrec":
            rows.append(_recbole(home, budget, args.full, args.resume))
        else:
            spec = {"home": str(home), "model": name, "budget": budget, "encoder": None,
                    "patience": args.patience or (10 if args.full else 5)}
            if name == "daogou-rec" and (args.options or args.train):  # a variant: its options and training
                spec.update(options=json.loads(args.options or "{}"), train=json.loads(args.train or "{}"))
            if name == "seed-bert" and not args.full:
                spec["budget"] = args.seed_bert_budget or budget
            rows.append(run_seeds(spec, args.seeds) if name == "daogou-rec" else run_model(spec))
            if name == "daogou-rec":  # what the row was trained with, for its table
                rows[-1].update(options=spec.get("options", {}), train=spec.get("train", {}),
                                patience=spec["patience"], seed=args.seeds[0] if len(args.seeds) == 1 else None)
        if args.label:
            rows[-1]["label"] = args.label
        rows[-1]["wall_s"] = round(time.perf_counter() - t0, 1)
        rows[-1]["run"] = {"finished_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                           "command": " ".join(["python", "bench/rec.py", *sys.argv[1:]])}
    return {"dataset": "Amazon Beauty (S3-Rec)", "budget_s": budget, "full": args.full, "rows": rows,
            "published": PUBLISHED}


def _recbole(home: Path, budget: float | None, full: bool, resume: bool = False) -> dict:
    sys.path.insert(0, str(ROOT / "bench"))
    from recbole_sasrec import run_sasrec

    from daogou.catalog.splits import leave_one_out
    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    with Store.open(StoreConfig(home=home)) as store:
        split = leave_one_out(store.events_frame())
    items = split.events[split.events["product_id"].notna()]
    sequences = {s: g.tolist() for s, g in items.groupby("shopper_id", sort=False)["product_id"]}
    log = (lambda m: print(m, flush=True)) if resume else (lambda m: None)  # a resumed run says where it is
    r = run_sasrec(sequences, RESULTS / "recbole_work", budget, full=full, log=log, resume=resume)
    return {"model": "RecBole SASRec", "train_s": r["train_s"], "train_cpu_s": r.get("train_cpu_s"),
            "epochs": r["epochs"], "peak_rss_mb":
            round(r["peak_rss_mb"]), "ndcg@10": r["ndcg@10"], "hr@10": r["hr@10"], "ndcg@20": r["ndcg@20"],
            "hr@20": r["hr@20"], "mrr": r.get("mrr@10"), "valid_ndcg@10": r["valid_ndcg@10"],
            "valid_curve": r["valid_curve"]}


def taobao(args: argparse.Namespace) -> dict:
    home = home_for("taobao")
    rows = []
    for label, inputs in (("daogou-rec, browse + purchases", None), ("daogou-rec, purchases only", ["purchase"])):
        rows.append(run_seeds({"home": str(home), "model": "daogou-rec", "label": label, "inputs": inputs,
                               "budget": args.budget, "encoder": None}, args.seeds if inputs is None else [0]))
    for name in ("popularity", "item-knn"):
        rows.append(run_model({"home": str(home), "model": name, "encoder": None}))
    return {"dataset": "Taobao UserBehavior (head)", "budget_s": args.budget, "rows": rows}


def movielens(args: argparse.Namespace) -> dict:
    home = home_for("movielens")
    rows = []
    # (label, encoder, options, headline: trained once per --seeds seed)
    variants = (("daogou-rec, ID only", None, {"use_text": False, "use_tokens": False}, False),
                ("daogou-rec, ID + genres + title text", "minilm", {}, False),
                ("daogou-rec, content only (no IDs)", "minilm", {"use_ids": False}, False),
                ("daogou-rec, ID + content, ID dropout 0.5", "minilm", {"id_dropout": 0.5}, False),
                # new products are no negatives: items without a training event are left out of the loss
                ("daogou-rec, content only, new items not negatives", "minilm",
                 {"use_ids": False, "unseen_negatives": False}, True),
                ("daogou-rec, ID + content, new items not negatives", "minilm", {"unseen_negatives": False}, True),
                ("daogou-rec, ID + content, ID dropout 0.5 + ID-free offset, new items not negatives", "minilm",
                 {"id_dropout": 0.5, "id_free_bias": True, "unseen_negatives": False}, False),
                # a content head: items without an ID ranked by what their content says, known ones as before
                ("daogou-rec, ID + content + content head 1, new items not negatives", "minilm",
                 {"content_head": 1.0, "unseen_negatives": False}, False),
                ("daogou-rec, ID + content + content head 3, new items not negatives", "minilm",
                 {"content_head": 3.0, "unseen_negatives": False}, False))
    for label, encoder, options, headline in variants:
        rows.append(run_seeds({"home": str(home), "model": "daogou-rec", "label": label, "encoder": encoder,
                               "options": options, "budget": args.budget, "cold_fraction": 0.2},
                              args.seeds if headline else [0]))
    rows.append(run_model({"home": str(home), "model": "popularity", "cold_fraction": 0.2}))
    return {"dataset": "MovieLens-100k, 20% of items held out of training", "budget_s": args.budget,
            "rows": rows}


def demo(args: argparse.Namespace) -> dict:
    """The demo store under both history protocols: with every event before the target, the purchase is almost
    always the product carted a moment before (the repeat bonus finds it from the first epoch, and validation can
    only fall); with the shopper's earlier sessions and the session's search only, the model has to learn taste."""
    home = RESULTS / "rec_home" / "demo"
    if not (home / "daogou.db").exists():
        subprocess.run([sys.executable, "-m", "daogou.cli", "--home", str(home), "demo", "--store-only", "--json"],
                       check=True, capture_output=True)
    rows = []
    for history, what in (("event", "every event before the target"),
                          ("session", "earlier sessions + the session's search")):
        spec = {"home": str(home), "encoder": "e5-multilingual", "history": history}
        rows.append(run_seeds({**spec, "model": "daogou-rec", "label": f"daogou-rec — {what}",
                               "budget": args.budget, "patience": args.patience or 5}, args.seeds))
        for name in ("item-knn", "popularity"):
            rows.append(run_model({**spec, "model": name, "label": f"{name} — {what}"}))
    return {"dataset": "demo store (2,000 products, generated shoppers)", "budget_s": args.budget, "rows": rows}


def print_table(result: dict) -> None:
    print(f"\n{result['dataset']} — full ranking, test set")
    head = f"{'model':<40} {'NDCG@10':>8} {'HR@10':>7} {'MRR':>7} {'cold NDCG@10':>13} {'train s':>8} " \
           f"{'CPU s':>7} {'epochs':>6} {'peak MB':>8}"
    print(head)
    print("-" * len(head))
    for r in result["rows"] + result.get("published", []):
        cold = (r.get("cold") or {}).get("ndcg@10") if (r.get("cold") or {}).get("cases") else None
        fmt = lambda v, w, p=4: f"{v:>{w}.{p}f}" if isinstance(v, float) else f"{'' if v is None else v:>{w}}"
        print(f"{r.get('label') or r['model']:<40} {fmt(r.get('ndcg@10'), 8)} {fmt(r.get('hr@10'), 7)} {fmt(r.get('mrr'), 7)} "
              f"{fmt(cold, 13)} {fmt(r.get('train_s'), 8, 0)} {fmt(r.get('train_cpu_s'), 7, 0)} "
              f"{fmt(r.get('epochs'), 6)} "
              f"{fmt(r.get('peak_rss_mb'), 8)}")
    by = {r["model"]: r for r in result["rows"]}
    if "daogou-rec" in by and "RecBole SASRec" in by and by["RecBole SASRec"]["ndcg@10"]:
        ratio = by["daogou-rec"]["ndcg@10"] / by["RecBole SASRec"]["ndcg@10"]
        print(f"\ndaogou-rec / RecBole SASRec NDCG@10 = {ratio:.2f}×")
        result["ratio_vs_recbole"] = ratio


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        return worker(argparse.Namespace(spec=sys.argv[2]))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", choices=["beauty", "taobao", "movielens", "demo"])
    parser.add_argument("--budget", type=float, default=1200, help="Training seconds per model (default 1200).")
    parser.add_argument("--seed-bert-budget", type=float, help="Override the budget for seed-bert only.")
    parser.add_argument("--full", action="store_true", help="Train each model to convergence (no budget).")
    parser.add_argument("--resume", action="store_true",
                        help="RecBole SASRec continues a stopped run from its last finished epoch (hours to converge "
                             "on Beauty); with --full, rows of models not run this time are kept in the JSON")
    parser.add_argument("--models", default="popularity,item-knn,recbole-sasrec,seed-bert,daogou-rec")
    parser.add_argument("--patience", type=int, default=None,
                        help="Early-stopping patience (default 5; beauty --full: 10).")
    parser.add_argument("--options", help="beauty: daogou-rec model options as JSON (a variant), e.g. "
                                          "'{\"filter_alpha\": 0.7}'")
    parser.add_argument("--train", help="beauty: daogou-rec training overrides as JSON, e.g. '{\"lr\": 0.0005}'")
    parser.add_argument("--label", help="beauty: the row's name in the table and JSON (rows are kept by it)")
    parser.add_argument("--out", help="results file name under bench/results (default rec_<dataset>[_full].json)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="Train the headline daogou-rec rows once per seed; tables show the mean and the spread.")
    args = parser.parse_args()
    started = time.perf_counter()
    result = {"beauty": beauty, "taobao": taobao, "movielens": movielens, "demo": demo}[args.dataset](args)
    result.update({"meta": machine(), "command": " ".join(["python", "bench/rec.py", *sys.argv[1:]]),
                   "wall_s": round(time.perf_counter() - started, 1), "machine": platform.platform(),
                   "cpus": os.cpu_count()})
    print_table(result)
    print(f"\nwall time {result['wall_s']:.0f}s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / (f"{args.out.removesuffix('.json')}.json" if args.out else
                     f"rec_{args.dataset}{'_full' if args.full else ''}.json")
    if args.full and out.exists() and "rows" in result:  # convergence runs of each model may be sittings apart
        key = lambda r: r.get("label") or r["model"]  # noqa: E731
        ran = {key(r) for r in result["rows"]}
        kept = [r for r in json.loads(out.read_text(encoding="utf-8")).get("rows", []) if key(r) not in ran]
        result["rows"] = kept + result["rows"]
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
