"""Generated product texts, one per product, task, language, backend, model and prompt version.

Revision ID: 0003_copy
Revises: 0002_embeddings
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_copy"
down_revision = "0002_embeddings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "generated_texts",
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


def downgrade() -> None:
    op.drop_table("generated_texts")
