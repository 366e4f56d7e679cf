"""``seed-csv``: the reference format ``user_id,query,browsed_products,purchased_products``.

Example line: ``1,"iphone 14 pro max case",["case1","case2","case3"],["case1"]``. The lists may be bare JSON
(commas and quotes unescaped, as above), CSV-quoted JSON (``"[""a"",""b""]"``) or loose (``[a, b]``).
Each line is one session: a search event, then a view per browsed product, then a purchase per purchased one.
The format has no times: line N is stamped ``start + N minutes`` (its events 10 ms apart), so order is kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from daogou.catalog.importers.base import RAW_LIMIT, ImportOptions, Parsed, Record, Reject, SingleFileImporter, open_text
from daogou.catalog.models import Event, check_text, clean_id, parse_timestamp, validate_event
from daogou.errors import ValidationError

DEFAULT_START = "2024-01-01T00:00:00Z"


def split_seed_line(text: str) -> list[str | list[str]]:
    """Split one line into fields; a field starting with ``[`` is read as a list up to its closing bracket."""
    fields: list[str | list[str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            value, i = _quoted(text, i)
            fields.append(_maybe_list(value))
        elif i < n and text[i] == "[":
            value_list, i = _bare_list(text, i)
            fields.append(value_list)
        else:
            j = text.find(",", i)
            j = n if j < 0 else j
            fields.append(text[i:j].strip())
            i = j
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return fields
        if text[i] != ",":
            raise ValidationError("row", f"unexpected {text[i]!r} at column {i + 1}")
        i += 1


def _quoted(text: str, i: int) -> tuple[str, int]:
    out, i = [], i + 1
    while i < len(text):
        if text[i] == '"':
            if i + 1 < len(text) and text[i + 1] == '"':
                out.append('"')
                i += 2
                continue
            return "".join(out), i + 1
        out.append(text[i])
        i += 1
    raise ValidationError("row", "unterminated quoted field")


def _bare_list(text: str, i: int) -> tuple[list[str], int]:
    try:
        value, end = json.JSONDecoder().raw_decode(text, i)
        if isinstance(value, list):
            return [str(v) for v in value], end
    except json.JSONDecodeError:
        pass
    end = text.find("]", i)
    if end < 0:
        raise ValidationError("row", "list without closing ']'")
    return _loose_items(text[i + 1:end]), end + 1


def _loose_items(inner: str) -> list[str]:
    return [item.strip().strip("'\"").strip() for item in inner.split(",") if item.strip().strip("'\"").strip()]


def _maybe_list(value: str) -> str | list[str]:
    stripped = value.strip()
    if not stripped.startswith("["):
        return value
    try:
        parsed = json.loads(stripped)
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    except json.JSONDecodeError:
        pass
    if not stripped.endswith("]"):
        raise ValidationError("row", "list without closing ']'")
    return _loose_items(stripped[1:-1])


def _as_list(value: str | list[str], name: str) -> list[str]:
    if isinstance(value, list):
        return [clean_id(v, name) for v in value]
    if not value.strip():
        return []
    raise ValidationError(name, f"expected a list like [\"a\",\"b\"], found {value[:40]!r}")


def seed_events(line: int, fields: list, start_ms: int) -> list[Event]:
    if len(fields) != 4:
        raise ValidationError("row", f"expected 4 fields (user_id,query,browsed_products,purchased_products), "
                                     f"found {len(fields)}")
    user_raw, query, browsed, purchased = fields
    if isinstance(user_raw, list) or isinstance(query, list):
        raise ValidationError("row", "user_id and query must be text")
    user = clean_id(user_raw, "user_id")
    query = check_text(query.strip(), "query")
    browsed_ids, purchased_ids = _as_list(browsed, "browsed_products"), _as_list(purchased, "purchased_products")
    session, t0 = f"{user}#L{line}", start_ms + line * 60_000
    events = [Event(user, session, t0, "search", None, query)] if query else []
    events += [Event(user, session, t0, "view", pid, query) for pid in browsed_ids]
    events += [Event(user, session, t0, "purchase", pid, query) for pid in purchased_ids]
    if not events:
        raise ValidationError("row", "no query and no products")
    for k, ev in enumerate(events):
        ev.ts_ms = t0 + k * 10
        validate_event(ev)
    return events


class SeedCsvImporter(SingleFileImporter):
    name = "seed-csv"

    def parse(self, path: Path, options: ImportOptions) -> Iterator[Parsed]:
        start_ms = parse_timestamp(options.extra.get("start_time") or DEFAULT_START, "start_time")
        with open_text(path) as fh:
            for n, text in enumerate(fh, start=1):
                text = text.rstrip("\r\n")
                if not text.strip():
                    continue
                if n == 1 and text.replace(" ", "").lower().startswith("user_id,query"):
                    continue  # header
                try:
                    yield Record(n, events=seed_events(n, split_seed_line(text), start_ms))
                except ValidationError as err:
                    yield Reject(n, err.field, err.reason, text[:RAW_LIMIT])
