"""Known-answer splits on a tiny log."""

import pandas as pd
import pytest

from daogou.catalog.splits import default_targets, leave_one_out, time_split
from daogou.errors import ConfigError


def _log(rows):
    return pd.DataFrame(rows, columns=["shopper_id", "session_id", "ts_ms", "seq", "type", "product_id", "query"])


LOG = _log([
    ("a", "s1", 10, 0, "search", None, "shoes"),
    ("a", "s1", 11, 1, "view", "p1", ""),
    ("a", "s1", 12, 2, "purchase", "p1", ""),
    ("a", "s2", 20, 3, "view", "p2", ""),
    ("a", "s2", 21, 4, "purchase", "p2", ""),
    ("a", "s3", 30, 5, "view", "p3", ""),
    ("a", "s3", 31, 6, "purchase", "p3", ""),
    ("b", "s4", 5, 0, "purchase", "p1", ""),   # only two purchases: stays in training
    ("b", "s4", 6, 1, "purchase", "p2", ""),
    ("c", "s5", 40, 1, "purchase", "p9", ""),  # same timestamp: seq decides the order
    ("c", "s5", 40, 0, "purchase", "p8", ""),
    ("c", "s5", 41, 2, "purchase", "p7", ""),
])


def test_leave_one_out_known_answer():
    split = leave_one_out(LOG, targets=("purchase",))
    assert split.test.set_index("shopper_id")["product_id"].to_dict() == {"a": "p3", "c": "p7"}
    assert split.valid.set_index("shopper_id")["product_id"].to_dict() == {"a": "p2", "c": "p9"}
    train_a = split.train[split.train.shopper_id == "a"]
    assert train_a["type"].tolist() == ["search", "view", "purchase", "view"]  # up to, not including, valid
    assert len(split.train[split.train.shopper_id == "b"]) == 2
    assert split.train[split.train.shopper_id == "c"]["product_id"].tolist() == ["p8"]
    # nothing at or after a shopper's validation target is in training
    for s, target in split.valid.set_index("shopper_id")["pos"].items():
        assert (split.train[split.train.shopper_id == s]["pos"] < target).all()


def test_leave_one_out_is_deterministic_and_order_independent():
    shuffled = LOG.sample(frac=1, random_state=7)
    a, b = leave_one_out(LOG, ("purchase",)), leave_one_out(shuffled, ("purchase",))
    pd.testing.assert_frame_equal(a.test.reset_index(drop=True), b.test.reset_index(drop=True))


def test_views_as_targets_and_defaults():
    split = leave_one_out(LOG, targets=("view",), min_targets=3)
    assert split.test.set_index("shopper_id")["product_id"].to_dict() == {"a": "p3"}
    assert default_targets(pd.concat([LOG, LOG])) == ("purchase",)  # 16 purchases: enough
    assert "view" in default_targets(LOG[LOG.type != "purchase"])  # no purchases: every interaction
    with pytest.raises(ConfigError):
        leave_one_out(LOG, min_targets=1)


def test_time_split_known_answer():
    split = time_split(LOG, valid_frac=0.25, test_frac=0.25, targets=("purchase",))
    # sorted times 5 6 10 11 12 20 | 21 30 31 | 40 40 41: cuts at index 6 (t=21) and 9 (t=40)
    assert sorted(split.train.ts_ms) == [5, 6, 10, 11, 12, 20]
    assert split.valid["product_id"].tolist() == ["p2", "p3"]
    assert split.test["product_id"].tolist() == ["p8", "p9", "p7"]  # time, then source order
    with pytest.raises(ConfigError):
        time_split(LOG, valid_frac=0.6, test_frac=0.5)


def test_split_on_demo_store(tmp_path):
    from daogou.catalog.demo import DemoConfig
    from daogou.catalog.demo_store import build_demo_store
    from daogou.catalog.store import Store
    from daogou.config import StoreConfig
    with Store.open(StoreConfig(tmp_path)) as store:
        build_demo_store(store, DemoConfig(seed=1, n_products=300, n_shoppers=120))
        frame = store.events_frame()
    split = leave_one_out(frame)
    assert split.summary()["test_targets"] == len(split.valid) > 0
    assert (split.test["type"] == "purchase").all()
    merged = split.test.merge(split.valid, on="shopper_id", suffixes=("_t", "_v"))
    assert (merged.ts_ms_t >= merged.ts_ms_v).all()
