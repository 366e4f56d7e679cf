"""daogou-rec on a million-item catalog: sampled softmax computes only the item vectors a batch needs."""

from __future__ import annotations

import time

import numpy as np
import torch

from daogou.rec.daogou_rec import DaogouRec, DaogouRecConfig
from daogou.rec.sequences import N_TYPES


def _model(n_items: int, **kw) -> DaogouRec:
    torch.manual_seed(0)
    model = DaogouRec(DaogouRecConfig(n_items=n_items, n_tokens=50, **kw))
    rng = np.random.default_rng(0)
    tokens = torch.from_numpy(rng.integers(0, 50, (n_items + 1, 3)))
    tokens[0] = 0
    text = torch.from_numpy(rng.normal(size=(n_items + 1, kw.get("text_dim", 1))).astype(np.float32))
    model.set_content(tokens, text if kw.get("text_dim") else None, id_known=torch.ones(n_items + 1))
    return model


def _batch(n_items: int, rows: int = 16, length: int = 12, seed: int = 1) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    items = torch.randint(1, n_items + 1, (rows, length), generator=g)
    return {"items": items, "types": torch.randint(1, N_TYPES, (rows, length), generator=g),
            "gaps": torch.zeros(rows, length, dtype=torch.long),
            "targets": torch.randint(1, n_items + 1, (rows, length), generator=g),
            "weights": torch.ones(rows, length)}


def test_item_vectors_of_some_rows_equal_the_full_table():
    model = _model(300, text_dim=8)
    rows = torch.tensor([0, 1, 7, 7, 150, 300])
    np.testing.assert_allclose(model.item_vectors_at(rows).detach().numpy(),
                               model.item_vectors()[rows].detach().numpy(), rtol=1e-5, atol=1e-6)


def test_sampled_softmax_trains_a_million_item_catalog_quickly():
    n = 1_000_000
    model = _model(n, dim=32, negatives=1024)
    assert n > model.config.sampled_softmax_above
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, fused=True)  # as the training loop does
    batch = _batch(n)
    losses, started = [], time.perf_counter()
    for _ in range(15):
        scores, loss = model(**batch)
        assert scores.shape[1] == 1 + 12 + 1024  # target + its history + sampled negatives, not a million columns
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - started
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert seconds < 30, seconds  # ~0.2 s per step on 2 cores; the full table would be far slower
    # only rows that were in the batch or sampled got an ID gradient
    model.zero_grad()
    _, loss = model(**batch)
    loss.backward()
    touched = int((model.item_id.weight.grad.abs().sum(1) > 0).sum())
    assert 0 < touched <= batch["items"].numel() + batch["targets"].numel() + 1024


def test_validation_ranks_are_computed_block_by_block(tmp_path, monkeypatch):
    from daogou.catalog.demo import DemoConfig
    from daogou.catalog.demo_store import build_demo_store
    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    from daogou.ranking_metrics import ranks_of_targets
    from daogou.rec import daogou_rec_recommender as sequential
    from daogou.rec.data import DataConfig, prepare
    with Store.open(StoreConfig(home=tmp_path)) as store:
        build_demo_store(store, DemoConfig(n_products=200, n_shoppers=120))
        prepared = prepare(store, DataConfig())
    rec = sequential.DaogouRecRecommender(prepared.data.items)
    rec.model = rec._build(prepared.data.items, query_dim=0)
    rec._load_content(prepared.data.item_counts() > 0)
    valid = prepared.data.valid
    whole = ranks_of_targets(rec.score(valid), valid.targets)
    monkeypatch.setattr(sequential, "RANK_BLOCK_SCORES", 40 * (rec.items.n + 1))  # blocks of 40 cases
    assert len(valid) > 40
    np.testing.assert_array_equal(rec.target_ranks(valid), whole)


def test_sampled_softmax_learns_the_repeat_bonus():
    """A log where the next item is always the one seen just before the last (a return to it): trained with
    sampled negatives, the repeat bonus must learn it, and full scoring then ranks that item first."""
    n, rows, length = 5_000, 64, 12
    model = _model(n, dim=16, negatives=256, sampled_softmax_above=0)
    opt = torch.optim.Adam(model.parameters(), lr=2e-2)
    for step in range(40):
        batch = _batch(n, rows, length, seed=step)
        targets = torch.zeros_like(batch["items"])
        targets[:, 1:] = batch["items"][:, :-1]  # after slot p comes the item of slot p - 1
        batch["targets"] = targets
        _, loss = model(**batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.rep_recency[1] > model.rep_recency[0] and model.rep_recency[1] > 0
    model.eval()
    test = _batch(n, 200, length, seed=999)
    with torch.no_grad():
        scores, _ = model(test["items"], test["types"], test["gaps"])
    hits = (scores.argmax(1) == test["items"][:, -2]).float().mean().item()
    assert hits > 0.9, hits
