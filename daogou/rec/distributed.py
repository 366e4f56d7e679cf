"""Data-parallel training on Ray Train: the same model, loop and bundle code as one process, on N workers.

``train_ray`` starts a ``TorchTrainer`` (a local Ray cluster unless an address is given). Every worker opens
the store, prepares the same split (deterministic), builds the model with the same seed and runs the one
training loop (``daogou.rec.train.fit``) with a :class:`TorchParallel`: the model is wrapped for DDP by Ray's
``prepare_model``, every global batch is split across the workers (so each step sees the batch one process
would), validation cases are split and their NDCG summed, and the budget stop is agreed by all. Worker 0
saves the bundle and hands it back as a Ray checkpoint, which is copied to ``out``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from daogou.cluster import RayConfig, start_ray
from daogou.config import StoreConfig
from daogou.errors import ClusterError
from daogou.rec.base import Log
from daogou.rec.data import DataConfig
from daogou.rec.train import Parallel, TrainConfig, TrainResult


class TorchParallel(Parallel):
    """One worker of a ``torch.distributed`` process group (set up by Ray Train)."""

    def __init__(self, rank: int, world: int):
        self.rank, self.world = rank, world

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        from ray.train.torch import prepare_model
        from torch.nn.parallel import DistributedDataParallel
        # Item content lives in buffers (one sparse): identical on every worker by construction, never synced.
        DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(
            module, [name for name, _ in module.named_buffers()])
        # Parameters a batch may not touch (the query projection when no query is active) need find_unused.
        return prepare_model(module, parallel_strategy_kwargs={"find_unused_parameters": True,
                                                               "broadcast_buffers": False})

    def any(self, flag: bool) -> bool:
        import torch.distributed as dist
        t = torch.tensor([1 if flag else 0], dtype=torch.int64)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def sum(self, values: np.ndarray) -> np.ndarray:
        import torch.distributed as dist
        t = torch.from_numpy(np.asarray(values, dtype=np.float64).copy())
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.numpy()


def _worker_loop(job: dict[str, Any]) -> None:
    """Runs in every Ray Train worker."""
    import ray.train
    from ray.train import Checkpoint

    from daogou.catalog.store import Store
    from daogou.rec.data import prepare
    from daogou.rec.workflow import fit_model, save_bundle

    ctx = ray.train.get_context()
    parallel = TorchParallel(ctx.get_world_rank(), ctx.get_world_size())
    with Store.open(job["store"]) as store:
        prepared = prepare(store, job["data"])

    def log(message: str) -> None:  # stderr: Ray forwards it to the driver's stderr; stdout stays the driver's
        if parallel.main:
            print(message, file=sys.stderr, flush=True)

    model, result = fit_model(prepared, job["name"], job["train"], job["options"], log, parallel)
    metrics = {"result": result.to_dict(), "split": prepared.split.summary()}
    if not parallel.main:
        ray.train.report(metrics)
        return
    with tempfile.TemporaryDirectory() as tmp:
        save_bundle(model, Path(tmp) / "bundle", prepared, result)
        ray.train.report(metrics, checkpoint=Checkpoint.from_directory(tmp))


def train_ray(store_config: StoreConfig, name: str, data_config: DataConfig, train_config: TrainConfig,
              out: Path, options: dict[str, Any] | None = None, ray_config: RayConfig = RayConfig(),
              log: Log = print) -> tuple[Path, TrainResult, dict[str, Any]]:
    """Train ``name`` on ``ray_config.workers`` Ray Train workers; returns (bundle, result, split summary)."""
    import ray
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    threads = train_config.threads or max(1, int(ray_config.cpus_per_worker))
    job = {"store": StoreConfig(Path(store_config.home).resolve(), store_config.url), "data": data_config,
           "name": name, "options": dict(options or {}),
           # checkpoints of a parallel run are not resumable (each worker would need the file); the bundle is
           "train": replace(train_config, checkpoint_dir=None, progress=False, threads=threads)}
    storage = (ray_config.storage or Path(store_config.home) / "ray").resolve()
    started_here = start_ray(ray_config)
    try:
        trainer = TorchTrainer(
            _worker_loop, train_loop_config=job,
            scaling_config=ScalingConfig(num_workers=ray_config.workers, use_gpu=ray_config.use_gpu,
                                         resources_per_worker={"CPU": ray_config.cpus_per_worker}),
            run_config=RunConfig(storage_path=str(storage), name=f"train-{name}-{int(time.time() * 1000)}"))
        outcome = trainer.fit()
    finally:
        if started_here:
            ray.shutdown()
    if outcome.error is not None or outcome.checkpoint is None:
        raise ClusterError(f"distributed training failed: {outcome.error or 'no model came back'}")
    with outcome.checkpoint.as_directory() as folder:
        out = Path(out)
        tmp = out.with_name(out.name + ".incoming")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(Path(folder) / "bundle", tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    shutil.rmtree(Path(outcome.path), ignore_errors=True)
    metrics = outcome.metrics
    result = TrainResult(**metrics["result"])
    log(f"{ray_config.workers} workers: validation NDCG@10 {result.best_metric:.4f} at epoch {result.best_epoch}")
    return out, result, metrics["split"]

