"""A search re-ranker that learns from behaviour: LambdaMART (LightGBM) over the hybrid list's top candidates.

Training data comes from the store's own log: a ``search`` event followed, in the same session and before the
next search, by views, clicks, carts, favourites and purchases. Each candidate of the hybrid search of that query
gets the gain of the strongest thing the shopper did with it (:data:`GAINS`), and features the system already
has (:data:`FEATURES`): each signal's rank and score, the query-understanding matches, price position among the
candidates, popularity, and the shopper's own history (brand, category and price affinity, seen / bought before).

Everything a feature counts is taken from the log *before* the search it describes (popularity and the shopper's
history are replayed in time order), so a search never learns from its own future. Position bias: the demo and
imported logs record no result positions (their views do not come from our result lists), so there is nothing to
correct; events whose ``extra`` holds ``position`` (the rank the product was shown at) are weighted by inverse
propensity, ``(position)^eta`` with ``eta`` from the config, capped.

Saved as a folder: ``reranker.json`` (config, feature names, encoder identity, training report), ``model.txt``
(LightGBM's own text format, no pickle), ``popularity.json``.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from daogou.catalog.models import Product
from daogou.errors import ConfigError
from daogou.files import recover_folder, replace_folder, staging

GAINS = {"purchase": 3, "cart": 2, "fav": 2, "click": 1, "view": 1}
FEATURES = ("rank", "fused_rel", "lexical_rank", "lexical_score", "dense_rank", "dense_score", "attributes",
            "category", "log_views", "log_purchases", "purchase_rate", "in_stock", "price_position",
            "brand_affinity", "category_affinity", "price_distance", "seen_before", "bought_before", "history")
FORMAT_VERSION = 1
FOLDER = "reranker"


@dataclass(frozen=True)
class RerankConfig:
    candidates: int = 100  # top of the hybrid list that is re-ranked
    trees: int = 300
    learning_rate: float = 0.05
    leaves: int = 15
    min_in_leaf: int = 20
    validation: float = 0.15  # the latest training searches stop the boosting early
    eta: float = 1.0  # position-bias exponent, for events that carry a position
    max_weight: float = 10.0
    min_searches: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        if not 10 <= self.candidates <= 1000 or self.trees < 1 or self.leaves < 2:
            raise ConfigError("re-ranker needs 10 <= candidates <= 1000, trees >= 1, leaves >= 2")
        if not 0 < self.validation < 0.5:
            raise ConfigError("re-ranker validation fraction must be between 0 and 0.5")


# ---------------------------------------------------------------- the log, replayed

@dataclass
class History:
    """What one shopper did before now."""
    brands: Counter = field(default_factory=Counter)
    categories: Counter = field(default_factory=Counter)
    log_prices: list[float] = field(default_factory=list)
    seen: set = field(default_factory=set)
    bought: set = field(default_factory=set)
    n: int = 0

    def add(self, kind: str, p: Product | None) -> None:
        if p is None or kind not in GAINS:
            return
        self.n += 1
        self.seen.add(p.id)
        if kind == "purchase":
            self.bought.add(p.id)
        if p.brand:
            self.brands[p.brand] += 1
        if p.category:
            self.categories[p.category[-1]] += 1
        if p.price and p.price > 0:
            self.log_prices.append(math.log(p.price))


@dataclass
class SearchCase:
    shopper_id: str
    ts_ms: int
    query: str
    gains: dict[str, int]  # product id -> gain of what the shopper did with it after the search
    weights: dict[str, float]  # product id -> inverse-propensity weight (1 without positions)
    history: History
    views: dict[str, int]  # popularity at the time of the search, for the candidates (filled when featurised)
    purchases: dict[str, int]


class Popularity:
    def __init__(self, views: Counter | None = None, purchases: Counter | None = None):
        self.views, self.purchases = views or Counter(), purchases or Counter()

    def add(self, kind: str, pid: str | None) -> None:
        if pid is None:
            return
        if kind in ("view", "click"):
            self.views[pid] += 1
        elif kind == "purchase":
            self.purchases[pid] += 1


def search_cases(events: Iterable[tuple], products: dict[str, Product], eta: float = 1.0,
                 max_weight: float = 10.0) -> tuple[list[SearchCase], Popularity]:
    """Replay ``events`` — (shopper, session, ts_ms, seq, type, product, query[, extra]) — in time order.

    Returns every search that was followed by something the shopper did with a product, each with the shopper's
    history and the popularity counts as they were at that moment, and the popularity after the whole log."""
    rows = sorted(events, key=lambda r: (r[2], r[0], r[3]))
    outcome: dict[int, tuple[dict[str, int], dict[str, float]]] = {}
    open_search: dict[str, int] = {}  # session -> index of its latest search
    for i, r in enumerate(rows):
        session, kind, pid = r[1], r[4], _pid(r[5])
        if kind == "search":
            open_search[session] = i
            outcome[i] = ({}, {})
        elif pid is not None and kind in GAINS and session in open_search:
            gains, weights = outcome[open_search[session]]
            gains[pid] = max(gains.get(pid, 0), GAINS[kind])
            weights[pid] = max(weights.get(pid, 1.0), _weight(r[7] if len(r) > 7 else None, eta, max_weight))
    cases: list[SearchCase] = []
    histories: dict[str, History] = defaultdict(History)
    pop = Popularity()
    for i, r in enumerate(rows):
        shopper, kind, pid = r[0], r[4], _pid(r[5])
        if kind == "search":
            gains, weights = outcome[i]
            if gains and (r[6] or "").strip():
                h = histories[shopper]
                snap = History(Counter(h.brands), Counter(h.categories), list(h.log_prices), set(h.seen),
                               set(h.bought), h.n)
                cases.append(SearchCase(shopper, r[2], r[6], gains, weights, snap,
                                        dict(pop.views), dict(pop.purchases)))
            continue
        histories[shopper].add(kind, products.get(pid) if pid else None)
        pop.add(kind, pid)
    return cases, pop


def _pid(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _weight(extra: Any, eta: float, cap: float) -> float:
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            return 1.0
    pos = extra.get("position") if isinstance(extra, dict) else None
    if isinstance(pos, (int, float)) and not isinstance(pos, bool) and pos >= 1:
        return float(min(cap, float(pos) ** eta))
    return 1.0


def history_of(rows: Iterable[tuple], products: dict[str, Product]) -> History:
    """A live shopper's history from their event rows (``Store.event_rows``)."""
    h = History()
    for r in rows:
        pid = _pid(r[5])
        h.add(r[4], products.get(pid) if pid else None)
    return h


# ---------------------------------------------------------------- features

def features(hits: Sequence, history: History | None, views: dict[str, int] | Counter,
             purchases: dict[str, int] | Counter) -> np.ndarray:
    """One row of :data:`FEATURES` per hit of the hybrid list (``Hit`` objects, best first)."""
    n = len(hits)
    x = np.full((n, len(FEATURES)), np.nan, dtype=np.float32)
    if not n:
        return x
    top = max(abs(hits[0].score), 1e-9)
    prices = np.array([math.log(h.product.price) if h.product.price and h.product.price > 0 else np.nan
                       for h in hits])
    median = float(np.nanmedian(prices)) if np.isfinite(prices).any() else np.nan
    h = history or History()
    brand_total, cat_total = sum(h.brands.values()), sum(h.categories.values())
    mean_price = float(np.mean(h.log_prices)) if h.log_prices else np.nan
    for i, hit in enumerate(hits):
        p, s = hit.product, hit.signals
        v, b = views.get(p.id, 0), purchases.get(p.id, 0)
        x[i] = (math.log1p(i), hit.score / top, s.get("lexical_rank", np.nan), s.get("lexical_score", 0.0),
                s.get("dense_rank", np.nan), s.get("dense_score", np.nan), float("attributes_rank" in s),
                float("category_rank" in s), math.log1p(v), math.log1p(b), (b + 0.1) / (v + 1.0),
                float(p.in_stock), prices[i] - median,
                h.brands.get(p.brand, 0) / brand_total if brand_total and p.brand else 0.0,
                h.categories.get(p.category[-1], 0) / cat_total if cat_total and p.category else 0.0,
                abs(prices[i] - mean_price) if h.log_prices else np.nan,
                float(p.id in h.seen), float(p.id in h.bought), math.log1p(h.n))
    return x


# ---------------------------------------------------------------- the model

class Reranker:
    def __init__(self, booster, config: RerankConfig, encoder: str, popularity: Popularity,
                 report: dict[str, Any] | None = None):
        self.booster, self.config, self.encoder, self.popularity = booster, config, encoder, popularity
        self.report = report or {}

    def scores(self, hits: Sequence, history: History | None = None) -> np.ndarray:
        x = features(hits, history, self.popularity.views, self.popularity.purchases)
        return self.booster.predict(x) if len(x) else np.zeros(0)

    def rerank(self, hits: Sequence, history: History | None = None) -> list:
        """``hits`` re-ordered by the model (ties keep the hybrid order)."""
        s = self.scores(hits, history)
        order = sorted(range(len(hits)), key=lambda i: (-s[i], i))
        return [hits[i] for i in order]

    # -- persistence
    def save(self, folder: Path) -> Path:
        folder = Path(folder)
        tmp = staging(folder)
        (tmp / "model.txt").write_text(self.booster.model_to_string(), encoding="utf-8")
        (tmp / "popularity.json").write_text(json.dumps({"views": self.popularity.views,
                                                         "purchases": self.popularity.purchases}), encoding="utf-8")
        meta = {"kind": "daogou-reranker", "format_version": FORMAT_VERSION, "features": list(FEATURES),
                "encoder": self.encoder, "config": asdict(self.config), "report": self.report}
        (tmp / "reranker.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return replace_folder(tmp, folder)

    @classmethod
    def load(cls, folder: Path) -> "Reranker":
        import lightgbm as lgb
        folder = Path(folder)
        recover_folder(folder)
        try:
            meta = json.loads((folder / "reranker.json").read_text(encoding="utf-8"))
            pop = json.loads((folder / "popularity.json").read_text(encoding="utf-8"))
            booster = lgb.Booster(model_str=(folder / "model.txt").read_text(encoding="utf-8"))
        except (OSError, ValueError, lgb.basic.LightGBMError) as exc:
            raise ConfigError(f"{folder}: unreadable re-ranker: {exc}") from exc
        if meta.get("kind") != "daogou-reranker" or meta.get("format_version") != FORMAT_VERSION:
            raise ConfigError(f"{folder}: not a daogou re-ranker of format {FORMAT_VERSION}")
        if meta.get("features") != list(FEATURES):
            raise ConfigError(f"{folder}: re-ranker features {meta.get('features')} differ from this version's; "
                              "train it again (daogou train --model reranker)")
        return cls(booster, RerankConfig(**meta["config"]), meta["encoder"],
                   Popularity(Counter(pop["views"]), Counter(pop["purchases"])), meta.get("report"))


def folder_of(home: Path) -> Path:
    return Path(home) / FOLDER


Search = Callable[[str, int], Sequence]  # (query, k) -> hybrid hits, best first


def _groups(search: Search, cases: Sequence[SearchCase], k: int):
    xs, ys, ws, sizes, kept = [], [], [], [], []
    for c in cases:
        hits = list(search(c.query, k))
        if not hits or not any(h.product_id in c.gains for h in hits):
            continue
        xs.append(features(hits, c.history, c.views, c.purchases))
        ys.append([c.gains.get(h.product_id, 0) for h in hits])
        ws.append(max((c.weights.get(h.product_id, 1.0) for h in hits if h.product_id in c.gains), default=1.0))
        sizes.append(len(hits))
        kept.append(c)
    return xs, ys, ws, sizes, kept


def train(search: Search, cases: Sequence[SearchCase], popularity: Popularity, encoder: str,
          config: RerankConfig = RerankConfig(), log: Callable[[str], None] = print) -> Reranker:
    """LambdaMART over the hybrid candidates of ``cases`` (time-ordered; the latest stop the boosting)."""
    import lightgbm as lgb
    if len(cases) < config.min_searches:
        raise ConfigError(f"the store's log has {len(cases)} searches followed by a view, cart or purchase in the "
                        f"same session; the re-ranker needs at least {config.min_searches}. Record search events "
                        "(POST /v1/events with type=search) before the views they lead to.")
    cases = sorted(cases, key=lambda c: c.ts_ms)
    xs, ys, ws, sizes, kept = _groups(search, cases, config.candidates)
    if len(kept) < config.min_searches:
        raise ConfigError(f"only {len(kept)} logged searches had a product the shopper used among the top "
                        f"{config.candidates} results; the re-ranker needs at least {config.min_searches}")
    cut = max(1, int(len(kept) * (1 - config.validation)))
    ds = lgb.Dataset(np.concatenate(xs[:cut]), np.concatenate(ys[:cut]), group=sizes[:cut],
                     weight=np.concatenate([np.full(n, w) for n, w in zip(sizes[:cut], ws[:cut])]),
                     feature_name=list(FEATURES), free_raw_data=False)
    valid = lgb.Dataset(np.concatenate(xs[cut:]), np.concatenate(ys[cut:]), group=sizes[cut:], reference=ds)
    params = {"objective": "lambdarank", "metric": "ndcg", "eval_at": [10], "learning_rate": config.learning_rate,
              "num_leaves": config.leaves, "min_data_in_leaf": config.min_in_leaf, "seed": config.seed,
              "deterministic": True, "num_threads": 0, "verbosity": -1, "lambdarank_truncation_level": 20}
    booster = lgb.train(params, ds, num_boost_round=config.trees, valid_sets=[valid],
                        callbacks=[lgb.early_stopping(30, verbose=False)])
    best = booster.best_iteration or config.trees
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    report = {"searches": len(cases), "trained_on": cut, "validated_on": len(kept) - cut, "trees": best,
              "validation_ndcg@10": round(float(booster_ndcg(booster, xs[cut:], ys[cut:])), 4),
              "hybrid_validation_ndcg@10": round(float(np.mean([ndcg_at_k(list(y), 10) for y in ys[cut:]])), 4),
              "importance": dict(zip(FEATURES, [int(v) for v in booster.feature_importance("gain")]))}
    log(f"re-ranker: {best} trees on {cut} searches; validation nDCG@10 {report['validation_ndcg@10']} "
        f"(hybrid order {report['hybrid_validation_ndcg@10']}) on the {len(kept) - cut} latest")
    return Reranker(booster, config, encoder, popularity, report)


def ndcg_at_k(gains: Sequence[float], k: int = 10) -> float:
    """nDCG@k of a ranked list given each position's gain (graded: 2^gain - 1, as LambdaMART optimises)."""
    def dcg(g: Sequence[float]) -> float:
        return sum((2.0 ** x - 1) / math.log2(i + 2) for i, x in enumerate(g[:k]))
    best = dcg(sorted(gains, reverse=True))
    return dcg(list(gains)) / best if best > 0 else 0.0


def booster_ndcg(booster, xs: Sequence[np.ndarray], ys: Sequence[Sequence[int]], k: int = 10) -> float:
    out = []
    for x, y in zip(xs, ys):
        s = booster.predict(x)
        order = sorted(range(len(y)), key=lambda i: (-s[i], i))
        out.append(ndcg_at_k([y[i] for i in order], k))
    return float(np.mean(out)) if out else 0.0


def train_store(store, searcher, config: RerankConfig = RerankConfig(),
                log: Callable[[str], None] = print) -> tuple[Reranker, Path]:
    """Train on the whole log of ``store`` with ``searcher``'s plain hybrid order; save under the store's home."""
    products = {p.id: p for p in searcher.products}
    rows = list(store.events_frame(with_extra=True).itertuples(index=False, name=None))
    cases, pop = search_cases(rows, products, config.eta, config.max_weight)
    model = train(lambda q, k: searcher.search(q, k=k, facets=False, rerank=False).hits, cases, pop,
                  searcher.encoder.cache_key, config, log)
    return model, model.save(folder_of(store.config.home))
