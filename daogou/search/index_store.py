"""Search indexes saved under ``HOME/index/<encoder>/`` and reused while the catalog is unchanged.

A manifest records the encoder's exact identity and a fingerprint of every product's content hash; a
changed catalog or model means rebuild (cheap: embeddings of unchanged products come from the cache).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import sqlalchemy as sa
import xxhash

from daogou.catalog.popularity import StorePopularity
from daogou.catalog.store import Store
from daogou.encode import TextEncoder, get_encoder
from daogou.files import recover_folder, replace_folder, staging
from daogou.search.dense import DenseIndex
from daogou.search.engine import (SearchConfig, Searcher, load_reranker, store_interests, store_rates,
                                  store_vocabulary)
from daogou.search.lexical import BM25Index

INDEX_VERSION = 2  # 2: BM25 words stemmed, numbers split from letters


def catalog_fingerprint(store: Store) -> str:
    table = store.t["products"]
    h = xxhash.xxh3_128()
    with store.engine.connect() as conn:
        for pid, chash in conn.execute(sa.select(table.c.id, table.c.content_hash).order_by(table.c.id)):
            h.update(f"{pid}\x1f{chash}\x1e".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def index_folder(store: Store, encoder: str) -> Path:
    return store.config.home / "index" / re.sub(r"[^A-Za-z0-9_.-]+", "_", encoder)


def open_searcher(store: Store, config: SearchConfig = SearchConfig(), rebuild: bool = False,
                  progress: bool = False, passages: TextEncoder | None = None) -> tuple[Searcher, dict]:
    """A searcher over the store's catalog: loaded from disk when still valid, else built and saved
    (``passages``: the encoder that encodes uncached products, e.g. on Ray; see ``Searcher.build``)."""
    started = time.perf_counter()
    folder = index_folder(store, config.encoder)
    recover_folder(folder)  # a save killed between its two renames left the old index aside
    encoder = get_encoder(config.encoder)
    fingerprint = catalog_fingerprint(store)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    fresh = (not rebuild and manifest.get("version") == INDEX_VERSION and manifest.get("fingerprint") == fingerprint
             and manifest.get("encoder") == encoder.cache_key)
    if fresh:
        products = list(store.iter_products())
        searcher = Searcher(products, encoder, DenseIndex.load(folder),
                            BM25Index.load(folder / "bm25", len(products)), store_vocabulary(store, products), config)
        searcher.rates = store_rates(store)
        if config.rerank:
            searcher.reranker = load_reranker(store, encoder.cache_key)
        if config.images:
            searcher.attach_images(store, progress)
    else:
        searcher = Searcher.build(store, config, progress=progress, passages=passages)
        tmp = staging(folder)  # written beside the old index and swapped in whole: old or new, never half
        searcher.dense.save(tmp)
        searcher.lexical.save(tmp / "bm25")
        manifest = {"version": INDEX_VERSION, "encoder": encoder.cache_key, "fingerprint": fingerprint,
                    "products": len(searcher.products), "dense_index": searcher.dense.type,
                    "built_ms": int(time.time() * 1000)}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        replace_folder(tmp, folder)
    searcher.popularity = StorePopularity(store)
    searcher.interests = store_interests(store)
    info = {"folder": str(folder), "loaded": fresh, "products": len(searcher.products), "encoder": config.encoder,
            "dense_index": searcher.dense.type, "seconds": round(time.perf_counter() - started, 2)}
    if searcher.reranker is not None:
        info["reranker"] = searcher.reranker.report.get("trees")
    if searcher.images is not None:
        info["images"] = {"encoder": config.images, "fusion": config.image_fusion,
                          "with_picture": int(searcher.images.has_image.sum()), "alignment": searcher.images.metrics}
    return searcher, info
