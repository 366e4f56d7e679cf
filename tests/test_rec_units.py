"""Known-answer tests for metrics, protocols, sequence building and bad configurations (no model training)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from daogou.catalog.models import Product
from daogou.catalog.splits import leave_one_out
from daogou.errors import ConfigError, UnknownNameError
from daogou.ranking_metrics import hit_rate, mrr, ndcg, ranks_of_targets, summarize
from daogou.evaluate.protocols import evaluate, ranks
from daogou.rec.base import RECOMMENDERS
from daogou.rec.items import ItemSpace, content_tokens
from daogou.rec.sequences import (
    BOS_TYPE,
    EventSequences,
    cases_after,
    cases_for,
    training_windows,
)
from daogou.rec.train import TrainConfig


def test_metrics_hand_computed():
    ranks_ = np.array([0, 1, 4, 9, 30])
    assert hit_rate(ranks_, 5) == pytest.approx(3 / 5)
    assert hit_rate(ranks_, 10) == pytest.approx(4 / 5)
    expected = (1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(6)) / 5
    assert ndcg(ranks_, 5) == pytest.approx(expected)
    assert mrr(ranks_) == pytest.approx((1 + 1 / 2 + 1 / 5 + 1 / 10 + 1 / 31) / 5)
    assert mrr(ranks_, 5) == pytest.approx((1 + 1 / 2 + 1 / 5) / 5)
    s = summarize(ranks_, ks=(10,))
    assert s["cases"] == 5 and s["ndcg@10"] == pytest.approx(expected + 1 / math.log2(11) / 5)


def test_ranks_count_ties_against_the_target():
    scores = np.array([[-np.inf, 3.0, 1.0, 2.0], [-np.inf, 1.0, 1.0, 1.0]])
    assert ranks_of_targets(scores, np.array([3, 2])).tolist() == [1, 2]


class FixedScorer:
    """Scores item ``k`` as ``k`` (the last item is always best)."""

    def __init__(self, n: int):
        self.n = n

    def score(self, cases):
        s = np.tile(np.arange(self.n + 1, dtype=np.float32), (len(cases), 1))
        s[:, 0] = -np.inf
        return s


def _frame(rows):
    return pd.DataFrame(rows, columns=["shopper_id", "session_id", "ts_ms", "seq", "type", "product_id", "query"])


@pytest.fixture
def tiny():
    items = ItemSpace.from_products([Product(f"p{i}", category=("A",) if i < 5 else ("B",)) for i in range(1, 11)])
    rows = []
    for u in range(3):
        t = 0
        rows.append((f"u{u}", "s1", t, 0, "search", None, "blue shoes"))
        for k, pid in enumerate(["p1", "p2", "p3", "p4", "p5"][u:] + ["p9"]):
            t += 1000
            rows.append((f"u{u}", "s1" if k < 2 else "s2", t, k + 1, "purchase" if k % 2 else "view", pid, ""))
    return items, _frame(rows)


def test_sequences_fold_searches_into_active_queries(tiny):
    items, frame = tiny
    seqs = EventSequences.from_frame(frame, items)
    assert seqs.shoppers == ["u0", "u1", "u2"]
    s0 = seqs.slice(0)
    assert seqs.items[s0].tolist() == items.rows(["p1", "p2", "p3", "p4", "p5", "p9"]).tolist()
    q = seqs.queries[s0]
    assert [seqs.query_texts[i] if i >= 0 else None for i in q] == ["blue shoes"] * 2 + [None] * 4


def test_training_windows_predict_each_event_from_what_came_before(tiny):
    items, frame = tiny
    w = training_windows(EventSequences.from_frame(frame, items), max_len=4)
    row = w.items.shape[1]
    # u0: 6 events → windows of 4 (the last four targets) and 2; u1: 5 → 4 + 1; u2: 4 → 4
    assert len(w) == 5
    first = w.targets[1]
    assert first[-2:].tolist() == items.rows(["p1", "p2"]).tolist() and (first[:2] == 0).all()
    assert w.types[1, -2] == BOS_TYPE and w.items[1, -1] == items.index["p1"]
    assert w.weights[1, -1] == 1.0 and w.weights[1, -2] == pytest.approx(0.3)  # purchase vs view
    assert row == 4


def test_cases_see_only_the_past_and_new_shoppers_get_a_start_token(tiny):
    items, frame = tiny
    split = leave_one_out(frame, targets=("view", "purchase"))
    cases = cases_for(split, "test", items, max_len=8)
    assert len(cases) == 3 and (cases.targets == items.index["p9"]).all()
    assert cases.lengths.tolist() == [5, 4, 3]  # every event before the target, nothing after
    seqs = EventSequences.from_frame(frame, items)
    live = cases_after(seqs, ["u0", "stranger"], ["red", None], max_len=8)
    assert live.lengths.tolist() == [6, 0]
    assert live.hist_types[1, -1] == BOS_TYPE and (live.hist_types[1, :-1] == 0).all()
    assert live.query_texts == ["red"] and live.queries.tolist() == [0, -1]


def test_session_history_leaves_the_target_session_out_but_keeps_its_search():
    items = ItemSpace.from_products([Product(f"p{i}") for i in range(1, 6)])
    frame = _frame([("u", "a", 0, 0, "view", "p1", ""), ("u", "a", 1000, 1, "purchase", "p1", ""),
                    ("u", "b", 9000, 2, "search", None, "red kettle"), ("u", "b", 9100, 3, "view", "p2", ""),
                    ("u", "b", 9200, 4, "cart", "p2", ""), ("u", "b", 9300, 5, "purchase", "p2", ""),
                    ("u", "c", 20000, 6, "view", "p3", ""), ("u", "c", 20100, 7, "purchase", "p3", "")])
    split = leave_one_out(frame, targets=("purchase",))
    event = cases_for(split, "valid", items, max_len=8)
    session = cases_for(split, "valid", items, max_len=8, history="session")
    assert event.targets.tolist() == session.targets.tolist() == [items.index["p2"]]
    assert event.lengths.tolist() == [4] and session.lengths.tolist() == [2]  # p1's session only
    assert session.hist_items[0, -2:].tolist() == [items.index["p1"]] * 2
    assert session.query_texts[session.queries[0]] == "red kettle"  # the session's search stays the question
    from daogou.catalog.splits import sessions_held_out
    held = sessions_held_out(split)
    assert split.train["session_id"].tolist() == ["a", "a", "b", "b", "b"]  # up to the validation purchase
    assert held.train["session_id"].tolist() == ["a", "a"]  # its session's search, view and cart held out too
    with pytest.raises(ConfigError, match="history"):
        from daogou.rec.data import DataConfig
        DataConfig(history="visit")


def test_protocols_full_and_sampled(tiny):
    items, frame = tiny
    split = leave_one_out(frame, targets=("view", "purchase"))
    cases = cases_for(split, "test", items, max_len=8)
    full, sampled = ranks(FixedScorer(items.n), cases, n_negatives=3)
    target_row = items.index["p9"]
    assert full.tolist() == [items.n - target_row] * 3
    assert (sampled <= 3).all()
    report = evaluate(FixedScorer(items.n), cases, np.ones(items.n + 1), n_negatives=3)
    assert report["full"]["cases"] == 3 and report["cold_targets"]["cases"] == 0


class HistoryFirst(FixedScorer):
    """Scores every item of the case's history above every other item (as a model that only repeats would)."""

    def score(self, cases):
        s = super().score(cases)
        for i, hist in enumerate(cases.hist_items):
            s[i, hist[hist > 0]] += 100.0
        return s


def test_masked_history_protocol_known_answer(tiny):
    items, frame = tiny
    split = leave_one_out(frame, targets=("view", "purchase"))
    cases = cases_for(split, "test", items, max_len=8)
    above = items.n - items.index["p9"]  # p10 only
    seen = [len(set(h[h > 0].tolist())) for h in cases.hist_items]
    assert seen == [5, 4, 3]  # shopper u saw p(u+1)..p5 before the target p9
    unmasked, _ = ranks(HistoryFirst(items.n), cases, n_negatives=3)
    masked, _ = ranks(HistoryFirst(items.n), cases, n_negatives=3, mask_history=True)
    assert unmasked.tolist() == [above + k for k in seen]
    assert masked.tolist() == [above] * 3
    # a target already in the history stays rankable: only the other history items are masked
    cases.hist_items[0, -1] = cases.targets[0]
    again, _ = ranks(HistoryFirst(items.n), cases.take(slice(0, 1)), n_negatives=3, mask_history=True)
    assert again.tolist() == [0]
    report = evaluate(HistoryFirst(items.n), cases, n_negatives=3, mask_history=True)
    assert report["protocol"] == "history masked"
    assert evaluate(HistoryFirst(items.n), cases, n_negatives=3)["protocol"] == "history not masked"


def test_content_tokens_cover_category_brand_price_attributes():
    p = Product("x", category=("Shoes", "Running"), brand="Acme", price=299.0, attributes={"colour": "Red"})
    toks = content_tokens(p)
    assert {"cat:Shoes", "cat:Shoes>Running", "brand:acme", "colour:red"} <= set(toks)
    assert any(t.startswith("price:") for t in toks)


def test_item_space_grows_with_new_products():
    space = ItemSpace.from_products([Product("a", brand="X"), Product("b", brand="X")])
    rows = space.add([Product("c", brand="X"), Product("a")])
    assert rows.tolist() == [3] and space.index["c"] == 3
    assert space.tokens[3].max() > 0  # the known brand token carries over to the new product


def test_bad_configs_are_clear():
    with pytest.raises(UnknownNameError, match="unknown recommender 'sasrec'"):
        RECOMMENDERS.get("sasrec")
    assert {"popularity", "item-knn", "seed-bert", "daogou-rec"} <= set(RECOMMENDERS.names())
    with pytest.raises(ConfigError, match="unknown option"):
        RECOMMENDERS.get("daogou-rec")(ItemSpace.from_ids(["a"]), dimension=3)
    with pytest.raises(ConfigError, match="lr"):
        TrainConfig(lr=-1.0)
    with pytest.raises(ConfigError, match="item-knn"):
        RECOMMENDERS.get("item-knn")(ItemSpace.from_ids(["a"]), window=0)


def test_training_resumes_from_its_checkpoint(tiny, tmp_path):
    from daogou.rec.base import TrainData
    from daogou.rec.daogou_rec_recommender import DaogouRecRecommender
    items, frame = tiny
    split = leave_one_out(frame, targets=("view", "purchase"))
    data = TrainData(items, EventSequences.from_frame(split.train, items), cases_for(split, "valid", items, 8),
                     fingerprint="tiny-v1")
    ckpt = tmp_path / "ckpt"
    first = DaogouRecRecommender(items, dim=16, heads=2, max_len=8).fit(
        data, TrainConfig(epochs=2, progress=False, checkpoint_dir=ckpt, patience=100), log=lambda m: None)
    assert (ckpt / "checkpoint.safetensors").exists() and len(first.history) == 2
    messages: list[str] = []
    second = DaogouRecRecommender(items, dim=16, heads=2, max_len=8).fit(
        data, TrainConfig(epochs=3, progress=False, checkpoint_dir=ckpt, patience=100), log=messages.append)
    assert any("resumed from epoch 2" in m for m in messages)
    assert [h["epoch"] for h in second.history] == [1, 2, 3]
    assert first.untrained_metric is not None and second.untrained_metric == first.untrained_metric  # kept
    assert second.history[:2] == first.history
    other = TrainData(items, data.train, data.valid, fingerprint="other-data")
    with pytest.raises(ConfigError, match="other data"):
        DaogouRecRecommender(items, dim=16, heads=2, max_len=8).fit(
            other, TrainConfig(epochs=3, progress=False, checkpoint_dir=ckpt), log=lambda m: None)


def test_training_is_deterministic_for_a_seed(tiny):
    from daogou.rec.base import TrainData
    from daogou.rec.daogou_rec_recommender import DaogouRecRecommender
    items, frame = tiny
    split = leave_one_out(frame, targets=("view", "purchase"))
    valid = cases_for(split, "valid", items, 8)
    data = TrainData(items, EventSequences.from_frame(split.train, items), valid)
    scores = []
    for _ in range(2):
        model = DaogouRecRecommender(items, dim=16, heads=2, max_len=8)
        model.fit(data, TrainConfig(epochs=2, seed=7, progress=False), log=lambda m: None)
        scores.append(model.score(valid))
    np.testing.assert_array_equal(scores[0], scores[1])


def test_sequences_from_rows_equal_sequences_from_a_frame(tmp_path):
    """Serving builds one shopper's sequence from plain rows; it must be exactly what training builds."""
    from daogou.catalog.demo import DemoConfig
    from daogou.catalog.demo_store import build_demo_store
    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    from daogou.rec.items import ItemSpace
    from daogou.rec.sequences import EventSequences
    with Store.open(StoreConfig(home=tmp_path / "home")) as store:
        build_demo_store(store, DemoConfig(n_products=100, n_shoppers=40))
        items = ItemSpace.from_products(list(store.iter_products()))
        shoppers = [f"U{i:04d}" for i in range(1, 41)] + ["nobody"]
        a = EventSequences.from_frame(store.events_frame(shoppers=shoppers), items)
        b = EventSequences.from_rows(store.event_rows(shoppers), items)
    for name in ("shoppers", "offsets", "items", "types", "ts", "pos", "queries", "sessions"):
        assert np.array_equal(np.asarray(getattr(a, name)), np.asarray(getattr(b, name))), name
    assert [a.query_texts[i] for i in a.queries if i >= 0] == [b.query_texts[i] for i in b.queries if i >= 0]


@pytest.mark.parametrize("sampled", [False, True])
def test_items_without_training_events_can_be_left_out_of_the_loss(sampled):
    """``unseen_negatives=False``: a product with no training event (a new one) is no negative, so the loss does
    not depend on it at all; by default it is one, like any product shoppers passed over."""
    import torch

    from daogou.rec.daogou_rec import DaogouRec, DaogouRecConfig
    n = 6
    tokens = torch.arange(n + 1)[:, None]  # item i alone carries content token i
    known = torch.tensor([0, 1, 1, 1, 1, 0, 0], dtype=torch.float32)  # items 5 and 6 never seen in training
    items = torch.tensor([[0, 1, 2, 3]])
    types, gaps = torch.ones_like(items), torch.zeros_like(items)
    types[0, 0] = 0
    targets, weights = torch.tensor([[0, 2, 3, 4]]), torch.ones(1, 4)

    def loss_with(unseen_negatives: bool, nudge: float) -> float:
        torch.manual_seed(0)
        cfg = DaogouRecConfig(n_items=n, n_tokens=n + 1, dim=8, layers=1, heads=1, max_len=4, dropout=0.0,
                              emb_dropout=0.0, unseen_negatives=unseen_negatives, negatives=64,
                              sampled_softmax_above=0 if sampled else 50_000)
        model = DaogouRec(cfg)
        model.set_content(tokens, id_known=known)
        with torch.no_grad():
            model.tokens.weight[5:] += nudge * torch.randn(2, 8)  # move only the unseen items' vectors
        torch.manual_seed(1)
        return float(model(items, types, gaps, targets=targets, weights=weights)[1].detach())

    assert loss_with(False, 0.0) == pytest.approx(loss_with(False, 5.0), abs=1e-6)
    assert loss_with(True, 0.0) != pytest.approx(loss_with(True, 5.0), abs=1e-3)


def test_the_id_free_offset_lifts_exactly_the_items_without_an_id_vector():
    import torch

    from daogou.rec.daogou_rec import REPEAT_SCALE, DaogouRec, DaogouRecConfig
    cfg = DaogouRecConfig(n_items=4, n_tokens=5, dim=8, layers=1, heads=1, max_len=3, id_dropout=0.5,
                          id_free_bias=True)
    model = DaogouRec(cfg).eval()
    model.set_content(torch.arange(5)[:, None], id_known=torch.tensor([0, 1, 1, 0, 1], dtype=torch.float32))
    items = torch.tensor([[1, 2, 4]])
    with torch.no_grad():
        before = model(items, torch.ones_like(items), torch.zeros_like(items))[0]
        model.id_free.fill_(0.3)
        after = model(items, torch.ones_like(items), torch.zeros_like(items))[0]
    lift = (after - before)[0, 1:]
    assert torch.allclose(lift, torch.tensor([0.0, 0.0, 0.3 * REPEAT_SCALE, 0.0]), atol=1e-5)


def test_the_content_head_ranks_items_without_an_id_by_content_and_known_ones_as_before():
    """``content_head``: an item with no trained ID is scored by what its content says (its ID row is ignored), a
    known item as without the head (log-probabilities keep its order), and the head's loss is added in training."""
    import torch

    from daogou.rec.daogou_rec import DaogouRec, DaogouRecConfig
    known = torch.tensor([0, 1, 1, 1, 0, 1], dtype=torch.float32)  # item 4 is new
    items = torch.tensor([[1, 2, 3]])
    types, gaps = torch.ones_like(items), torch.zeros_like(items)

    def model_with(head: float) -> DaogouRec:
        torch.manual_seed(0)
        m = DaogouRec(DaogouRecConfig(n_items=5, n_tokens=6, dim=8, layers=1, heads=1, max_len=3, dropout=0.0,
                                      emb_dropout=0.0, content_head=head))
        m.set_content(torch.arange(6)[:, None], id_known=known)
        return m.eval()

    plain, headed = model_with(0.0), model_with(1.0)
    scores = lambda m: m.load_state_dict(m.state_dict()) and m(items, types, gaps)[0][0]  # noqa: E731 (fresh caches)
    with torch.no_grad():
        before = scores(headed)
        headed.item_id.weight[4] += 5.0  # a new item's ID row says nothing
        assert torch.allclose(scores(headed), before)
        nudge = torch.randn(8)
        headed.tokens.weight[4] += nudge  # its content does
        assert not torch.allclose(scores(headed)[4], before[4])
        ranks = lambda sc: torch.argsort(sc[[1, 2, 3, 5]], descending=True)  # noqa: E731
        assert torch.equal(ranks(scores(plain)), ranks(scores(headed)))
    targets, weights = torch.tensor([[0, 3, 5]]), torch.ones(1, 3)
    with torch.no_grad():
        headed.item_id.weight[4] -= 5.0
        headed.tokens.weight[4] -= nudge
        assert float(headed(items, types, gaps, targets=targets, weights=weights)[1]) > \
            float(plain(items, types, gaps, targets=targets, weights=weights)[1])


def test_the_low_pass_filter_sees_only_the_past_and_trains():
    """filter_alpha: each position's state depends on its own and earlier events only (all positions train in
    one pass), every position's filter weight is BSARec's low-pass kernel, and a saved bundle from before the option
    loads with it off."""
    import torch

    from daogou.rec.daogou_rec import DaogouRec, DaogouRecConfig
    from daogou.rec.daogou_rec_recommender import SAVED_BEFORE_OPTIONS
    torch.manual_seed(0)
    model = DaogouRec(DaogouRecConfig(n_items=30, dim=16, heads=2, max_len=50, filter_alpha=0.7, filter_c=5))
    model.set_content(torch.zeros(31, 1, dtype=torch.long), id_known=torch.ones(31))
    kernel = model.encoder.kernel
    assert kernel[0] == pytest.approx(9 / 50) and kernel.sum() == pytest.approx(1.0)  # low-pass keeps the mean
    items = torch.tensor([[0, 0, 3, 4, 5, 6], [0, 7, 8, 9, 10, 11]])
    types = torch.tensor([[0, 0, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1]])
    model.eval()
    with torch.no_grad():
        vecs = model.item_vectors()
        before = model.encode(items, types, torch.zeros_like(items), vecs)
        changed = items.clone()
        changed[:, 3] = 20
        after = model.encode(changed, types, torch.zeros_like(items), vecs)
    assert torch.equal(before[:, :3], after[:, :3]) and not torch.allclose(before[:, 3:], after[:, 3:])
    model.train()
    targets = torch.tensor([[0, 0, 4, 5, 6, 7], [0, 8, 9, 10, 11, 12]])
    _, loss = model(items, types, torch.zeros_like(items), targets=targets, target_types=types,
                    weights=torch.ones(2, 6))
    loss.backward()
    assert all(layer.sqrt_beta.grad is not None for layer in model.encoder.layers)
    assert DaogouRecConfig(n_items=3, **SAVED_BEFORE_OPTIONS).filter_alpha == 0.0


def test_the_whole_window_filter_is_bsarecs_fft_low_pass():
    """filter_causal=False: the filter's matrix is the FFT low-pass of a max_len window (the c lowest frequencies
    kept), so trimming a left-padded window changes no real slot."""
    import torch

    from daogou.rec.daogou_rec import DaogouRec, DaogouRecConfig
    from daogou.rec.sequences import EventSequences, training_windows
    torch.manual_seed(0)
    cfg = DaogouRecConfig(n_items=30, dim=8, heads=1, max_len=10, filter_alpha=0.7, filter_c=3, filter_causal=False)
    encoder = DaogouRec(cfg).encoder
    x = torch.randn(1, 10, 8)
    x[:, :4] = 0  # left padding
    spectrum = torch.fft.rfft(x, dim=1)
    spectrum[:, 3:] = 0
    expected = torch.fft.irfft(spectrum, n=10, dim=1)
    idx = torch.arange(6)
    lag = idx[:, None] - idx[None, :]
    got = torch.einsum("tk,bkd->btd", encoder.kernel[lag % 10], x[:, 4:])  # the trimmed window's filter
    assert torch.allclose(got, expected[:, 4:], atol=1e-5)
    model = DaogouRec(cfg).eval()
    model.set_content(torch.zeros(31, 1, dtype=torch.long), id_known=torch.ones(31))
    items, types = torch.tensor([[0, 3, 4, 5, 6]]), torch.tensor([[0, 1, 1, 1, 1]])
    with torch.no_grad():
        vecs = model.item_vectors()
        before = model.encode(items, types, torch.zeros_like(items), vecs)
        after = model.encode(items.where(torch.arange(5) != 3, 20), types, torch.zeros_like(items), vecs)
    assert not torch.allclose(before[:, 2], after[:, 2])  # an earlier slot sees a later event
    with pytest.raises(ValueError, match="filter_alpha"):
        DaogouRecConfig(n_items=3, filter_causal=False)


def test_prefix_windows_hold_one_target_each(tiny):
    items, frame = tiny
    seqs = EventSequences.from_frame(frame, items)
    w = training_windows(seqs, max_len=4, prefixes=True)
    assert len(w) == 6 + 5 + 4  # one window per event
    assert ((w.targets > 0).sum(1) == 1).all() and (w.targets[:, -1] > 0).all()
    assert (w.weights[:, :-1] == 0).all() and sorted(w.targets[:, -1].tolist()) == sorted(
        training_windows(seqs, max_len=4).targets[training_windows(seqs, max_len=4).targets > 0].tolist())
