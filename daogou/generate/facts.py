"""Structured facts about a product, in one language: what prompts show and what the template backend writes from.

Long free text (descriptions, reviews, technical details) is bounded so prompts stay short; every text field is
seller data and is fenced as data in prompts (see :mod:`daogou.generate.prompts`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from daogou.catalog.models import Product
from daogou.generate import glossary

REVIEW_KEYS = ("customer_reviews", "reviews", "review")
RATING_KEYS = ("average_review_rating", "rating", "stars")
COUNT_KEYS = ("number_of_reviews", "review_count", "reviews_count")
SHORT_VALUE = 40
DESCRIPTION_CHARS = 500
DETAILS_CHARS = 400
REVIEW_CHARS = 240
N_REVIEWS = 3
CURRENCY_SIGNS = {"CNY": "¥", "GBP": "£", "USD": "$", "EUR": "€", "JPY": "¥", "INR": "₹", "KRW": "₩"}
_SPACES = re.compile(r"\s+")
_RATING = re.compile(r"\d+(?:\.\d+)?")
_SENTENCES = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*")
# Seller text that addresses the assistant instead of the shopper. Dropped before prompting and from template copy;
# prompts fence seller text as data and the grounding checker holds whatever gets past this.
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|above|previous)\b|system prompt"
    r"|\byou are now\b|\bas an ai\b|^\s*(assistant|system|user)\s*:|\bnew instructions?\b"
    r"|忽略.{0,12}(指令|指示|说明|要求|规则|提示)|系统提示|新的指令", re.I)


@dataclass(frozen=True)
class Attribute:
    key: str
    value: str
    label: str      # key as shown in the language of the facts
    shown: str      # value as shown in the language of the facts


@dataclass(frozen=True)
class Facts:
    """One product's facts in ``lang`` (falling back to its primary language where there is no translation)."""

    product_id: str
    lang: str
    title: str
    brand: str
    brand_shown: str
    category: str
    price: float | None
    currency: str
    in_stock: bool
    attributes: tuple[Attribute, ...] = ()
    description: str = ""
    details: str = ""
    reviews: tuple[str, ...] = ()
    rating: str = ""
    n_reviews: str = ""
    label: str = ""                 # "A", "B", … in comparisons
    text_lang: str = ""             # language of title and description (``lang`` when translated)

    def price_text(self) -> str:
        return format_price(self.price, self.currency, self.lang)

    def attribute(self, *keys: str) -> Attribute | None:
        for a in self.attributes:
            if a.key.lower() in keys:
                return a
        return None


@dataclass(frozen=True)
class Reasons:
    """Why a product is recommended to a shopper: what they looked at, asked for, and their budget."""

    viewed: tuple[Product, ...] = ()
    query: str = ""
    budget: float | None = None      # in the recommended product's currency
    liked_brand: str = ""
    bought_with: tuple[Product, ...] = ()  # products the recommended one is often bought with
    extra: dict[str, Any] = field(default_factory=dict)


def format_price(price: float | None, currency: str, lang: str) -> str:
    if price is None:
        return ""
    amount = f"{price:,.2f}".rstrip("0").rstrip(".") if price != int(price) else f"{int(price):,}"
    if lang == "zh" and currency in ("CNY", ""):
        return f"{amount.replace(',', '')}元"
    sign = CURRENCY_SIGNS.get(currency)
    return f"{sign}{amount}" if sign else f"{amount} {currency}".strip()


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCES.split(text or "") if s.strip()]


def drop_instructions(text: str) -> str:
    """``text`` without the sentences that give orders to an assistant ("ignore previous instructions…")."""
    if not text or not _INSTRUCTION.search(text):
        return text
    return join_sentences([s for s in sentences(text) if not _INSTRUCTION.search(s)])


def join_sentences(parts: list[str]) -> str:
    out = ""
    for part in parts:
        out += (" " if out and not out.endswith(("。", "！", "？")) else "") + part
    return out


def clean(text: str, limit: int) -> str:
    """Instructions dropped, whitespace collapsed, cut at a sentence or word end within ``limit`` characters."""
    text = drop_instructions(_SPACES.sub(" ", text or "").strip())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for mark in ("。", ". ", "！", "! ", "？", "? "):
        at = cut.rfind(mark)
        if at > limit // 2:
            return cut[:at + 1].strip()
    at = cut.rfind(" ")
    return (cut[:at] if at > limit // 2 else cut).strip() + "…"


def facts_of(p: Product, lang: str = "en", label: str = "") -> Facts:
    title, description = p.text(lang)
    shown_lang = lang if (lang == (p.language or "en") or lang in p.translations) else (p.language or "en")
    category = p.translations.get(lang, {}).get("category") if lang != p.language else None
    attributes, details, reviews, rating, count = _split_attributes(p.attributes, lang)
    zh_brand = glossary.brand_aliases(p.brand)
    return Facts(
        product_id=p.id, lang=lang, text_lang=shown_lang, title=clean(title, 200), brand=p.brand,
        brand_shown=zh_brand[0] if lang == "zh" and zh_brand else p.brand,
        category=category or " > ".join(p.category), price=p.price, currency=p.currency, in_stock=p.in_stock,
        attributes=attributes, description=clean(description, DESCRIPTION_CHARS), details=clean(details, DETAILS_CHARS),
        reviews=reviews, rating=rating, n_reviews=count, label=label)


def _split_attributes(attrs: dict[str, Any], lang: str):
    short: list[Attribute] = []
    long_parts: list[str] = []
    reviews: tuple[str, ...] = ()
    rating = count = ""
    for key, value in sorted(attrs.items(), key=lambda kv: glossary.order(kv[0])):
        low = key.lower()
        if low in REVIEW_KEYS:
            reviews = _reviews(value)
        elif low in RATING_KEYS:
            m = _RATING.search(str(value))
            rating = m.group(0) if m else ""
        elif low in COUNT_KEYS:
            count = str(value).strip()
        elif isinstance(value, bool):
            short.append(_attribute(key, "yes" if value else "no", lang))
        elif isinstance(value, (str, int, float)) and len(str(value)) <= SHORT_VALUE:
            if str(value).strip():
                short.append(_attribute(key, str(value).strip(), lang))
        elif isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
            joined = ", ".join(str(v) for v in value)
            if len(joined) <= SHORT_VALUE:
                short.append(_attribute(key, joined, lang))
            else:
                long_parts.append(f"{key}: {joined}")
        elif isinstance(value, str):
            long_parts.append(value)
    return tuple(short), " ".join(long_parts), reviews, rating, count


def _attribute(key: str, value: str, lang: str) -> Attribute:
    if lang == "zh":
        return Attribute(key, value, glossary.key_zh(key), glossary.value_zh(key, value))
    return Attribute(key, value, glossary.key_en(key), value)


def _reviews(value: Any) -> tuple[str, ...]:
    text = " | ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
    parts = [clean(_review_text(part), REVIEW_CHARS) for part in text.split(" | ")]
    return tuple(part for part in parts if part)[:N_REVIEWS]


def _review_text(review: str) -> str:
    """``title // 5.0 // date // By name on date // text`` (a common scraped layout) → ``title: text``."""
    pieces = [p.strip() for p in review.split(" // ")]
    if len(pieces) >= 3:
        title, body = pieces[0].rstrip(".!"), pieces[-1]
        return f"{title}: {body}" if title and not body.startswith(title) else body
    return review
