"""Alembic's environment for the store: the connection comes from :func:`daogou.catalog.migrations.migrate`, so
the store's own engine (SQLite pragmas, PostgreSQL URL) runs every revision, each in its own transaction."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
