"""The store: one SQL database (an embedded SQLite file by default, any SQLAlchemy URL such as PostgreSQL).

Writes go in batches inside transactions the caller controls, so an importer can commit a batch of rows
together with its checkpoint: a process killed at any moment leaves the store consistent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from daogou.catalog.rows import EVENT_COLUMNS, PRODUCT_COLUMNS, dumps, product_row
from daogou.catalog.migrations import migrate
from daogou.catalog.models import Event, Product, Shopper
from daogou.config import StoreConfig
from daogou.errors import StoreError, StoreFull, is_disk_full

if TYPE_CHECKING:
    import pandas as pd

_IN_CHUNK = 500  # ids per IN (...) look-up; below SQLite's variable limit
TABLES = ("products", "shoppers", "events", "imports", "rejects", "meta", "embeddings", "image_embeddings",
          "product_images", "conversations")


def _now_ms() -> int:
    return int(time.time() * 1000)




def _on_sqlite_connect(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # durable against process crashes (kill -9) in WAL mode
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA wal_autocheckpoint=16384")  # 64 MiB of WAL between checkpoints: fewer syncs in bulk imports
    cur.close()


class Store:
    """Products, shoppers and events, plus the import ledger and quarantine of rejected rows."""

    def __init__(self, engine: sa.Engine, config: StoreConfig):
        self.engine = engine
        self.config = config
        self._statements: dict[tuple, sa.Executable] = {}  # see _statement
        md = sa.MetaData()
        md.reflect(engine, only=list(TABLES))
        self.t = md.tables

    @classmethod
    def open(cls, config: StoreConfig) -> "Store":
        """Open (creating and migrating as needed) the store described by ``config``."""
        try:
            config.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create home directory {config.home}: {exc}") from exc
        try:
            engine = sa.create_engine(config.database_url)
            if engine.dialect.name == "sqlite":
                sa.event.listen(engine, "connect", _on_sqlite_connect)
            migrate(engine)
            return cls(engine, config)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot open store {config.database_url}: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: committed whole or rolled back whole; a full disk is a :class:`StoreFull`."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            if is_disk_full(exc):
                where = self.engine.url.render_as_string(hide_password=True)
                raise StoreFull(f"no space left for the store ({where}): free some and run the same command "
                                "again; what was committed is kept") from exc
            raise

    # ------------------------------------------------------------------ dialect helpers

    def insert_ignore(self, conn: Connection, table: str, cols: Sequence[str], rows: list[tuple]) -> int:
        """Executemany of plain tuples, skipping existing keys; returns rows inserted. The hot path of imports."""
        if not rows:
            return 0
        names = ", ".join(f'"{c}"' for c in cols)
        if self.engine.dialect.name == "sqlite":
            sql = f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({", ".join("?" * len(cols))})'
        elif self.engine.dialect.name == "postgresql":
            sql = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(["%s"] * len(cols))}) ON CONFLICT DO NOTHING'
        else:
            raise StoreError(f"unsupported database dialect {self.engine.dialect.name!r} (use SQLite or PostgreSQL)")
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.executemany(sql, rows)
            return max(cursor.rowcount, 0)
        finally:
            cursor.close()

    def existing_keys(self, conn: Connection, column: sa.Column, keys: Sequence[Any],
                      value: sa.Column | None = None) -> dict[Any, Any]:
        """Map of key → ``value`` (or True) for the keys already present."""
        found: dict[Any, Any] = {}
        cols = [column] if value is None else [column, value]
        for i in range(0, len(keys), _IN_CHUNK):
            chunk = keys[i:i + _IN_CHUNK]
            for row in conn.execute(sa.select(*cols).where(column.in_(chunk))):
                found[row[0]] = True if value is None else row[1]
        return found

    # ------------------------------------------------------------------ writes

    def write_products(self, conn: Connection, products: Sequence[Product], overwrite: bool = True) -> tuple[int, int]:
        """Insert new products; with ``overwrite``, update those whose content changed. Returns (added, updated)."""
        table = self.t["products"]
        if not overwrite:  # insert-if-missing: no look-up needed
            now = _now_ms()
            return self.insert_product_rows(conn, [product_row(p, now) for p in {p.id: p for p in products}.values()]), 0
        latest = {p.id: p for p in products}  # a later row for the same id wins
        known = self.existing_keys(conn, table.c.id, list(latest), table.c.content_hash)
        now = _now_ms()
        rows = {pid: product_row(p, now) for pid, p in latest.items()}
        new = [row for pid, row in rows.items() if pid not in known]
        changed = [row for pid, row in rows.items() if pid in known and known[pid] != row[12]]
        self.insert_ignore(conn, "products", PRODUCT_COLUMNS, new)
        for row in changed:
            conn.execute(table.update().where(table.c.id == row[0]).values(dict(zip(PRODUCT_COLUMNS, row))))
        return len(new), len(changed)

    def write_shoppers(self, conn: Connection, shoppers: Sequence[Shopper], overwrite: bool = False) -> int:
        """Insert unknown shoppers (with ``overwrite``, replace attributes of known ones). Returns how many are new."""
        table = self.t["shoppers"]
        latest = {s.id: s for s in shoppers}
        known = self.existing_keys(conn, table.c.id, list(latest))
        new = [(sid, dumps(s.attributes)) for sid, s in latest.items() if sid not in known]
        self.insert_ignore(conn, "shoppers", ("id", "attributes"), new)
        if overwrite:
            for sid, s in latest.items():
                if sid in known and s.attributes:
                    conn.execute(table.update().where(table.c.id == sid).values(attributes=dumps(s.attributes)))
        return len(new)

    def insert_event_rows(self, conn: Connection, rows: list[tuple]) -> int:
        """Insert event rows (values in ``EVENT_COLUMNS`` order) not already stored; returns how many were added."""
        return self.insert_ignore(conn, "events", EVENT_COLUMNS, rows)

    def insert_product_rows(self, conn: Connection, rows: list[tuple]) -> int:
        """Insert product rows (``PRODUCT_COLUMNS`` order) whose id is not stored yet; returns how many were added."""
        return self.insert_ignore(conn, "products", PRODUCT_COLUMNS, rows)

    def insert_shopper_rows(self, conn: Connection, rows: list[tuple[str, str]]) -> int:
        """Insert (id, attributes JSON) rows for unknown shoppers; returns how many were added."""
        return self.insert_ignore(conn, "shoppers", ("id", "attributes"), rows)

    def write_events(self, conn: Connection, events: Sequence[Event], import_id: int | None = None) -> int:
        """Insert events (content uid, source order = position in ``events``); returns how many were added."""
        return self.insert_event_rows(conn, [
            (e.uid(), e.shopper_id, e.session_id, e.ts_ms, i, e.type, e.product_id, e.query,
             dumps(e.extra) if e.extra else None, import_id) for i, e in enumerate(events)])

    def set_meta(self, key: str, value: Any) -> None:
        table = self.t["meta"]
        with self.transaction() as conn:
            conn.execute(table.delete().where(table.c.key == key))
            conn.execute(table.insert().values(key=key, value=dumps(value)))

    def get_meta(self, key: str, default: Any = None) -> Any:
        table = self.t["meta"]
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(table.c.value).where(table.c.key == key)).scalar()
        return default if value is None else json.loads(value)

    def save_conversation(self, conversation_id: str, shopper_id: str, updated_ms: int, state: dict) -> None:
        """Write (insert or replace) one conversation's state."""
        table = self.t["conversations"]
        values = {"shopper_id": shopper_id, "updated_ms": updated_ms, "state": dumps(state)}
        with self.transaction() as conn:
            if not conn.execute(table.update().where(table.c.id == conversation_id).values(values)).rowcount:
                conn.execute(table.insert().values(id=conversation_id, **values))

    def load_conversation(self, conversation_id: str) -> tuple[str, int, dict] | None:
        """(shopper id, updated_ms, state) of a stored conversation, or None."""
        table = self.t["conversations"]
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(table.c.shopper_id, table.c.updated_ms, table.c.state)
                               .where(table.c.id == conversation_id)).first()
        return None if row is None else (row.shopper_id, int(row.updated_ms), json.loads(row.state))

    def prune_conversations(self, before_ms: int) -> int:
        """Delete conversations last updated before ``before_ms``; returns how many."""
        table = self.t["conversations"]
        with self.transaction() as conn:
            return conn.execute(table.delete().where(table.c.updated_ms < before_ms)).rowcount

    def prune_shopper_conversations(self, shopper_id: str, keep: int) -> int:
        """Delete all but the ``keep`` most recently updated conversations of one shopper; returns how many."""
        table = self.t["conversations"]
        recent = (sa.select(table.c.id).where(table.c.shopper_id == shopper_id)
                  .order_by(table.c.updated_ms.desc()).limit(keep))
        with self.transaction() as conn:
            return conn.execute(table.delete().where(table.c.shopper_id == shopper_id)
                                .where(table.c.id.not_in(recent.scalar_subquery()))).rowcount

    # ------------------------------------------------------------------ reads

    def count(self, table: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(self.t[table])).scalar_one()

    def get_products(self, ids: Sequence[str]) -> list[Product]:
        """Products in the order of ``ids``; unknown ids are skipped."""
        found: dict[str, Product] = {}
        query = self._statement("products", lambda t: sa.select(t).where(
            t.c.id.in_(sa.bindparam("ids", expanding=True))), ("by_ids",))
        with self.engine.connect() as conn:
            for i in range(0, len(ids), _IN_CHUNK):
                for row in conn.execute(query, {"ids": list(ids[i:i + _IN_CHUNK])}):
                    found[row.id] = _product_of(row)
        return [found[i] for i in ids if i in found]

    def get_product(self, pid: str) -> Product | None:
        got = self.get_products([pid])
        return got[0] if got else None

    def iter_products(self, batch: int = 2000) -> Iterator[Product]:
        """Every product, ordered by id, streamed in batches."""
        table = self.t["products"]
        last = None
        while True:
            query = sa.select(table).order_by(table.c.id).limit(batch)
            if last is not None:
                query = query.where(table.c.id > last)
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
            if not rows:
                return
            for row in rows:
                yield _product_of(row)
            last = rows[-1].id

    def has_shopper(self, shopper_id: str) -> bool:
        table = self.t["shoppers"]
        with self.engine.connect() as conn:
            return conn.execute(sa.select(table.c.id).where(table.c.id == shopper_id)).first() is not None

    def get_shoppers(self) -> list[Shopper]:
        table = self.t["shoppers"]
        with self.engine.connect() as conn:
            return [Shopper(r.id, json.loads(r.attributes)) for r in conn.execute(sa.select(table).order_by(table.c.id))]

    def event_counts(self, types: Iterable[str]) -> dict[tuple[str, str], int]:
        """(product, event type) → how many events of ``types`` each product has."""
        table = self.t["events"]
        query = sa.select(table.c.product_id, table.c.type, sa.func.count()).where(
            table.c.type.in_(list(types)), table.c.product_id.is_not(None)).group_by(table.c.product_id, table.c.type)
        with self.engine.connect() as conn:
            return {(pid, kind): int(n) for pid, kind, n in conn.execute(query)}

    def events_frame(self, types: Iterable[str] | None = None, with_extra: bool = False,
                     shoppers: Sequence[str] | None = None) -> "pd.DataFrame":
        """All events (or those of ``shoppers``) as a DataFrame ordered by (shopper, time, source order)."""
        import pandas as pd
        table = self.t["events"]
        cols = [table.c.shopper_id, table.c.session_id, table.c.ts_ms, table.c.seq, table.c.type,
                table.c.product_id, table.c.query] + ([table.c.extra] if with_extra else [])
        query = sa.select(*cols).order_by(table.c.shopper_id, table.c.ts_ms, table.c.seq)
        if types is not None:
            query = query.where(table.c.type.in_(list(types)))
        if shoppers is not None:
            query = query.where(table.c.shopper_id.in_(list(shoppers)))
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(query).all(), columns=[c.name for c in cols])
        return frame.astype({"ts_ms": "int64", "seq": "int64"}) if len(frame) else frame

    def event_rows(self, shoppers: Sequence[str], newest: int | None = None,
                   always: Sequence[str] = ()) -> list[tuple]:
        """(shopper, session, ts_ms, seq, type, product, query) of ``shoppers``' events ordered by (shopper, time,
        source order): what :meth:`events_frame` gives, as plain tuples (cheap for a few shoppers).

        ``newest``: only each shopper's ``newest`` events, plus every event of the types in ``always`` (e.g. all
        purchases, which recommendations leave out): a loyal shopper's long history costs a serving request no
        more than a new one's."""
        def build(table):
            cols = (table.c.shopper_id, table.c.session_id, table.c.ts_ms, table.c.seq, table.c.type,
                    table.c.product_id, table.c.query)
            query = sa.select(*cols).where(table.c.shopper_id.in_(sa.bindparam("shoppers", expanding=True)))
            if newest is None:
                return query.order_by(table.c.shopper_id, table.c.ts_ms, table.c.seq)
            recency = sa.func.row_number().over(partition_by=table.c.shopper_id,
                                                order_by=(table.c.ts_ms.desc(), table.c.seq.desc()))
            ranked = query.add_columns(recency.label("recency")).subquery()
            keep = ranked.c.recency <= newest
            if always:
                keep = sa.or_(keep, ranked.c.type.in_(list(always)))
            return (sa.select(*(ranked.c[c.name] for c in cols)).where(keep)
                    .order_by(ranked.c.shopper_id, ranked.c.ts_ms, ranked.c.seq))

        query = self._statement("events", build, ("event_rows", newest, tuple(always)))
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(query, {"shoppers": list(shoppers)})]

    def _statement(self, table: str, build, key: tuple = ()):
        """A read statement built once per shape (bound parameters carry the values): what a serving request
        runs, without building the same expression tree again each time."""
        key = (table, *key)
        if key not in self._statements:
            self._statements[key] = build(self.t[table])
        return self._statements[key]

    def iter_events(self, batch: int = 50_000) -> Iterator[Event]:
        """Every event in (shopper, time, source order), streamed."""
        import pandas as pd
        frame_iter = pd.read_sql_query(
            sa.select(self.t["events"]).order_by(self.t["events"].c.shopper_id, self.t["events"].c.ts_ms,
                                                 self.t["events"].c.seq),
            self.engine, chunksize=batch)
        for frame in frame_iter:
            for r in frame.itertuples(index=False):
                yield Event(r.shopper_id, r.session_id, int(r.ts_ms), r.type,
                            None if pd.isna(r.product_id) else r.product_id, r.query or "",
                            json.loads(r.extra) if isinstance(r.extra, str) else None)


def _product_of(row: Any) -> Product:
    return Product(
        id=row.id, title=row.title, description=row.description,
        category=tuple(row.category.split(" > ")) if row.category else (), brand=row.brand, price=row.price,
        currency=row.currency, attributes=json.loads(row.attributes), image=row.image, language=row.language,
        in_stock=bool(row.in_stock), translations=json.loads(row.translations))
