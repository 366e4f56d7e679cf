"""Train a model on a store and save its bundle; evaluate saved bundles on the same split. Used by the CLI."""

from __future__ import annotations

import inspect
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from daogou.catalog.store import Store
from daogou.errors import ConfigError
from daogou.evaluate.protocols import evaluate
from daogou.rec import bundle as bundles
from daogou.rec.base import Log, Recommender, model_class
from daogou.rec.data import DataConfig, Prepared, prepare
from daogou.rec.train import SINGLE, Parallel, TrainConfig, TrainResult


def train_config_for(name: str, **overrides: Any) -> TrainConfig:
    """The model's own training defaults (e.g. seed-bert's lr 1e-5) with explicit ``overrides`` on top."""
    defaults = dict(getattr(model_class(name), "train_defaults", {}))
    defaults.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig(**defaults)


def train(store: Store, name: str, data_config: DataConfig, train_config: TrainConfig, out: Path,
          options: dict[str, Any] | None = None, prepared: Prepared | None = None,
          log: Log = print) -> tuple[Path, TrainResult, Prepared]:
    prepared = prepared or prepare(store, data_config, progress=train_config.progress)
    if train_config.checkpoint_dir is not None:
        train_config = replace(train_config, checkpoint_dir=Path(train_config.checkpoint_dir))
    model, result = fit_model(prepared, name, train_config, options, log)
    return save_bundle(model, out, prepared, result), result, prepared


def fit_model(prepared: Prepared, name: str, train_config: TrainConfig, options: dict[str, Any] | None = None,
              log: Log = print, parallel: Parallel = SINGLE) -> tuple[Recommender, TrainResult]:
    """Build model ``name`` on the prepared data and train it (one process, or one process of a parallel run)."""
    model = model_class(name)(prepared.data.items, **(options or {}))
    if parallel.world == 1:
        return model, model.fit(prepared.data, train_config, log)
    if "parallel" not in inspect.signature(model.fit).parameters:
        raise ConfigError(f"{name} trains in one process only; data-parallel training supports daogou-rec")
    return model, model.fit(prepared.data, train_config, log, parallel=parallel)


def save_bundle(model: Recommender, out: Path, prepared: Prepared, result: TrainResult) -> Path:
    config = prepared.config
    return bundles.save(model, out, fingerprint=prepared.data.fingerprint, encoder=config.encoder,
                        metrics={"valid_ndcg@10": result.best_metric}, training=result.to_dict(),
                        data={"config": asdict(config), "split": prepared.split.summary()})


def data_config_of(manifest: dict[str, Any]) -> DataConfig:
    saved = dict(manifest.get("data", {}).get("config", {}))
    if saved.get("targets"):
        saved["targets"] = tuple(saved["targets"])
    return DataConfig(**saved)


def evaluate_bundles(store: Store, folders: list[Path], negatives: int = 100,
                     log: Log = print) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
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
        results[name] = evaluate(bundle.model, prep.test, prep.data.item_counts(), n_negatives=negatives)
        training[name] = manifest.get("training", {})
    return results, training
