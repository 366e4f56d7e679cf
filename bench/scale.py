"""Scaling: dense index build/search by catalog size, event import and training epochs by log size.

    python bench/scale.py [--products 10000 100000 1000000] [--events 100000 1000000 10000000]
                          [--workers 1 2] [--train-budget 60] [--out bench/results/scale.json]

Products: synthetic clustered unit vectors (384-d, as MiniLM/E5 give) written to a .npy file, indexed as
``daogou index`` does (index type chosen by size; the vectors stay memory-mapped), then 300 single queries
timed, unfiltered and under a filter keeping half the catalog; recall@10 against exact search. Query encoding
is not included (it is the same at every size). Events: the generated log of ``daogou.catalog.synthetic``
imported with ``daogou import events`` into a fresh SQLite store; then one budgeted epoch of daogou-rec
(no text features) in one process and on N Ray Train workers; the seconds of a full epoch are projected from
the steps done in the budget. Every measurement runs in its own process; peak RSS is the largest process.
Writes JSON and PNG plots next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import machine  # noqa: E402  (bench/ is on sys.path when a script runs)

ROOT = Path(__file__).resolve().parents[1]
DIM = 384


# ---------------------------------------------------------------- children (one measurement each)

def write_vectors(path: Path, n: int, seed: int = 0, chunk: int = 100_000) -> Path:
    """Unit vectors like text embeddings: clustered in a low-dimensional latent space (32-d, one cluster per
    ~500 products) mapped into 384 dimensions, plus a little noise. Written chunk by chunk to a .npy file."""
    rng = np.random.default_rng(seed)
    latent = 32
    centres = rng.normal(size=(max(n // 500, 16), latent)).astype(np.float32)
    lift = rng.normal(size=(latent, DIM)).astype(np.float32) / np.sqrt(latent)
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f4", "fortran_order": False, "shape": (n, DIM)})
        for lo in range(0, n, chunk):
            m = min(chunk, n - lo)
            z = centres[rng.integers(0, len(centres), m)] + 0.6 * rng.normal(size=(m, latent)).astype(np.float32)
            x = z @ lift + 0.1 * rng.normal(size=(m, DIM)).astype(np.float32)
            (x / np.linalg.norm(x, axis=1, keepdims=True)).astype("<f4").tofile(fh)
    return path


def child_index(path: Path) -> dict:
    from daogou.search.dense import DenseIndex, iter_chunks, read_rows
    vectors = np.load(path, mmap_mode="r")
    started = time.perf_counter()
    index = DenseIndex(vectors)
    build_s = time.perf_counter() - started
    rng = np.random.default_rng(1)
    picks = np.sort(rng.choice(len(vectors), 300, replace=False))
    queries = read_rows(vectors, picks) + 0.03 * rng.normal(size=(300, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    mask = rng.random(len(vectors)) < 0.5
    plain, filtered, found = [], [], []
    for q in queries:
        t = time.perf_counter()
        rows, _ = index.search(q, 10)
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        index.search(q, 10, mask)
        filtered.append(time.perf_counter() - t)
        found.append(rows)
    exact = np.full((100, 10), -1)
    best = np.full((100, 10), -np.inf, dtype=np.float32)
    for lo, block in iter_chunks(vectors, 100_000):  # exact top-10 of the first 100 queries, one pass
        sims = block @ queries[:100].T
        both = np.concatenate([best, sims.T], 1)
        rows = np.concatenate([exact, np.arange(lo, lo + len(block))[None].repeat(100, 0)], 1)
        top = np.argsort(-both, 1)[:, :10]
        best, exact = np.take_along_axis(both, top, 1), np.take_along_axis(rows, top, 1)
    recall = np.mean([len(set(found[i].tolist()) & set(exact[i].tolist())) / 10 for i in range(100)])
    ms = lambda xs, p: round(float(np.percentile(xs, p)) * 1000, 2)  # noqa: E731
    return {"products": len(vectors), "index": index.type, "build_s": round(build_s, 1),
            "p50_ms": ms(plain, 50), "p99_ms": ms(plain, 99), "filtered_p99_ms": ms(filtered, 99),
            "recall@10": round(float(recall), 3)}


def child_train(home: Path, workers: int, budget: float) -> dict:
    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    from daogou.rec.data import DataConfig, prepare
    from daogou.rec.workflow import train, train_config_for
    config = train_config_for("daogou-rec", epochs=1, budget_s=budget, progress=False,
                              threads=2 if workers == 1 else 1)
    data = DataConfig(encoder=None)
    started = time.perf_counter()
    if workers == 1:
        with Store.open(StoreConfig(home=home)) as store:
            prepared = prepare(store, data)
            prepare_s = time.perf_counter() - started
            _, result, _ = train(store, "daogou-rec", data, config, home / "models" / "w1", prepared=prepared,
                                 log=lambda m: None)
    else:
        from daogou.cluster import RayConfig
        from daogou.rec.distributed import train_ray
        prepare_s = None
        _, result, _ = train_ray(StoreConfig(home=home), "daogou-rec", data, config, home / "models" / "wn",
                                 ray_config=RayConfig(workers=workers), log=lambda m: None)
    epoch = result.history[0]
    per_step = epoch["train_s"] / max(epoch["steps"], 1)
    return {"workers": workers, "steps": epoch["steps"], "epoch_steps": epoch["epoch_steps"],
            "train_s": epoch["train_s"], "epoch_s": round(per_step * epoch["epoch_steps"], 1),
            "prepare_s": None if prepare_s is None else round(prepare_s, 1),
            "wall_s": round(time.perf_counter() - started, 1)}


def run_child(*args: str) -> dict:
    """One measurement in a fresh process: its JSON result plus the peak RSS of the largest process among it
    and its descendants (the import's parser, Ray's workers), sampled every 0.1 s."""
    import psutil
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, __file__, "_child", *args], stdout=out, stderr=err, text=True,
                                cwd=ROOT)
        peak, root = 0, psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                family = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in family:
                try:
                    peak = max(peak, p.memory_info().rss)
                except psutil.Error:
                    pass
            time.sleep(0.1)
        proc.wait()
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{args} failed:\n{err.read()[-3000:]}")
        return json.loads(out.read().strip().splitlines()[-1]) | {"peak_rss_mb": round(peak / 2**20)}


def _child_main(kind: str, *args: str) -> None:
    if kind == "index":
        out = child_index(Path(args[0]))
    elif kind == "import":
        cmd = [sys.executable, "-m", "daogou.cli", "--home", args[1], "import", "events", args[0], "--json"]
        report = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout)
        seconds = sum(f["seconds"] for f in report["files"])
        events = report["totals"]["events_added"]
        out = {"events": events, "import_s": round(seconds, 1), "events_per_s": round(events / seconds)}
    else:
        out = child_train(Path(args[0]), int(args[1]), float(args[2]))
    print(json.dumps(out))


# ---------------------------------------------------------------- driver

def bench_products(sizes: list[int], tmp: Path) -> list[dict]:
    rows = []
    for n in sizes:
        path = write_vectors(tmp / f"vectors_{n}.npy", n)
        rows.append(run_child("index", str(path)))
        path.unlink()
        print(f"  {rows[-1]}", flush=True)
    return rows


def bench_events(sizes: list[int], workers: list[int], budget: float, train_max: int, tmp: Path) -> list[dict]:
    from daogou.catalog.synthetic import write_events_csv
    rows = []
    for n in sizes:
        started = time.perf_counter()
        path = write_events_csv(tmp / f"events_{n}.csv", n)
        home = tmp / f"home_{n}"
        row = run_child("import", str(path), str(home)) | {"csv_s": round(time.perf_counter() - started, 1)}
        path.unlink()
        row["training"] = [run_child("train", str(home), str(w), str(budget)) for w in workers] if n <= train_max \
            else []
        rows.append(row)
        print(f"  {row}", flush=True)
    return rows


def plot(results: dict, out: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(2, 2, figsize=(11, 8))
    p, e = results["products"], results["events"]
    if p:
        x = [r["products"] for r in p]
        ax[0, 0].plot(x, [r["build_s"] for r in p], "o-", label="build s")
        ax[0, 0].plot(x, [r["peak_rss_mb"] / 1024 for r in p], "s-", label="peak RSS GB")
        ax[0, 1].plot(x, [r["p50_ms"] for r in p], "o-", label="p50 ms")
        ax[0, 1].plot(x, [r["p99_ms"] for r in p], "s-", label="p99 ms")
        ax[0, 1].plot(x, [r["filtered_p99_ms"] for r in p], "^-", label="p99 ms, 50% filter")
        for r in p:
            ax[0, 1].annotate(r["index"], (r["products"], r["p99_ms"]))
    if e:
        x = [r["events"] for r in e]
        ax[1, 0].plot(x, [r["import_s"] for r in e], "o-", label="import s")
        ax[1, 0].plot(x, [r["peak_rss_mb"] / 1024 for r in e], "s-", label="peak RSS GB")
        for w in sorted({t["workers"] for r in e for t in r["training"]}):
            pts = [(r["events"], t["epoch_s"]) for r in e for t in r["training"] if t["workers"] == w]
            ax[1, 1].plot(*zip(*pts), "o-", label=f"{w} worker{'s' if w > 1 else ''}")
    for a, series in ((ax[0, 0], [(r["products"], r["build_s"]) for r in p]),
                      (ax[1, 0], [(r["events"], r["import_s"]) for r in e])):
        if len(series) > 1:  # the line a linear cost would follow from the smallest size
            xs = np.array([x for x, _ in series], dtype=float)
            a.plot(xs, series[0][1] * xs / xs[0], ":", color="grey", label="linear")
    titles = ["index build (products)", "search latency (products)", "event import (events)",
              "daogou-rec seconds per epoch (events)"]
    for a, title in zip(ax.flat, titles):
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_title(title)
        a.grid(True, which="both", alpha=0.3)
        if a.get_legend_handles_labels()[0]:
            a.legend()
    fig.tight_layout()
    png = out.with_suffix(".png")
    fig.savefig(png, dpi=110)
    return png


def print_tables(results: dict) -> None:
    print(f"\n{'products':>10} {'index':>6} {'build s':>8} {'peak RSS MB':>12} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'filt p99':>9} {'recall@10':>9}")
    for r in results["products"]:
        print(f"{r['products']:>10,} {r['index']:>6} {r['build_s']:>8} {r['peak_rss_mb']:>12,} {r['p50_ms']:>7} "
              f"{r['p99_ms']:>7} {r['filtered_p99_ms']:>9} {r['recall@10']:>9}")
    print(f"\n{'events':>11} {'import s':>9} {'events/s':>9} {'peak RSS MB':>12} {'epoch s (workers)':>30}")
    for r in results["events"]:
        epochs = ", ".join(f"{t['epoch_s']} ({t['workers']})" for t in r["training"]) or "–"
        print(f"{r['events']:>11,} {r['import_s']:>9} {r['events_per_s']:>9,} {r['peak_rss_mb']:>12,} {epochs:>30}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--products", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--events", type=int, nargs="*", default=[100_000, 1_000_000, 10_000_000])
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2], help="training runs per log size")
    ap.add_argument("--train-budget", type=float, default=60, help="seconds of training per run (one epoch cap)")
    ap.add_argument("--train-max-events", type=int, default=1_000_000, help="train only on logs up to this size")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale.json")
    args = ap.parse_args()
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=os.environ.get("DAOGOU_BENCH_TMP")) as tmp:
        results = {"products": bench_products(args.products, Path(tmp)),
                   "events": bench_events(args.events, args.workers, args.train_budget, args.train_max_events,
                                          Path(tmp))}
    print_tables(results)
    meta = {**machine(), "load_avg": [round(x, 2) for x in load_before],
            "command": "python bench/scale.py " + " ".join(sys.argv[1:]),
            "seconds": round(time.perf_counter() - started), "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in os.getloadavg()],
            "vectors": f"synthetic clustered unit vectors, {DIM}-d (no query encoding in the latencies)"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, **results}, indent=2))
    print(f"wrote {args.out} and {plot(results, args.out)}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        _child_main(*sys.argv[2:])
    elif len(sys.argv) > 2 and sys.argv[1] == "--plot-only":  # redraw the PNG from a results JSON
        print(plot(json.loads(Path(sys.argv[2]).read_text()), Path(sys.argv[2])))
    else:
        main()
