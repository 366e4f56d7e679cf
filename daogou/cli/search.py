"""Search commands: index, search."""

from __future__ import annotations

from pathlib import Path

import click

from daogou.cli.base import Ctx, EXIT_OK, LibraryChoice, cli, command, emit, ray_options
from daogou.errors import ConfigError


def _search_modes() -> tuple[str, ...]:
    from daogou.search.engine import MODES
    return MODES

# ---------------------------------------------------------------- index / search

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
