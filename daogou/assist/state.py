"""Conversation state: the constraints gathered so far, what was shown, and who owns the conversation.

Constraints accumulate over turns and can be revised: a new colour replaces the old one, a new budget replaces
the old budget, excluded brands add up, and naming a new kind of product starts a new topic. The search query
sent for a turn is rebuilt from the state in the shopper's own words, so the search understands it the same way.
"""

from __future__ import annotations

import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from daogou.catalog.filters import Filters
from daogou.errors import NotFoundError
from daogou.search.query import ParsedQuery

_MATCHED = re.compile(r"^(?P<what>.*) from '(?P<span>.*)'$")


@dataclass(frozen=True)
class Constraints:
    words: str = ""                                   # the need in the shopper's own words, minus parsed parts
    categories: tuple[str, ...] = ()
    category_words: str = ""
    brands: tuple[str, ...] = ()
    exclude_brands: tuple[str, ...] = ()
    price_min: float | None = None
    price_max: float | None = None
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)     # wanted: ranked first, not filtered
    attribute_words: dict[str, str] = field(default_factory=dict)
    exclude_attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str | None = None

    def is_empty(self) -> bool:
        return self == Constraints()

    def updated(self, parsed: ParsedQuery, new_topic: bool) -> "Constraints":
        """The state after a message: a new topic starts from scratch; a refinement revises what it names."""
        base = Constraints() if new_topic else self
        spans = _spans(parsed)
        words = _without(parsed.text, [s for s, _ in spans]) if new_topic else base.words
        attrs, attr_words = dict(base.attributes), dict(base.attribute_words)
        for key, values in parsed.attributes.items():
            attrs[key] = tuple(values)
            attr_words[key] = next((s for s, what in spans if what.startswith(f"{key}=")), " ".join(values))
        excl_attrs = dict(base.exclude_attributes)
        for key, values in parsed.exclude_attributes.items():
            excl_attrs[key] = tuple(dict.fromkeys(excl_attrs.get(key, ()) + tuple(values)))
            if key in attrs and set(attrs[key]) & set(values):
                attrs.pop(key), attr_words.pop(key, None)
        categories = tuple(parsed.categories) or base.categories
        cat_words = next((s for s, what in spans if what.startswith("category ")), "") if parsed.categories \
            else base.category_words
        excluded = tuple(dict.fromkeys(base.exclude_brands + tuple(parsed.exclude_brands)))
        brands = tuple(b for b in (tuple(parsed.brands) or base.brands) if b not in excluded)
        return replace(base, words=words, categories=categories, category_words=cat_words, brands=brands,
                       exclude_brands=tuple(b for b in excluded if b not in parsed.brands),
                       price_min=parsed.price_min if parsed.price_min is not None else base.price_min,
                       price_max=parsed.price_max if parsed.price_max is not None else base.price_max,
                       attributes=attrs, attribute_words=attr_words, exclude_attributes=excl_attrs,
                       sort=parsed.sort or base.sort)

    def moved(self, move: str, shown_prices: list[float]) -> "Constraints":
        """"cheaper" / "pricier": below / above the median price of what was shown."""
        if not shown_prices:
            return replace(self, sort="price_asc" if move == "cheaper" else "price_desc")
        prices = sorted(shown_prices)
        median = prices[len(prices) // 2]
        step = 1 if median < 50 else 10 if median < 1000 else 100
        if move == "cheaper":
            bound = math.ceil(median / step) * step - step   # a round number below the median
            bound = bound if bound > 0 else median * 0.9
            return replace(self, price_max=bound, price_min=None)  # moving down drops an old floor
        bound = math.floor(median / step) * step + step
        return replace(self, price_min=bound, price_max=None)  # moving up drops an old cap

    def filters(self) -> Filters:
        """Hard constraints (and only products in stock). Wanted attribute values stay soft: product data often
        lacks the attribute."""
        return Filters(categories=self.categories, brands=self.brands, exclude_brands=self.exclude_brands,
                       price_min=self.price_min, price_max=self.price_max,
                       exclude_attributes=dict(self.exclude_attributes), in_stock=True)

    def query_text(self) -> str:
        parts = list(self.attribute_words.values()) + [self.words, self.category_words] + list(self.brands)
        return " ".join(p for p in parts if p).strip()

    def to_dict(self) -> dict:
        return {"words": self.words, "categories": list(self.categories), "brands": list(self.brands),
                "exclude_brands": list(self.exclude_brands), "price_min": self.price_min,
                "price_max": self.price_max, "attributes": {k: list(v) for k, v in self.attributes.items()},
                "exclude_attributes": {k: list(v) for k, v in self.exclude_attributes.items()}, "sort": self.sort}


def _spans(parsed: ParsedQuery) -> list[tuple[str, str]]:
    out = []
    for item in parsed.matched:
        m = _MATCHED.match(item)
        if m:
            out.append((m.group("span"), m.group("what")))
    return out


def _without(text: str, spans: list[str]) -> str:
    for span in sorted(spans, key=len, reverse=True):
        if span:
            text = re.sub(re.escape(span), " ", text, flags=re.I)
    return " ".join(text.split())


@dataclass
class Turn:
    role: str          # "shopper" | "assistant"
    text: str
    kind: str = ""
    product_ids: tuple[str, ...] = ()
    ts_ms: int = 0

    def to_dict(self) -> dict:
        return {"role": self.role, "text": self.text, "kind": self.kind, "product_ids": list(self.product_ids),
                "ts_ms": self.ts_ms}


MAX_TURNS = 60


@dataclass
class Conversation:
    id: str
    shopper_id: str
    language: str = "en"
    constraints: Constraints = field(default_factory=Constraints)
    shown: list[str] = field(default_factory=list)
    focus: str | None = None
    asked_last_turn: bool = False
    turns: list[Turn] = field(default_factory=list)
    updated_ms: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def session_id(self) -> str:
        return f"chat-{self.id}"

    def add(self, turn: Turn) -> None:
        turn.ts_ms = turn.ts_ms or int(time.time() * 1000)
        self.turns.append(turn)
        del self.turns[:-MAX_TURNS]
        self.updated_ms = turn.ts_ms

    def to_dict(self) -> dict:
        return {"id": self.id, "shopper_id": self.shopper_id, "language": self.language,
                "constraints": self.constraints.to_dict(), "shown": list(self.shown), "focus": self.focus,
                "turns": [t.to_dict() for t in self.turns]}


class Conversations:
    """Live conversations, in memory, bounded (least recently used dropped first) and owned by one shopper.

    Asking for another shopper's conversation looks exactly like asking for one that does not exist.
    """

    def __init__(self, max_conversations: int = 10_000, ttl_s: float = 24 * 3600):
        self.max, self.ttl_ms = max_conversations, int(ttl_s * 1000)
        self._items: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def start(self, shopper_id: str, language: str = "en") -> Conversation:
        conv = Conversation(secrets.token_urlsafe(12), shopper_id, language, updated_ms=int(time.time() * 1000))
        with self._lock:
            self._items[conv.id] = conv
            while len(self._items) > self.max:
                self._items.popitem(last=False)
        return conv

    def get(self, conversation_id: str, shopper_id: str) -> Conversation:
        now = int(time.time() * 1000)
        with self._lock:
            conv = self._items.get(conversation_id)
            if conv is None or conv.shopper_id != shopper_id or now - conv.updated_ms > self.ttl_ms:
                raise NotFoundError("conversation", conversation_id)
            self._items.move_to_end(conversation_id)
            return conv
