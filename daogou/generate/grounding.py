"""The grounding checker: every price, number, brand and attribute value in generated text must be in the facts
of the product the text says it about.

What it checks, and its limits:

* **prices** (a number with ¥ £ $ € 元 块 RMB GBP … next to it) must equal the listed price of the product (or the
  shopper's budget in an explanation), in a compatible currency, or be written exactly so in its title or a short
  attribute ("1 Pound (450 Gram)" is a weight). Prices quoted in a description or review are not enough: a
  seller's free text cannot make "¥1" a price.
* **numbers** (1,299.50, 6.1, 3万, 三百九十九) must occur in that product's facts, in any language, or in the
  request (the question, the shopper's query, the number of products compared).
* **brands** of the catalog's brand list (and their Chinese names) must be the product's brand or appear in its
  facts. A brand the catalog does not know (an invented one) cannot be recognised.
* **attribute values** of the checked attributes (colour, material by default) known anywhere in the catalog must
  appear in the product's facts ("leather" for a mesh shoe is caught; an adjective no product uses is not).
* **attribution** in comparisons: a product is mentioned by its label ([A], Product A, 产品A) or its brand; text after
  a mention, up to the next mention on the same line, is about that product. Text before any mention on a line is
  checked against the union of the products compared. A claim about "both" that is only true of one passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from daogou.catalog.models import Product
from daogou.generate import glossary
from daogou.generate.claims import claim_violations
from daogou.generate.numbers import Number, number_values, numbers_in, same_currency

CHECKED_KEYS = ("color", "colour", "material")
BRAND_STOPWORDS = {"generic", "unbranded", "unknown", "other", "none", "n/a", "no brand", "brand"}
VALUE_STOPWORDS = {"yes", "no", "all", "down", "other", "mixed", "none", "standard", "natural"}
_CJK = re.compile(r"[\u3400-\u9fff]")
_LIST_MARKER = re.compile(r"^\s*(\d{1,2})[.)、]\s", re.M)
_EPS = 0.005


@dataclass(frozen=True)
class Violation:
    kind: str          # price | number | brand | attribute | third_person | story | meta | count | ungiven |
                       # contradiction | invented_name | invented_word | unrelated (generate/claims.py)
    value: str         # as written in the output
    product_id: str    # the product the text attributed it to ("" = any of those discussed)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "value": self.value, "product_id": self.product_id}


@dataclass(frozen=True)
class Truth:
    """What one product's facts (or a request's context) ground."""

    product_id: str
    price: float | None
    currency: str
    brand: str
    numbers: frozenset[float]
    text: str                      # every fact as lower-case text, all languages
    mentions: tuple[str, ...] = ()  # how text refers to it: label forms, brand names
    names: str = ""                # titles and short attribute values: where "1 Pound" may be a weight, not a price
    attributes: tuple[tuple[str, str], ...] = ()  # (key, value) of the product, for claims about yes/no keys


@dataclass
class Lexicon:
    """The catalog's brands and checked attribute values: what the checker recognises in text."""

    brands: dict[str, str] = field(default_factory=dict)   # surface → canonical brand
    values: dict[str, str] = field(default_factory=dict)   # lower-case surface → attribute key
    _patterns: tuple | None = None

    @classmethod
    def from_products(cls, products: Iterable[Product], checked_keys: Sequence[str] = CHECKED_KEYS) -> "Lexicon":
        lex = cls()
        for p in products:
            lex.add(p, checked_keys)
        return lex

    def add(self, p: Product, checked_keys: Sequence[str] = CHECKED_KEYS) -> None:
        self._patterns = None
        if p.brand and p.brand.lower() not in BRAND_STOPWORDS and len(p.brand) >= 2:
            for surface in (p.brand, *glossary.brand_aliases(p.brand)):
                if len(surface) >= 3 or _CJK.search(surface):
                    self.brands.setdefault(surface, p.brand)
        for key, value in p.attributes.items():
            if key.lower() not in checked_keys or not isinstance(value, str):
                continue
            low = value.strip().lower()
            if len(low) >= 3 and low not in VALUE_STOPWORDS and len(low) <= 30:
                self.values.setdefault(low, key)
                zh = glossary.value_zh(key, low)
                if zh.lower() != low:
                    self.values.setdefault(zh.lower(), key)

    def patterns(self) -> tuple[re.Pattern | None, re.Pattern | None, re.Pattern | None, re.Pattern | None]:
        if self._patterns is None:
            self._patterns = (*_split_patterns(self.brands, case=True), *_split_patterns(self.values, case=False))
        return self._patterns


def _split_patterns(surfaces: Iterable[str], case: bool) -> tuple[re.Pattern | None, re.Pattern | None]:
    latin = sorted((s for s in surfaces if not _CJK.search(s)), key=len, reverse=True)
    cjk = sorted((s for s in surfaces if _CJK.search(s)), key=len, reverse=True)
    flags = 0 if case else re.I
    lat = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, latin)) + r")(?![\w])", flags) if latin else None
    zh = re.compile("(" + "|".join(map(re.escape, cjk)) + ")") if cjk else None
    return lat, zh


def truth_of(p: Product, label: str = "") -> Truth:
    parts = [p.id, p.title, p.description, " > ".join(p.category), p.brand, *glossary.brand_aliases(p.brand)]
    for t in p.translations.values():
        parts.extend(str(v) for v in t.values())
    for key, value in p.attributes.items():
        parts += [key, glossary.key_zh(key), str(value)]
        if isinstance(value, str):
            parts.append(glossary.value_zh(key, value))
    text = "\n".join(parts)
    numbers = set(number_values(text)) | ({round(p.price, 4)} if p.price is not None else set())
    mentions = tuple(m for m in (*label_forms(label), p.brand, *glossary.brand_aliases(p.brand)) if m)
    names = [p.title, *(t.get("title", "") for t in p.translations.values()),
             *(str(v) for v in p.attributes.values() if isinstance(v, (str, int, float)) and len(str(v)) <= 40)]
    attrs = tuple((str(k), str(v)) for k, v in p.attributes.items() if isinstance(v, (str, int, float, bool)))
    return Truth(p.id, p.price, p.currency, p.brand, frozenset(numbers), text.lower(), mentions,
                 "\n".join(names).lower(), attrs)


def context_truth(texts: Sequence[str], budget: float | None = None, currency: str = "") -> Truth:
    """Facts a request brings: the shopper's words, products they looked at, their budget."""
    text = "\n".join(texts)
    numbers = set(number_values(text)) | ({round(budget, 4)} if budget is not None else set())
    return Truth("", budget, currency, "", frozenset(numbers), text.lower())


def label_forms(label: str) -> tuple[str, ...]:
    if not label:
        return ()
    return (f"[{label}]", f"({label})", f"Product {label}", f"product {label}", f"产品{label}", f"商品{label}",
            f"{label}:", f"{label}：")


class Checker:
    """Finds the claims in a text that its facts do not support."""

    def __init__(self, lexicon: Lexicon | None = None):
        self.lexicon = lexicon or Lexicon()

    def check(self, text: str, subjects: Sequence[Truth], context: Truth | None = None) -> list[Violation]:
        owners = _owners(text, subjects)
        allowed_counts = {float(len(subjects))} if len(subjects) > 1 else set()
        skip = {m.start(1) for m in _LIST_MARKER.finditer(text)}
        found: list[Violation] = []
        for n in numbers_in(text):
            if n.start in skip:
                continue
            who = owners(n.start)
            if not self._number_ok(n, who, context, allowed_counts):
                found.append(Violation("price" if n.currency else "number", n.text, _pid(who)))
        brands_lat, brands_zh, values_lat, values_zh = self.lexicon.patterns()
        for pattern in (brands_lat, brands_zh):
            for m in pattern.finditer(text) if pattern else ():
                who = owners(m.start())
                if not self._brand_ok(m.group(1), who, context):
                    found.append(Violation("brand", m.group(1), _pid(who)))
        for pattern in (values_lat, values_zh):
            for m in pattern.finditer(text) if pattern else ():
                who = owners(m.start())
                if not self._text_ok(m.group(1).lower(), who, context):
                    found.append(Violation("attribute", m.group(1), _pid(who)))
        found += claim_violations(text, subjects, context, self.lexicon.brands)
        return found

    def _number_ok(self, n: Number, who: Sequence[Truth], context: Truth | None, counts: set[float]) -> bool:
        if n.currency:
            owners = [*who, context] if context else list(who)
            return any(t.price is not None and abs(t.price - n.value) < _EPS and same_currency(n.currency, t.currency)
                       or n.text.lower() in t.names for t in owners)
        pool = [*who, context] if context else list(who)
        return n.value in counts or any(_has_number(t.numbers, n.value) for t in pool)

    def _brand_ok(self, surface: str, who: Sequence[Truth], context: Truth | None) -> bool:
        brand = self.lexicon.brands.get(surface, surface)
        if any(t.brand == brand for t in who):
            return True
        return self._text_ok(surface.lower(), who, context)

    @staticmethod
    def _text_ok(surface: str, who: Sequence[Truth], context: Truth | None) -> bool:
        return any(surface in t.text for t in who) or bool(context and surface in context.text)


def _has_number(numbers: frozenset[float], value: float) -> bool:
    return round(value, 4) in numbers or any(abs(x - value) < _EPS for x in numbers)


def _pid(who: Sequence[Truth]) -> str:
    return who[0].product_id if len(who) == 1 else ""


def _owners(text: str, subjects: Sequence[Truth]):
    """position → the products the text at that position is about."""
    everyone = tuple(subjects)
    if len(subjects) <= 1:
        return lambda _pos: everyone
    brand_counts: dict[str, int] = {}
    for s in subjects:
        brand_counts[s.brand] = brand_counts.get(s.brand, 0) + 1
    marks: list[tuple[int, int]] = []  # (position, subject index)
    for i, s in enumerate(subjects):
        for form in s.mentions:
            if form in (s.brand, *glossary.brand_aliases(s.brand)) and brand_counts.get(s.brand, 0) > 1:
                continue  # a brand shared by several compared products names none of them
            marks += [(m.start(), i) for m in re.finditer(re.escape(form), text)]
    marks.sort()
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def owner(pos: int) -> tuple[Truth, ...]:
        line_start = max(s for s in line_starts if s <= pos)
        current = [i for at, i in marks if line_start <= at <= pos]
        return (subjects[current[-1]],) if current else everyone
    return owner
