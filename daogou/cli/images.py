"""Picture commands: images (encode the product pictures, report the ones that cannot be used, train alignment)."""

from __future__ import annotations

import click

from daogou.cli.base import EXIT_OK, Ctx, cli, command, emit


@cli.command()
@click.option("--images", "image_encoder", default="efficientnet-lite0", show_default=True,
              help="Image encoder: efficientnet-lite0 (ImageNet features) or colour-hist (model-free).")
@click.option("--align", is_flag=True, help="Also (re)train the store's text–image alignment head.")
@click.option("--encoder", default="e5-multilingual", show_default=True,
              help="Text encoder whose space the pictures are aligned to (with --align).")
@click.option("--epochs", type=click.IntRange(1, 10_000), default=60, show_default=True)
@click.option("--show-errors", type=click.IntRange(0, 100_000), default=20, show_default=True,
              help="How many unusable pictures to list.")
@command
def images(ctx: Ctx, image_encoder: str, align: bool, encoder: str, epochs: int, show_errors: int) -> int:
    """Encode every product picture (cached by file content); list missing, corrupt or oversized ones."""
    from daogou.encode.multimodal import (
        MultimodalConfig,
        fit_store_alignment,
        head_folder,
        product_images,
    )
    with ctx.store() as store:
        products = list(store.iter_products())
        found = product_images(store, products, image_encoder, progress=not ctx.as_json)
        payload = {"products": len(products), "with_picture": int(found.has_image.sum()),
                   "encoded_now": found.encoded, "unusable": len(found.errors), "errors": found.errors}
        lines = [(f"{payload['with_picture']:,} of {len(products):,} products have a usable picture "
                  f"({found.encoded:,} encoded now, the rest from the cache); {len(found.errors):,} unusable")]
        lines += [f"  {pid}: {why}" for pid, why in list(found.errors.items())[:show_errors]]
        if align:
            cfg = MultimodalConfig(text_encoder=encoder, image_encoder=image_encoder, epochs=epochs)
            log = (lambda m: None) if ctx.as_json else (lambda m: click.echo(m, err=True))
            result = fit_store_alignment(store, cfg, products, progress=not ctx.as_json, log=log)
            payload["alignment"] = {**result.metrics, "folder": str(head_folder(store, cfg))}
            m = result.metrics
            lines.append(f"alignment {encoder} ← {image_encoder}: {m['pairs']:,} pairs"
                         + (f", held-out text→image Recall@10 {m['heldout_recall@10']:.3f} "
                            f"(random {m['random_recall@10']:.3f})" if "heldout_recall@10" in m else "")
                         + f" → {payload['alignment']['folder']}")
    emit(ctx, payload, "\n".join(lines))
    return EXIT_OK
