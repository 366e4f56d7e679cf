"""Batch encoding on Ray Data: a :class:`~daogou.encode.base.TextEncoder` that fans texts out to Ray workers.

The texts become a dataset; ``map_batches`` runs a pool of actors, each holding the named encoder once, and
the vectors are put back in input order. Each text's vector is what the encoder gives in one process (the
model is the same; only which texts share a batch differs), so the embedding cache and the index built from
it do not depend on how they were computed. Queries are encoded in this process: one text is not worth a
round trip.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from daogou.cluster import RayConfig, start_ray
from daogou.encode.base import Kind, get_encoder
from daogou.errors import ClusterError


class _EncodeBatch:
    """Ray Data actor: loads the encoder once, encodes one batch of rows per call."""

    def __init__(self, name: str, kind: Kind):
        self.encoder, self.kind = get_encoder(name), kind

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.encoder.encode([str(t) for t in batch["text"]], kind=self.kind)
        return {"row": batch["row"], "vector": np.asarray(vectors, dtype=np.float32)}


class RayBatchEncoder:
    """Encodes passages with Ray Data; identity (name, dim, languages, cache key) is the named encoder's."""

    def __init__(self, name: str, config: RayConfig = RayConfig(), rows_per_batch: int = 256):
        self.spec, self.config, self.rows_per_batch = name, config, rows_per_batch
        self.local = get_encoder(name)
        self.name, self.dim, self.languages = self.local.name, self.local.dim, self.local.languages

    @property
    def cache_key(self) -> str:
        return self.local.cache_key

    def encode(self, texts: Sequence[str], kind: Kind = "passage", batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        if kind == "query" or not texts:
            return self.local.encode(texts, kind=kind, batch_size=batch_size, progress=progress)
        import ray
        started = start_ray(self.config)
        try:
            return self._encode(list(texts), kind)
        finally:
            if started:
                ray.shutdown()

    def _encode(self, texts: list[str], kind: Kind) -> np.ndarray:
        import ray
        blocks = max(1, min(-(-len(texts) // self.rows_per_batch), 4 * self.config.workers))
        ds = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)], override_num_blocks=blocks)
        encoded = ds.map_batches(_EncodeBatch, fn_constructor_kwargs={"name": self.spec, "kind": kind},
                                 batch_size=self.rows_per_batch, batch_format="numpy",
                                 concurrency=self.config.workers, num_cpus=self.config.cpus_per_worker,
                                 num_gpus=1 if self.config.use_gpu else 0)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        seen = np.zeros(len(texts), dtype=bool)
        for batch in encoded.iter_batches(batch_size=None, batch_format="numpy"):
            out[batch["row"]] = batch["vector"]
            seen[batch["row"]] = True
        if not seen.all():
            raise ClusterError(f"Ray Data returned {int(seen.sum())} of {len(texts)} vectors")
        return out
