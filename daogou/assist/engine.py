"""The shopping guide: one turn = understand → retrieve (hybrid search) → personalise → explain → answer.

:meth:`Assistant.stream` yields :class:`Update` objects — ``cards`` (products with why-recommended reasons and
refinement chips) first, then ``delta`` pieces of the answer text as the writer releases them (``reset`` when a
model attempt is withdrawn), then ``done`` with the whole :class:`Reply`. :meth:`Assistant.reply` collects it.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from daogou.assist import phrases as P
from daogou.assist.answers import answer as answer_question
from daogou.assist.answers import extreme, has_values, key_name, quantity, stated, unstated
from daogou.assist.answers import text_of as answer_text
from daogou.assist.answers import value_name as answer_value_name
from daogou.assist.state import Constraints, Conversation, Conversations, Turn, now_ms
from daogou.assist.taste import Taste, taste_of
from daogou.assist.understand import ELLIPSIS, TELLS, THESE, Understanding, back_to, understand
from daogou.catalog.filters import Filters
from daogou.catalog.models import Event, Product
from daogou.catalog.popularity import StorePopularity
from daogou.catalog.store import Store
from daogou.errors import ValidationError
from daogou.generate import Chunk, Done, Reasons, Reset, Writer
from daogou.generate.tasks import answer_task, compare_task, copy_task, explain_task
from daogou.search.coverage import FILLER, content_words
from daogou.search.engine import RELAX_ORDER, Searcher  # the search's order: colour and wanted values never filter
from daogou.search.lexical import analyze

MAX_MESSAGE_CHARS = 1000


@dataclass(frozen=True)
class AssistConfig:
    cards: int = 6
    candidates: int = 60          # search candidates re-ranked with the shopper's taste
    personal_weight: float = 2.0  # weight of the recommender's score against the search score (both min-max scaled)
    brand_weight: float = 0.5     # weight of the shopper's affinity to a brand (share of their brand interactions)
    explain: bool = True          # write a grounded explanation of the top pick
    remember: bool = True         # keep conversations in the store, so they outlive the process
    conversations_per_shopper: int = 50  # a shopper's live conversations; starting one more forgets the oldest


@dataclass
class Card:
    id: str
    title: str
    brand: str
    price: float | None
    price_text: str
    currency: str
    category: str
    image: bool
    in_stock: bool
    why: list[str] = field(default_factory=list)


@dataclass
class Reply:
    conversation_id: str
    kind: str
    language: str
    text: str
    cards: list[Card]
    chips: list[str]
    constraints: dict
    total: int = 0
    backend: str = ""
    answer: list[dict] = field(default_factory=list)   # a question's answers from the product's attributes
    relaxed: list[str] = field(default_factory=list)   # constraints dropped because nothing matched them all
    matched: bool = True    # False: the store sells nothing of what the shopper asked for, and the reply says so
    unmatched: list[str] = field(default_factory=list)  # the shopper's words for a product that no product uses

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Update:
    event: str   # "cards" | "delta" | "reset" | "done"
    data: dict


Recorder = Callable[[list[Event]], None]


class Assistant:
    def __init__(self, store: Store, searcher: Searcher, recommender=None, writer: Writer | None = None,
                 config: AssistConfig = AssistConfig(), record: Recorder | None = None):
        self.store, self.searcher, self.recommender, self.writer = store, searcher, recommender, writer
        self.config = config
        self.conversations = Conversations(store=store if config.remember else None,
                                           per_shopper=config.conversations_per_shopper)
        self.record = record or (lambda events: None)
        self._products = {p.id: p for p in searcher.products}
        self._currency = next((p.currency for p in searcher.products if p.currency), "")
        self._zh_leaves: dict[str, str] | None = None  # category path → Chinese leaf name, built on first use
        self._titles: dict[str, frozenset[str]] = {}  # product → the words of its titles, on first use
        self._local = threading.local()  # what one turn adds to its reply (answers, relaxed constraints)
        self._popular = searcher.popularity or StorePopularity(store)  # best sellers: the search's own counts

    # ------------------------------------------------------------------ public
    def start(self, shopper_id: str, language: str = "en") -> Conversation:
        return self.conversations.start(shopper_id, language)

    def reply(self, conv: Conversation, message: str, language: str | None = None) -> Reply:
        final = None
        for update in self.stream(conv, message, language):
            if update.event == "done":
                final = update.data
        return Reply(**{**final, "cards": [Card(**c) for c in final["cards"]]})

    def stream(self, conv: Conversation, message: str, language: str | None = None) -> Iterator[Update]:
        message = _clean(message)
        with conv.lock:
            try:
                yield from self._turn(conv, message, language)
            finally:  # also when the shopper leaves mid-answer: the turn so far is kept
                self.conversations.save(conv)

    # ------------------------------------------------------------------ one turn
    def _turn(self, conv: Conversation, message: str, language: str | None) -> Iterator[Update]:
        shown_prices = [self._products[i].price if i in self._products else None for i in conv.shown]
        topic = conv.constraints.categories if not conv.constraints.is_empty() else None
        searched = [t.text for t in reversed(conv.turns) if t.role == "shopper" and t.kind == "search"]
        back = back_to(message, searched[1:], self.searcher.vocab) if len(searched) > 1 else None
        typed = message
        if back is not None:  # "back to the mats pls": that earlier need again, as a new search
            message, topic = back, None
        u = understand(message, self.searcher.vocab, len(conv.shown), conv.asked_last_turn, conv.language,
                       shown_prices=shown_prices, topic=topic, rates=self.searcher.rates,
                       shown_products=[self._products.get(i) for i in conv.shown])
        lang = language if language in ("en", "zh") else u.language
        if u.kind in ("clarify", "search") and (u.vague or u.gift or TELLS.search(message) or not u.parsed.categories):
            # "my dad jogs every morning, gift ideas?": the person's interest points to a kind the store sells
            told = message
            if conv.asked_last_turn and len(conv.turns) >= 2:  # the answer to "who is it for?" and what it answers
                told = f"{conv.turns[-2].text} {message}"
            self._interest(u, message, told)
        if u.kind == "search" and len(u.parsed.categories) > 1:
            _one_need_at_a_time(u, message)
        if u.kind in ("detail", "question") and u.refs and ELLIPSIS.match(message):
            # "第一个有降噪吗" … "那第二个呢": the same question, of the second one
            said = [t for t in conv.turns if t.role == "shopper"]
            if said and said[-1].kind == "question":
                u.again = next((t.text for t in reversed(said) if t.kind == "question"
                                and not ELLIPSIS.match(t.text)), "")
                u.kind = "question" if u.again else u.kind
        if u.kind == "refine" and conv.focus and set(u.parsed.attributes) == {"size"} and _HAS_IT.search(message) \
                and not (u.parsed.categories or u.parsed.brands):
            said = [t for t in conv.turns if t.role == "shopper"]
            if said and said[-1].kind in ("question", "detail"):
                u.kind = "question"  # "第二个是什么材质的？" … "有43码吗": the size of that one, asked
        conv.language = lang
        conv.add(Turn("shopper", typed, u.kind))
        handler = {"reset": self._reset, "greet": self._greet, "clarify": self._clarify, "detail": self._detail,
                   "thanks": self._said, "service": self._said, "cart": self._cart,
                   "question": self._question, "compare": self._compare}.get(u.kind, self._find)
        self._local.extra = {"answer": [], "relaxed": [], "matched": True, "unmatched": []}
        cards, text, chips, total, task = handler(conv, u, lang)
        later = ""
        if u.later and cards:  # "a yoga mat and some socks": the mats now, the socks offered last, after the reasons
            later = P.say(lang, "later", x=P.say(lang, "and").join(u.later))
            chips = list(dict.fromkeys([*u.later, *chips]))
        extra = self._local.extra
        conv.asked_last_turn = u.kind == "clarify"
        yield Update("cards", {"kind": u.kind, "language": lang, "cards": [asdict(c) for c in cards],
                               "chips": chips, "constraints": conv.constraints.to_dict(), "total": total, **extra})
        pieces, backend = [text], ""
        if text:
            yield Update("delta", {"text": text})
        if task is not None and self.writer is not None:
            lead = " " if text and not text.endswith(("。", "！", "？", "：", "；")) else ""  # no space after 。
            generated, backend = yield from self._generate(task, lead=lead)
            pieces.append(generated)
        if later:
            piece = ("" if lang == "zh" or not "".join(pieces).strip() else " ") + later
            yield Update("delta", {"text": piece})
            pieces.append(piece)
        full = "".join(pieces).strip()
        conv.add(Turn("assistant", full, u.kind, tuple(c.id for c in cards)))
        reply = Reply(conv.id, u.kind, lang, full, cards, chips, conv.constraints.to_dict(), total, backend,
                      extra["answer"], extra["relaxed"], extra["matched"], extra["unmatched"])
        yield Update("done", reply.to_dict())


    def _interest(self, u: Understanding, message: str, told: str) -> None:
        """The kind a person's interest or trouble asks for, set on ``u`` as an inferred category: by the interest
        lines first ("she bakes every weekend", "my aunt's phone is always dead" → chargers: a category named only
        inside what tells the trouble gives way), then, for a gift that names no kind, by the encoder. ``told``:
        the message, after the question it answers if it answers one (the message's own interest comes first)."""
        lines = self.searcher.told_interest(message)
        if lines is None and told != message:
            lines = self.searcher.told_interest(told)
        else:
            told = message
        if lines is not None:
            found, category = lines
            said = found.span(told)
            if any(k == "category" and w.lower() == said for w, k in u.parsed.known.items()):
                return  # "needs a decent backpack for her laptop": the pastime's word is the product asked for
            if u.parsed.categories and category is not None and \
                    all(category.startswith(c + " > ") for c in u.parsed.categories):
                u.parsed.categories = [category]  # "开始跑步了 鞋子推荐下": the shoes that running asks for
                u.kind, u.vague, u.inferred = "search", False, True
                return
            if u.parsed.categories:
                parsed = self.searcher.understand(found.rest(told))[0]
                carried = self.searcher.understand(_CARRIED.sub(" ", told))[0]
                if parsed is None or (parsed.categories and (carried is None or carried.categories)):
                    return  # a kind named outside the trouble, and not as a thing carried: the need
            elif self.searcher.interest_names_product(found, told, u.parsed):
                return  # "running shorts for my bf": a kind the store lacks is asked for, not what runners like
            if category is not None:
                u.parsed.categories = [category]
                u.kind, u.vague, u.inferred = "search", False, True
            else:  # understood, and the store has nothing for it ("he loves fishing"): said, not guessed
                u.unserved = found.span(told)
            return
        if (u.vague or u.gift) and not u.parsed.categories:
            guessed = self.searcher.interest_category(told, u.language)
            if guessed is not None:
                u.parsed.categories = [guessed[0]]
                u.kind, u.vague, u.inferred = "search", False, True

    def _generate(self, task, lead: str):
        """Stream the writer's grounded text; returns (text, backend) to the caller of ``yield from``."""
        out: list[str] = []
        first = True
        for piece in self.writer.stream(task):  # the writer takes its model's lock itself
            if isinstance(piece, Chunk) and piece.text:
                text = (lead if first else "") + piece.text
                first = False
                out.append(text)
                yield Update("delta", {"text": text})
            elif isinstance(piece, Reset):
                out.clear()
                first = True
                yield Update("reset", {"reason": piece.reason})
            elif isinstance(piece, Done):
                return "".join(out), piece.result.backend
        return "".join(out), ""

    # ------------------------------------------------------------------ kinds of turn
    def _reset(self, conv, u, lang):
        conv.constraints, conv.shown, conv.focus = Constraints(), [], None
        return [], P.say(lang, "reset"), self._category_chips(lang, 4), 0, None

    def _greet(self, conv, u, lang):
        return [], P.say(lang, "greet", p=P.price_text(300, self._currency, lang), b=self._a_brand()), \
            self._category_chips(lang, 4), 0, None

    def _said(self, conv, u, lang):
        """Thanks, goodbye, or a question about the store's policies: a plain answer; the need stays as it was."""
        return [], P.say(lang, u.kind), self._chips(conv, lang) if conv.shown else self._category_chips(lang, 4), 0, \
            None

    def _clarify(self, conv, u, lang):
        conv.constraints, conv.shown, conv.focus = Constraints(), [], None  # a new need: the answer starts it
        text = P.say(lang, "clarify_unserved" if u.unserved else "clarify", x=u.unserved,
                     p=P.price_text(300, self._currency, lang))
        chips = [P.say(lang, "chip_under", p=P.price_text(v, self._currency, lang)) for v in (100, 300, 1000)]
        return [], text, chips + self._category_chips(lang, 3), 0, None

    def _detail(self, conv, u, lang):
        product = self._referenced(conv, u)
        if product is None:
            return [], P.say(lang, "no_focus"), [], 0, None
        self._record_click(conv, product)
        conv.focus = product.id
        card = self._card(product, lang, [])
        task = copy_task(product, lang=lang, style="short")
        # the written copy names the product itself: the lead does not say the title twice
        lead = P.say(lang, "detail_copy") if self.writer is not None else P.say(lang, "detail", title=card.title)
        return [card], lead, self._chips(conv, lang), 1, task

    def _question(self, conv, u, lang):
        picked, by_key = None, None
        message = u.again or u.said or conv.turns[-1].text
        if u.most:  # "which one has the longest battery?": the shown product with the most of it
            shown = [self._products[i] for i in conv.shown if i in self._products]
            extremum = extreme(shown, message, self.searcher.vocab, u.most)
            picked, by_key = extremum if extremum is not None else (None, None)
            key = unstated(shown, message, self.searcher.vocab) if picked is None else None
            if key is not None:  # "which one's lightest?" and no listing states a weight: said so, nothing picked
                what = key_name(key, lang) if lang == "zh" else f"their {key_name(key, lang)}"
                return [], P.say(lang, "none_state", what=what), self._chips(conv, lang), 0, None
        if u.having:  # "which ones have noise cancelling?": every card on show, by its listing
            wanted: dict[str, tuple[str, ...]] = {}
            for key, value in u.having:
                wanted[key] = (*wanted.get(key, ()), value)
            shown = [self._products[i] for i in conv.shown if i in self._products]
            having = [p for p in shown if has_values(p, wanted)]
            what = ("" if lang == "zh" else " ").join(P.value_words(k, v, lang) for k, v in u.having)
            if not having:
                return [], P.say(lang, "having_none", what=what), self._chips(conv, lang), 0, None
            cards = [self._card(p, lang, []) for p in having]
            names = P.listing([_short(c.title) for c in cards], lang)
            one = "having_all" if len(cards) == len(shown) > 1 else "having_one" if len(cards) == 1 else "having"
            return cards, P.say(lang, one, names=names, what=what, n=len(cards)), self._chips(conv, lang), \
                len(cards), None
        if u.these and not u.parsed.has_constraints():
            # "are these any good for wide feet?" and no listing of the store says "wide feet": said so
            unknown = self._unmentioned(message)
            if unknown:
                self._local.extra.update(unmatched=unknown)
                what = ("" if lang == "zh" else " ").join(unknown)
                return [], P.say(lang, "none_mention", what=what), self._chips(conv, lang), 0, None
        product = picked or self._referenced(conv, u)
        if product is None:
            return [], P.say(lang, "no_focus"), [], 0, None
        self._record_click(conv, product)
        conv.focus = product.id
        if u.pick:  # "which of these is the cheapest?": its price is the answer
            card = self._card(product, lang, [])
            return [card], P.say(lang, f"pick_{u.pick}", title=card.title, p=card.price_text), \
                self._chips(conv, lang), 1, None
        found = answer_question(product, message, self.searcher.vocab, lang)
        if picked is not None and by_key is not None and not any(a.key == by_key for a in found):
            # "biggest bottle pls": the picked one's own measure says why it was picked
            found = [a for a in [stated(picked, by_key, self.searcher.vocab, lang)] if a is not None] + found
        if found:  # the attributes answer it: facts first, no model needed
            self._local.extra["answer"] = [a.to_dict() for a in found]
            card, text = self._card(product, lang, []), answer_text(found, lang)
            if picked is not None:
                text = P.say(lang, "of_these", title=card.title) + text
            return [card], text, self._chips(conv, lang), 1, None
        task = answer_task(product, message, lang=lang)
        return [self._card(product, lang, [])], "", self._chips(conv, lang), 1, task

    def _cart(self, conv, u, lang):
        """"add the first one to my cart", "i'll take it": the product goes into the shopper's cart (a cart event,
        as the page's button records one)."""
        product = self._referenced(conv, u)
        if product is None:
            return [], P.say(lang, "no_focus"), [], 0, None
        self.record([Event(conv.shopper_id, conv.session_id, now_ms(), "cart", product.id, "")])
        conv.focus = product.id
        card = self._card(product, lang, [])
        return [card], P.say(lang, "added", title=card.title, p=card.price_text), self._chips(conv, lang), 1, None

    def _like(self, conv, u: Understanding, ref: Product, lang: str):
        """Products like ``ref`` (found by its own title, of its kind, under the need's other constraints), ``ref``
        left out; "but cheaper" keeps to below its price (and that bound stays with the need)."""
        cons = conv.constraints.updated(u.parsed, new_topic=False)
        if not cons.categories and ref.category:
            cons = replace(cons, categories=(" > ".join(ref.category),))
        if u.price_move == "cheaper" and ref.price is not None:
            cons = replace(cons, price_max=round(ref.price - 0.01, 2))
        elif u.price_move == "pricier" and ref.price is not None:
            cons = replace(cons, price_min=round(ref.price + 0.01, 2))
        conv.constraints = cons
        title = ref.text(lang)[0] or ref.title
        res = self.searcher.search(title, k=self.config.candidates, filters=cons.filters(), facets=False)
        products = [self._products[i] for i in res.ids() if i != ref.id and i in self._products][:self.config.cards]
        conv.shown = [p.id for p in products]
        conv.focus = products[0].id if products else ref.id
        self._record_search(conv, title)
        name = self._card(ref, lang, []).title
        if not products:
            return [], P.say(lang, "like_none", title=name), self._chips(conv, lang), 0, None
        key = {"cheaper": "like_cheaper", "pricier": "like_pricier"}.get(u.price_move or "", "like")
        cards = [self._card(p, lang, []) for p in products]
        return cards, P.say(lang, key, n=len(cards), title=name), self._chips(conv, lang), res.total, None

    def _unmentioned(self, message: str) -> list[str]:
        """The words of what a question asks about ("… for wide feet", "适合敏感肌吗": the words after the last
        "for" / "适合", else all its content words) when the catalog uses none of them."""
        cue = list(_ABOUT.finditer(message))
        words = [w for w in content_words(message[cue[-1].end():] if cue else message) if not THESE.fullmatch(w)]
        knows = self.searcher.lexical.knows
        return words if words and not any(knows(w.lower()) for w in words) else []

    def _compare(self, conv, u, lang):
        products = [self._products[conv.shown[r]] for r in u.refs if r < len(conv.shown)][:4]
        if len(products) < 2:
            return [], P.say(lang, "no_focus"), [], 0, None
        task = compare_task(products, lang=lang)
        return [self._card(p, lang, []) for p in products], "", self._chips(conv, lang), len(products), task

    def _find(self, conv, u: Understanding, lang):
        lead = ""
        if u.like:
            ref = self._referenced(conv, u)
            if ref is not None:
                return self._like(conv, u, ref, lang)
        # (not for a gift told without a product, nor for "something else": neither names a product to judge)
        if not (u.inferred or u.more or u.unbounded or u.measure or u.other
                or (u.gift and (u.vague or conv.asked_last_turn))) \
                and (u.kind == "search"
                                           or not (u.price_move or u.vague or u.parsed.has_constraints())):
            # a new need, or words added to the current one: does the store sell anything of the kind at all?
            cover = self.searcher.coverage(u.parsed)
            if not cover.matched and u.kind == "refine" and conv.shown and not u.parsed.has_constraints():
                # words the store never uses, added to a need it has products for ("shorter ones", "more
                # protective"): said honestly, and the need's products stay on show
                self._local.extra.update(matched=False, unmatched=list(cover.unmatched))
                lead = P.say(lang, "missing_here", what=cover.phrase)
            elif not cover.matched:
                return self._missing(conv, u, cover, lang)
        taste = taste_of(self.store, conv.shopper_id, self._products)
        shown_prices = [self._products[i].price for i in conv.shown
                        if i in self._products and self._products[i].price is not None]
        cons = conv.constraints.updated(u.parsed, new_topic=u.kind == "search")
        if u.purpose and u.purpose not in cons.words:  # "for running": running socks first
            cons = replace(cons, words=f"{cons.words} {u.purpose}".strip())
        if u.vague:
            cons = Constraints(price_min=cons.price_min, price_max=cons.price_max, exclude_brands=cons.exclude_brands)
        if u.price_move:
            cons = cons.moved(u.price_move, shown_prices)
        focus = None
        if u.other:  # "a different brand": the need without the brand (colour) of the card in focus
            focus = self._products.get(conv.focus or "") or (self._products.get(conv.shown[0]) if conv.shown else None)
            if focus is not None and u.other == "brand" and focus.brand:
                cons = replace(cons, exclude_brands=tuple(dict.fromkeys((*cons.exclude_brands, focus.brand))),
                               brands=tuple(b for b in cons.brands if b != focus.brand))
            elif focus is not None and (colour := (focus.attributes or {}).get("color")):
                excluded = dict(cons.exclude_attributes)
                excluded["color"] = tuple(dict.fromkeys((*excluded.get("color", ()), str(colour))))
                wanted = {k: v for k, v in cons.attributes.items() if k != "color"}
                cons = replace(cons, exclude_attributes=excluded, attributes=wanted,
                               attribute_words={k: v for k, v in cons.attribute_words.items() if k != "color"})
        measured = None
        if u.measure:  # "got anything bigger?": the values of a measure beyond those of the cards on show
            cons, measured, beyond = self._measured(conv, cons, u, lang)
            if measured and not beyond:  # the cards already reach the kind's utmost: those that have it, said so
                top = cons.attributes[measured][0]
                lead += P.say(lang, f"measure_none_{u.measure}", what=key_name(measured, lang),
                              value=answer_value_name(measured, top, self.searcher.vocab, lang))
        if u.unbounded:  # "forget the budget"
            cons = replace(cons, price_min=None, price_max=None)
        conv.constraints = cons
        ranked, total, signals, personal = self._rank(conv.shopper_id, cons, taste)
        if focus is not None:  # and never the card in focus itself (a product that states no colour)
            ranked = [i for i in ranked if i != focus.id]
        if measured:  # those with more (less) of it first: the words "bigger", "更大" name no value to search
            wanted, sign = {measured: cons.attributes[measured]}, -1.0 if u.measure == "more" else 1.0
            ranked = sorted(ranked, key=lambda i: (not has_values(self._products[i], wanted),
                                                   sign * (quantity(self._products[i].attributes.get(measured)) or 0.0)))
        if u.more:  # other products than those shown for this need so far, while there are any
            seen = _shown_since_search(conv)
            ranked = [i for i in ranked if i not in seen] or ranked
        used, relaxed = cons, []
        if not ranked:  # nothing matches: leave out as little as possible, the weakest first, and say so
            present = [step for step in RELAX_ORDER if _has(cons, step)]
            for size in range(1, len(present) + 1):
                for steps in itertools.combinations(present, size):
                    trial = cons
                    for step in steps:
                        trial = _without(trial, step)
                    got = self._rank(conv.shopper_id, trial, taste)
                    if got[0]:
                        used, relaxed = trial, list(steps)
                        ranked, total, signals, personal = got
                        break
                if relaxed:
                    break
        if relaxed and "price" in relaxed and ranked:  # closest to the stated budget first
            target = cons.price_max if cons.price_max is not None else cons.price_min
            ranked = sorted(ranked[:3 * self.config.cards],
                            key=lambda i: abs((self._products[i].price or 0.0) - (target or 0.0)))
        self._local.extra["relaxed"] = relaxed
        products = [self._products[i] for i in ranked[:self.config.cards]]
        conv.shown = [p.id for p in products]
        conv.focus = products[0].id if products else None
        cards = [self._card(p, lang, self._why(p, used, signals.get(p.id, {}), personal.get(p.id), taste, u, lang))
                 for p in products]
        self._record_search(conv, cons.query_text() or u.parsed.text)
        if not products:
            need = P.need_text(cons, self._currency, lang, self._zh_leaf) or P.say(lang, "all_that")
            return [], P.say(lang, "none_need", need=need), \
                self._chips(conv, lang), 0, None
        said = used
        if used.attributes and not any(has_values(p, used.attributes) for p in products):
            # "38码 … 预算三百" with no size 38 under ¥300: said, and the cards described by what they do match
            lead += P.say(lang, "none_with", what=P.need_text(used, self._currency, lang, self._zh_leaf))
            said = replace(used, attributes={}, attribute_words={})
        text = P.found_text(len(products), cons, said, relaxed, u.parsed.asked, self._currency, lang, self._zh_leaf,
                            personal=bool(personal) and not (cons.words or cons.category_words or cons.categories))
        text = lead + text
        task = None
        if self.config.explain:
            # a kind inferred from an interest ("her phone is always dead" → chargers) was not asked for by name
            # and values no card has are not the reason for the first card ("Nothing here is exactly …")
            asked_for = "" if u.inferred else P.need_words(
                cons if said is used else replace(cons, attributes={}, attribute_words={}), lang, self._zh_leaf)
            reasons = Reasons(viewed=tuple(taste.recent_in(products[0], 3)), query=asked_for,
                              budget=used.price_max, liked_brand=taste.brand_for(products[0]))
            task = explain_task(products[0], reasons, lang=lang)
        return cards, text, self._chips(conv, lang), total, task

    def _measured(self, conv, cons: Constraints, u: Understanding,
                  lang: str) -> tuple[Constraints, str | None, bool]:
        """``cons`` wanting the values of the first measure the cards on show state (of ``u.measure_keys``) that
        are more (less) than their median: "bigger" of backpacks is capacity, of bottles sized Small / Medium /
        Large their size. → (constraints, that key or None, whether any value of the asked kind goes beyond)."""
        shown = [self._products[i] for i in conv.shown if i in self._products]
        vocab = self.searcher.vocab
        paths = cons.categories or tuple(" > ".join(p.category) for p in shown if p.category)
        for key in u.measure_keys:
            have = sorted(q for p in shown if (q := quantity((p.attributes or {}).get(key))) is not None)
            if not have:
                continue
            middle = have[len(have) // 2]
            amounts = {v: q for v in vocab.key_values.get(key, ())
                       if (q := quantity(v)) is not None and (not paths or vocab.value_in_categories(key, v, paths))}
            beyond = sorted((v for v, q in amounts.items() if (q > middle if u.measure == "more" else q < middle)),
                            key=amounts.__getitem__)
            if not beyond:  # the utmost of the kind is on show already: those that have it
                utmost = (max if u.measure == "more" else min)(amounts.values())
                return replace(cons, attributes={**cons.attributes, key: tuple(v for v, q in amounts.items()
                                                                               if q == utmost)}), key, False
            return replace(cons, attributes={**cons.attributes, key: tuple(beyond)},
                           attribute_words={**cons.attribute_words, key: P.measure_words(key, u.measure, lang)}), \
                key, True
        return cons, None, False

    def _missing(self, conv, u: Understanding, cover, lang):
        """The store sells none of it: say so in the shopper's words, show no stand-ins, offer what it does sell
        (the kinds the message named first: "yoga pants" → Yoga). A new need is forgotten; words added to the
        current one leave it as it was. The search is still recorded: a store wants to know what its shoppers could
        not find."""
        if u.kind == "search":
            conv.constraints, conv.shown, conv.focus = Constraints(), [], None
        self._record_search(conv, u.parsed.text)
        self._local.extra.update(matched=False, unmatched=list(cover.unmatched))
        named = [path for path in u.parsed.categories if path in self.searcher.categories]
        leaves = [(self._zh_leaf(p) if lang == "zh" else "") or p.split(" > ")[-1] for p in named]
        chips = list(dict.fromkeys(leaves + self._category_chips(lang, 4)))[:5]
        short = len(cover.phrase) <= 40 and len(cover.unmatched) <= 4  # a long rant is not repeated back
        text = P.say(lang, "missing", what=cover.phrase) if short else P.say(lang, "missing_any")
        return [], text, chips, 0, None

    def _zh_leaf(self, path: str) -> str:
        """The Chinese name of a category path's last level, when the catalog has it."""
        return self._zh_leaf_names().get(path, "")

    def _zh_leaf_names(self) -> dict[str, str]:
        """category path → Chinese leaf name, built on first use."""
        if self._zh_leaves is None:
            self._zh_leaves = {}
            for p in self.searcher.products:
                zh = (p.translations or {}).get("zh", {}).get("category")
                if zh:
                    self._zh_leaves.setdefault(" > ".join(p.category), zh.split(" > ")[-1].strip())
        return self._zh_leaves

    # ------------------------------------------------------------------ retrieval and personalisation
    def _rank(self, shopper: str, cons: Constraints, taste: Taste) -> tuple[list[str], int, dict, dict[str, int]]:
        """Candidates from search (or from the shopper's taste when there is nothing to search for), re-ranked
        with the recommender. Returns (ids, total matching, search signals by id, personal rank by id)."""
        text, filters, n = cons.query_text(), cons.filters(), self.config.candidates
        if text:
            res = self.searcher.search(text, k=n, filters=filters, facets=False)
            ids = res.ids()
            base = {h.product_id: h.score for h in res.hits}
            signals = {h.product_id: h.signals for h in res.hits}
            total = res.total
        else:
            ids, base, signals = [], {}, {}
            mask = self.searcher.table.mask(filters)
            total = len(self.searcher.table) if mask is None else int(mask.sum())
            if self.recommender is None:  # nothing to personalise with: what the filters allow, in catalog order
                rows = np.arange(len(self.searcher.table)) if mask is None else np.flatnonzero(mask)
                ids = [self.searcher.table.ids[r] for r in rows[:n]]
        personal: dict[str, int] = {}
        if self.recommender is not None and (ids or not text):
            rec_filters = Filters(ids=tuple(ids)) if text else filters
            rids, rscores = self.recommender.recommend(shopper, query=text or None, n=len(ids) if text else n,
                                                       filters=rec_filters, exclude_purchased=not text)
            personal = {pid: r for r, pid in enumerate(rids)}
            if not text:
                ids, base = list(rids), {pid: float(s) for pid, s in zip(rids, rscores)}
            else:
                top = max(taste.brands.values(), default=1.0)
                affinity = {i: taste.brands.get(self._products[i].brand, 0.0) / top for i in ids}
                ids = _blend(ids, base, dict(zip(rids, rscores.tolist())), affinity, self.config)
        # what the shopper asked for in words comes before what their history suggests: the values they asked for
        # (both the kind and the values first), then the kind they named ("yoga mat", not the straps of the category)
        kind = self._of_kind(ids, cons.words, cons.category_words) if text else set()
        if kind or cons.attributes:
            def asked(i: str) -> tuple[bool, bool]:
                return (bool(cons.attributes) and "attributes_rank" not in signals.get(i, {}),
                        bool(kind) and i not in kind)
            ids = sorted(ids, key=lambda i: (any(asked(i)), *asked(i)))
        if cons.sort in ("price_asc", "price_desc"):
            sign = 1 if cons.sort == "price_asc" else -1
            head = ids[:max(3 * self.config.cards, 20)]
            ids = sorted(head, key=lambda i: (self._products[i].price is None, sign * (self._products[i].price or 0)))
        elif cons.sort == "popular":  # "best sellers": the most relevant candidates, most bought first
            score = self._popular.scores()
            head = ids[:max(3 * self.config.cards, 20)]
            ids = sorted(head, key=lambda i: -score.get(i, 0.0))
        return ids, total, signals, personal

    def _of_kind(self, ids: list[str], words: str, kind_words: str = "") -> set[str]:
        """Of ``ids``, the products whose title (in any of its languages) has every content word the shopper named
        the kind with ("yoga mat": yoga and mat; "运动袜": 运动 and 袜), the kind's word or, when no title uses it, a
        synonym the titles use ("洗面奶": the titles say 洁面乳); empty when none has, so words the titles never use
        ("for my gf") change nothing."""
        def content(text: str) -> set[str]:
            return {w for w in analyze(text) if w not in FILLER} if text.strip() else set()
        wanted = content(f"{words} {kind_words}")
        if not wanted:
            return set()
        got = {i for i in ids if wanted <= self._title_words(i)}
        whole = content(kind_words) == set(analyze(kind_words))  # "in-ear" without its "in" is any "ear": over-ear too
        if (got and whole) or not kind_words.strip():
            return got
        rest, alike = content(words), set()
        for other in _kind_synonyms(kind_words):
            if content(other) != set(analyze(other)):
                continue
            alt = content(other) | rest
            alike |= {i for i in ids if alt and alt <= self._title_words(i)}
        return alike or got

    def _title_words(self, pid: str) -> frozenset[str]:
        got = self._titles.get(pid)
        if got is None:
            p = self._products[pid]
            text = " ".join([p.title] + [t.get("title", "") for t in (p.translations or {}).values()])
            got = self._titles[pid] = frozenset(analyze(text) + analyze(text.replace("-", "")))  # T-Shirt, tshirt
        return got

    def _why(self, p: Product, cons: Constraints, signals: dict, personal_rank: int | None, taste: Taste,
             u: Understanding, lang: str) -> list[str]:
        out = []
        attrs = {k: str(v).lower() for k, v in (p.attributes or {}).items()}
        wanted = [(k, v) for k, vs in cons.attributes.items() for v in vs if attrs.get(k) == str(v).lower()]
        if wanted:  # only the asked-for values this product has, in the reply's language ("防水", not "yes")
            said = [P.value_words(k, v, lang) if v.lower() in ("yes", "true", "no", "false") or v.replace(".", "").isdigit()
                    else P.described(k, answer_value_name(k, v, self.searcher.vocab, lang), lang) for k, v in wanted]
            out.append(P.say(lang, "why_attr", v=("、" if lang == "zh" else ", ").join(said)))
        if u.price_move:
            out.append(P.say(lang, "why_cheaper" if u.price_move == "cheaper" else "why_pricier"))
        elif (cons.price_max is not None or cons.price_min is not None) and p.price is not None \
                and (cons.price_max is None or p.price <= cons.price_max) \
                and (cons.price_min is None or p.price >= cons.price_min):
            out.append(P.say(lang, "why_budget"))
        if p.brand and p.brand in taste.brands:
            out.append(P.say(lang, "why_brand", b=p.brand))
        elif personal_rank is not None and personal_rank < 3:
            # named after the shopper's own event it follows from; no such event, no personal reason
            seen = taste.recent_in(p, 1)
            if seen:
                kind = "why_bought" if seen[0].id in taste.bought else "why_personal"
                out.append(P.say(lang, kind, t=_short(seen[0].text(lang)[0] or seen[0].title)))
        if not out and (signals.get("lexical_rank") == 1 or signals.get("dense_rank") == 1):
            out.append(P.say(lang, "why_match"))
        return out[:3]

    # ------------------------------------------------------------------ helpers
    def _card(self, p: Product, lang: str, why: list[str]) -> Card:
        title = p.text(lang)[0] or p.title
        return Card(p.id, title, p.brand, p.price, P.price_text(p.price, p.currency, lang), p.currency,
                    " > ".join(p.category), bool(p.image), p.in_stock, why)

    def _referenced(self, conv: Conversation, u: Understanding) -> Product | None:
        if u.refs:
            return self._products.get(conv.shown[u.refs[0]])
        return self._products.get(conv.focus) if conv.focus else None

    def _chips(self, conv: Conversation, lang: str) -> list[str]:
        chips = [P.say(lang, "chip_cheaper")]
        if len(conv.shown) >= 2:
            chips += [P.say(lang, "chip_compare"), P.say(lang, "chip_second")]
        colours = self._facet_values(conv, "color")
        chips += [P.say(lang, "chip_in", v=P.value_name(c, lang)) for c in colours[:2]]
        brands = [self._products[i].brand for i in conv.shown[:3] if self._products[i].brand]
        if brands:
            chips.append(P.say(lang, "chip_not", b=brands[0]))
        return chips + [P.say(lang, "chip_reset")]

    def _facet_values(self, conv: Conversation, key: str) -> list[str]:
        wanted = set(conv.constraints.attributes.get(key, ()))
        counts: dict[str, int] = {}
        for pid in conv.shown:
            v = self._products[pid].attributes.get(key)
            if isinstance(v, str) and v not in wanted:
                counts[v] = counts.get(v, 0) + 1
        return sorted(counts, key=lambda v: -counts[v])

    def _category_chips(self, lang: str, n: int) -> list[str]:
        """The leaf names of the first ``n`` categories, in Chinese when the catalog has the translation."""
        leaves = [path.split(" > ")[-1] for path in self.searcher.categories[:n]]
        if lang == "zh":
            names = self._zh_leaf_names()
            leaves = [names.get(path, leaf) for path, leaf in zip(self.searcher.categories, leaves)]
        return leaves

    def _a_brand(self) -> str:
        return next((p.brand for p in self.searcher.products if p.brand), "")

    def _record_search(self, conv: Conversation, query: str) -> None:
        self.record([Event(conv.shopper_id, conv.session_id, now_ms(), "search", None, query[:500])])

    def _record_click(self, conv: Conversation, product: Product) -> None:
        self.record([Event(conv.shopper_id, conv.session_id, now_ms(), "click", product.id, "")])


_ABOUT = re.compile(r"(?<![a-z])(?:for|with|against|during|in case of)(?![a-z])|适合|适用于?|用于|用来|带去|对于", re.I)


def _has(cons: Constraints, step: str) -> bool:
    return bool(cons.brands) if step == "brand" else \
        (cons.price_min is not None or cons.price_max is not None) if step == "price" else bool(cons.categories)


def _without(cons: Constraints, step: str) -> Constraints:
    if step == "brand":
        return replace(cons, brands=())
    if step == "price":
        return replace(cons, price_min=None, price_max=None)
    return replace(cons, categories=(), category_words="")


def _shown_since_search(conv: Conversation) -> set[str]:
    """The products the assistant showed since the shopper's last new need (its answer included)."""
    seen: set[str] = set(conv.shown)
    for turn in reversed(conv.turns[:-1]):  # the last turn is the message being answered
        if turn.role == "assistant" and turn.kind in ("search", "refine"):
            seen.update(turn.product_ids)
        if turn.role == "shopper" and turn.kind == "search":
            break
    return seen


def _blend(ids: list[str], base: dict[str, float], personal: dict[str, float], affinity: dict[str, float],
           config: AssistConfig) -> list[str]:
    """Search score + recommender score (both min-max scaled over the candidates) + brand affinity."""
    s = _minmax(np.array([base[i] for i in ids], dtype=float))
    finite = [personal.get(i, -np.inf) for i in ids]
    r = np.array(finite, dtype=float)
    r[~np.isfinite(r)] = np.nan
    r = np.nan_to_num(_minmax(r), nan=0.0)
    a = np.array([affinity.get(i, 0.0) for i in ids])
    order = np.argsort(-(s + config.personal_weight * r + config.brand_weight * a), kind="stable")
    return [ids[k] for k in order]


def _minmax(x: np.ndarray) -> np.ndarray:
    if x.size == 0 or np.all(np.isnan(x)):
        return x
    lo, hi = np.nanmin(x), np.nanmax(x)
    return np.zeros_like(x) if hi - lo < 1e-12 else (x - lo) / (hi - lo)


_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]")  # terminal escape sequences ("\x1b[31m")


def _short(title: str, limit: int = 40) -> str:
    """A title cut at a word (or, in Chinese, a character) within ``limit`` characters, for a card's reason."""
    if len(title) <= limit:
        return title
    cut = title[:limit]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;-") + "…"


# what joins two needs in one message: "a yoga mat and some socks", "耳机和充电器", "running shoes plus a backpack"
_JOINED = re.compile(r"(?<![a-z])(?:and|&|plus|also|as well as|along with|together with)(?![a-z])|和|跟|还有|以及|、|加上|"
                     r"外加|[,，;；+]")


# asked of the product in focus, after a question about it: "有43码吗", "does it come in a 43?"
_HAS_IT = re.compile(r"^\W*(?:那|那这个|这个|这款|它)?(?:有没有|有)\s*\S{1,6}?吗?\W*$|(?<![a-z])(?:does it|do they|is it|is there one)"
                     r" (?:come|available|in)(?![a-z])", re.I)


# what a person carries is part of the trouble, not the need: "lugs his laptop and a change of clothes", "带电脑和换洗衣服"
_CARRIED = re.compile(r"(?<![a-z])(?:carr(?:y|ies|ying)|lugs?|lugging|hauls?|hauling|brings?|bringing|packs?|packing)"
                      r"(?![a-z])[^.;!?。；！？]*|(?:带|背着?|装着?|揣)[^.;!?。；！？]*", re.I)


def _one_need_at_a_time(u: Understanding, message: str) -> None:
    """Two kinds joined in one message are two needs: the first named is searched, the rest offered next."""
    low = message.lower().replace("-", "")  # as the kinds were read ("t-shirts" → tshirts)
    named, at = [], 0
    for what, said in u.parsed.mentions():
        paths = what.removeprefix("category ").split(" | ") if what.startswith("category ") else []
        if any(p in u.parsed.categories for p in paths):
            i = low.find(said.lower().replace("-", ""), at)
            if i >= 0:
                at = i + len(said.replace("-", ""))
                named.append((i, at, paths[0], said))
    kinds = list(dict.fromkeys(path for _, _, path, _ in named))
    if len(kinds) < 2 or not all(_JOINED.search(low[a[1]:b[0]]) for a, b in zip(named, named[1:])
                                 if a[2] != b[2]):
        return
    first = named[0][2]
    u.parsed.categories = [first]
    u.later = tuple(dict.fromkeys(said for _, _, path, said in named if path != first))


@functools.lru_cache(maxsize=1024)
def _kind_synonyms(kind_words: str) -> tuple[str, ...]:
    """The other words of the built-in synonym groups that hold ``kind_words`` ("洗面奶" → cleanser, 洁面乳 …)."""
    from daogou.search.synonyms import built_in_groups
    said = " ".join(kind_words.lower().split())
    return tuple(w for own, _ in built_in_groups() if said in (x.lower() for x in own) for w in own
                 if w.lower() != said)


def _clean(message: str) -> str:
    if not isinstance(message, str) or not message.strip():
        raise ValidationError("message", "empty message")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ValidationError("message", f"too long ({len(message):,} characters; at most {MAX_MESSAGE_CHARS:,})")
    text = "".join(ch for ch in _ESCAPES.sub(" ", message) if ch.isprintable() or ch in "\n\t").strip()
    if not text:
        raise ValidationError("message", "nothing but control characters")
    return text
