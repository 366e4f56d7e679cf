"""``daogou-rec`` as a :class:`~daogou.rec.base.Recommender`: batching, validation and scoring around the model."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import numpy as np
import torch

from daogou.errors import ConfigError
from daogou.ranking_metrics import ndcg, ranks_of_targets
from daogou.rec.base import Log, QueryVectors, TrainData
from daogou.rec.daogou_rec import DaogouRec, DaogouRecConfig
from daogou.rec.items import ItemSpace
from daogou.rec.sequences import Cases, Windows, training_windows
from daogou.rec.train import (SINGLE, Batch, Parallel, SizedBatches, TrainConfig, TrainResult, fit,
                              seed_everything)

SCORE_BATCH = 512
SAVED_BEFORE_OPTIONS = {"filter_alpha": 0.0, "filter_causal": True}  # what a bundle saved before an option existed was trained with
RANK_BLOCK_SCORES = 2**25  # scores held at once while ranking validation targets (128 MB of float32)


class DaogouRecRecommender:
    name = "daogou-rec"

    def __init__(self, items: ItemSpace | None = None, **options: Any):
        known = {f.name for f in fields(DaogouRecConfig)} - {"n_items", "n_tokens", "text_dim", "image_dim",
                                                             "query_dim"}
        unknown = set(options) - known - {"use_text", "use_tokens", "use_image"}
        if unknown:
            raise ConfigError(f"daogou-rec: unknown option(s) {sorted(unknown)}; known: {sorted(known)}")
        self.options = options
        self.items = items or ItemSpace.from_ids([])
        self.model: DaogouRec | None = None
        self.query_vectors: QueryVectors | None = None

    # ------------------------------------------------------------------ training
    def fit(self, data: TrainData, config: TrainConfig, log: Log = print,
            parallel: Parallel = SINGLE) -> TrainResult:
        """Train; in a data-parallel run each process takes its share of every batch and of the validation
        cases (``parallel``), so all see the same global batches and the same validation metric."""
        seed_everything(config.seed, config.threads)  # weights start the same for a seed
        self.items, self.query_vectors = data.items, data.query_vectors
        self.model = self._build(data.items, query_dim=self._query_dim(data.query_vectors))
        self._load_content(id_known=data.item_counts() > 0)
        windows = training_windows(data.train, self.model.config.max_len,
                                   prefixes=not self.model.config.filter_causal)
        if not len(windows):
            raise ConfigError("daogou-rec: no training events with known products")
        q_table = self._query_table(windows.query_texts)

        lengths = (windows.types > 0).sum(1)

        def batches(rng: np.random.Generator) -> SizedBatches:
            shares = [p for p in map(parallel.part, length_buckets(lengths, config.batch_size, rng)) if p is not None]
            return SizedBatches(len(shares), (_window_batch(windows, p, q_table) for p in shares))

        valid = data.valid if parallel.world == 1 else \
            data.valid.take(np.array_split(np.arange(len(data.valid)), parallel.world)[parallel.rank])

        def validate() -> float:
            mine = ndcg(self.target_ranks(valid), 10) * len(valid) if len(valid) else 0.0
            total, count = parallel.sum(np.array([mine, len(valid)], np.float64))
            return float(total / max(count, 1.0))

        return fit(self.model, batches, validate, config, data.fingerprint, log, parallel)

    def _build(self, items: ItemSpace, query_dim: int) -> DaogouRec:
        opts = {k: v for k, v in self.options.items() if k not in ("use_text", "use_tokens", "use_image")}
        use_text = self.options.get("use_text", True) and items.text is not None
        use_image = self.options.get("use_image", True) and items.image is not None
        if opts.get("fusion", "sum") != "sum" and not (use_text and use_image):
            raise ConfigError(f"daogou-rec: fusion={opts['fusion']} needs text and image features "
                              "(train with a text encoder and --image-features)")
        cfg = DaogouRecConfig(n_items=items.n, n_tokens=len(items.vocab) if self.options.get("use_tokens", True)
                              else 1, text_dim=items.text.shape[1] if use_text else 0,
                              image_dim=items.image.shape[1] if use_image else 0, query_dim=query_dim, **opts)
        return DaogouRec(cfg)

    def _query_dim(self, query_vectors: QueryVectors | None) -> int:
        return 0 if query_vectors is None else int(query_vectors(["probe"]).shape[1])

    def _load_content(self, id_known: np.ndarray | None = None) -> None:
        assert self.model is not None
        c = self.model.config
        tokens = torch.from_numpy(self.items.tokens) if c.n_tokens > 1 else torch.zeros(self.items.n + 1, 1,
                                                                                          dtype=torch.long)
        text = torch.from_numpy(self.items.text) if c.text_dim else None
        image = torch.from_numpy(self.items.image) if c.image_dim and self.items.image is not None else None
        known = None if id_known is None else torch.from_numpy(id_known.astype(np.float32))
        self.model.set_content(tokens, text, image, id_known=known)

    def _query_table(self, texts: list[str]) -> torch.Tensor | None:
        if self.query_vectors is None or self.model is None or not self.model.config.query_dim:
            return None
        dim = self.model.config.query_dim
        table = np.zeros((len(texts) + 1, dim), np.float32)  # last row: no query
        if texts:
            table[:-1] = self.query_vectors(list(texts))
        return torch.from_numpy(table)

    # ------------------------------------------------------------------ scoring
    def target_ranks(self, cases: Cases) -> np.ndarray:
        """0-based rank of each case's target, scored a block of cases at a time: the full score matrix of 50k
        validation cases over 20k items would be 4 GB (and 200 GB over a million)."""
        block = max(16, RANK_BLOCK_SCORES // (self.items.n + 1))
        return np.concatenate([np.zeros(0, np.int64)] + [
            ranks_of_targets(self.score(cases.take(slice(lo, lo + block))), cases.targets[lo:lo + block])
            for lo in range(0, len(cases), block)])

    @torch.no_grad()
    def score(self, cases: Cases) -> np.ndarray:
        if self.model is None:
            raise ConfigError("daogou-rec: fit or load the model before scoring")
        if self.model.training:  # a walk over every module: only when needed
            self.model.eval()
        q_table = self._query_table(cases.query_texts)
        device = self.model.item_id.weight.device
        out = []
        for lo in range(0, len(cases), SCORE_BATCH):
            sl = slice(lo, lo + SCORE_BATCH)
            width = int((cases.hist_types[sl] > 0).sum(1).max())
            cols = slice(cases.hist_types.shape[1] - width, None)
            queries = None if q_table is None else q_table[torch.from_numpy(cases.queries[sl])].to(device)
            scores, _ = self.model(torch.from_numpy(cases.hist_items[sl, cols]).to(device),
                                   torch.from_numpy(cases.hist_types[sl, cols]).to(device),
                                   torch.from_numpy(cases.hist_gaps[sl, cols]).to(device), queries,
                                   torch.from_numpy(cases.target_types[sl]).to(device))
            out.append(scores.cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.items.n + 1), np.float32)

    # ------------------------------------------------------------------ persistence
    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        assert self.model is not None
        arrays = {f"model.{k}": v.detach().cpu().numpy() for k, v in self.model.state_dict().items()}
        arrays["id_known"] = self.model.id_known.cpu().numpy()
        return {"model": asdict(self.model.config), "options": self.options}, arrays

    @classmethod
    def from_state(cls, config: dict[str, Any], arrays: dict[str, np.ndarray], items: ItemSpace,
                   query_vectors: QueryVectors | None = None) -> DaogouRecRecommender:
        rec = cls(items, **config.get("options", {}))
        rec.model = DaogouRec(DaogouRecConfig(**{**SAVED_BEFORE_OPTIONS, **config["model"]}))
        rec.model.load_state_dict({k[6:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("model.")})
        rec.query_vectors = query_vectors
        trained = rec.model.config.n_items
        rec.model.grow_items(items.n)
        known = np.zeros(items.n + 1, np.float32)
        known[:trained + 1] = arrays["id_known"][:trained + 1]
        rec._load_content(known)
        rec.model.eval()
        return rec

    def add_items(self, rows: np.ndarray) -> None:
        if self.model is None:
            return
        known = self.model.id_known.numpy()
        self.model.grow_items(self.items.n)
        self._load_content(np.concatenate([known, np.zeros(self.items.n + 1 - len(known), np.float32)]))


def length_buckets(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of windows of similar length, so little time is spent on padding."""
    order = np.lexsort((rng.random(len(lengths)), lengths))
    batches = [order[lo:lo + batch_size] for lo in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _window_batch(w: Windows, idx: np.ndarray, q_table: torch.Tensor | None) -> Batch:
    width = int((w.types[idx] > 0).sum(1).max())  # windows are left-padded: keep the last ``width`` slots
    cols = slice(w.items.shape[1] - width, None)
    batch = {"items": torch.from_numpy(w.items[idx, cols]), "types": torch.from_numpy(w.types[idx, cols]),
             "gaps": torch.from_numpy(w.gaps[idx, cols]), "targets": torch.from_numpy(w.targets[idx, cols]),
             "weights": torch.from_numpy(w.weights[idx, cols]),
             "target_types": torch.from_numpy(w.target_types[idx, cols])}
    if q_table is not None:
        batch["queries"] = q_table[torch.from_numpy(w.queries[idx, cols])]  # -1 → last row (no query)
    return batch
