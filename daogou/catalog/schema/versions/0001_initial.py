"""Products, shoppers, events, imports and their rejects, meta.

Revision ID: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "products",
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
    op.create_table(
        "shoppers",
        sa.Column("id", sa.String(256), primary_key=True),
        sa.Column("attributes", sa.Text, nullable=False, default="{}"),
    )
    op.create_table(
        "events",
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
    )
    op.create_index("ux_events_identity", "events", ["shopper_id", "ts_ms", "uid"], unique=True)
    op.create_table(
        "imports",
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
    op.create_table(
        "rejects",
        sa.Column("import_id", sa.Integer, primary_key=True),
        sa.Column("line", sa.BigInteger, primary_key=True),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("meta", "rejects", "imports", "events", "shoppers", "products"):
        op.drop_table(table)
