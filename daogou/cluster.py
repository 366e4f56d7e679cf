"""Ray clusters for the stages that can grow past one machine (training, batch encoding).

``start_ray`` connects to a running cluster (``address``) or starts a small local one for this process.
Everything here is optional: it is used only by ``--ray`` runs and needs the ``ray`` extra.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from daogou.errors import ConfigError


@dataclass(frozen=True)
class RayConfig:
    workers: int = 2
    address: str | None = None        # None: start a local Ray cluster for this run
    use_gpu: bool = False
    cpus_per_worker: float = 1.0
    object_store_mb: int = 256        # local cluster only
    storage: Path | None = None       # where Ray Train keeps run files; shared storage on a multi-node cluster

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError("workers must be >= 1")
        if self.cpus_per_worker <= 0:
            raise ConfigError("cpus_per_worker must be positive")


def start_ray(config: RayConfig) -> bool:
    """Connect to ``config.address`` or start a small local cluster; True if this call started Ray (the caller
    then shuts it down). A Ray already initialised in this process is used as it is."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--ray needs Ray: pip install -e '.[ray]'") from None
    if ray.is_initialized():
        return False
    if config.address:
        ray.init(address=config.address, log_to_driver=True)
    else:
        cpus = max(int(-(-config.workers * config.cpus_per_worker // 1)), os.cpu_count() or 1)
        ray.init(num_cpus=cpus, include_dashboard=False, object_store_memory=config.object_store_mb * 2**20,
                 log_to_driver=True)
    return True
