"""Baselines every learned model must beat: popularity, and item-to-item co-occurrence kNN over sequences.

No learning rate, no epochs: ``fit`` counts. Both score the same ``Cases`` as the neural models.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from daogou.errors import ConfigError
from daogou.rec.base import Log, TrainData
from daogou.rec.items import ItemSpace
from daogou.rec.sequences import DEFAULT_WEIGHTS, TYPE_ID, Cases, EventSequences
from daogou.rec.train import TrainConfig, TrainResult

_TIE = 1e-6  # popularity breaks ties between items kNN scores equally (e.g. items never seen together)


def weighted_counts(seqs: EventSequences, n_items: int) -> np.ndarray:
    """Training interactions per item row, each weighted by its event type (purchase 1.0 … view 0.3)."""
    w = np.zeros(max(TYPE_ID.values()) + 1, np.float64)
    for name, value in DEFAULT_WEIGHTS.items():
        w[TYPE_ID[name]] = value
    return np.bincount(seqs.items, weights=w[seqs.types], minlength=n_items + 1)


class Popularity:
    """Most-interacted items first (purchases count most), the same list for everyone."""

    name = "popularity"

    def __init__(self, items: ItemSpace | None = None, **options: Any):
        if options:
            raise ConfigError(f"popularity takes no options, got {sorted(options)}")
        self.items = items or ItemSpace.from_ids([])
        self.counts = np.zeros(self.items.n + 1)

    def fit(self, data: TrainData, config: TrainConfig | None = None, log: Log = print) -> TrainResult:
        self.items = data.items
        self.counts = weighted_counts(data.train, data.items.n)
        return TrainResult(best_epoch=1, stopped="counted")

    def score(self, cases: Cases) -> np.ndarray:
        scores = np.broadcast_to(self._vector(), (len(cases), self.items.n + 1)).copy()
        return scores

    def _vector(self) -> np.ndarray:
        v = np.log1p(self.counts).astype(np.float32)
        v[0] = -np.inf
        return v

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {}, {"counts": self.counts}

    @classmethod
    def from_state(cls, config: dict[str, Any], arrays: dict[str, np.ndarray], items: ItemSpace, **_: Any):
        rec = cls(items)
        rec.counts = np.zeros(items.n + 1)
        rec.counts[:len(arrays["counts"])] = arrays["counts"]
        return rec

    def add_items(self, rows: np.ndarray) -> None:
        self.counts = np.concatenate([self.counts, np.zeros(self.items.n + 1 - len(self.counts))])


class ItemKNN:
    """Items that followed (or preceded) the shopper's recent items in other shoppers' sequences.

    ``sim[i, j]`` sums ``1/d`` over every time ``j`` came ``d ≤ window`` steps after ``i`` (``backward`` × that
    when before), normalised by ``(n_i · n_j)^alpha``. A case's score is the decayed sum of the rows of its last
    ``history`` items.
    """

    name = "item-knn"

    def __init__(self, items: ItemSpace | None = None, window: int = 3, backward: float = 0.5, alpha: float = 0.5,
                 history: int = 5, decay: float = 0.6, **options: Any):
        if options:
            raise ConfigError(f"item-knn: unknown option(s) {sorted(options)}; known: window, backward, alpha, "
                              "history, decay")
        if window < 1 or history < 1 or not 0 < decay <= 1:
            raise ConfigError("item-knn: window and history must be >= 1 and 0 < decay <= 1")
        self.options = {"window": window, "backward": backward, "alpha": alpha, "history": history, "decay": decay}
        self.items = items or ItemSpace.from_ids([])
        self.sim = sp.csr_matrix((self.items.n + 1, self.items.n + 1), dtype=np.float32)
        self.counts = np.zeros(self.items.n + 1)

    def fit(self, data: TrainData, config: TrainConfig | None = None, log: Log = print) -> TrainResult:
        self.items = data.items
        n = data.items.n + 1
        seqs = data.train
        owner = np.repeat(np.arange(len(seqs)), np.diff(seqs.offsets))
        rows, cols, vals = [], [], []
        for d in range(1, self.options["window"] + 1):
            same = owner[d:] == owner[:-d]
            a, b = seqs.items[:-d][same], seqs.items[d:][same]
            ok = (a > 0) & (b > 0) & (a != b)
            rows += [a[ok], b[ok]]
            cols += [b[ok], a[ok]]
            vals += [np.full(ok.sum(), 1.0 / d), np.full(ok.sum(), self.options["backward"] / d)]
        co = sp.csr_matrix((np.concatenate(vals) if vals else [], (np.concatenate(rows) if rows else [],
                            np.concatenate(cols) if cols else [])), shape=(n, n), dtype=np.float64)
        self.counts = weighted_counts(seqs, data.items.n)
        norm = np.power(np.maximum(np.bincount(seqs.items, minlength=n), 1), self.options["alpha"])
        inv = sp.diags(1.0 / norm)
        self.sim = (inv @ co @ inv).astype(np.float32).tocsr()
        return TrainResult(best_epoch=1, stopped="counted")

    def score(self, cases: Cases) -> np.ndarray:
        n = self.items.n + 1
        k, decay = self.options["history"], self.options["decay"]
        recent = cases.hist_items[:, -k:]
        weights = np.power(decay, np.arange(recent.shape[1])[::-1], dtype=np.float64)[None].repeat(len(cases), 0)
        weights[recent == 0] = 0
        query = sp.csr_matrix((weights.ravel(), (np.repeat(np.arange(len(cases)), recent.shape[1]),
                                                 recent.ravel())), shape=(len(cases), n))
        scores = np.asarray((query @ self.sim).todense(), dtype=np.float32)
        scores += _TIE * np.log1p(self.counts).astype(np.float32)[None]
        scores[:, 0] = -np.inf
        return scores

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return dict(self.options), {"sim_data": self.sim.data, "sim_indices": self.sim.indices,
                                    "sim_indptr": self.sim.indptr, "counts": self.counts}

    @classmethod
    def from_state(cls, config: dict[str, Any], arrays: dict[str, np.ndarray], items: ItemSpace, **_: Any):
        rec = cls(items, **config)
        m = len(arrays["sim_indptr"]) - 1
        rec.sim = sp.csr_matrix((arrays["sim_data"], arrays["sim_indices"], arrays["sim_indptr"]), shape=(m, m))
        rec.counts = arrays["counts"]
        rec.add_items(np.zeros(0, np.int64))
        return rec

    def add_items(self, rows: np.ndarray) -> None:
        n = self.items.n + 1
        if self.sim.shape[0] < n:
            self.sim.resize((n, n))
            self.counts = np.concatenate([self.counts, np.zeros(n - len(self.counts))])
