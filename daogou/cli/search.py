"""Search commands: index, search."""

from __future__ import annotations

import click

from daogou.cli.base import EXIT_OK, Ctx, cli, command, emit

# ---------------------------------------------------------------- index / search

def _encoder_option(fn):
    return click.option("--encoder", default="e5-multilingual", show_default=True,
                        help="Text encoder: e5-multilingual (中文 + English), minilm (English), hashing, "
                             "or a saved encoder folder.")(fn)


@cli.command()
@_encoder_option
@click.option("--rebuild", is_flag=True, help="Rebuild even if the saved index matches the catalog.")
@command
def index(ctx: Ctx, encoder: str, rebuild: bool) -> int:
    """Build or refresh the search index (only new or changed products are encoded)."""
    from daogou.search.engine import SearchConfig
    from daogou.search.index_store import open_searcher
    with ctx.store() as store:
        _, info = open_searcher(store, SearchConfig(encoder=encoder), rebuild=rebuild, progress=not ctx.as_json)
    verb = "up to date" if info["loaded"] else "built"
    emit(ctx, info, f"index {verb}: {info['products']:,} products, {info['encoder']} + BM25, "
                    f"{info['dense_index']} dense index, {info['seconds']}s → {info['folder']}")
    return EXIT_OK


@cli.command()
@click.argument("query")
@click.option("--k", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--filter", "filters", multiple=True, metavar="SPEC",
              help="category=Shoes > Running, brand=X, brand!=X, price<=100, price>=10, color=red, in_stock=true")
@click.option("--mode", type=click.Choice(["hybrid", "lexical", "dense"]), default="hybrid", show_default=True)
@_encoder_option
@command
def search(ctx: Ctx, query: str, k: int, filters: tuple[str, ...], mode: str, encoder: str) -> int:
    """Search the catalog in English or 中文, e.g. "red running shoes under ¥300" or "500元以内的蓝牙耳机"."""
    from daogou.search.engine import SearchConfig
    from daogou.catalog.filters import Filters
    from daogou.search.index_store import open_searcher
    with ctx.store() as store:
        searcher, _ = open_searcher(store, SearchConfig(encoder=encoder), progress=not ctx.as_json)
        results = searcher.search(query, k=k, filters=Filters.parse(filters), mode=mode)
    payload = results.to_dict()
    lines = [f"{len(results.hits)} of {results.total:,} matching products ({mode})"
             + (" — query constraints relaxed: nothing matched them" if results.relaxed else "")]
    if results.parsed and results.parsed.matched:
        lines.append("understood: " + "; ".join(results.parsed.matched))
    for n, hit in enumerate(payload["hits"], start=1):
        price = "" if hit["price"] is None else f"{hit['price']:g} {hit['currency']}"
        lines.append(f"{n:>3}. {hit['id']}  {hit['title'][:70]}  [{hit['brand']}] {price}  ({hit['category']})")
    emit(ctx, payload, "\n".join(lines))
    return EXIT_OK
