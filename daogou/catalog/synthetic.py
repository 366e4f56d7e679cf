"""Synthetic behaviour logs in the ``events`` CSV layout, for import benchmarks and scale tests."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

TYPES = np.array(["view", "view", "view", "view", "click", "cart", "fav", "purchase"])


def write_events_csv(path: Path, n_events: int, n_shoppers: int = 50_000, n_products: int = 20_000,
                     seed: int = 0) -> Path:
    """Shopper-sorted rows, random times over 90 days, Zipf-popular products; deterministic for a seed."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = 1_767_225_600  # 2026-01-01T00:00:00Z
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["shopper_id", "session_id", "timestamp", "type", "product_id", "query"])
        done, chunk = 0, 100_000
        while done < n_events:
            n = min(chunk, n_events - done)
            shoppers = np.sort(rng.integers(0, n_shoppers, n))
            products = np.minimum(rng.zipf(1.3, n), n_products) - 1
            ts = start + rng.integers(0, 90 * 86_400, n)
            types = TYPES[rng.integers(0, len(TYPES), n)]
            for s, p, t, k in zip(shoppers.tolist(), products.tolist(), ts.tolist(), types.tolist()):
                out.writerow((f"U{s:07d}", f"U{s:07d}-{t // 86_400}", t, k, f"P{p:07d}", ""))
            done += n
    return path
