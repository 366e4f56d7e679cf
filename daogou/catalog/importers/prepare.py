"""Turn parsed lines into plain rows ready to insert: event uids, source order, stub products and shoppers.

Pure and picklable-light: it runs in the parser process when an import is parallel, so the writing process
only executes SQL. State (identical-event ordinals, ids already ensured) lives in one :class:`Preparer` per file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from daogou.catalog.importers.base import Parsed, Record, Reject
from daogou.catalog.models import Product, event_uid
from daogou.catalog.rows import dumps, product_row

SEQ_SHIFT = 20  # seq = line << 20 | index of the event within its line
ORDINAL_MEMORY = 250_000  # identical events farther apart than ~this many rows count as one (bounded memory)
@dataclass
class Prepared:
    """One batch, as rows. Every row starts with its source line so a whole line can be dropped (strict mode)."""

    last_line: int
    # (line, shopper, session, ts, seq, type, product, query, extra); uids are given by ``Identifier`` in the writer
    events: list[tuple] = field(default_factory=list)
    products: list[tuple[int, Product]] = field(default_factory=list)  # full products: insert or update
    stubs: list[tuple[int, tuple]] = field(default_factory=list)  # (line, product row): insert if missing
    shoppers: list[tuple[int, str, str]] = field(default_factory=list)  # (line, id, attributes JSON)
    rejects: list[Reject] = field(default_factory=list)
    events_read: int = 0
    shoppers_seen: int = 0
    products_seen: int = 0


class Preparer:
    def __init__(self, strict: bool, now_ms: int, resume_after: int = 0):
        self.strict, self.now_ms, self.resume_after = strict, now_ms, resume_after
        self.products_seen: set[str] = set()
        self.shoppers_seen: set[str] = set()

    def prepare(self, batch: list[Parsed]) -> Prepared:
        out = Prepared(last_line=batch[-1].line if batch else 0)
        for item in batch:
            fresh = item.line > self.resume_after  # earlier lines were committed by an interrupted run
            if isinstance(item, Reject):
                if fresh:
                    out.rejects.append(item)
            else:
                self._record(item, out, fresh)
        out.shoppers_seen, out.products_seen = len(self.shoppers_seen), len(self.products_seen)
        return out

    def _record(self, r: Record, out: Prepared, fresh: bool) -> None:
        line = r.line
        seen_p, seen_s = self.products_seen, self.shoppers_seen
        for p in r.products:
            seen_p.add(p.id)
            if fresh:
                out.products.append((line, p))
        for p in r.stubs:
            if p.id not in seen_p:
                seen_p.add(p.id)
                if fresh:
                    out.stubs.append((line, product_row(p, self.now_ms)))
        for s in r.shoppers:
            seen_s.add(s.id)
            if fresh:
                out.shoppers.append((line, s.id, dumps(s.attributes)))
        base = line << SEQ_SHIFT
        for i, ev in enumerate(r.events):
            pid, sid = ev.product_id, ev.shopper_id
            if pid is not None and pid not in seen_p and not self.strict:
                seen_p.add(pid)
                if fresh:
                    out.stubs.append((line, product_row(Product(pid), self.now_ms)))
            if sid not in seen_s:
                seen_s.add(sid)
                if fresh:
                    out.shoppers.append((line, sid, "{}"))
            if fresh:
                out.events.append((line, sid, ev.session_id, ev.ts_ms, base | i, ev.type, pid, ev.query,
                                   dumps(ev.extra) if ev.extra else None))
        out.events_read += len(r.events) if fresh else 0


class Identifier:
    """Gives prepared event rows their content uid; truly identical events get successive ordinals."""

    def __init__(self) -> None:
        self.ordinals: dict[tuple, int] = {}

    def rows(self, events: list[tuple], import_id: int) -> list[tuple]:
        """Rows in ``EVENT_COLUMNS`` order."""
        ordinals, out = self.ordinals, []
        for _line, sid, session, ts, seq, kind, pid, query, extra in events:
            key = (sid, session, ts, kind, pid, query)
            ordinal = ordinals.get(key, -1) + 1
            ordinals[key] = ordinal
            out.append((event_uid(sid, session, ts, kind, pid, query, ordinal), sid, session, ts, seq, kind, pid,
                        query, extra, import_id))
        if len(ordinals) > ORDINAL_MEMORY:
            ordinals.clear()
        return out
