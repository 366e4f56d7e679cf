"""Ranking metrics from the 0-based rank of each held-out target (rank 0 = top of the list).

With one relevant item per case: HR@K = [rank < K], NDCG@K = [rank < K] / log2(rank + 2), MRR = 1 / (rank + 1)
(MRR@K counts 0 past K). Means are over cases; every function is vectorised over a rank array.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

DEFAULT_KS = (5, 10, 20)


def hit_rate(ranks: np.ndarray, k: int) -> float:
    ranks = np.asarray(ranks)
    return float((ranks < k).mean()) if ranks.size else 0.0


def ndcg(ranks: np.ndarray, k: int) -> float:
    ranks = np.asarray(ranks, dtype=np.float64)
    if not ranks.size:
        return 0.0
    return float(np.where(ranks < k, 1.0 / np.log2(ranks + 2.0), 0.0).mean())


def mrr(ranks: np.ndarray, k: int | None = None) -> float:
    ranks = np.asarray(ranks, dtype=np.float64)
    if not ranks.size:
        return 0.0
    rr = 1.0 / (ranks + 1.0)
    return float((rr if k is None else np.where(ranks < k, rr, 0.0)).mean())


def summarize(ranks: np.ndarray, ks: Iterable[int] = DEFAULT_KS) -> dict[str, float]:
    """``{"hr@5": …, "ndcg@5": …, …, "mrr": …, "cases": n}`` for one rank array."""
    out: dict[str, float] = {}
    for k in ks:
        out[f"hr@{k}"] = hit_rate(ranks, k)
        out[f"ndcg@{k}"] = ndcg(ranks, k)
    out["mrr"] = mrr(ranks)
    out["cases"] = int(np.asarray(ranks).size)
    return out


def ranks_of_targets(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """0-based rank of ``targets[i]`` in ``scores[i]`` (higher score = better).

    Ties count against the target (its rank is the number of items scoring ≥ it, minus itself), the
    pessimistic convention: a model that scores everything equal gets no credit.
    """
    rows = np.arange(len(targets))
    target_scores = scores[rows, targets][:, None]
    return (scores >= target_scores).sum(axis=1) - 1
