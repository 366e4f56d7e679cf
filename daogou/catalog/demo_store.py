"""Put the demo store into a daogou home: products, shoppers, events, images and the ground truth file."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from daogou.catalog.demo import DemoConfig, DemoTruth, generate_demo
from daogou.catalog.store import Store
from daogou.errors import ConfigError

TRUTH_FILE = "demo_truth.json"
META_KEY = "demo"


def build_demo_store(store: Store, config: DemoConfig = DemoConfig(), force: bool = False) -> dict[str, Any]:
    """Build the demo store in ``store`` unless the same demo is already there (then nothing changes)."""
    started = time.perf_counter()
    wanted = asdict(config)
    existing = store.get_meta(META_KEY)
    if existing is not None and existing == wanted and not force:
        return {"built": False, "config": wanted, "truth": str(store.config.home / TRUTH_FILE)}
    if existing is None and (store.count("products") or store.count("events")):
        raise ConfigError(f"{store.config.home} already holds other data; build the demo in another --home")
    if existing is not None:
        _clear(store)
    data = generate_demo(config, image_dir=store.config.home / "images")
    with store.transaction() as conn:
        store.write_products(conn, data.products, overwrite=True)
        store.write_shoppers(conn, data.shoppers, overwrite=True)
        store.write_events(conn, data.events)
    truth_path = store.config.home / TRUTH_FILE
    truth_path.write_text(json.dumps(data.truth.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    store.set_meta(META_KEY, wanted)
    return {"built": True, "config": wanted, "products": len(data.products), "shoppers": len(data.shoppers),
            "events": len(data.events), "truth": str(truth_path),
            "seconds": round(time.perf_counter() - started, 2)}


def _clear(store: Store) -> None:
    with store.transaction() as conn:
        for name in ("events", "products", "shoppers", "rejects", "imports"):
            conn.execute(sa.delete(store.t[name]))


def load_demo_truth(home: str | Path) -> DemoTruth:
    """The planted patterns of the demo store built in ``home``."""
    path = Path(home) / TRUTH_FILE
    if not path.exists():
        raise ConfigError(f"{path}: no demo store here; run `daogou demo` first")
    return DemoTruth.from_dict(json.loads(path.read_text(encoding="utf-8")))
