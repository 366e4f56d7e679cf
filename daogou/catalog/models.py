"""Product, Shopper and Event, with the validation every importer shares.

Validators raise :class:`daogou.errors.ValidationError` naming the field and the reason; importers turn that
into a reject with file:line, so one bad value never stops an import.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import xxhash

from daogou.errors import ValidationError

EVENT_TYPES = ("search", "view", "click", "cart", "fav", "purchase")
MAX_ID_LEN = 256
TS_MIN_MS = 0  # 1970-01-01
TS_MAX_MS = 4_102_444_800_000  # 2100-01-01
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "£": "GBP", "€": "EUR", "¥": "CNY", "￥": "CNY", "元": "CNY",
                     "RMB": "CNY", "₹": "INR", "₩": "KRW", "C$": "CAD", "A$": "AUD", "HK$": "HKD"}
_PRICE_RE = re.compile(r"^\s*(?P<pre>[^\d\s.,+-]{0,4})\s*(?P<num>[+-]?[\d.,]+)\s*(?P<post>[^\d\s.,]{0,4})\s*$")
_blake2b = hashlib.blake2b
_xxh64 = xxhash.xxh3_64_intdigest
_2_63, _2_64 = 1 << 63, 1 << 64
_SIMPLE_ID = re.compile(r"[A-Za-z0-9_.:@#/+=-]{1,256}").fullmatch
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_CATEGORY_SPLIT = re.compile(r"\s*(?:>|›|»)\s*")


@dataclass(slots=True)
class Product:
    """One product of the store. ``category`` is a path from the root, e.g. ``("Shoes", "Running")``."""

    id: str
    title: str = ""
    description: str = ""
    category: tuple[str, ...] = ()
    brand: str = ""
    price: float | None = None
    currency: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    image: str = ""
    language: str = ""
    in_stock: bool = True
    translations: dict[str, dict[str, str]] = field(default_factory=dict)

    def content_hash(self, attributes_json: str | None = None, translations_json: str | None = None) -> str:
        """Stable hash of everything shown about the product; changes exactly when its content changes.

        Callers that already encoded ``attributes``/``translations`` canonically may pass the JSON to save work.
        """
        if attributes_json is None:
            attributes_json = _CANONICAL.encode(self.attributes) if self.attributes else "{}"
        if translations_json is None:
            translations_json = _CANONICAL.encode(self.translations) if self.translations else "{}"
        payload = "\x1f".join((
            self.title, self.description, "\x1e".join(self.category), self.brand, repr(self.price), self.currency,
            attributes_json, self.image, self.language, "1" if self.in_stock else "0", translations_json))
        return _blake2b(payload.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()

    def text(self, lang: str | None = None) -> tuple[str, str]:
        """(title, description) in ``lang`` when a translation exists, else the primary language."""
        if lang and lang != self.language and lang in self.translations:
            t = self.translations[lang]
            return t.get("title", ""), t.get("description", "")
        return self.title, self.description


@dataclass(slots=True)
class Shopper:
    id: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Event:
    """One thing a shopper did. ``ts_ms`` is UTC milliseconds since the epoch."""

    shopper_id: str
    session_id: str
    ts_ms: int
    type: str
    product_id: str | None = None
    query: str = ""
    extra: dict[str, Any] | None = None

    def uid(self, ordinal: int = 0) -> int:
        """Content identity as a signed 64-bit int: re-importing the same event finds the same uid.

        ``ordinal`` tells apart truly identical events (same shopper, time, type, product) within one batch.
        """
        return event_uid(self.shopper_id, self.session_id, self.ts_ms, self.type, self.product_id, self.query, ordinal)


def event_uid(shopper_id: str, session_id: str, ts_ms: int, type_: str, product_id: str | None, query: str,
              ordinal: int = 0) -> int:
    """XXH3-64 of the event's content, as a signed 64-bit integer (the store's key type)."""
    key = "\x1f".join((shopper_id, session_id, str(ts_ms), type_, product_id or "", query, str(ordinal)))
    value = _xxh64(key.encode("utf-8", "surrogatepass"))
    return value - _2_64 if value >= _2_63 else value


# ---------------------------------------------------------------- validators

def clean_id(value: Any, name: str) -> str:
    """A non-empty printable id of at most 256 characters, whitespace stripped."""
    if type(value) is str and _SIMPLE_ID(value):
        return value  # fast path: already clean
    if value is None:
        raise ValidationError(name, "missing")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValidationError(name, f"not an id: {value!r}")
        value = int(value)
    text = str(value).strip()
    if not text:
        raise ValidationError(name, "empty id")
    if len(text) > MAX_ID_LEN:
        raise ValidationError(name, f"id longer than {MAX_ID_LEN} characters")
    check_text(text, name)
    if not text.isprintable():
        raise ValidationError(name, "id contains control or non-printable characters")
    return text


def check_text(text: str, name: str) -> str:
    """Reject text that came from bytes that were not valid UTF-8 (decoded with surrogateescape)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(name, "bad encoding (not valid UTF-8)") from None
    return text


def parse_price(value: Any, default_currency: str = "") -> tuple[float | None, str]:
    """``"£4.99"`` → (4.99, "GBP"); ``""`` → (None, default). Negative, NaN or unparsable prices are errors."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, default_currency
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        amount, currency = float(value), default_currency
    else:
        m = _PRICE_RE.match(str(value))
        if not m:
            raise ValidationError("price", f"not a price: {str(value)[:40]!r}")
        symbol = (m["pre"] or m["post"]).strip()
        currency = _currency_of(symbol) if symbol else default_currency
        amount = _parse_number(m["num"])
    if math.isnan(amount) or math.isinf(amount) or amount < 0:
        raise ValidationError("price", f"not a valid price: {value!r}")
    return round(amount, 4), currency


def _currency_of(symbol: str) -> str:
    if symbol.upper() in _CURRENCY_SYMBOLS or symbol in _CURRENCY_SYMBOLS:
        return _CURRENCY_SYMBOLS.get(symbol, _CURRENCY_SYMBOLS.get(symbol.upper(), ""))
    if _CURRENCY_RE.match(symbol.upper()):
        return symbol.upper()
    raise ValidationError("price", f"unknown currency {symbol!r}")


def _parse_number(text: str) -> float:
    """Accepts 1,299.50 and 1.299,50 and 1299."""
    t = text
    if "," in t and "." in t:
        t = t.replace(",", "") if t.rfind(".") > t.rfind(",") else t.replace(".", "").replace(",", ".")
    elif "," in t:
        head, _, tail = t.rpartition(",")
        t = t.replace(",", "") if len(tail) == 3 and head else t.replace(",", ".")
    try:
        return float(t)
    except ValueError:
        raise ValidationError("price", f"not a number: {text!r}") from None


def clean_currency(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    return _currency_of(text)


def parse_timestamp(value: Any, name: str = "timestamp") -> int:
    """UTC milliseconds from epoch seconds, epoch milliseconds, or ISO 8601 (naive means UTC)."""
    if type(value) is str and value.isdigit():  # fast path: epoch seconds or milliseconds
        num = int(value)
        ms = num if num >= 100_000_000_000 else num * 1000
        if TS_MIN_MS <= ms < TS_MAX_MS:
            return ms
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(name, "missing timestamp")
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        ms = int(dt.timestamp() * 1000)
    else:
        text = str(value).strip()
        try:
            num = float(text)
        except ValueError:
            num = None
        if num is not None:
            if math.isnan(num) or math.isinf(num):
                raise ValidationError(name, f"not a timestamp: {text!r}")
            ms = int(round(num if abs(num) >= 1e11 else num * 1000))
        else:
            try:
                dt = datetime.fromisoformat(text.replace(" UTC", "+00:00"))
            except ValueError:
                raise ValidationError(name, f"not a timestamp: {text[:40]!r}") from None
            dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
            ms = int(dt.timestamp() * 1000)
    if not TS_MIN_MS <= ms < TS_MAX_MS:
        raise ValidationError(name, f"timestamp out of range 1970..2100: {value!r}")
    return ms


def parse_category(value: Any) -> tuple[str, ...]:
    """``"Shoes > Running"``, a JSON list, or a list → ("Shoes", "Running")."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        parts = [str(p).strip() for p in value]
    else:
        text = str(value).strip()
        if text.startswith("["):
            try:
                return parse_category(json.loads(text))
            except json.JSONDecodeError:
                pass
        parts = _CATEGORY_SPLIT.split(text)
    return tuple(check_text(p, "category") for p in parts if p)


_TRUE = {"1", "true", "yes", "y", "t", "in stock", "in_stock", "available", "有货", "是"}
_FALSE = {"0", "false", "no", "n", "f", "out of stock", "sold out", "unavailable", "缺货", "无货", "否"}


def parse_bool(value: Any, name: str, default: bool = True) -> bool:
    """Booleans, yes/no words, or stock counts (``"3 new"`` → True, ``0`` → False)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value > 0
    text = str(value).strip().lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    m = re.match(r"^(\d+)\b", text)
    if m:
        return int(m.group(1)) > 0
    raise ValidationError(name, f"not a yes/no value: {text[:40]!r}")


def clean_language(value: Any) -> str:
    text = str(value or "").strip()
    if text and not _LANG_RE.match(text):
        raise ValidationError("language", f"not a language code: {text[:20]!r}")
    return text


def validate_event(ev: Event) -> Event:
    """Check an event's ids, type and the fields its type needs; returns it for chaining."""
    ev.shopper_id = clean_id(ev.shopper_id, "shopper_id")
    ev.session_id = clean_id(ev.session_id, "session_id")
    if ev.type not in EVENT_TYPES:
        raise ValidationError("type", f"unknown event type {ev.type!r}; expected one of {', '.join(EVENT_TYPES)}")
    if not TS_MIN_MS <= ev.ts_ms < TS_MAX_MS:
        raise ValidationError("timestamp", f"timestamp out of range 1970..2100: {ev.ts_ms}")
    if ev.product_id is not None and str(ev.product_id).strip() != "":
        ev.product_id = clean_id(ev.product_id, "product_id")
    else:
        ev.product_id = None
    check_text(ev.query, "query")
    if ev.type == "search" and not ev.query.strip():
        raise ValidationError("query", "a search event needs a query")
    if ev.type != "search" and ev.product_id is None:
        raise ValidationError("product_id", f"a {ev.type} event needs a product id")
    return ev


def validate_product(p: Product) -> Product:
    p.id = clean_id(p.id, "id")
    for name in ("title", "description", "brand", "image"):
        check_text(getattr(p, name), name)
    p.language = clean_language(p.language)
    if p.currency:
        p.currency = clean_currency(p.currency)
    if p.price is not None and (math.isnan(p.price) or p.price < 0):
        raise ValidationError("price", f"not a valid price: {p.price!r}")
    try:
        json.dumps(p.attributes, ensure_ascii=False).encode("utf-8")
    except (TypeError, UnicodeEncodeError) as exc:
        raise ValidationError("attributes", f"not JSON-serialisable UTF-8: {exc}") from None
    return p
