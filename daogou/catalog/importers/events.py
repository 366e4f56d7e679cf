"""``events``: behaviour logs as CSV / TSV / JSON lines / Parquet.

Default columns: ``shopper_id, session_id, timestamp, type, product_id, query`` (aliases such as
``user_id``, ``item_id``, ``ts``, ``event_type`` work too). Types accept common synonyms (pv → view,
buy → purchase, add_to_cart → cart). Without a session column, a shopper's events of one UTC day form a
session. Unmapped columns are kept in the event's ``extra``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from daogou.catalog.importers.base import ColumnPlan, ImportOptions, Record, Row, TableImporter
from daogou.catalog.models import EVENT_TYPES, Event, check_text, parse_timestamp, validate_event
from daogou.errors import ValidationError

FIELDS: dict[str, tuple[str, ...]] = {
    "shopper_id": ("user_id", "user", "customer_id", "visitor_id", "visitorid"),
    "session_id": ("session", "sessionid"),
    "timestamp": ("ts", "time", "event_time", "datetime", "date"),
    "type": ("event_type", "event", "behavior", "behavior_type", "action"),
    "product_id": ("item_id", "item", "itemid", "product", "sku"),
    "query": ("search_query", "keywords"),
}

TYPE_SYNONYMS = {
    "pv": "view", "page_view": "view", "pageview": "view", "impression": "view", "detail": "view",
    "buy": "purchase", "order": "purchase", "transaction": "purchase", "checkout": "purchase",
    "add_to_cart": "cart", "addtocart": "cart", "add-to-cart": "cart", "basket": "cart",
    "favorite": "fav", "favourite": "fav", "like": "fav", "wishlist": "fav", "collect": "fav",
    "query": "search",
}


_TYPES = frozenset(EVENT_TYPES)


def event_type(value: Any, default: str | None = None) -> str:
    if value in _TYPES:
        return value
    text = str(value or "").strip().lower()
    if not text:
        if default:
            return default
        raise ValidationError("type", "missing event type")
    text = TYPE_SYNONYMS.get(text, text)
    if text not in EVENT_TYPES:
        raise ValidationError("type", f"unknown event type {str(value)[:30]!r}; expected one of "
                                      f"{', '.join(EVENT_TYPES)} or a common synonym")
    return text


def event_of_row(cells: Sequence[Any], plan: ColumnPlan, options: ImportOptions) -> Event:
    """Build a validated event from one row's cells; raises ValidationError naming the bad field."""
    ix = plan.first
    i_ts, i_shopper, i_session, i_type, i_product, i_query = (
        ix["timestamp"], ix["shopper_id"], ix["session_id"], ix["type"], ix["product_id"], ix["query"])
    ts = parse_timestamp(None if i_ts is None else cells[i_ts])
    shopper = None if i_shopper is None else cells[i_shopper]
    session = None if i_session is None else cells[i_session]
    if session is None or session == "":
        session = f"{str(shopper).strip()}@{ts // 86_400_000}"
    extra = None
    for i in plan.extras:
        val = cells[i]
        if val is not None and val != "":
            extra = extra or {}
            extra[plan.names[i]] = check_text(val, plan.names[i]) if isinstance(val, str) else val
    query = None if i_query is None else cells[i_query]
    return validate_event(Event(
        shopper_id=shopper, session_id=session, ts_ms=ts,
        type=event_type(None if i_type is None else cells[i_type], options.event_type),
        product_id=None if i_product is None else cells[i_product],
        query="" if query is None else str(query).strip(), extra=extra))


class EventsImporter(TableImporter):
    name = "events"
    fields = FIELDS

    def record(self, row: Row, plan: ColumnPlan, options: ImportOptions) -> Record:
        return Record(row.line, events=(event_of_row(row.cells, plan, options),))
