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
from typing import Protocol

from daogou.catalog.filters import Filters
from daogou.errors import NotFoundError
from daogou.search.coverage import content_words
from daogou.search.query import ParsedQuery



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
    exclude_words: tuple[str, ...] = ()              # "not over-ear": words the products' titles must not say

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
            named = [s for s, what in spans if what.startswith(f"{key}=")]  # "blue or green": both, as said
            said = (" 或 " if any(_HAN.search(s) for s in named) else " or ").join(dict.fromkeys(named)) \
                if named else " ".join(values)
            if said.replace(".", "").isdigit():  # a bare number ("in 43", "size 38") is said with its key: "size 43"
                said = f"{key.replace('_', ' ')} {said}"
            attr_words[key] = said
        excl_attrs = dict(base.exclude_attributes)
        for key, values in parsed.exclude_attributes.items():
            excl_attrs[key] = tuple(dict.fromkeys(excl_attrs.get(key, ()) + tuple(values)))
            if key in attrs and set(attrs[key]) & set(values):
                attrs.pop(key), attr_words.pop(key, None)
        categories = tuple(parsed.categories) or base.categories
        # every word that named the kind, in the shopper's order: "yoga mat" is not just "yoga"
        cat_words = " ".join(dict.fromkeys(_LEAD.sub("", s) for s, what in spans if what.startswith("category ")
                                           and any(p in what for p in parsed.categories))) if parsed.categories else ""
        cat_words = cat_words or (base.category_words if categories == base.categories else "")
        excluded = tuple(dict.fromkeys(base.exclude_brands + tuple(parsed.exclude_brands)))
        brands = tuple(b for b in (tuple(parsed.brands) or base.brands) if b not in excluded)
        lo, hi = _budget(base, parsed)
        return replace(base, words=words, categories=categories, category_words=cat_words, brands=brands,
                       exclude_brands=tuple(b for b in excluded if b not in parsed.brands),
                       price_min=lo, price_max=hi,
                       attributes=attrs, attribute_words=attr_words, exclude_attributes=excl_attrs,
                       sort=parsed.sort or base.sort,
                       exclude_words=tuple(dict.fromkeys(base.exclude_words + tuple(parsed.exclude_words))))

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
        text = " ".join(p for p in parts if p).strip()
        # said back as the shopper said it, so the search leaves those products out as it would for them
        return ", ".join([text] + [f"不要{w}" if _HAN.search(w) else f"not {w}"
                                   for w in self.exclude_words]) if text and self.exclude_words else text

    def to_dict(self) -> dict:
        return {"words": self.words, "categories": list(self.categories), "category_words": self.category_words,
                "brands": list(self.brands), "exclude_brands": list(self.exclude_brands),
                "price_min": self.price_min, "price_max": self.price_max,
                "attributes": {k: list(v) for k, v in self.attributes.items()},
                "attribute_words": dict(self.attribute_words),
                "exclude_attributes": {k: list(v) for k, v in self.exclude_attributes.items()}, "sort": self.sort,
                "exclude_words": list(self.exclude_words)}

    @classmethod
    def from_dict(cls, d: dict) -> "Constraints":
        return cls(words=d.get("words", ""), categories=tuple(d.get("categories", ())),
                   category_words=d.get("category_words", ""), brands=tuple(d.get("brands", ())),
                   exclude_brands=tuple(d.get("exclude_brands", ())), price_min=d.get("price_min"),
                   price_max=d.get("price_max"),
                   attributes={k: tuple(v) for k, v in d.get("attributes", {}).items()},
                   attribute_words=dict(d.get("attribute_words", {})),
                   exclude_attributes={k: tuple(v) for k, v in d.get("exclude_attributes", {}).items()},
                   sort=d.get("sort"), exclude_words=tuple(d.get("exclude_words", ())))


def _budget(base: Constraints, parsed: ParsedQuery) -> tuple[float | None, float | None]:
    """A new budget replaces the old one ("actually up to 800" drops an old floor or window), except that a lone
    floor under an old lone cap (or a lone cap over an old lone floor) narrows it to a range."""
    lo, hi = parsed.price_min, parsed.price_max
    if lo is None and hi is None:
        return base.price_min, base.price_max
    if hi is None and base.price_min is None and base.price_max is not None and lo < base.price_max:
        return lo, base.price_max
    if lo is None and base.price_max is None and base.price_min is not None and hi > base.price_min:
        return base.price_min, hi
    return lo, hi


_HAN = re.compile(r"[\u4e00-\u9fff]")
_LEAD = re.compile(r"^(?:的|个|一个)(?=[\u4e00-\u9fff])")  # "能装电脑的包" named the kind by "的包": said back as 包


def _spans(parsed: ParsedQuery) -> list[tuple[str, str]]:
    return [(said, what) for what, said in parsed.mentions()]


def _without(text: str, spans: list[str]) -> str:
    """``text`` less what was understood from it; nothing when only filler is left ("need a and some")."""
    for span in sorted(spans, key=len, reverse=True):
        if span:
            text = re.sub(re.escape(span), " ", text, flags=re.I)
    return " ".join(text.split()) if content_words(text) else ""


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

    @classmethod
    def from_dict(cls, d: dict) -> "Turn":
        return cls(d["role"], d["text"], d.get("kind", ""), tuple(d.get("product_ids", ())), d.get("ts_ms", 0))


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
    revision: int = 0   # how many times it was saved: the stored copy is newer when its revision is higher
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def session_id(self) -> str:
        return f"chat-{self.id}"

    def add(self, turn: Turn) -> None:
        turn.ts_ms = turn.ts_ms or now_ms()
        self.turns.append(turn)
        del self.turns[:-MAX_TURNS]
        self.updated_ms = turn.ts_ms

    def to_dict(self) -> dict:
        return {"id": self.id, "shopper_id": self.shopper_id, "language": self.language,
                "constraints": self.constraints.to_dict(), "shown": list(self.shown), "focus": self.focus,
                "asked_last_turn": self.asked_last_turn, "turns": [t.to_dict() for t in self.turns],
                "updated_ms": self.updated_ms, "revision": self.revision}

    @classmethod
    def from_dict(cls, d: dict) -> "Conversation":
        return cls(d["id"], d["shopper_id"], d.get("language", "en"), Constraints.from_dict(d.get("constraints", {})),
                   list(d.get("shown", ())), d.get("focus"), bool(d.get("asked_last_turn", False)),
                   [Turn.from_dict(t) for t in d.get("turns", ())], int(d.get("updated_ms", 0)),
                   int(d.get("revision", 0)))


class ConversationStore(Protocol):
    """Where conversations outlive the process: :class:`daogou.catalog.store.Store` is one."""

    def save_conversation(self, conversation_id: str, shopper_id: str, updated_ms: int, state: dict) -> None: ...

    def load_conversation(self, conversation_id: str) -> tuple[str, int, dict] | None: ...

    def prune_conversations(self, before_ms: int) -> int: ...

    def prune_shopper_conversations(self, shopper_id: str, keep: int) -> int: ...


class Conversations:
    """Live conversations, owned by one shopper: a bounded in-memory cache (least recently used dropped first),
    written through to ``store`` after every turn when one is given, so a conversation survives a restart and
    its eviction from memory. Conversations idle longer than ``ttl_s`` are gone, and a shopper keeps at most
    ``per_shopper`` of them: starting one more forgets their least recently used (memory and store), so one
    caller cannot fill the server with conversations.

    Asking for another shopper's conversation looks exactly like asking for one that does not exist.
    """

    def __init__(self, max_conversations: int = 10_000, ttl_s: float = 24 * 3600,
                 store: ConversationStore | None = None, per_shopper: int = 50):
        self.max, self.ttl_ms, self.store = max_conversations, int(ttl_s * 1000), store
        self.per_shopper = per_shopper
        self._items: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()
        self._pruned_ms = 0

    def __len__(self) -> int:
        return len(self._items)

    def start(self, shopper_id: str, language: str = "en") -> Conversation:
        # not written to the store yet: its first turn writes it (Assistant.stream saves after every turn)
        with self._lock:
            theirs = [cid for cid, c in self._items.items() if c.shopper_id == shopper_id]  # oldest first
            for cid in theirs[:max(0, len(theirs) - self.per_shopper + 1)]:
                del self._items[cid]
        if self.store is not None:
            self.store.prune_shopper_conversations(shopper_id, keep=self.per_shopper - 1)
        return self._remember(Conversation(secrets.token_urlsafe(12), shopper_id, language, updated_ms=now_ms()))

    def get(self, conversation_id: str, shopper_id: str) -> Conversation:
        now = now_ms()
        with self._lock:
            conv = self._items.get(conversation_id)
            if conv is not None:
                self._items.move_to_end(conversation_id)
        if self.store is not None:
            conv = self._load(conversation_id, conv)
        if conv is None or conv.shopper_id != shopper_id or now - conv.updated_ms > self.ttl_ms:
            raise NotFoundError("conversation", conversation_id)
        return conv

    def save(self, conv: Conversation) -> None:
        """Write the conversation through to the store (after each turn); drop long-idle ones now and then."""
        if self.store is None:
            return
        conv.revision += 1
        self.store.save_conversation(conv.id, conv.shopper_id, conv.updated_ms, conv.to_dict())
        now = now_ms()
        if now - self._pruned_ms > 3600_000:
            self._pruned_ms = now
            self.store.prune_conversations(now - self.ttl_ms)

    def _load(self, conversation_id: str, cached: Conversation | None) -> Conversation | None:
        """The stored conversation when it is newer than ``cached``: another server process (a worker beside this
        one) continued it, which saving counts in ``revision`` — clocks are not compared, except for conversations
        saved before revisions were. Gone from the store once saved means another process forgot it."""
        found = self.store.load_conversation(conversation_id)
        if found is None:
            if cached is not None and cached.revision > 0:  # pruned elsewhere (a shopper's oldest, or expired)
                with self._lock:
                    self._items.pop(conversation_id, None)
                return None
            return cached  # started here, first turn not saved yet
        if cached is not None:
            stored_revision = int(found[2].get("revision", 0))
            if stored_revision < cached.revision or (stored_revision == cached.revision
                                                     and found[1] <= cached.updated_ms):
                return cached
        return self._remember(Conversation.from_dict(found[2]), newer=cached is not None)

    def _remember(self, conv: Conversation, newer: bool = False) -> Conversation:
        """Keep ``conv`` in memory; if two requests loaded it at once, both get the one remembered first."""
        with self._lock:
            if newer:
                self._items[conv.id] = conv
            conv = self._items.setdefault(conv.id, conv)
            self._items.move_to_end(conv.id)
            while len(self._items) > self.max:
                self._items.popitem(last=False)
            return conv


def now_ms() -> int:
    """Wall-clock time in milliseconds: the unit of event and conversation times."""
    return int(time.time() * 1000)
