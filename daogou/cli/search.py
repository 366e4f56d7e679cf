"""Search commands: index, search."""

from __future__ import annotations

from pathlib import Path

import click

from daogou.cli.base import Ctx, EXIT_OK, LibraryChoice, cli, command, emit, ray_options
from daogou.encode.static import StaticConfig
from daogou.errors import ConfigError


def _search_modes() -> tuple[str, ...]:
    from daogou.search.engine import MODES
    return MODES

# ---------------------------------------------------------------- index / search

BIG_CATALOG = 20_000  # products above which `index` with the transformer encoder points to the static student

def _encoder_option(fn):
    return click.option("--encoder", default="e5-multilingual", show_default=True,
                        help="Text encoder: e5-multilingual (中文 + English), minilm (English), hashing, "
                             "or a saved encoder folder.")(fn)


@cli.command()
@_encoder_option
@click.option("--rebuild", is_flag=True, help="Rebuild even if the saved index matches the catalog.")
@click.option("--images", metavar="ENCODER", help="Index the product pictures too (efficientnet-lite0 or "
              "colour-hist); trains the store's text–image alignment on first use.")
@click.option("--ray", "use_ray", is_flag=True, help="Encode the products in batches on Ray Data workers.")
@ray_options("Ray Data encoding actors")
@command
def index(ctx: Ctx, encoder: str, rebuild: bool, images: str | None, use_ray: bool, address: str | None,
          workers: int) -> int:
    """Build or refresh the search index (only new or changed products are encoded)."""
    from daogou.search.engine import SearchConfig
    from daogou.search.index_store import open_searcher
    passages = None
    if use_ray:
        from daogou.cluster import RayConfig
        from daogou.encode.ray_batch import RayBatchEncoder
        passages = RayBatchEncoder(encoder, RayConfig(workers=workers, address=address))
    elif address:
        raise ConfigError("--address is for --ray runs")
    with ctx.store() as store:
        n = store.count("products")
        if encoder == "e5-multilingual" and n > BIG_CATALOG and not ctx.as_json:
            click.echo(f"note: e5-multilingual encodes about 30 product texts a second on 2 cores; for {n:,} products "
                       "`daogou distill` and `--encoder HOME/encoders/e5-static` index in minutes", err=True)
        _, info = open_searcher(store, SearchConfig(encoder=encoder, images=images), rebuild=rebuild,
                                progress=not ctx.as_json, passages=passages)
    info["ray_workers"] = workers if use_ray else 0
    verb = "up to date" if info["loaded"] else "built"
    emit(ctx, info, f"index {verb}: {info['products']:,} products, {info['encoder']} + BM25, "
                    f"{info['dense_index']} dense index, {info['seconds']}s → {info['folder']}")
    return EXIT_OK


@cli.command()
@click.argument("query", required=False)
@click.option("--k", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--filter", "filters", multiple=True, metavar="SPEC",
              help="category=Shoes > Running, brand=X, brand!=X, price<=100, price>=10, color=red, in_stock=true")
@click.option("--mode", type=LibraryChoice(_search_modes), default="hybrid", show_default=True)
@_encoder_option
@click.option("--images", metavar="ENCODER", help="Let the product pictures answer text queries too "
              "(efficientnet-lite0 or colour-hist), e.g. \"red dress\" finds dresses red only in the picture.")
@click.option("--image", "image_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Search by picture: products that look like this image file (no QUERY needed).")
@command
def search(ctx: Ctx, query: str | None, k: int, filters: tuple[str, ...], mode: str, encoder: str,
           images: str | None, image_path: Path | None) -> int:
    """Search the catalog in English or 中文, e.g. "red running shoes under ¥300" or "500元以内的蓝牙耳机";
    or by picture with --image PATH."""
    from daogou.search.engine import SearchConfig
    from daogou.catalog.filters import Filters
    from daogou.search.index_store import open_searcher
    if (query is None) == (image_path is None):
        raise ConfigError("give a QUERY or --image PATH (one of them)")
    if image_path is not None:
        images = images or "efficientnet-lite0"
    with ctx.store() as store:
        searcher, _ = open_searcher(store, SearchConfig(encoder=encoder, images=images), progress=not ctx.as_json)
        if image_path is not None:
            results, mode = searcher.search_image(store, image_path, k=k, filters=Filters.parse(filters)), "image"
        else:
            results = searcher.search(query, k=k, filters=Filters.parse(filters), mode=mode)
    payload = results.to_dict()
    lines = [f"{len(results.hits)} of {results.total:,} matching products ({mode})"
             + (f" — nothing matched every condition; dropped: {', '.join(results.relaxed)}" if results.relaxed else "")]
    if results.parsed and results.parsed.matched:
        lines.append("understood: " + "; ".join(results.parsed.matched))
    for n, hit in enumerate(payload["hits"], start=1):
        price = "" if hit["price"] is None else f"{hit['price']:g} {hit['currency']}"
        lines.append(f"{n:>3}. {hit['id']}  {hit['title'][:70]}  [{hit['brand']}] {price}  ({hit['category']})")
    emit(ctx, payload, "\n".join(lines))
    return EXIT_OK


# ---------------------------------------------------------------- adapt / re-ranker

@cli.command()
@click.option("--encoder", default="minilm", show_default=True,
              help="The encoder to fine-tune: minilm or a saved encoder folder (the packaged e5 has no gradients).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Encoder folder to write (default HOME/encoders/adapted).")
@click.option("--queries-per-product", type=click.IntRange(1, 20), default=4, show_default=True)
@click.option("--epochs", type=click.IntRange(1, 100), default=1, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=2e-5, show_default=True)
@click.option("--budget", "budget_s", type=click.FloatRange(min=1), help="Wall-clock training budget in seconds.")
@click.option("--no-hard-negatives", is_flag=True, help="In-batch negatives only (no mining from the index).")
@click.option("--seed", type=int, default=0, show_default=True)
@command
def adapt(ctx: Ctx, encoder: str, out: Path | None, queries_per_product: int, epochs: int, lr: float,
          budget_s: float | None, no_hard_negatives: bool, seed: int) -> int:
    """Fine-tune the search encoder on the store's own catalog without labels: pseudo queries written from the
    products, hard negatives mined from the current index, contrastive training; saves an encoder folder that
    index, search, train and serve take as --encoder PATH."""
    from daogou.encode import product_text
    from daogou.search.adapt import AdaptConfig
    from daogou.search.adapt import adapt as run_adapt
    from daogou.search.adapt import trainable
    from daogou.search.engine import SearchConfig
    from daogou.search.index_store import open_searcher
    config = AdaptConfig(queries_per_product=queries_per_product, epochs=epochs, lr=lr, budget_s=budget_s,
                         hard_negatives=not no_hard_negatives, seed=seed)
    log = (lambda m: None) if ctx.as_json else (lambda m: click.echo(m, err=True))
    from daogou.encode import get_encoder
    trainable(get_encoder(encoder))  # a clear error before any work for an encoder that cannot learn
    with ctx.store() as store:
        searcher, _ = open_searcher(store, SearchConfig(encoder=encoder, understand=False, rerank=False),
                                    progress=not ctx.as_json)
        out = out or Path(store.config.home) / "encoders" / "adapted"
        index = {p.id: i for i, p in enumerate(searcher.products)}
        passages = [product_text(p, searcher.encoder.languages, full=False) for p in searcher.products]

        def mine(query: str, k: int) -> list[tuple[int, float]]:
            return [(index[h.product_id], h.score) for h in searcher.search(query, k=k, facets=False).hits]

        report = run_adapt(searcher.products, passages, mine, searcher.encoder, out, config,
                           progress=not ctx.as_json, log=log)
    emit(ctx, {"encoder": str(out), **report},
         f"adapted {encoder} on {report['pseudo_queries']:,} pseudo queries ({report['seconds']:.0f}s) → {out}\n"
         f"use it: daogou index --encoder {out}")
    return EXIT_OK


@cli.command()
@click.option("--teacher", default="e5-multilingual", show_default=True,
              help="The encoder whose word vectors the student learns (a registered name or a saved folder).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Encoder folder to write (default HOME/encoders/e5-static; <teacher>-static for another teacher).")
@click.option("--components", type=click.IntRange(0, 64), default=StaticConfig.components, show_default=True,
              help="Shared principal directions of the store's word vectors to remove.")
@click.option("--general-words", type=click.IntRange(0, 100_000), default=StaticConfig.general_words,
              show_default=True, help="Also learn each language's most common words (what shoppers type that "
                                      "product texts lack), so that a query's words are usually known.")
@click.option("--teacher-texts", type=click.IntRange(0, 1_000_000), default=StaticConfig.teacher_texts,
              show_default=True, help="Product texts (a sample) the teacher embeds whole, to fit the student's "
                                      "passage side to (~30 texts/s on 2 cores; pays where the sample covers most "
                                      "of the catalog).")
@click.option("--teacher-passages", is_flag=True, default=False,
              help="The teacher reads every product text whole (its speed, ~20-30 texts/s on 2 cores, once per "
                   "product) and queries stay static: search quality within about 1% of the teacher, query "
                   "encoding in well under a millisecond.")
@command
def distill(ctx: Ctx, teacher: str, out: Path | None, components: int, general_words: int,
            teacher_texts: int, teacher_passages: bool) -> int:
    """Distil a fast static encoder from the teacher on the store's own words (e5-static): the teacher embeds
    each distinct word of the catalog once, then any text encodes in microseconds. Saves an encoder folder that
    index, search, train and serve take as --encoder PATH."""
    from daogou.encode.static import distill_store
    with ctx.store() as store:
        out, report = distill_store(store, out, teacher,
                                    StaticConfig(components=components, general_words=general_words,
                                                 teacher_texts=teacher_texts, teacher_passages=teacher_passages),
                                    progress=not ctx.as_json)
    emit(ctx, {"encoder": str(out), **report},
         f"distilled {report['words']:,} words of {report['texts']:,} product texts from {teacher} "
         f"({report['seconds']:.0f}s) → {out}\nuse it: daogou index --encoder {out}")
    return EXIT_OK


def train_reranker(ctx: Ctx, encoder: str, seed: int) -> int:
    """``daogou train --model reranker``: LambdaMART on the store's search sessions (see daogou/search/rerank.py)."""
    from daogou.search.engine import SearchConfig
    from daogou.search.index_store import open_searcher
    from daogou.search.rerank import RerankConfig, train_store
    log = (lambda m: None) if ctx.as_json else (lambda m: click.echo(m, err=True))
    with ctx.store() as store:
        searcher, _ = open_searcher(store, SearchConfig(encoder=encoder, rerank=False), progress=not ctx.as_json)
        model, path = train_store(store, searcher, RerankConfig(seed=seed), log=log)
    r = model.report
    emit(ctx, {"model": "reranker", "folder": str(path), **r},
         f"reranker: {r['trees']} trees on {r['trained_on']:,} searches; validation nDCG@10 "
         f"{r['validation_ndcg@10']:.4f} vs hybrid {r['hybrid_validation_ndcg@10']:.4f} → {path}\n"
         "search, chat and the API use it from now on (with this encoder)")
    return EXIT_OK
