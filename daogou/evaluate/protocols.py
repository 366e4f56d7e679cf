"""Evaluation protocols over :class:`~daogou.rec.sequences.Cases`, identical for every model.

* **Full ranking**: the target's rank among *all* items of the catalog. By default nothing is masked — the
  protocol of RecBole's sequential full-sort evaluation, so numbers are comparable to it. With
  ``mask_history`` the items already in the shopper's history (other than the target itself) are taken out of
  the ranking, as the BSARec / FMLP-Rec / S3-Rec evaluation code does; every report says which.
* **Sampled**: the target's rank among itself and ``n_negatives`` items drawn uniformly from the items the shopper
  had not interacted with (the "1 + 100 negatives" protocol of many papers; it flatters every model).
* **Slices**: full-ranking metrics by history length and for cold targets (items with no training interaction).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from daogou.ranking_metrics import DEFAULT_KS, ranks_of_targets, summarize
from daogou.rec.sequences import Cases

CHUNK = 2048
LENGTH_SLICES = ((0, 0), (1, 2), (3, 5), (6, 10), (11, 20), (21, 10**9))


class Scorer(Protocol):
    def score(self, cases: Cases) -> np.ndarray: ...


def ranks(model: Scorer, cases: Cases, n_negatives: int = 100, seed: int = 0,
          mask_history: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(full-ranking ranks, sampled-negatives ranks) for every case, scoring in chunks to bound memory."""
    rng = np.random.default_rng(seed)
    full, sampled = [], []
    for lo in range(0, len(cases), CHUNK):
        part = cases.take(slice(lo, lo + CHUNK))
        scores = model.score(part)
        if mask_history:
            scores = masked_history(scores, part)
        full.append(ranks_of_targets(scores, part.targets))
        sampled.append(_sampled_ranks(scores, part, n_negatives, rng))
    if not full:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(full), np.concatenate(sampled)


def masked_history(scores: np.ndarray, cases: Cases) -> np.ndarray:
    """``scores`` with every item of each case's history set to -inf, except the case's own target."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    for i in range(len(cases)):
        seen = cases.hist_items[i][cases.hist_items[i] > 0]
        scores[i, seen[seen != cases.targets[i]]] = -np.inf
    return scores


def _sampled_ranks(scores: np.ndarray, cases: Cases, n_negatives: int, rng: np.random.Generator) -> np.ndarray:
    n_items = scores.shape[1] - 1
    out = np.empty(len(cases), np.int64)
    for i in range(len(cases)):
        seen = set(cases.hist_items[i][cases.hist_items[i] > 0].tolist()) | {int(cases.targets[i])}
        k = min(n_negatives, n_items - len(seen))
        negatives = _draw(rng, n_items, seen, k)
        target = scores[i, cases.targets[i]]
        out[i] = int((scores[i, negatives] >= target).sum())
    return out


def _draw(rng: np.random.Generator, n_items: int, exclude: set[int], k: int) -> np.ndarray:
    picked: list[int] = []
    chosen: set[int] = set()
    while len(picked) < k:
        for c in rng.integers(1, n_items + 1, size=2 * (k - len(picked)) + 8).tolist():
            if c not in exclude and c not in chosen:
                chosen.add(c)
                picked.append(c)
                if len(picked) == k:
                    break
    return np.array(picked, np.int64)


def evaluate(model: Scorer, cases: Cases, item_counts: np.ndarray | None = None, ks=DEFAULT_KS,
             n_negatives: int = 100, seed: int = 0, mask_history: bool = False) -> dict[str, Any]:
    """Full-ranking and sampled metrics, plus slices by history length and for cold target items."""
    full, sampled = ranks(model, cases, n_negatives, seed, mask_history)
    report: dict[str, Any] = {"protocol": "history masked" if mask_history else "history not masked",
                              "full": summarize(full, ks), f"sampled_{n_negatives}": summarize(sampled, ks)}
    report["by_history_length"] = {
        (f"{lo}" if lo == hi else f"{lo}+" if hi >= 10**9 else f"{lo}-{hi}"):
            summarize(full[(cases.lengths >= lo) & (cases.lengths <= hi)], ks) for lo, hi in LENGTH_SLICES}
    if item_counts is not None:
        cold = item_counts[cases.targets] == 0
        report["cold_targets"] = summarize(full[cold], ks)
        report["warm_targets"] = summarize(full[~cold], ks)
    return report
