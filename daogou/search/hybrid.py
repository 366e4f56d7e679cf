"""Fusion of ranked lists: reciprocal-rank fusion and weighted scores. Pure functions, no state."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

RRF_K = 60


def rrf(rankings: Mapping[str, Sequence[Hashable]], k: int = RRF_K,
        weights: Mapping[str, float] | None = None) -> dict[Hashable, float]:
    """Reciprocal-rank fusion: score(d) = Σ_lists w / (k + rank of d in the list), ranks from 1."""
    fused: dict[Hashable, float] = {}
    for name, ranking in rankings.items():
        w = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, doc in enumerate(ranking, start=1):
            fused[doc] = fused.get(doc, 0.0) + w / (k + rank)
    return fused


def weighted(scores: Mapping[str, Mapping[Hashable, float]], weights: Mapping[str, float]) -> dict[Hashable, float]:
    """Min-max normalise each signal's scores to [0, 1] (a signal whose scores are all equal counts 1 for each
    of its documents), then add them with the given weights."""
    fused: dict[Hashable, float] = {}
    for name, by_doc in scores.items():
        if not by_doc:
            continue
        lo, hi = min(by_doc.values()), max(by_doc.values())
        for doc, s in by_doc.items():
            norm = (s - lo) / (hi - lo) if hi > lo else 1.0
            fused[doc] = fused.get(doc, 0.0) + weights.get(name, 1.0) * norm
    return fused


def ranked(fused: Mapping[Hashable, float]) -> list[Hashable]:
    """Documents by fused score, best first; ties broken by the documents' own order (deterministic)."""
    return sorted(fused, key=lambda d: (-fused[d], d))
