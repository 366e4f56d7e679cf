"""What is in a store: counts, event mix, sparsity, sequence-length percentiles, time range."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import numpy as np
import sqlalchemy as sa

from daogou.catalog.store import Store

PERCENTILES = (50, 90, 99)


def _iso(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat()


def _percentiles(lengths: list[int]) -> dict[str, float]:
    if not lengths:
        return {"mean": 0.0, "max": 0, **{f"p{p}": 0.0 for p in PERCENTILES}}
    arr = np.asarray(lengths)
    out = {f"p{p}": round(float(np.percentile(arr, p)), 2) for p in PERCENTILES}
    return {"mean": round(float(arr.mean()), 3), "max": int(arr.max()), **out}


def store_stats(store: Store) -> dict[str, Any]:
    ev, prod = store.t["events"], store.t["products"]
    with store.engine.connect() as conn:
        by_type = dict(conn.execute(sa.select(ev.c.type, sa.func.count()).group_by(ev.c.type)).all())
        per_shopper = [n for (n,) in conn.execute(sa.select(sa.func.count()).select_from(ev)
                                                  .group_by(ev.c.shopper_id))]
        per_session = [n for (n,) in conn.execute(sa.select(sa.func.count()).select_from(ev)
                                                  .group_by(ev.c.shopper_id, ev.c.session_id))]
        sessions = conn.execute(sa.select(sa.func.count(sa.distinct(ev.c.session_id)))).scalar_one()
        pairs = conn.execute(sa.select(sa.func.count()).select_from(
            sa.select(ev.c.shopper_id, ev.c.product_id).where(ev.c.product_id.is_not(None)).distinct()
            .subquery())).scalar_one()
        active_products = conn.execute(sa.select(sa.func.count(sa.distinct(ev.c.product_id)))).scalar_one()
        first, last = conn.execute(sa.select(sa.func.min(ev.c.ts_ms), sa.func.max(ev.c.ts_ms))).one()
        categories = conn.execute(sa.select(sa.func.count(sa.distinct(prod.c.category)))
                                  .where(prod.c.category != "")).scalar_one()
        brands = conn.execute(sa.select(sa.func.count(sa.distinct(prod.c.brand))).where(prod.c.brand != "")).scalar_one()
        languages = dict(conn.execute(sa.select(prod.c.language, sa.func.count()).group_by(prod.c.language)).all())
        titled = conn.execute(sa.select(sa.func.count()).select_from(prod).where(prod.c.title != "")).scalar_one()
    active_shoppers = len(per_shopper)
    cells = active_shoppers * active_products
    return {
        "products": store.count("products"), "products_with_title": titled, "shoppers": store.count("shoppers"),
        "events": sum(by_type.values()), "sessions": sessions,
        "events_by_type": {k: by_type[k] for k in sorted(by_type)},
        "active_shoppers": active_shoppers, "active_products": active_products, "shopper_product_pairs": pairs,
        "sparsity": round(1 - pairs / cells, 6) if cells else None,
        "events_per_shopper": _percentiles(per_shopper), "events_per_session": _percentiles(per_session),
        "shopper_sessions": len(per_session),
        "first_event": _iso(first), "last_event": _iso(last),
        "category_paths": categories, "brands": brands,
        "product_languages": {(k or "unknown"): v for k, v in sorted(languages.items(), key=lambda kv: kv[0] or "")},
        "imports": store.count("imports"), "rejects": store.count("rejects"),
    }
