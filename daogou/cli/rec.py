"""Recommendation commands: train, evaluate, recommend (and pretrain, the MLM domain adaptation)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from daogou.cli.base import EXIT_OK, Ctx, LibraryChoice, cli, command, emit, ray_options
from daogou.errors import ConfigError



def _recommenders() -> list[str]:
    from daogou.rec.base import RECOMMENDERS
    return [*RECOMMENDERS.names(), "reranker"]  # reranker: the search re-ranker (daogou/search/rerank.py)


def _models_dir(store) -> Path:
    return Path(store.config.home) / "models"


def _parse_options(pairs: tuple[str, ...]) -> dict:
    """``key=value`` pairs; values are read as JSON when they parse (numbers, true/false), else strings."""
    out = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option {pair!r}: expected KEY=VALUE, e.g. dim=128")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


@cli.command()
@click.option("--model", "name", type=LibraryChoice(_recommenders), default="daogou-rec", show_default=True)
@click.option("--encoder", default="e5-multilingual", show_default=True,
              help="Text encoder for product text and queries (shares the search index's cache); 'none' for "
                   "no text features.")
@click.option("--epochs", type=click.IntRange(1, 10_000), help="Most epochs (default: the model's).")
@click.option("--budget", "budget_s", type=click.FloatRange(min=1), help="Wall-clock training budget in seconds.")
@click.option("--batch-size", type=click.IntRange(1, 65_536))
@click.option("--lr", type=click.FloatRange(min=0, min_open=True))
@click.option("--patience", type=click.IntRange(1, 1000), help="Epochs without validation gain before stopping.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-len", type=click.IntRange(2, 1000), default=50, show_default=True)
@click.option("--targets", help="Event types to predict, comma-separated (default: purchases if enough).")
@click.option("--history", type=click.Choice(["event", "session"]), default="event", show_default=True,
              help="Validate and test on every event before the target, or on the shopper's earlier sessions and "
                   "the target session's search only (what a shopper buys when they search).")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="Model option, e.g. dim=128.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Bundle folder (default HOME/models/MODEL).")
@click.option("--fresh", is_flag=True, help="Ignore an interrupted run's checkpoint and start over.")
@click.option("--image-features", metavar="ENCODER", help="Product picture features (efficientnet-lite0 or "
              "colour-hist); combine with text by --option fusion=sum|concat|gated (daogou-rec).")
@click.option("--ray", "use_ray", is_flag=True, help="Data-parallel training on Ray Train workers (daogou-rec).")
@ray_options("Ray Train workers")
@command
def train(ctx: Ctx, name: str, encoder: str, epochs: int | None, budget_s: float | None, batch_size: int | None,
          lr: float | None, patience: int | None, seed: int, max_len: int, targets: str | None, history: str,
          options: tuple[str, ...], out: Path | None, fresh: bool, image_features: str | None, use_ray: bool, address: str | None,
          workers: int) -> int:
    """Train a recommender on the store's events (validated each epoch, early stopping, resumable);
    --model reranker trains the search re-ranker on the store's search sessions instead."""
    import shutil

    if name == "reranker":
        from daogou.cli.search import train_reranker
        return train_reranker(ctx, encoder, seed)

    if address and not use_ray:
        raise ConfigError("--address is for --ray runs")

    from daogou.rec.data import DataConfig
    from daogou.rec.workflow import train as run_train
    from daogou.rec.workflow import train_config_for
    with ctx.store() as store:
        out = out or _models_dir(store) / name
        checkpoint = Path(store.config.home) / "checkpoints" / name
        if fresh:
            shutil.rmtree(checkpoint, ignore_errors=True)
        data_config = DataConfig(encoder=None if encoder == "none" else encoder, max_len=max_len, images=image_features,
                                 targets=tuple(t.strip() for t in targets.split(",")) if targets else None,
                                 history=history)
        tc = train_config_for(name, epochs=epochs, budget_s=budget_s, batch_size=batch_size, lr=lr,
                              patience=patience, seed=seed, progress=not ctx.as_json, checkpoint_dir=checkpoint)
        log = (lambda m: None) if ctx.as_json else (lambda m: click.echo(m, err=True))
        if use_ray:
            from daogou.cluster import RayConfig
            from daogou.rec.distributed import train_ray
            path, result, split = train_ray(store.config, name, data_config, tc, out, _parse_options(options),
                                            RayConfig(workers=workers, address=address), log=log)
        else:
            path, result, prepared = run_train(store, name, data_config, tc, out, _parse_options(options), log=log)
            split = prepared.split.summary()
    shutil.rmtree(checkpoint, ignore_errors=True)
    payload = {"model": name, "bundle": str(path), "valid_ndcg@10": result.best_metric,
               "best_epoch": result.best_epoch, "epochs": len(result.history), "stopped": result.stopped,
               "seconds": round(result.seconds, 1), "split": split, "workers": workers if use_ray else 1}
    emit(ctx, payload, f"{name}: validation NDCG@10 {result.best_metric:.4f} at epoch {result.best_epoch} "
                       f"({len(result.history)} epochs, {result.stopped}, {result.seconds:.0f}s) → {path}")
    return EXIT_OK


@cli.command()
@click.option("--models", help="Comma-separated bundle names under HOME/models or bundle folders (default: all).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for report.html + PNG plots (default HOME/reports/evaluation).")
@click.option("--negatives", type=click.IntRange(1, 10_000), default=100, show_default=True,
              help="Negatives per case in the sampled protocol.")
@click.option("--mask-history", is_flag=True,
              help="Leave the items already in the shopper's history out of the full ranking (the BSARec / "
                   "FMLP-Rec protocol); default: nothing masked, as RecBole.")
@command
def evaluate(ctx: Ctx, models: str | None, report_dir: Path | None, negatives: int, mask_history: bool) -> int:
    """Test-set metrics of trained models: full ranking (HR, NDCG, MRR @5/10/20) and sampled negatives."""
    from daogou.evaluate.report import write_report
    from daogou.evaluate.bundles import evaluate_bundles
    with ctx.store() as store:
        root = _models_dir(store)
        if models:
            folders = [Path(m) if Path(m).is_dir() else root / m for m in models.split(",")]
        else:
            folders = sorted(p for p in root.glob("*") if (p / "manifest.json").exists()) if root.exists() else []
        log = (lambda m: None) if ctx.as_json else (lambda m: click.echo(m, err=True))
        results, training = evaluate_bundles(store, folders, negatives, log, mask_history)
        report = write_report(report_dir or Path(store.config.home) / "reports" / "evaluation", results, training)
    lines = [f"{'model':<14} {'NDCG@10':>8} {'HR@10':>8} {'MRR':>8} {'NDCG@10 s100':>13} {'cases':>7}"]
    for model, r in results.items():
        f = r["full"]
        lines.append(f"{model:<14} {f['ndcg@10']:>8.4f} {f['hr@10']:>8.4f} {f['mrr']:>8.4f} "
                     f"{r[f'sampled_{negatives}']['ndcg@10']:>13.4f} {f['cases']:>7}")
    lines.append(f"protocol: full ranking, history {'masked' if mask_history else 'not masked'}; report: {report}")
    emit(ctx, {"results": results, "report": str(report)}, "\n".join(lines))
    return EXIT_OK


@cli.command()
@click.argument("shopper", required=False)
@click.option("--query", help="What the shopper asks for now, e.g. 'running shoes'.")
@click.option("--n", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--model", "name", default="daogou-rec", show_default=True, help="Bundle name or folder.")
@click.option("--history", help="Comma-separated product ids to use instead of a stored shopper's history.")
@click.option("--filter", "filters", multiple=True, metavar="SPEC", help="As for search, e.g. price<=300.")
@click.option("--include-purchased", is_flag=True, help="Also show products the shopper already bought.")
@command
def recommend(ctx: Ctx, shopper: str | None, query: str | None, n: int, name: str, history: str | None,
              filters: tuple[str, ...], include_purchased: bool) -> int:
    """Recommend products for a shopper (their history + optional query); a new shopper needs only a query."""
    from daogou.catalog.filters import Filters
    from daogou.rec.realtime import LiveRecommender
    with ctx.store() as store:
        folder = Path(name) if Path(name).is_dir() else _models_dir(store) / name
        live = LiveRecommender(store, str(folder))
        ids, scores = live.recommend(shopper, query, n, Filters.parse(filters), not include_purchased,
                                     history.split(",") if history else None)
        products = {p.id: p for p in store.get_products(ids)}
    hits = [{"id": i, "score": float(s), "title": products[i].title if i in products else "",
             "price": products[i].price if i in products else None} for i, s in zip(ids, scores)]
    lines = [f"{k:>3}. {h['id']}  {h['title'][:70]}  ({h['score']:.3f})" for k, h in enumerate(hits, 1)]
    emit(ctx, {"shopper": shopper, "query": query, "model": name, "items": hits}, "\n".join(lines) or "nothing")
    return EXIT_OK


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Encoder folder to write (default HOME/encoders/minilm-store).")
@click.option("--epochs", type=click.IntRange(1, 1000), default=3, show_default=True)
@click.option("--budget", "budget_s", type=click.FloatRange(min=1), help="Wall-clock budget in seconds.")
@click.option("--batch-size", type=click.IntRange(1, 4096), default=32, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=5e-5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@command
def pretrain(ctx: Ctx, out: Path | None, epochs: int, budget_s: float | None, batch_size: int, lr: float,
             seed: int) -> int:
    """Continue masked-LM training of the MiniLM encoder on this store's product text (domain adaptation).

    The result is an encoder folder: pass it wherever an encoder is named, e.g.
    `daogou index --encoder HOME/encoders/minilm-store` or `daogou train --encoder …`."""
    from daogou.encode.mlm import MLMConfig
    from daogou.encode.mlm import pretrain as run_pretrain
    from daogou.encode.product_text import product_text
    with ctx.store() as store:
        texts = [product_text(p, ("en",)) for p in store.iter_products()]
        out = out or Path(store.config.home) / "encoders" / "minilm-store"
    log = (lambda m: None) if ctx.as_json else (lambda m: click.echo(m, err=True))
    report = run_pretrain(texts, out, config=MLMConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                                                       budget_s=budget_s),
                          progress=not ctx.as_json, log=log)
    report["encoder"] = str(out)
    emit(ctx, report, f"held-out masked-token perplexity {report['perplexity_before']:.2f} → "
                      f"{report['perplexity_after']:.2f} ({report['train_texts']} texts, {report['seconds']}s)\n"
                      f"encoder saved: {out}  (use it with --encoder {out})")
    return EXIT_OK
