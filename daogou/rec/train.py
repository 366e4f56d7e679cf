"""One training loop for every torch recommender: the model supplies its loss, the caller its validation.

Deterministic (seeded torch/numpy, fixed thread count), validated each epoch with early stopping on a metric,
bounded by a wall-clock budget, and resumable from a checkpoint folder (weights, optimizer state and history as
safetensors + JSON; no pickle).
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from daogou.errors import ConfigError

Batch = dict[str, torch.Tensor]


@dataclass
class TrainConfig:
    epochs: int = 200
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 5
    budget_s: float | None = None
    seed: int = 0
    threads: int | None = None
    progress: bool = True
    checkpoint_dir: Path | None = None
    grad_clip: float = 5.0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("epochs and batch_size must be >= 1")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"lr must be a positive number, got {self.lr}")
        if self.budget_s is not None and self.budget_s <= 0:
            raise ConfigError("budget_s must be positive")


@dataclass
class TrainResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_metric: float = float("-inf")
    stopped: str = "epochs"
    seconds: float = 0.0
    untrained_metric: float | None = None  # validation before the first step: what training added is measured

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def seed_everything(seed: int, threads: int | None = None) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)


class Parallel:
    """How the processes of a data-parallel run see each other. This base class is the single process; a
    distributed run (``daogou.rec.distributed``) overrides ``wrap`` and the collectives."""

    rank, world = 0, 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """The module as trained (a distributed run wraps it to average gradients)."""
        return module

    def any(self, flag: bool) -> bool:
        """True on every process if ``flag`` is true on any (so all stop at the same step)."""
        return flag

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Elementwise sum of ``values`` over the processes."""
        return values

    def part(self, idx: np.ndarray) -> np.ndarray | None:
        """This process's share of one global batch (None: the batch is too small to share; all skip it)."""
        if self.world == 1:
            return idx
        parts = np.array_split(idx, self.world)
        return parts[self.rank] if min(len(p) for p in parts) else None


SINGLE = Parallel()


class SizedBatches:
    """An epoch's batches with their count known up front (progress bars and per-step timings use it)."""

    def __init__(self, count: int, batches: Iterable[Batch]):
        self.count, self.batches = count, batches

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Batch]:
        return iter(self.batches)


def fit(module: torch.nn.Module, batches: Callable[[np.random.Generator], Iterable[Batch]],
        validate: Callable[[], float], config: TrainConfig, fingerprint: str = "",
        log: Callable[[str], None] = print, parallel: Parallel = SINGLE) -> TrainResult:
    """Train ``module`` (its forward returns ``(scores, loss)``) and leave it at its best validation epoch.

    In a data-parallel run every process calls this with the same config and batch order; ``batches`` yields
    only this process's share, ``validate`` returns the same value everywhere, and only the main process
    writes checkpoints."""
    seed_everything(config.seed + parallel.rank, config.threads)  # dropout/negatives differ per process
    trained = parallel.wrap(module)
    # fused: one pass over each tensor; with a million-item ID table the optimizer step is the largest cost
    opt = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=config.lr,
                           weight_decay=config.weight_decay, fused=True)
    result, start_epoch = TrainResult(), 0
    best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    if config.checkpoint_dir is not None:
        resumed = _load_checkpoint(config.checkpoint_dir, module, opt, fingerprint)
        if resumed is not None:
            result, best_state, start_epoch = resumed
            log(f"resumed from epoch {start_epoch} ({config.checkpoint_dir})")
    if start_epoch == 0:
        module.eval()
        with torch.no_grad():
            result.untrained_metric = float(validate())
        log(f"epoch 0 (untrained): valid {result.untrained_metric:.4f}")
    t0 = time.perf_counter() - result.seconds
    rng = np.random.default_rng(config.seed)
    for _ in range(start_epoch):
        rng = np.random.default_rng(rng.integers(2**63))
    for epoch in range(start_epoch + 1, config.epochs + 1):
        rng = np.random.default_rng(rng.integers(2**63))
        module.train()
        epoch_batches = batches(rng)
        started = time.perf_counter()
        loss, out_of_time, steps = _run_epoch(trained, opt, epoch_batches, config, t0, epoch, parallel)
        step_s = time.perf_counter() - started
        module.eval()
        with torch.no_grad():
            metric = float(validate())
        result.seconds = time.perf_counter() - t0
        result.history.append({"epoch": epoch, "loss": loss, "valid": metric, "seconds": round(result.seconds, 2),
                               "steps": steps, "train_s": round(step_s, 3),
                               "epoch_steps": len(epoch_batches) if isinstance(epoch_batches, Sized) else None})
        log(f"epoch {epoch}: loss {loss:.4f}  valid {metric:.4f}  ({result.seconds:.0f}s)")
        if metric > result.best_metric:
            result.best_metric, result.best_epoch = metric, epoch
            best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        if config.checkpoint_dir is not None and parallel.main:
            _save_checkpoint(config.checkpoint_dir, module, opt, result, best_state, epoch, fingerprint)
        if out_of_time:
            result.stopped = "budget"
            break
        if epoch - result.best_epoch >= config.patience:
            result.stopped = "early_stopping"
            break
    module.load_state_dict(best_state)
    module.eval()
    return result


def _run_epoch(module: torch.nn.Module, opt: torch.optim.Optimizer, batches: Iterable[Batch],
               config: TrainConfig, t0: float, epoch: int,
               parallel: Parallel = SINGLE) -> tuple[float, bool, int]:
    total, count = 0.0, 0
    device = next(module.parameters()).device
    bar: Iterator[Batch] = tqdm(batches, desc=f"epoch {epoch}", leave=False, disable=not config.progress)
    for batch in bar:
        _, loss = module(**{k: v.to(device) for k, v in batch.items()})
        if loss is None or not torch.isfinite(loss):
            raise FloatingPointError(f"training loss became {loss} at epoch {epoch}; lower lr")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip:
            torch.nn.utils.clip_grad_norm_(module.parameters(), config.grad_clip)
        opt.step()
        total, count = total + loss.item(), count + 1
        if config.budget_s is not None and parallel.any(time.perf_counter() - t0 > config.budget_s):
            return total / max(count, 1), True, count
    return total / max(count, 1), False, count


# ---------------------------------------------------------------- checkpoints (safetensors + JSON)

def _save_checkpoint(folder: Path, module: torch.nn.Module, opt: torch.optim.Optimizer, result: TrainResult,
                     best_state: dict[str, torch.Tensor], epoch: int, fingerprint: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.contiguous() for k, v in module.state_dict().items()}
    tensors.update({f"best.{k}": v.contiguous() for k, v in best_state.items()})
    opt_state = opt.state_dict()
    for idx, state in opt_state["state"].items():
        for name, value in state.items():
            tensors[f"opt.{idx}.{name}"] = torch.as_tensor(value).contiguous()
    tmp = folder / "checkpoint.safetensors.tmp"
    save_file(tensors, str(tmp))
    tmp.replace(folder / "checkpoint.safetensors")
    meta = {"epoch": epoch, "fingerprint": fingerprint, "result": result.to_dict(),
            "param_groups": opt_state["param_groups"]}
    (folder / "checkpoint.json").write_text(json.dumps(meta), encoding="utf-8")


def _load_checkpoint(folder: Path, module: torch.nn.Module, opt: torch.optim.Optimizer,
                     fingerprint: str) -> tuple[TrainResult, dict[str, torch.Tensor], int] | None:
    meta_path, weights_path = folder / "checkpoint.json", folder / "checkpoint.safetensors"
    if not (meta_path.exists() and weights_path.exists()):
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("fingerprint") != fingerprint:
        raise ConfigError(f"{folder}: checkpoint was made for other data or settings; remove it or use another "
                          "--checkpoint folder")
    tensors = load_file(str(weights_path))
    module.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    result = TrainResult(**meta["result"])
    return result, best, int(meta["epoch"])
