"""Serving a trained bundle: ``recommend(shopper or history, query, n, filters)`` in real time.

A shopper's history is their stored events plus the events :meth:`LiveRecommender.observe` saw since — so a
click in the current session changes the next answer at once, without retraining. Products added to the store
after training are appended to the item space with their content (cold start) when the recommender opens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from daogou.catalog.filters import CatalogTable, Filters
from daogou.catalog.models import Product
from daogou.catalog.store import Store
from daogou.errors import ConfigError, ValidationError
from daogou.rec.bundle import Bundle, load, read_manifest
from daogou.rec.sequences import EVENT_TYPES, TYPE_ID, EventSequences, cases_after



class LiveRecommender:
    def __init__(self, store: Store, bundle: Bundle | str, max_len: int = 50):
        self.store = store
        encoder_name = load_manifest_encoder(bundle)
        self._cache = None
        self._encoder = None
        if encoder_name:
            from daogou.encode.base import get_encoder
            from daogou.encode.cache import EmbeddingCache
            self._encoder, self._cache = get_encoder(encoder_name), EmbeddingCache(store)
        self.bundle = bundle if isinstance(bundle, Bundle) else load(
            bundle, self._query_vectors if self._encoder is not None else None)
        self.model = self.bundle.model
        self.max_len = max_len
        self._session: dict[str, list[tuple]] = {}
        self._lock = threading.Lock()
        self._seq = 0
        self.refresh_catalog()

    # ------------------------------------------------------------------ catalog
    def refresh_catalog(self) -> int:
        """Add products the store gained since training (scored from content). Returns how many were added."""
        products = list(self.store.iter_products())
        items = self.model.items
        fresh = [p for p in products if p.id not in items.index]
        if fresh:
            text = None
            if items.text is not None and self._encoder is not None:
                from daogou.encode.product_text import product_text
                text = self._cache.encode(self._encoder, [product_text(p, self._encoder.languages, full=False)
                                                          for p in fresh])
            rows = items.add(fresh, text)
            self.model.add_items(rows)
        by_id = {p.id: p for p in products}
        self.table = CatalogTable([by_id.get(i) or Product(i) for i in items.ids])  # row order = item order
        self._known = np.array([i in by_id for i in items.ids])
        return len(fresh)

    def _query_vectors(self, texts: list[str]) -> np.ndarray:
        return self._cache.encode(self._encoder, texts, kind="query")

    # ------------------------------------------------------------------ events
    def observe(self, shopper: str, product_id: str, type: str = "view", query: str = "",
                ts_ms: int | None = None, session: str = "live") -> None:
        """Record an event of the current session (kept in memory; the caller stores it durably)."""
        if type not in EVENT_TYPES and type != "search":
            raise ValidationError("type", f"{type!r} is not one of {', '.join(EVENT_TYPES + ('search',))}")
        with self._lock:
            self._seq += 1
            row = (shopper, session, ts_ms or int(time.time() * 1000), 10**12 + self._seq, type,
                   product_id or None, query)
            self._session.setdefault(shopper, []).append(row)

    def forget_session(self, shopper: str) -> None:
        with self._lock:
            self._session.pop(shopper, None)

    def _sequences(self, shoppers: Sequence[str], histories: dict[str, Sequence[str]]) -> EventSequences:
        # the model reads the newest max_len events (one more gives the oldest its time gap); every purchase is
        # kept for exclude_purchased
        stored = self.store.event_rows([s for s in shoppers if s not in histories], newest=self.max_len + 1,
                                       always=("purchase",))
        with self._lock:
            live = [r for s in shoppers for r in self._session.get(s, [])]
        given = [(s, "given", i * 1000, i, "view", pid, "") for s, pids in histories.items()
                 for i, pid in enumerate(pids)]
        rows = stored + live + given
        if live or given:
            rows.sort(key=lambda r: (r[0], r[2], r[3]))
        return EventSequences.from_rows(rows, self.model.items)

    # ------------------------------------------------------------------ recommend
    def recommend_many(self, shoppers: Sequence[str], queries: Sequence[str | None] | None = None, n: int = 10,
                       filters: Filters | None = None, exclude_purchased: bool = True,
                       histories: dict[str, Sequence[str]] | None = None) -> list[tuple[list[str], np.ndarray]]:
        """Batch form: one (ids, scores) per shopper. ``histories`` gives explicit product-id histories for
        shoppers the store need not know (e.g. an anonymous session)."""
        if n < 1:
            raise ConfigError("n must be >= 1")
        queries = list(queries) if queries is not None else [None] * len(shoppers)
        seqs = self._sequences(shoppers, dict(histories or {}))
        cases = cases_after(seqs, list(shoppers), queries, self.max_len)
        scores = self.model.score(cases)
        allowed = self._allowed(filters)
        by_shopper = {s: k for k, s in enumerate(seqs.shoppers)}
        out = []
        for i, shopper in enumerate(shoppers):
            row = scores[i].copy()
            row[1:][~allowed] = -np.inf
            if exclude_purchased and shopper in by_shopper:
                sl = seqs.slice(by_shopper[shopper])
                row[seqs.items[sl][seqs.types[sl] == TYPE_ID["purchase"]]] = -np.inf
            row[0] = -np.inf
            top = _top(row, n)
            out.append(([self.model.items.ids[r - 1] for r in top], row[top]))
        return out

    def recommend(self, shopper: str | None = None, query: str | None = None, n: int = 10,
                  filters: Filters | None = None, exclude_purchased: bool = True,
                  history: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        """Top ``n`` (ids, scores) for a shopper (or an explicit ``history`` of product ids), optionally asked
        with a ``query``. A new shopper with no events is served from the query alone."""
        key = shopper or "<anonymous>"
        histories = {key: list(history)} if history is not None else None
        return self.recommend_many([key], [query], n, filters, exclude_purchased, histories)[0]

    def _allowed(self, filters: Filters | None) -> np.ndarray:
        allowed = self._known.copy()
        if filters is not None and not filters.is_empty():
            mask = self.table.mask(filters)
            if mask is not None:
                allowed &= mask
        return allowed


def load_manifest_encoder(bundle: Bundle | str) -> str | None:
    manifest = bundle.manifest if isinstance(bundle, Bundle) else read_manifest(bundle)
    return manifest.get("encoder")


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    finite = np.flatnonzero(np.isfinite(scores))
    if len(finite) <= n:
        return finite[np.argsort(-scores[finite], kind="stable")]
    part = finite[np.argpartition(-scores[finite], n - 1)[:n]]
    return part[np.argsort(-scores[part], kind="stable")]
