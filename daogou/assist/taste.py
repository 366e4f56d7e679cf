"""A shopper's taste as the assistant explains it: brands they keep coming back to and what they looked at last."""

from __future__ import annotations

from dataclasses import dataclass, field

from daogou.catalog.models import Product
from daogou.catalog.store import Store

WEIGHTS = {"view": 1.0, "click": 1.0, "fav": 2.0, "cart": 2.0, "purchase": 3.0}
MIN_BRAND_WEIGHT = 3.0


@dataclass
class Taste:
    brands: dict[str, float] = field(default_factory=dict)    # liked brand → weight
    recent: list[Product] = field(default_factory=list)       # most recent first
    bought: set[str] = field(default_factory=set)             # ids of products the shopper purchased

    def brand_for(self, product: Product) -> str:
        return product.brand if product.brand in self.brands else ""

    def recent_in(self, product: Product, n: int) -> list[Product]:
        """Recently viewed products in the same category (not the product itself)."""
        same = [p for p in self.recent if p.category == product.category and p.id != product.id]
        return same[:n]


def taste_of(store: Store, shopper_id: str, products: dict[str, Product], max_events: int = 500) -> Taste:
    rows = [(r[5], r[4]) for r in store.event_rows([shopper_id]) if r[5] is not None][-max_events:]
    weights: dict[str, float] = {}
    recent: list[Product] = []
    seen: set[str] = set()
    bought = {pid for pid, kind in rows if kind == "purchase"}
    for pid, kind in reversed(rows):
        p = products.get(pid)
        if p is None:
            continue
        if p.brand:
            weights[p.brand] = weights.get(p.brand, 0.0) + WEIGHTS.get(kind, 0.5)
        if pid not in seen and len(recent) < 20:
            seen.add(pid)
            recent.append(p)
    liked = {b: w for b, w in sorted(weights.items(), key=lambda kv: -kv[1])[:5] if w >= MIN_BRAND_WEIGHT}
    return Taste(liked, recent, bought)
