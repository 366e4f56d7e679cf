"""Ordered, named schema migrations. Each one runs once, in its own transaction, and is recorded.

The migrations are the single source of truth for the schema: the store reflects the tables from the database
instead of redefining them. To change the schema, append a migration; never edit one that has shipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from daogou.errors import MigrationError


def _initial(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "products", md,
        sa.Column("id", sa.String(256), primary_key=True),
        sa.Column("title", sa.Text, nullable=False, default=""),
        sa.Column("description", sa.Text, nullable=False, default=""),
        sa.Column("category", sa.Text, nullable=False, default=""),  # path joined by " > "
        sa.Column("brand", sa.Text, nullable=False, default=""),
        sa.Column("price", sa.Float, nullable=True),
        sa.Column("currency", sa.String(8), nullable=False, default=""),
        sa.Column("attributes", sa.Text, nullable=False, default="{}"),  # JSON object
        sa.Column("image", sa.Text, nullable=False, default=""),
        sa.Column("language", sa.String(16), nullable=False, default=""),
        sa.Column("in_stock", sa.Boolean, nullable=False, default=True),
        sa.Column("translations", sa.Text, nullable=False, default="{}"),  # JSON {lang: {title, description}}
        sa.Column("content_hash", sa.String(32), nullable=False, default=""),
        sa.Column("updated_ms", sa.BigInteger, nullable=False, default=0),
    )
    sa.Table(
        "shoppers", md,
        sa.Column("id", sa.String(256), primary_key=True),
        sa.Column("attributes", sa.Text, nullable=False, default="{}"),
    )
    sa.Table(
        "events", md,
        # Append-only row id (fast bulk inserts). ``uid`` is the content identity that makes imports idempotent;
        # it hashes shopper and time too, so one unique index on (shopper, time, uid) both enforces it and
        # serves every read of a shopper's history in time order: one index to maintain instead of two.
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("uid", sa.BigInteger, nullable=False),
        sa.Column("shopper_id", sa.String(256), nullable=False),
        sa.Column("session_id", sa.String(256), nullable=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),  # source order, breaks timestamp ties
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("product_id", sa.String(256), nullable=True),
        sa.Column("query", sa.Text, nullable=False, default=""),
        sa.Column("extra", sa.Text, nullable=True),  # JSON object or NULL
        sa.Column("import_id", sa.Integer, nullable=True),
        sa.Index("ux_events_identity", "shopper_id", "ts_ms", "uid", unique=True),
    )
    sa.Table(
        "imports", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # running | done | failed
        sa.Column("lines_done", sa.BigInteger, nullable=False, default=0),
        sa.Column("counts", sa.Text, nullable=False, default="{}"),
        sa.Column("started_ms", sa.BigInteger, nullable=False),
        sa.Column("finished_ms", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("format", "sha256", "options", name="uq_imports_identity"),
    )
    sa.Table(
        "rejects", md,
        sa.Column("import_id", sa.Integer, primary_key=True),
        sa.Column("line", sa.BigInteger, primary_key=True),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
    )
    sa.Table(
        "meta", md,
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    md.create_all(conn)


def _embeddings(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "embeddings", md,
        sa.Column("encoder", sa.String(200), primary_key=True),  # the encoder's cache key (exact model)
        sa.Column("text_hash", sa.String(32), primary_key=True),  # hash of (kind, text)
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),  # float32, little-endian
    )
    md.create_all(conn)


def _copy(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "generated_texts", md,
        # One text per product, task (e.g. copy.short.neutral), language and the exact backend, model and prompt
        # version that were asked for: a batch run skips what is stored and resumes where it stopped.
        sa.Column("product_id", sa.String(256), primary_key=True),
        sa.Column("task", sa.String(64), primary_key=True),
        sa.Column("lang", sa.String(16), primary_key=True),
        sa.Column("backend", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("prompt_version", sa.String(32), primary_key=True),
        sa.Column("content_hash", sa.String(32), nullable=False),  # the product content it was written from
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("final_backend", sa.String(64), nullable=False),  # "template" after a fallback
        sa.Column("info", sa.Text, nullable=False, default="{}"),  # JSON: attempts, rejected claims, timings
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    md.create_all(conn)


def _images(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "image_embeddings", md,
        sa.Column("encoder", sa.String(200), primary_key=True),  # the image encoder's cache key (exact model)
        sa.Column("image_hash", sa.String(32), primary_key=True),  # hash of the image file's bytes
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),  # float32, little-endian
    )
    sa.Table(
        "product_images", md,
        # The last look at each product's picture: ok (image_hash set) or why there is none ("no image" state).
        sa.Column("product_id", sa.String(256), primary_key=True),
        sa.Column("image", sa.Text, nullable=False),
        sa.Column("image_hash", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),  # ok | none | missing | too_large | corrupt | not_image
        sa.Column("error", sa.Text, nullable=False, default=""),
        sa.Column("checked_ms", sa.BigInteger, nullable=False),
    )
    md.create_all(conn)


def _conversations(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "conversations", md,
        # The shopping guide's conversations, so a restart (or a second server process) continues them.
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("shopper_id", sa.String(256), nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False, index=True),
        sa.Column("state", sa.Text, nullable=False),  # JSON: language, constraints, shown products, turns
    )
    md.create_all(conn)


MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("0001_initial", _initial),
    ("0002_embeddings", _embeddings),
    ("0003_copy", _copy),
    ("0004_images", _images),
    ("0005_conversations", _conversations),
]


def _ledger(conn: Connection) -> sa.Table:
    md = sa.MetaData()
    table = sa.Table(
        "schema_migrations", md,
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("applied_ms", sa.BigInteger, nullable=False),
    )
    md.create_all(conn)
    return table


def migrate(engine: sa.Engine) -> list[str]:
    """Apply every pending migration in order; return the names applied now."""
    with engine.begin() as conn:
        ledger = _ledger(conn)
        done = {row[0] for row in conn.execute(sa.select(ledger.c.name))}
    known = [name for name, _ in MIGRATIONS]
    unknown = done - set(known)
    if unknown:
        raise MigrationError(f"database has migrations this version does not know ({', '.join(sorted(unknown))}); "
                             "upgrade daogou")
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        try:
            with engine.begin() as conn:
                fn(conn)
                conn.execute(sa.insert(ledger).values(name=name, applied_ms=int(time.time() * 1000)))
        except sa.exc.SQLAlchemyError as exc:
            raise MigrationError(f"migration {name} failed: {exc}") from exc
        applied.append(name)
    return applied


def applied_migrations(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        ledger = _ledger(conn)
        conn.commit()
        return [row[0] for row in conn.execute(sa.select(ledger.c.name).order_by(ledger.c.name))]
