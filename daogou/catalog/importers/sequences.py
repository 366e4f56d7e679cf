"""Sequence and log formats of public recommendation datasets: ``amazon-seq``, ``taobao``, ``diginetica``.

- ``amazon-seq``: ``user item1 item2 …`` per line (S3-Rec) or ``user item`` per line (SASRec/BERT4Rec),
  detected from the file (``--layout seq|pairs`` to force), plus S3-Rec ``item2attributes.json`` (found beside
  the file as ``<name>_item2attributes.json``, or ``--attributes PATH``). These files hold order but no time:
  a user's k-th item is stamped 2000-01-01 + k seconds. Type ``--type`` (default ``purchase``).
- ``taobao``: UserBehavior CSV ``user,item,category,pv|cart|fav|buy,unix_ts`` (no header); sessions are a
  user's UTC day.
- ``diginetica``: ``session_id;user_id;item_id;timeframe;eventdate``; anonymous sessions (``NA``) get the
  shopper ``anon:<session>``; time = event date + timeframe milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

from daogou.catalog.importers.base import (RAW_LIMIT, ImportOptions, Parsed, Record, Reject, SingleFileImporter, open_text,
                                           read_csv)
from daogou.catalog.importers.events import event_type
from daogou.catalog.models import Event, Product, clean_id, parse_timestamp, validate_event
from daogou.errors import ImportFailed, ValidationError

SYNTHETIC_START_MS = 946_684_800_000  # 2000-01-01T00:00:00Z


def _detect_layout(path: Path) -> str:
    users: set[str] = set()
    with open_text(path) as fh:
        for k, text in enumerate(fh):
            parts = text.split()
            if len(parts) > 2:
                return "seq"
            if len(parts) == 2:
                if parts[0] in users:
                    return "pairs"
                users.add(parts[0])
            if k > 5000:
                break
    return "seq"


def _attributes_file(path: Path, options: ImportOptions) -> dict[str, list]:
    explicit = options.extra.get("attributes")
    candidate = Path(explicit) if explicit else path.with_name(f"{path.stem}_item2attributes.json")
    if not candidate.exists():
        if explicit:
            raise ImportFailed(f"{candidate}: attributes file not found")
        return {}
    try:
        with open(candidate, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"{candidate}: not a JSON object of item → attribute ids: {exc}") from exc
    if not isinstance(data, dict):
        raise ImportFailed(f"{candidate}: expected a JSON object of item → attribute ids")
    return data


class AmazonSeqImporter(SingleFileImporter):
    name = "amazon-seq"

    def parse(self, path: Path, options: ImportOptions) -> Iterator[Parsed]:
        layout = options.extra.get("layout") or _detect_layout(path)
        if layout not in ("seq", "pairs"):
            raise ImportFailed(f"unknown layout {layout!r}; expected seq or pairs")
        attrs = _attributes_file(path, options)
        kind = options.event_type or "purchase"
        position: dict[str, int] = {}
        described: set[str] = set()
        with open_text(path) as fh:
            for n, text in enumerate(fh, start=1):
                parts = text.split()
                if not parts:
                    continue
                try:
                    if len(parts) < 2 or (layout == "pairs" and len(parts) != 2):
                        raise ValidationError("row", f"expected 'user item{' item…' if layout == 'seq' else ''}', "
                                                     f"found {len(parts)} field(s)")
                    user = clean_id(parts[0], "user")
                    items = [clean_id(p, "item") for p in parts[1:]]
                    start = position.get(user, -1) + 1
                    position[user] = start + len(items) - 1
                    events = [validate_event(Event(user, user, SYNTHETIC_START_MS + (start + k) * 1000, kind, item))
                              for k, item in enumerate(items)]
                except ValidationError as err:
                    yield Reject(n, err.field, err.reason, text[:RAW_LIMIT])
                    continue
                stubs = [Product(i, attributes={"attribute_ids": attrs[i]}) for i in set(items) - described
                         if i in attrs]
                described.update(items)
                yield Record(n, events=events, stubs=stubs)


class TaobaoImporter(SingleFileImporter):
    name = "taobao"
    header = ["user_id", "item_id", "category_id", "behavior", "timestamp"]

    def parse(self, path: Path, options: ImportOptions) -> Iterator[Parsed]:
        described: set[str] = set()
        for row in read_csv(path, ",", header=self.header):
            if isinstance(row, Reject):
                yield row
                continue
            user, item, category, behavior, ts_text = row.cells
            try:
                ts = parse_timestamp(ts_text)
                user = clean_id(user, "user_id")
                category = clean_id(category, "category_id")
                ev = validate_event(Event(user, f"{user}@{ts // 86_400_000}", ts, event_type(behavior), item))
            except ValidationError as err:
                yield Reject.of(row.line, err, row.raw)
                continue
            if ev.product_id in described:
                yield Record(row.line, events=(ev,))
                continue
            described.add(ev.product_id)
            stub = Product(ev.product_id, category=(category,), attributes={"category_id": category})
            yield Record(row.line, events=(ev,), stubs=(stub,))


class DigineticaImporter(SingleFileImporter):
    name = "diginetica"

    def parse(self, path: Path, options: ImportOptions) -> Iterator[Parsed]:
        expected = ["session_id", "user_id", "item_id", "timeframe", "eventdate"]
        for row in read_csv(path, ";"):
            if isinstance(row, Reject):
                yield row
                continue
            if row.line == 2 and list(row.names) != expected:
                raise ImportFailed(f"{path}:1: header must be {';'.join(expected)}")
            try:
                yield Record(row.line, events=(self._event(row.values, options),))
            except ValidationError as err:
                yield Reject.of(row.line, err, row.raw)

    @staticmethod
    def _event(v: dict[str, str], options: ImportOptions) -> Event:
        session = clean_id(v["session_id"], "session_id")
        user = v["user_id"].strip()
        shopper = f"anon:{session}" if user in ("", "NA") else clean_id(user, "user_id")
        try:
            day = date.fromisoformat(v["eventdate"].strip())
            offset = int(v["timeframe"])
        except ValueError:
            raise ValidationError("eventdate", f"not a date and millisecond offset: "
                                               f"{v['eventdate'][:20]!r}, {v['timeframe'][:20]!r}") from None
        midnight = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000)
        ts = parse_timestamp(midnight + offset)
        return validate_event(Event(shopper, session, ts, options.event_type or "view", v["item_id"]))
