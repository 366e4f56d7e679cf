"""Evaluate saved model bundles on the store's own test split (the split each bundle was trained with)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from daogou.catalog.store import Store
from daogou.errors import ConfigError
from daogou.evaluate.protocols import evaluate
from daogou.rec import bundle as bundles
from daogou.rec.base import Log
from daogou.rec.data import DataConfig, prepare


def data_config_of(manifest: dict[str, Any]) -> DataConfig:
    saved = dict(manifest.get("data", {}).get("config", {}))
    if saved.get("targets"):
        saved["targets"] = tuple(saved["targets"])
    return DataConfig(**saved)


def evaluate_bundles(store: Store, folders: list[Path], negatives: int = 100,
                     log: Log = print, mask_history: bool = False) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Test-set results and training summaries per bundle; bundles sharing data settings share one split."""
    if not folders:
        raise ConfigError("no model bundles to evaluate; train one with `daogou train`")
    results, training, prepared_by = {}, {}, {}
    for folder in folders:
        manifest = bundles.read_manifest(folder)
        config = data_config_of(manifest)
        key = (config.encoder, config.split, config.targets, config.max_len)
        if key not in prepared_by:
            prepared_by[key] = prepare(store, config)
        prep = prepared_by[key]
        if manifest.get("data_fingerprint") != prep.data.fingerprint:
            log(f"note: {folder.name} was trained on different data than the store holds now")
        bundle = bundles.load(folder, prep.data.query_vectors)
        name = manifest["model"] if manifest["model"] not in results else f"{manifest['model']} ({folder.name})"
        results[name] = evaluate(bundle.model, prep.test, prep.data.item_counts(), n_negatives=negatives,
                                 mask_history=mask_history)
        training[name] = manifest.get("training", {})
    return results, training
