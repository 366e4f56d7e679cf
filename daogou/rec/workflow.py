"""Train a model on a store and save its bundle. Used by the CLI (``daogou.evaluate.bundles`` evaluates bundles)."""

from __future__ import annotations

import inspect
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from daogou.catalog.store import Store
from daogou.errors import ConfigError
from daogou.rec import bundle as bundles
from daogou.rec.base import RECOMMENDERS, Log, Recommender
from daogou.rec.data import DataConfig, Prepared, prepare
from daogou.rec.train import SINGLE, Parallel, TrainConfig, TrainResult


def train_config_for(name: str, **overrides: Any) -> TrainConfig:
    """The model's own training defaults (e.g. seed-bert's lr 1e-5) with explicit ``overrides`` on top."""
    defaults = dict(getattr(RECOMMENDERS.get(name), "train_defaults", {}))
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
    model = RECOMMENDERS.get(name)(prepared.data.items, **(options or {}))
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
