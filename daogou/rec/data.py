"""From a store to what models train and are evaluated on: item space with content, split, sequences, cases.

This is the one place that reads the store for training; models and the training loop see arrays only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from daogou.catalog.splits import Split, leave_one_out, sessions_held_out, time_split
from daogou.catalog.store import Store
from daogou.encode.base import get_encoder
from daogou.encode.cache import EmbeddingCache
from daogou.encode.product_text import product_text
from daogou.errors import ConfigError
from daogou.rec.base import QueryVectors, TrainData
from daogou.rec.items import ItemSpace
from daogou.rec.sequences import Cases, EventSequences, cases_for


@dataclass(frozen=True)
class DataConfig:
    encoder: str | None = None     # text encoder for product text features and queries; None = no text
    split: str = "loo"             # loo | time
    targets: tuple[str, ...] | None = None
    inputs: tuple[str, ...] | None = None   # event types models may see (None: all); targets stay the same
    max_len: int = 50
    images: str | None = None      # image encoder for product picture features (e.g. efficientnet-lite0); None = none
    history: str = "event"         # what a validation/test target is predicted from: every event before it
                                   # ("event") or the shopper's earlier sessions and its own session's search
                                   # ("session": what they buy when they search, not which item they just carted)

    def __post_init__(self) -> None:
        if self.split not in ("loo", "time"):
            raise ConfigError(f"split must be 'loo' or 'time', got {self.split!r}")
        if self.history not in ("event", "session"):
            raise ConfigError(f"history must be 'event' or 'session', got {self.history!r}")
        if self.max_len < 2:
            raise ConfigError("max_len must be >= 2")


@dataclass
class Prepared:
    data: TrainData
    test: Cases
    split: Split
    config: DataConfig


def text_features(store: Store, encoder_name: str, products, progress: bool = False) -> tuple[np.ndarray,
                                                                                              QueryVectors]:
    """Product text vectors (cached in the store) and a query-vector function for one encoder."""
    encoder = get_encoder(encoder_name)
    cache = EmbeddingCache(store)
    texts = [product_text(p, encoder.languages, full=False) for p in products]  # as the search index does
    vectors = cache.encode(encoder, texts, kind="passage", progress=progress)

    def query_vectors(texts: list[str]) -> np.ndarray:
        return cache.encode(encoder, texts, kind="query")
    return vectors, query_vectors


def image_features(store: Store, encoder_name: str, products, progress: bool = False) -> np.ndarray:
    """Product picture vectors (cached in the store); zero rows for products without a usable picture."""
    from daogou.encode.image_cache import ImageFeatureCache
    from daogou.encode.images import get_image_encoder
    found = ImageFeatureCache(store).product_features(get_image_encoder(encoder_name), products, progress=progress)
    if not found.has_image.any():
        raise ConfigError(f"image features: none of the {len(products)} products has a usable picture "
                          f"(first problems: {list(found.errors.values())[:3]})")
    return found.vectors


def prepare(store: Store, config: DataConfig, progress: bool = False) -> Prepared:
    products = list(store.iter_products())
    if not products:
        raise ConfigError("the store has no products; import a catalog or run `daogou demo` first")
    items = ItemSpace.from_products(products)
    query_vectors = None
    if config.encoder:
        vectors, query_vectors = text_features(store, config.encoder, products, progress)
        items.set_text(vectors)
    if config.images:
        items.set_image(image_features(store, config.images, products, progress))
    events = store.events_frame()
    if events.empty:
        raise ConfigError("the store has no events to learn from; import events first")
    split = leave_one_out(events, config.targets) if config.split == "loo" else time_split(events,
                                                                                          targets=config.targets)
    if split.valid.empty or split.test.empty:
        raise ConfigError(f"the {config.split} split left no validation or test targets "
                          f"({split.summary()}); more events per shopper are needed")
    if config.inputs is not None:
        split = restrict_inputs(split, config.inputs)
    if config.history == "session":
        split = sessions_held_out(split)
    full = EventSequences.from_frame(split.events, items)
    train = EventSequences.from_frame(split.train, items)
    valid = cases_for(split, "valid", items, config.max_len, full, config.history)
    test = cases_for(split, "test", items, config.max_len, full, config.history)
    data = TrainData(items, train, valid, query_vectors, fingerprint(store, config, split))
    return Prepared(data, test, split, config)


def restrict_inputs(split: Split, inputs: tuple[str, ...]) -> Split:
    """The same split with only ``inputs`` event types (plus searches) left in training and in histories."""
    keep = set(inputs) | {"search"}
    events = split.events[split.events["type"].isin(keep) | split.events.index.isin(split.test.index)
                          | split.events.index.isin(split.valid.index)]
    return Split(events, split.train[split.train["type"].isin(keep)], split.valid, split.test, split.kind)


def fingerprint(store: Store, config: DataConfig, split: Split) -> str:
    """Identifies the data a model was trained on: counts, last event, split and data settings."""
    events = split.events
    payload = {"products": store.count("products"), "events": len(events),
               "last_ts": int(events["ts_ms"].max()) if len(events) else 0,
               "shoppers": int(events["shopper_id"].nunique()), "config": asdict(config),
               "split": split.summary()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
