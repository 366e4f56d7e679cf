"""Generation speed and grounding, per backend.

    python bench/generate.py [--n 100] [--backends template llamacpp openai] [--threads 1]

For 100 products of the demo store and of amazon_uk_toys_subset (../shared/datasets), writes short English copy
with each backend and measures:
  first token   latency to the model's first token (first attempt), p50 / p90, in ms; "shown" is the first
                text a page receives after the grounding hold-back;
  tokens/s      decode rate of first attempts after their first token (median of per-product rates);
  before        share of first drafts with at least one ungrounded price, number, brand or attribute value,
                and ungrounded claims per 100 drafts (the model's drafts are let finish so all are counted);
  after         ungrounded claims in what reaches the user (re-checked from scratch; the goal is 0),
                with the share fixed by the one retry and the share sent to the template fallback.
``openai`` runs against llama_cpp.server serving the same GGUF on loopback. Writes bench/results/generate.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

from daogou.catalog.demo import DemoConfig
from daogou.catalog.demo_store import build_demo_store
from daogou.catalog.importers import ImportOptions, run_import
from daogou.catalog.store import Store
from daogou.config import StoreConfig
from daogou.generate import Chunk, Done, Lexicon, LLMConfig, Writer, WriterConfig, copy_task, get_backend
from daogou.generate.llamacpp import default_model_path
from _common import machine  # noqa: E402  (bench/ is on sys.path when a script runs)

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("DAOGOU_DATASETS", ROOT.parent / "shared" / "datasets"))
RESULTS = ROOT / "bench" / "results"
TOYS_CSV = "amazon_uk_toys_subset/subset_productos_por_categoria_10_total_863_productos.csv"
TOYS_MAPPING = {"title": ["product_name"], "description": ["product_description"],
                "category": ["category", "subcategory_1", "subcategory_2", "subcategory_3", "subcategory_4"],
                "in_stock": ["number_available_in_stock"]}


def load(name: str, home: Path, n: int):
    store = Store.open(StoreConfig(home=home / name))
    if name == "demo":
        build_demo_store(store, DemoConfig())
    else:
        run_import(store, "products", DATASETS / TOYS_CSV,
                   ImportOptions(mapping=TOYS_MAPPING, currency="GBP", language="en"), progress=False)
    everything = list(store.iter_products())
    priced = [p for p in everything if p.price is not None]
    step = max(1, len(priced) // n)
    return priced[::step][:n], Lexicon.from_products(everything), store


def start_server(gguf: Path, threads: int):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
                             "--port", str(port), "--n_threads", str(threads), "--n_threads_batch", str(threads),
                             "--n_ctx", "4096"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    for _ in range(600):
        try:
            urllib.request.urlopen(base + "/models", timeout=2).read()
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("llama_cpp.server did not start")


def run_backend(backend, products, lexicon) -> dict:
    writer = Writer(backend, lexicon, WriterConfig(stop_at_violation=False))
    shown_ms, first_ms, rates, leaked, kinds, examples = [], [], [], 0, Counter(), []
    started = time.perf_counter()
    for p in products:
        task = copy_task(p)
        t0 = time.perf_counter()
        first_shown = None
        for event in writer.stream(task):
            if isinstance(event, Chunk) and first_shown is None:
                first_shown = time.perf_counter() - t0
            if isinstance(event, Done):
                result = event.result
        shown_ms.append(1000 * (first_shown or 0.0))
        kinds.update(v.kind for v in result.rejected)
        examples += [f"{p.id}: {v.kind} {v.value!r}" for v in result.rejected][:max(0, 12 - len(examples))]
        subjects, context = task.truths()
        leaked += len(writer.checker.check(result.text, subjects, context))
        if result.first_token_s is not None:
            first_ms.append(1000 * result.first_token_s)
            if result.tokens > 1 and result.attempt_s > result.first_token_s:
                rates.append((result.tokens - 1) / (result.attempt_s - result.first_token_s))
    s = writer.stats
    model = s.model_attempts > 0
    n = len(products)
    return {
        "backend": backend.name, "model": backend.model_id, "products": n,
        "first_token_ms_p50": _pct(first_ms, 50), "first_token_ms_p90": _pct(first_ms, 90),
        "first_shown_ms_p50": _pct(shown_ms, 50), "tokens_per_s": round(statistics.median(rates), 1) if rates else None,
        "drafts_ungrounded_pct": round(100 * s.violations_first / n, 1) if model else None,
        "claims_per_100_drafts": round(100 * s.claims_first / n, 1) if model else None,
        "fixed_by_retry_pct": round(100 * s.retry_ok / n, 1) if model else None,
        "template_fallback_pct": round(100 * s.fallbacks / n, 1) if model else None,
        "broken_attempts": s.broken, "ungrounded_shown": leaked, "rejected_by_kind": dict(kinds),
        "rejected_examples": examples, "seconds": round(time.perf_counter() - started, 1),
        "stats": s.to_dict()}


def _pct(values: list[float], q: int):
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))], 1)


def table(rows: list[dict]) -> str:
    def cell(v, fmt="{:g}"):
        return "–" if v is None else fmt.format(v)
    head = ("| dataset | backend | first token p50 / p90 ms | first shown p50 ms | tokens/s | drafts ungrounded "
            "| claims /100 drafts | fixed by retry | template fallback | ungrounded shown |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        lines.append(f"| {r['dataset']} | {r['backend']} | {cell(r['first_token_ms_p50'])} / "
                     f"{cell(r['first_token_ms_p90'])} | {cell(r['first_shown_ms_p50'])} | {cell(r['tokens_per_s'])} | "
                     f"{cell(r['drafts_ungrounded_pct'], '{:g}%')} | {cell(r['claims_per_100_drafts'])} | "
                     f"{cell(r['fixed_by_retry_pct'], '{:g}%')} | {cell(r['template_fallback_pct'], '{:g}%')} | "
                     f"{r['ungrounded_shown']} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--backends", nargs="+", default=["template", "llamacpp", "openai"])
    ap.add_argument("--datasets", nargs="+", default=["demo", "toys"])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the server started below is stopped too
    gguf = default_model_path()
    load_before = [round(x, 2) for x in os.getloadavg()]  # other work on the cores slows every model number
    rows = []
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for name in args.datasets:
                products, lexicon, store = load(name, Path(tmp), args.n)
                for backend_name in args.backends:
                    config = LLMConfig(backend=backend_name, n_threads=args.threads, n_threads_batch=args.threads)
                    if backend_name == "openai":
                        server = server or start_server(gguf, args.threads)
                        config = LLMConfig(backend="openai", base_url=server[1], model=gguf.name)
                    backend = get_backend(config)
                    row = {"dataset": name, **run_backend(backend, products, lexicon)}
                    backend.close()
                    rows.append(row)
                    print(f"{name:5} {backend_name:9} {json.dumps({k: v for k, v in row.items() if k != 'stats'})}",
                          file=sys.stderr)
                store.close()
        finally:
            if server:
                server[0].terminate()
                server[0].wait()
    print(table(rows))
    print(f"load average before / after: {load_before[0]} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"meta": {**machine(), "load_avg": load_before, "load_after": [round(x, 2) for x in os.getloadavg()]},
           "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                       "load_before": load_before, "load_after": [round(x, 2) for x in os.getloadavg()]},
           "threads": args.threads, "n": args.n, "task": "copy.short.neutral (en)", "rows": rows}
    (RESULTS / "generate.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
