"""What sells: each product's purchases, with carts and views at a fraction of a purchase, counted from the store's
events and counted again after a while (a best-seller list may be minutes old, not a request's cost)."""

from __future__ import annotations

import threading
import time

from daogou.catalog.store import Store

WEIGHTS = {"purchase": 1.0, "cart": 0.3, "view": 0.02}  # what one event adds to a product's score
TTL_S = 300.0


class StorePopularity:
    def __init__(self, store: Store, ttl_s: float = TTL_S, weights: dict[str, float] | None = None):
        self.store, self.ttl_s, self.weights = store, ttl_s, dict(weights or WEIGHTS)
        self._counted, self._scores = float("-inf"), {}
        self._lock = threading.Lock()

    def scores(self) -> dict[str, float]:
        """product id → score (products without events are absent: score 0)."""
        with self._lock:
            if time.monotonic() - self._counted > self.ttl_s:
                scores: dict[str, float] = {}
                for (pid, kind), n in self.store.event_counts(self.weights).items():
                    scores[pid] = scores.get(pid, 0.0) + self.weights[kind] * n
                self._counted, self._scores = time.monotonic(), scores
            return self._scores
