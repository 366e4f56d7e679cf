"""``recbole``: RecBole atomic files with typed headers (``field:token``, ``token_seq``, ``float``, ``float_seq``).

PATH is a folder (every ``.item``, ``.user`` and ``.inter`` in it, in that order) or one atomic file.
``.item`` rows become products (``title``/``movie_title``/``item_name`` → title, ``brand``, ``price``,
``categories`` → category path, everything else → attributes), ``.user`` rows shoppers with attributes, and
``.inter`` rows events of type ``--type`` (default ``view``) with rating/label kept in ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from daogou.catalog.importers.base import RAW_LIMIT, ImportOptions, Parsed, Record, Reject, open_text
from daogou.catalog.models import (EVENT_TYPES, Event, Product, Shopper, check_text, clean_id, parse_category, parse_price,
                                   parse_timestamp, validate_event, validate_product)
from daogou.errors import ImportFailed, ValidationError

ORDER = (".item", ".user", ".inter")
TITLE_FIELDS = ("title", "movie_title", "item_name", "name", "product_name")
SYNTHETIC_START_MS = 946_684_800_000  # 2000-01-01: for .inter files without timestamps, order is kept


def parse_header(text: str, path: Path) -> list[tuple[str, str]]:
    fields = []
    for cell in text.rstrip("\r\n").split("\t"):
        name, sep, kind = cell.strip().partition(":")
        if not sep or kind not in ("token", "token_seq", "float", "float_seq"):
            raise ImportFailed(f"{path}:1: header field {cell!r} is not name:token|token_seq|float|float_seq")
        fields.append((name, kind))
    return fields


def typed(value: str, kind: str, name: str) -> Any:
    value = check_text(value, name)
    if kind == "token":
        return value.strip()
    if kind == "token_seq":
        return value.split()
    try:
        if kind == "float":
            return float(value) if value.strip() else None
        return [float(v) for v in value.split()]
    except ValueError:
        raise ValidationError(name, f"not a number: {value[:30]!r}") from None


def item_of(values: dict[str, Any], options: ImportOptions) -> Product:
    title_key = next((k for k in TITLE_FIELDS if k in values), None)
    title = values.get(title_key) if title_key else ""
    price, currency = parse_price(values.get("price"), options.currency)
    categories = values.get("categories")
    if isinstance(categories, list):  # token_seq was split on spaces: rejoin, then read the path
        categories = " ".join(categories)
    rest = {k: v for k, v in values.items()
            if k not in ("item_id", title_key, "price", "brand", "categories") and v not in (None, "", [])}
    return validate_product(Product(
        id=clean_id(values.get("item_id"), "item_id"),
        title=" ".join(title) if isinstance(title, list) else (title or ""),
        brand=" ".join(values["brand"]) if isinstance(values.get("brand"), list) else values.get("brand") or "",
        price=price, currency=currency, category=parse_category(categories),
        attributes=rest, language=options.language))


class _InterState:
    def __init__(self) -> None:
        self.position: dict[str, int] = {}

    def event(self, values: dict[str, Any], options: ImportOptions) -> Event:
        user = clean_id(values.get("user_id"), "user_id")
        if values.get("timestamp") is not None:
            ts = parse_timestamp(values["timestamp"])
        else:  # no time in the file: keep each user's order
            k = self.position[user] = self.position.get(user, -1) + 1
            ts = SYNTHETIC_START_MS + k * 1000
        kind = options.event_type or "view"
        if values.get("type") in EVENT_TYPES:  # files written by ``daogou export recbole`` name the type
            kind = values["type"]
        extra = {k: v for k, v in values.items()
                 if k not in ("user_id", "item_id", "timestamp", "type") and v is not None}
        return validate_event(Event(user, f"{user}@{ts // 86_400_000}", ts, kind, values.get("item_id"), "",
                                    extra or None))


class RecboleImporter:
    name = "recbole"

    def files(self, path: Path, options: ImportOptions) -> list[Path]:
        if path.is_dir():
            found = sorted((p for p in path.iterdir() if p.suffix in ORDER), key=lambda p: (ORDER.index(p.suffix), p))
            if not found:
                raise ImportFailed(f"{path}: no .item, .user or .inter atomic files in this folder")
            return found
        if path.suffix not in ORDER:
            raise ImportFailed(f"{path}: not a RecBole atomic file (.item, .user or .inter)")
        return [path]

    def parse(self, path: Path, options: ImportOptions) -> Iterator[Parsed]:
        state = _InterState()
        with open_text(path) as fh:
            header = parse_header(fh.readline(), path)
            for n, text in enumerate(fh, start=2):
                text = text.rstrip("\r\n")
                if not text.strip():
                    continue
                cells = text.split("\t")
                if len(cells) != len(header):
                    yield Reject(n, "row", f"expected {len(header)} columns, found {len(cells)}", text[:RAW_LIMIT])
                    continue
                try:
                    values = {name: typed(cell, kind, name) for (name, kind), cell in zip(header, cells)}
                    yield self._record(path.suffix, n, values, options, state, text)
                except ValidationError as err:
                    yield Reject.of(n, err, text)

    @staticmethod
    def _record(kind: str, n: int, values: dict[str, Any], options: ImportOptions, state: _InterState,
                raw: str) -> Record:
        if kind == ".item":
            return Record(n, products=[item_of(values, options)])
        if kind == ".user":
            attrs = {k: v for k, v in values.items() if k != "user_id" and v not in (None, "", [])}
            return Record(n, shoppers=[Shopper(clean_id(values.get("user_id"), "user_id"), attrs)])
        return Record(n, events=[state.event(values, options)])
