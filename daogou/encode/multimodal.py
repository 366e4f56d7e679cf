"""A store's products seen through both encoders: image features, the store-trained alignment head, aligned vectors.

The head lives in ``HOME/align/<text encoder>__<image encoder>/`` and is trained on first use (seconds on the
cached features); ``fit_store_alignment`` retrains it. Titles are encoded as *queries* for training, because the
aligned vectors are compared with query vectors at search time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from daogou.catalog.models import Product
from daogou.catalog.store import Store
from daogou.encode.align import (
    AlignConfig,
    AlignHead,
    load_head,
    project,
    recall_at_k,
    save_head,
    train_alignment,
)
from daogou.encode.base import TextEncoder, get_encoder
from daogou.encode.cache import EmbeddingCache
from daogou.encode.image_cache import ImageFeatureCache, ProductImages
from daogou.encode.images import ImageEncoder, get_image_encoder
from daogou.errors import ConfigError


@dataclass(frozen=True)
class MultimodalConfig:
    text_encoder: str = "e5-multilingual"
    image_encoder: str = "efficientnet-lite0"
    epochs: int = 60
    holdout: float = 0.1     # share of products kept out of training to report held-out Recall@10
    seed: int = 0


def alignment_text(p: Product, languages: tuple[str, ...]) -> str:
    """What the picture is paired with: the title in each language the encoder reads."""
    titles = [p.title] + [t.get("title", "") for lang, t in p.translations.items() if lang in languages]
    return " / ".join(dict.fromkeys(t for t in titles if t))


def head_folder(store: Store, cfg: MultimodalConfig) -> Path:
    name = f"{cfg.text_encoder}__{cfg.image_encoder}"
    return Path(store.config.home) / "align" / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


@dataclass
class StoreAlignment:
    head: AlignHead
    images: ProductImages
    aligned: np.ndarray          # [N, text_dim], zero rows where there is no picture
    metrics: dict
    trained: bool                # trained now (False: loaded from the saved folder)


def product_images(store: Store, products: Sequence[Product], image_encoder: str,
                   progress: bool = False) -> ProductImages:
    return ImageFeatureCache(store).product_features(get_image_encoder(image_encoder), products, progress=progress)


def fit_store_alignment(store: Store, cfg: MultimodalConfig, products: Sequence[Product] | None = None,
                        progress: bool = False, log: Callable[[str], None] | None = None) -> StoreAlignment:
    """Train the head on the store's (title, picture) pairs, report held-out Recall@10, save it."""
    products = list(products if products is not None else store.iter_products())
    text_enc, image_enc = get_encoder(cfg.text_encoder), get_image_encoder(cfg.image_encoder)
    images = ImageFeatureCache(store).product_features(image_enc, products, progress=progress)
    rows = np.flatnonzero(images.has_image)
    if len(rows) < 8:
        raise ConfigError(f"alignment needs pictures: only {len(rows)} of {len(products)} products have a usable "
                          "image (see `daogou images`)")
    texts = EmbeddingCache(store).encode(text_enc, [alignment_text(products[r], text_enc.languages) for r in rows],
                                         kind="query", progress=progress)
    rng = np.random.default_rng(cfg.seed)
    perm = rng.permutation(len(rows))
    n_test = round(len(rows) * cfg.holdout) if len(rows) >= 50 else 0
    test, train = perm[:n_test], perm[n_test:]
    acfg = AlignConfig(image_dim=image_enc.dim, text_dim=text_enc.dim, epochs=cfg.epochs, seed=cfg.seed)
    result = train_alignment(images.vectors[rows[train]], texts[train], acfg, log)
    metrics = {"pairs": len(train), "held_out": int(n_test), "final_loss": round(result.losses[-1], 4)}
    if n_test:
        held = project(result.head, images.vectors[rows[test]])
        metrics["heldout_recall@10"] = round(recall_at_k(texts[test], held, 10), 4)
        metrics["random_recall@10"] = round(min(1.0, 10 / n_test), 4)
        result = train_alignment(images.vectors[rows], texts, acfg, log)  # the saved head sees every pair
    save_head(result.head, head_folder(store, cfg), _identity(text_enc, image_enc), metrics)
    return StoreAlignment(result.head, images, project(result.head, images.vectors, images.has_image), metrics,
                          True)


def store_alignment(store: Store, cfg: MultimodalConfig, products: Sequence[Product] | None = None,
                    progress: bool = False, log: Callable[[str], None] | None = None) -> StoreAlignment:
    """The saved head when it joins these exact encoders, else a freshly trained one."""
    products = list(products if products is not None else store.iter_products())
    folder = head_folder(store, cfg)
    text_enc, image_enc = get_encoder(cfg.text_encoder), get_image_encoder(cfg.image_encoder)
    if (folder / "manifest.json").is_file():
        head, config = load_head(folder)
        if config.get("encoders") == _identity(text_enc, image_enc):
            images = ImageFeatureCache(store).product_features(image_enc, products, progress=progress)
            metrics = json.loads((folder / "manifest.json").read_text()).get("metrics", {})
            return StoreAlignment(head, images, project(head, images.vectors, images.has_image), metrics, False)
    return fit_store_alignment(store, cfg, products, progress, log)


def _identity(text_enc: TextEncoder, image_enc: ImageEncoder) -> dict[str, str]:
    return {"text": text_enc.cache_key, "image": image_enc.cache_key}

