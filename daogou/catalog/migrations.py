"""Schema migrations on Alembic: the revisions in ``daogou/catalog/schema/versions`` are the single source of truth
for the schema (the store reflects its tables from the database instead of redefining them).

``migrate(engine)`` brings any store to the newest revision, each revision in its own transaction:

- a new database gets every revision;
- a store created before Alembic (ledger table ``schema_migrations``, whose names are these revisions' ids) is
  stamped at the revision it reached and upgraded in place; the old ledger goes;
- a store at a revision this version does not know (written by a newer daogou) is refused.

To change the schema, add a revision (``alembic revision`` with this folder as the script location, or copy one
by hand); never edit one that has shipped.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from daogou.errors import MigrationError

SCRIPTS = Path(__file__).with_name("schema")
LEGACY_LEDGER = "schema_migrations"


def _config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def revisions() -> list[str]:
    """Every revision this version knows, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _adopt_legacy(conn: sa.Connection, known: list[str]) -> None:
    """A store from the hand-written runner: stamp the revision it reached, then drop its ledger."""
    names = {row[0] for row in conn.execute(sa.text(f"SELECT name FROM {LEGACY_LEDGER}"))}
    unknown = names - set(known)
    if unknown:
        raise MigrationError(f"database has migrations this version does not know ({', '.join(sorted(unknown))}); "
                             "upgrade daogou")
    reached = [name for name in known if name in names]
    if reached != known[:len(reached)]:
        raise MigrationError(f"database's migration ledger has gaps ({', '.join(sorted(names))}); repair it by hand")
    if reached:
        command.stamp(_config(conn), reached[-1])
    conn.execute(sa.text(f"DROP TABLE {LEGACY_LEDGER}"))


def migrate(engine: sa.Engine) -> list[str]:
    """Apply every pending revision in order; return the ids applied now."""
    known = revisions()
    with engine.begin() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        current = MigrationContext.configure(conn).get_current_revision()
        if current is None and LEGACY_LEDGER in tables:
            _adopt_legacy(conn, known)
            current = MigrationContext.configure(conn).get_current_revision()
    if current is not None and current not in known:
        raise MigrationError(f"database is at schema revision {current}, which this version does not know; "
                             "upgrade daogou")
    pending = known[known.index(current) + 1:] if current is not None else known
    if not pending:
        return []
    try:
        with engine.connect() as conn:
            command.upgrade(_config(conn), "head")
            conn.commit()
    except sa.exc.SQLAlchemyError as exc:
        raise MigrationError(f"schema upgrade to {pending[-1]} failed: {exc}") from exc
    return pending


def applied_migrations(engine: sa.Engine) -> list[str]:
    """The revisions the database has, oldest first."""
    current = current_revision(engine)
    known = revisions()
    return known[:known.index(current) + 1] if current in known else []
