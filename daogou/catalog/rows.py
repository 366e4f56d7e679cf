"""Row shapes shared by the store and the importers: column orders and value encoders."""

from __future__ import annotations

import json
from typing import Any

from daogou.catalog.models import Product

PRODUCT_COLUMNS = ("id", "title", "description", "category", "brand", "price", "currency", "attributes", "image",
                   "language", "in_stock", "translations", "content_hash", "updated_ms")
EVENT_COLUMNS = ("uid", "shopper_id", "session_id", "ts_ms", "seq", "type", "product_id", "query", "extra",
                 "import_id")
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def dumps(obj: Any) -> str:
    """Canonical compact JSON (sorted keys, UTF-8 kept)."""
    return _ENCODER.encode(obj)


def product_row(p: Product, now_ms: int) -> tuple:
    """Values in the order of ``PRODUCT_COLUMNS``."""
    attributes = dumps(p.attributes) if p.attributes else "{}"
    translations = dumps(p.translations) if p.translations else "{}"
    return (p.id, p.title, p.description, " > ".join(p.category), p.brand, p.price, p.currency, attributes,
            p.image, p.language, bool(p.in_stock), translations, p.content_hash(attributes, translations), now_ms)
