"""Evaluation splits shared by every model: leave-one-out and time-based. Deterministic, no randomness.

Both take the events DataFrame of :meth:`Store.events_frame` (ordered by shopper, time, source order).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from daogou.errors import ConfigError

INTERACTIONS = ("view", "click", "cart", "fav", "purchase")


@dataclass(frozen=True)
class Split:
    """``train`` holds the events models learn from; ``valid`` and ``test`` hold the target events to predict.

    ``events`` is the full, ordered frame with ``pos`` (position in the shopper's sequence): the history
    before a target is ``events[(shopper_id == s) & (pos < target.pos)]``.
    """

    events: pd.DataFrame
    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    kind: str

    def summary(self) -> dict[str, int | str]:
        return {"kind": self.kind, "train_events": len(self.train), "valid_targets": len(self.valid),
                "test_targets": len(self.test), "shoppers": int(self.events["shopper_id"].nunique())}


def default_targets(events: pd.DataFrame) -> tuple[str, ...]:
    """Purchases when the log has enough of them, else every interaction (views, clicks, …)."""
    if len(events) and (events["type"] == "purchase").sum() >= max(10, 0.01 * len(events)):
        return ("purchase",)
    return INTERACTIONS


def _ordered(events: pd.DataFrame) -> pd.DataFrame:
    frame = events.sort_values(["shopper_id", "ts_ms", "seq"], kind="stable").reset_index(drop=True)
    frame["pos"] = frame.groupby("shopper_id", sort=False).cumcount()
    return frame


def leave_one_out(events: pd.DataFrame, targets: Iterable[str] | None = None, min_targets: int = 3) -> Split:
    """Per shopper: the last target event is the test target, the second last the validation target.

    Shoppers with fewer than ``min_targets`` target events stay wholly in training. Training keeps every event
    before each shopper's validation target (searches, views… included), so nothing after it leaks.
    """
    if min_targets < 2:
        raise ConfigError("leave_one_out needs min_targets >= 2 (one validation and one test target)")
    frame = _ordered(events)
    kinds = tuple(targets) if targets is not None else default_targets(frame)
    is_target = frame["type"].isin(kinds) & frame["product_id"].notna()
    rank_from_end = is_target[::-1].astype(int).groupby(frame["shopper_id"][::-1], sort=False).cumsum()[::-1]
    n_targets = is_target.groupby(frame["shopper_id"], sort=False).transform("sum")
    eligible = n_targets >= min_targets
    test_mask = eligible & is_target & (rank_from_end == 1)
    valid_mask = eligible & is_target & (rank_from_end == 2)
    valid_pos = frame["pos"].where(valid_mask).groupby(frame["shopper_id"], sort=False).transform("max")
    train_mask = ~eligible | (frame["pos"] < valid_pos)
    return Split(frame, frame[train_mask], frame[valid_mask], frame[test_mask], "leave_one_out")


def sessions_held_out(split: Split) -> Split:
    """The same split with every event of a validation or test target's session out of training (for models
    validated on a session from the sessions before it: training on that session's views would show the answer).
    Needs a ``session_id`` column."""
    def key(frame: pd.DataFrame) -> pd.Series:
        return frame["shopper_id"].astype(str) + "\x1f" + frame["session_id"].astype(str)
    held = set(key(split.valid)) | set(key(split.test))
    return Split(split.events, split.train[~key(split.train).isin(held)], split.valid, split.test, split.kind)


def time_split(events: pd.DataFrame, valid_frac: float = 0.1, test_frac: float = 0.1,
               targets: Iterable[str] | None = None) -> Split:
    """Global time cut: the last ``test_frac`` of time-ordered events is test, the ``valid_frac`` before it
    validation. Targets are the target-type events in those windows; training is everything before them."""
    if not (0 <= valid_frac < 1 and 0 < test_frac < 1 and valid_frac + test_frac < 1):
        raise ConfigError("time_split needs 0 <= valid_frac, 0 < test_frac and valid_frac + test_frac < 1")
    frame = _ordered(events)
    kinds = tuple(targets) if targets is not None else default_targets(frame)
    ts = np.sort(frame["ts_ms"].to_numpy())
    if len(ts) == 0:
        return Split(frame, frame, frame, frame, "time")
    t_valid = ts[int(len(ts) * (1 - valid_frac - test_frac))]
    t_test = ts[min(len(ts) - 1, int(len(ts) * (1 - test_frac)))]
    is_target = frame["type"].isin(kinds) & frame["product_id"].notna()
    train = frame[frame["ts_ms"] < t_valid]
    valid = frame[is_target & (frame["ts_ms"] >= t_valid) & (frame["ts_ms"] < t_test)]
    test = frame[is_target & (frame["ts_ms"] >= t_test)]
    return Split(frame, train, valid, test, "time")
