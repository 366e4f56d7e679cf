"""What every recommender is: the ``Recommender`` protocol, the data it trains on, and a registry by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from daogou.rec.items import ItemSpace
from daogou.rec.sequences import Cases, EventSequences
from daogou.rec.train import TrainConfig, TrainResult
from daogou.registry import Registry

QueryVectors = Callable[[list[str]], np.ndarray]
Log = Callable[[str], None]


@dataclass
class TrainData:
    """Everything a model may learn from: the item space with content, training sequences, validation cases."""

    items: ItemSpace
    train: EventSequences
    valid: Cases
    query_vectors: QueryVectors | None = None
    fingerprint: str = ""

    def item_counts(self) -> np.ndarray:
        """Training interactions per item row (row 0 = unknown products)."""
        return np.bincount(self.train.items, minlength=self.items.n + 1)


@runtime_checkable
class Recommender(Protocol):
    name: str
    items: ItemSpace

    def fit(self, data: TrainData, config: TrainConfig, log: Log = print) -> TrainResult: ...

    def score(self, cases: Cases) -> np.ndarray:
        """[len(cases), N + 1] scores of every item for each case; column 0 (padding) is -inf."""

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-able config, named arrays) — everything needed to rebuild the fitted model."""

    @classmethod
    def from_state(cls, config: dict[str, Any], arrays: dict[str, np.ndarray], items: ItemSpace) -> Recommender: ...

    def add_items(self, rows: np.ndarray) -> None:
        """The item space grew (new products at ``rows``): make room to score them."""


RECOMMENDERS: Registry[Callable[..., Recommender]] = Registry("recommender", "daogou.recommenders", {
    "popularity": "daogou.rec.baselines:Popularity",
    "item-knn": "daogou.rec.baselines:ItemKNN",
    "daogou-rec": "daogou.rec.daogou_rec_recommender:DaogouRecRecommender",
    "seed-bert": "daogou.rec.seed_bert_recommender:SeedBertRecommender",
})

