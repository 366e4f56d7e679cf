"""What every recommender is: the ``Recommender`` protocol, the data it trains on, and a registry by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from daogou.errors import UnknownNameError
from daogou.rec.items import ItemSpace
from daogou.rec.sequences import Cases, EventSequences
from daogou.rec.train import TrainConfig, TrainResult

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


_REGISTRY: dict[str, Callable[..., Recommender]] = {}


def register_model(name: str, factory: Callable[..., Recommender]) -> None:
    _REGISTRY[name] = factory


def model_class(name: str) -> Callable[..., Recommender]:
    _register_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError("recommender", name, sorted(_REGISTRY)) from None


def model_names() -> list[str]:
    _register_builtins()
    return sorted(_REGISTRY)


def _register_builtins() -> None:
    if "popularity" in _REGISTRY:
        return
    from daogou.rec.baselines import ItemKNN, Popularity
    from daogou.rec.seed import SeedBertRecommender
    from daogou.rec.sequential import DaogouRecRecommender
    for cls in (Popularity, ItemKNN, DaogouRecRecommender, SeedBertRecommender):
        register_model(cls.name, cls)

