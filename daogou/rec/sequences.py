"""Event logs as integer sequences: what sequence models train on and what every model is evaluated on.

A shopper's sequence holds their item events (view, click, cart, fav, purchase) in time order. Search events are
not items: each one becomes the *active query* of the item events that follow it in the same session, so a model
can be conditioned on what the shopper asked for when they chose the next item.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from daogou.catalog.splits import Split
from daogou.rec.items import ItemSpace

# Input type ids: 0 padding, 1 start-of-sequence, then the item event types.
EVENT_TYPES = ("view", "click", "cart", "fav", "purchase")
TYPE_ID = {t: i + 2 for i, t in enumerate(EVENT_TYPES)}
PAD_TYPE, BOS_TYPE, N_TYPES = 0, 1, len(EVENT_TYPES) + 2
DEFAULT_WEIGHTS = {"view": 0.3, "click": 0.3, "fav": 0.5, "cart": 0.7, "purchase": 1.0}
N_GAP_BUCKETS = 16


@dataclass
class EventSequences:
    """Concatenated per-shopper sequences: shopper ``k`` owns ``offsets[k]:offsets[k+1]`` of every array."""

    shoppers: list[str]
    offsets: np.ndarray
    items: np.ndarray      # item rows (0 = product unknown to the item space)
    types: np.ndarray      # TYPE_ID values
    ts: np.ndarray         # ms
    pos: np.ndarray        # position in the shopper's full event log (Split.events["pos"])
    queries: np.ndarray    # index into query_texts, -1 = no active query
    query_texts: list[str]
    sessions: np.ndarray   # session code (equal codes = same session)

    def __len__(self) -> int:
        return len(self.shoppers)

    def slice(self, k: int) -> slice:
        return slice(int(self.offsets[k]), int(self.offsets[k + 1]))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, items: ItemSpace) -> EventSequences:
        """``frame`` ordered by (shopper, time, seq), e.g. ``Split.events`` or ``Split.train``."""
        frame = frame.copy()
        if "pos" not in frame:
            frame["pos"] = frame.groupby("shopper_id", sort=False).cumcount()
        is_search = frame["type"] == "search"
        active = frame["query"].where(is_search & frame["query"].fillna("").astype(bool))
        frame["active_query"] = active.groupby([frame["shopper_id"], frame["session_id"]], sort=False).ffill()
        keep = frame["type"].isin(EVENT_TYPES) & frame["product_id"].notna()
        frame = frame[keep]
        codes, texts = pd.factorize(frame["active_query"], use_na_sentinel=True)
        shopper_codes, shoppers = pd.factorize(frame["shopper_id"], sort=False)
        counts = np.bincount(shopper_codes, minlength=len(shoppers)) if len(frame) else np.zeros(0, np.int64)
        return cls(
            shoppers=[str(s) for s in shoppers],
            offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            items=items.rows(frame["product_id"].tolist()),
            types=frame["type"].map(TYPE_ID).to_numpy(np.int64),
            ts=frame["ts_ms"].to_numpy(np.int64),
            pos=frame["pos"].to_numpy(np.int64),
            queries=codes.astype(np.int64),
            query_texts=[str(t) for t in texts],
            sessions=pd.factorize(frame["shopper_id"].astype(str) + "\x1f" + frame["session_id"].astype(str))[0])

    @classmethod
    def from_rows(cls, rows: list[tuple], items: ItemSpace) -> EventSequences:
        """The same as :meth:`from_frame` for a few shoppers' rows — (shopper, session, ts_ms, seq, type, product,
        query) tuples ordered by (shopper, time, seq) — without pandas' fixed costs (serving one shopper)."""
        shoppers: list[str] = []
        counts: list[int] = []
        kept: list[tuple[str, int, int, int, str]] = []   # product, type id, ts, pos, query
        sessions: list[str] = []
        active: dict[tuple[str, str], str] = {}
        current, pos = None, 0
        for shopper, session, ts, _seq, kind, product, query in rows:
            if shopper != current:
                current, pos = shopper, 0
                shoppers.append(shopper)
                counts.append(0)
            if kind == "search" and query:
                active[(shopper, session)] = query
            if kind in TYPE_ID and product is not None:
                kept.append((product, TYPE_ID[kind], int(ts), pos, active.get((shopper, session))))
                sessions.append(f"{shopper}\x1f{session}")
                counts[-1] += 1
            pos += 1
        texts: dict[str, int] = {}
        codes = [-1 if q is None else texts.setdefault(q, len(texts)) for *_, q in kept]
        session_codes: dict[str, int] = {}
        nonempty = [(s, c) for s, c in zip(shoppers, counts) if c] if kept else []
        return cls(
            shoppers=[s for s, _ in nonempty],
            offsets=np.concatenate([[0], np.cumsum([c for _, c in nonempty])]).astype(np.int64),
            items=items.rows([k[0] for k in kept]),
            types=np.array([k[1] for k in kept], dtype=np.int64),
            ts=np.array([k[2] for k in kept], dtype=np.int64),
            pos=np.array([k[3] for k in kept], dtype=np.int64),
            queries=np.array(codes, dtype=np.int64),
            query_texts=list(texts),
            sessions=np.array([session_codes.setdefault(x, len(session_codes)) for x in sessions], dtype=np.int64))



def gap_buckets(ts: np.ndarray) -> np.ndarray:
    """Bucket of the time since the previous event: 0 for the first, then log2-spaced seconds."""
    gaps = np.diff(ts, prepend=ts[:1]) / 1000.0
    buckets = 1 + np.floor(np.log2(1.0 + np.maximum(gaps, 0.0))).astype(np.int64)
    buckets[:1] = 0
    return np.clip(buckets, 0, N_GAP_BUCKETS - 1)


@dataclass
class Windows:
    """Left-padded training windows for sequence models: input slot j predicts ``targets[:, j]``."""

    items: np.ndarray     # [W, L] input item rows (0 at padding and at start-of-sequence)
    types: np.ndarray     # [W, L]
    gaps: np.ndarray      # [W, L]
    targets: np.ndarray   # [W, L] target item rows (0 = no target)
    weights: np.ndarray   # [W, L] float32 loss weight of each target
    queries: np.ndarray   # [W, L] active query index of each target (-1 none)
    target_types: np.ndarray  # [W, L] event type of each target (what kind of next event is predicted)
    query_texts: list[str]

    def __len__(self) -> int:
        return len(self.items)


def training_windows(seqs: EventSequences, max_len: int, weights: dict[str, float] | None = None,
                     prefixes: bool = False) -> Windows:
    """Every event becomes a target predicted from everything before it (start token first), cut into windows of
    ``max_len`` from the end of each sequence. One pass over a window trains every position at once.

    ``prefixes``: one window per event instead, ending at it, with only its last slot a target (for models whose
    positions see later slots of their window)."""
    w_of = np.zeros(N_TYPES, np.float32)
    for name, w in (weights or DEFAULT_WEIGHTS).items():
        w_of[TYPE_ID[name]] = w
    rows: list[tuple[np.ndarray, ...]] = []
    for k in range(len(seqs)):
        s = seqs.slice(k)
        items, types, ts, q = seqs.items[s], seqs.types[s], seqs.ts[s], seqs.queries[s]
        if len(items) == 0:
            continue
        inp_items = np.concatenate([[0], items[:-1]])
        inp_types = np.concatenate([[BOS_TYPE], types[:-1]])
        inp_gaps = np.concatenate([[0], gap_buckets(ts)[:-1]])
        tw = np.where(items > 0, w_of[types], 0.0).astype(np.float32)
        ends = range(len(items), 0, -1) if prefixes else range(len(items), 0, -max_len)
        for end in ends:
            lo = max(0, end - max_len)
            targets, tws = items[lo:end], tw[lo:end]
            if prefixes:
                last = np.arange(end - lo) == end - lo - 1
                targets, tws = np.where(last, targets, 0), np.where(last, tws, 0.0).astype(np.float32)
            rows.append((inp_items[lo:end], inp_types[lo:end], inp_gaps[lo:end], targets, tws,
                         q[lo:end], types[lo:end]))
    return Windows(*(_left_pad([r[i] for r in rows], max_len, fill) for i, fill in
                     enumerate((0, PAD_TYPE, 0, 0, 0.0, -1, PAD_TYPE))), seqs.query_texts)


def _left_pad(parts: list[np.ndarray], width: int, fill) -> np.ndarray:
    dtype = np.float32 if isinstance(fill, float) else np.int64
    out = np.full((len(parts), width), fill, dtype=dtype)
    for i, p in enumerate(parts):
        if len(p):
            out[i, width - len(p):] = p
    return out


@dataclass
class Cases:
    """Evaluation cases: predict ``targets[i]`` after history ``hist_*[i]`` (left-padded) given ``queries[i]``."""

    shoppers: list[str]
    hist_items: np.ndarray
    hist_types: np.ndarray
    hist_gaps: np.ndarray
    targets: np.ndarray
    queries: np.ndarray
    query_texts: list[str]
    lengths: np.ndarray   # history length before truncation
    target_types: np.ndarray  # the kind of event asked for (TYPE_ID); live requests ask for a purchase

    def __len__(self) -> int:
        return len(self.targets)

    def take(self, idx: np.ndarray | slice) -> Cases:
        pick = np.arange(len(self))[idx]
        return Cases([self.shoppers[i] for i in pick], self.hist_items[pick], self.hist_types[pick],
                     self.hist_gaps[pick], self.targets[pick], self.queries[pick], self.query_texts,
                     self.lengths[pick], self.target_types[pick])


def _history(full: EventSequences, k: int, end: int, max_len: int) -> tuple[np.ndarray, ...]:
    """Inputs for predicting what follows shopper ``k``'s events before absolute index ``end``:
    start token + the last ``max_len - 1`` events (items, types, gap buckets), and the untruncated length."""
    s = full.slice(k)
    h = slice(s.start, end)
    items_h, types_h, ts_h = full.items[h], full.types[h], full.ts[h]
    gaps_h = gap_buckets(ts_h)
    keep = slice(max(0, len(items_h) - (max_len - 1)), len(items_h))
    return (np.concatenate([[0], items_h[keep]]), np.concatenate([[BOS_TYPE], types_h[keep]]),
            np.concatenate([[0], gaps_h[keep]]), len(items_h))


def _cases(rows: list[tuple[np.ndarray, ...]], shoppers: list[str], targets: list[int], queries: list[int],
           query_texts: list[str], max_len: int, target_types: list[int]) -> Cases:
    return Cases(shoppers, _left_pad([r[0] for r in rows], max_len, 0),
                 _left_pad([r[1] for r in rows], max_len, PAD_TYPE), _left_pad([r[2] for r in rows], max_len, 0),
                 np.array(targets, np.int64), np.array(queries, np.int64), query_texts,
                 np.array([r[3] for r in rows], np.int64), np.array(target_types, np.int64))


def cases_for(split: Split, which: str, items: ItemSpace, max_len: int,
              full: EventSequences | None = None, history: str = "event") -> Cases:
    """The ``valid`` or ``test`` targets of ``split`` with the history each one may see: the events before it
    (``history="event"``), or the events of the shopper's earlier sessions (``"session"``: the target's own
    session is left out, its search query stays the case's query)."""
    full = full or EventSequences.from_frame(split.events, items)
    targets = getattr(split, which)
    by_shopper = {s: k for k, s in enumerate(full.shoppers)}
    rows, out_targets, out_queries, shoppers, kinds = [], [], [], [], []
    for shopper, pos in zip(targets["shopper_id"].tolist(), targets["pos"].tolist()):
        k = by_shopper.get(shopper)
        if k is None:
            continue
        s = full.slice(k)
        idx = s.start + int(np.searchsorted(full.pos[s], pos))
        if idx >= s.stop or full.pos[idx] != pos:
            continue
        end = idx
        if history == "session":
            same = np.flatnonzero(full.sessions[s.start:idx + 1] == full.sessions[idx])
            end = s.start + int(same[0])
        rows.append(_history(full, k, end, max_len))
        out_targets.append(int(full.items[idx]))
        out_queries.append(int(full.queries[idx]))
        kinds.append(int(full.types[idx]))
        shoppers.append(shopper)
    return _cases(rows, shoppers, out_targets, out_queries, full.query_texts, max_len, kinds)


def cases_after(seqs: EventSequences, shoppers: list[str], queries: list[str | None], max_len: int,
                target_type: str = "purchase") -> Cases:
    """One case per request: what comes after all of ``shopper``'s events in ``seqs`` (an unknown shopper has an
    empty history), asked with ``query`` (or none). Targets are 0 (unknown)."""
    by_shopper = {s: k for k, s in enumerate(seqs.shoppers)}
    empty = (np.zeros(1, np.int64), np.full(1, BOS_TYPE, np.int64), np.zeros(1, np.int64), 0)
    rows = [_history(seqs, by_shopper[s], seqs.slice(by_shopper[s]).stop, max_len) if s in by_shopper else empty
            for s in shoppers]
    texts = sorted({q for q in queries if q})
    q_index = {q: i for i, q in enumerate(texts)}
    return _cases(rows, list(shoppers), [0] * len(rows), [q_index[q] if q else -1 for q in queries], texts,
                  max_len, [TYPE_ID[target_type]] * len(rows))
