"""The main job and the server: ``daogou demo`` (build, index, train, serve the demo store) and ``daogou serve``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from daogou.cli.base import EXIT_OK, Ctx, LibraryChoice, cli, command, emit
from daogou.cli.generate import BACKEND_HELP, llm_backend_names


def _serve_options(fn):
    fn = click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")(fn)
    fn = click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)(fn)
    fn = click.option("--llm", "llm_backend", type=LibraryChoice(llm_backend_names), default="auto", show_default=True,
                      help=BACKEND_HELP)(fn)
    fn = click.option("--llm-model", default="", help="GGUF path (llamacpp) or served model name (openai).")(fn)
    fn = click.option("--llm-base-url", default="", help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1.")(fn)
    fn = click.option("--workers", type=click.IntRange(1, 256), envvar="DAOGOU_WORKERS",
                      default=lambda: os.cpu_count() or 1, show_default="the number of cores",
                      help="Worker processes serving on the one port, each with its own models (1: one process, "
                           "as before).")(fn)
    fn = click.option("--rate-limit-storage", envvar="DAOGOU_RATE_LIMIT_STORAGE", default="", metavar="URI",
                      help="Where rate-limit counts live: memory:// (one worker only), sqlite:///FILE, "
                           "redis://HOST:PORT, memcached://… (default: memory with one worker, else "
                           "HOME/ratelimits.sqlite, shared by the workers).")(fn)
    return fn


@cli.command()
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: same seed, same store.")
@click.option("--products", "n_products", type=click.IntRange(24, 1_000_000), default=2000, show_default=True)
@click.option("--shoppers", "n_shoppers", type=click.IntRange(1, 1_000_000), default=1000, show_default=True)
@click.option("--force", is_flag=True, help="Rebuild the store (and retrain) even if this home already holds it.")
@click.option("--store-only", is_flag=True, help="Only build the demo store: no index, no training, no server.")
@click.option("--no-serve", is_flag=True, help="Stop after building and training (for scripts).")
@click.option("--encoder", default="e5-multilingual", show_default=True, help="Text encoder of search and model.")
@click.option("--budget", "budget_s", type=click.FloatRange(min=1), default=45, show_default=True,
              help="Training budget in seconds.")
@_serve_options
@command
def demo(ctx: Ctx, seed: int, n_products: int, n_shoppers: int, force: bool, store_only: bool, no_serve: bool,
         encoder: str, budget_s: float, host: str, port: int, llm_backend: str, llm_model: str,
         llm_base_url: str, workers: int, rate_limit_storage: str) -> int:
    """The main job: build the demo store, index it, train the recommender, and serve the shopping guide."""
    from daogou.catalog.demo import DemoConfig
    from daogou.catalog.demo_store import build_demo_store
    from daogou.catalog.stats import store_stats
    from daogou.cli.catalog import stats_text
    started = time.perf_counter()
    with ctx.store() as store:
        result = build_demo_store(store, DemoConfig(seed=seed, n_products=n_products, n_shoppers=n_shoppers),
                                  force=force)
        stats = store_stats(store)
        payload = {"demo": result, "stats": stats}
        verb = "built" if result["built"] else "already built (use --force to rebuild)"
        lines = [f"demo store {verb} in {store.config.home}", stats_text(stats)]
        if not store_only:
            payload.update(_index_and_train(ctx, store, encoder, budget_s, retrain=result["built"] or force))
            lines += [f"search index: {payload['index']['products']:,} products, {payload['index']['encoder']} "
                      f"({'reused' if payload['index']['loaded'] else 'built'} in {payload['index']['seconds']}s)",
                      _model_line(payload["model"])]
        home = store.config.home
    payload["seconds"] = round(time.perf_counter() - started, 1)
    serving = not (store_only or no_serve)
    payload["url"] = f"http://{host}:{port}" if serving else None
    emit(ctx, payload, "\n".join(lines + [f"ready in {payload['seconds']}s"]))
    if serving:
        _serve(ctx, home=home, host=host, port=port, encoder=encoder, demo_login=True, llm_backend=llm_backend,
               llm_model=llm_model, llm_base_url=llm_base_url, workers=workers,
               rate_limit_storage=rate_limit_storage)
    return EXIT_OK


def _index_and_train(ctx: Ctx, store, encoder: str, budget_s: float, retrain: bool) -> dict:
    from daogou.rec.bundle import read_manifest
    from daogou.rec.data import DataConfig
    from daogou.rec.workflow import train, train_config_for
    from daogou.search.engine import SearchConfig
    from daogou.search.index_store import open_searcher
    _, index = open_searcher(store, SearchConfig(encoder=encoder), progress=not ctx.as_json)
    out = Path(store.config.home) / "models" / "daogou-rec"
    if not retrain and (out / "manifest.json").exists() and read_manifest(out).get("encoder") == encoder:
        manifest = read_manifest(out)
        return {"index": index, "model": {"bundle": str(out), "trained": False,
                                          "valid_ndcg@10": manifest.get("metrics", {}).get("valid_ndcg@10")}}
    log = (lambda m: None) if ctx.as_json else (lambda m: click.echo(m, err=True))
    tc = train_config_for("daogou-rec", budget_s=budget_s, progress=not ctx.as_json)
    path, result, _ = train(store, "daogou-rec", DataConfig(encoder=encoder), tc, out, log=log)
    return {"index": index, "model": {"bundle": str(path), "trained": True, "valid_ndcg@10": result.best_metric,
                                      "untrained_valid_ndcg@10": result.untrained_metric,
                                      "epochs": len(result.history), "seconds": round(result.seconds, 1)}}


def _model_line(m: dict) -> str:
    if not m["trained"]:
        return f"recommender: reusing {m['bundle']}"
    before = m.get("untrained_valid_ndcg@10")
    learned = f"{before:.3f} untrained → " if before is not None else ""
    return (f"recommender: daogou-rec trained {m['epochs']} epochs in {m['seconds']}s, "
            f"validation NDCG@10 {learned}{m['valid_ndcg@10']:.3f}")


@cli.command()
@click.option("--bundle", type=click.Path(file_okay=False, path_type=Path),
              help="Recommender bundle (default HOME/models/daogou-rec when it exists).")
@click.option("--encoder", default="e5-multilingual", show_default=True, help="The search index's text encoder.")
@_serve_options
@command
def serve(ctx: Ctx, bundle: Path | None, encoder: str, host: str, port: int, llm_backend: str, llm_model: str,
          llm_base_url: str, workers: int, rate_limit_storage: str) -> int:
    """Serve a store: HTTP API, chat page and metrics, from --workers processes on one port. Admin keys come from
    DAOGOU_ADMIN_KEYS."""
    _serve(ctx, home=None, host=host, port=port, encoder=encoder, bundle=bundle, llm_backend=llm_backend,
           llm_model=llm_model, llm_base_url=llm_base_url, workers=workers, rate_limit_storage=rate_limit_storage)
    return EXIT_OK


def _serve(ctx: Ctx, home, **flags) -> None:
    import uvicorn

    from daogou.config import resolve_store_config
    from daogou.serve import ServeSettings, create_app
    config = resolve_store_config(home or ctx.home, ctx.db)
    settings = ServeSettings(home=config.home, db_url=config.url,
                             **{k: v for k, v in flags.items() if v not in (None, "")})
    if settings.workers > 1:  # a supervisor and N worker processes on one socket
        from daogou.serve.workers import serve_workers
        serve_workers(settings, echo=lambda line: click.echo(line, err=True))
        return
    import torch
    torch.set_num_threads(settings.torch_threads)
    app = create_app(settings)
    import gc
    gc.collect()
    gc.freeze()  # the catalog, indexes and models live as long as the server: keep them out of GC passes (tail latency)
    from daogou.serve.metrics import resident_bytes
    click.echo(f"daogou is serving {settings.home} at http://{settings.host}:{settings.port}  "
               f"(one process, {resident_bytes() / 2**20:,.0f} MiB resident; API docs at /docs; Ctrl-C stops)",
               err=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
