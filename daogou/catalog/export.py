"""``daogou export recbole DIR``: write the store as RecBole atomic files (``.inter``, ``.item``, ``.user``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from daogou.catalog.store import Store
from daogou.errors import ConfigError


def _token(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return " ".join(text.split())  # atomic files cannot hold tabs or newlines


def export_recbole(store: Store, folder: str | Path, name: str | None = None) -> dict[str, Any]:
    """Write ``<name>.inter/.item/.user`` into ``folder``; returns counts per file. Search events are skipped."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    name = name or out.name
    if not name or "/" in name:
        raise ConfigError(f"invalid dataset name {name!r}")
    counts = {"inter": 0, "item": 0, "user": 0}
    with open(out / f"{name}.inter", "w", encoding="utf-8") as fh:
        fh.write("user_id:token\titem_id:token\ttimestamp:float\ttype:token\n")
        for ev in store.iter_events():
            if ev.product_id is None:
                continue
            fh.write(f"{_token(ev.shopper_id)}\t{_token(ev.product_id)}\t{ev.ts_ms / 1000:.3f}\t{ev.type}\n")
            counts["inter"] += 1
    with open(out / f"{name}.item", "w", encoding="utf-8") as fh:
        fh.write("item_id:token\ttitle:token_seq\tbrand:token\tprice:float\tcategories:token_seq\tlanguage:token\n")
        for p in store.iter_products():
            price = "" if p.price is None else repr(p.price)
            fh.write("\t".join((_token(p.id), _token(p.title), _token(p.brand), price,
                                _token(" > ".join(p.category)), p.language)) + "\n")
            counts["item"] += 1
    shoppers = store.get_shoppers()
    keys = sorted({k for s in shoppers for k in s.attributes})
    with open(out / f"{name}.user", "w", encoding="utf-8") as fh:
        fh.write("\t".join(["user_id:token", *(f"{_token(k)}:token" for k in keys)]) + "\n")
        for s in shoppers:
            fh.write("\t".join([_token(s.id), *(_token(s.attributes.get(k, "")) for k in keys)]) + "\n")
            counts["user"] += 1
    return {"folder": str(out), "name": name, "counts": counts}
